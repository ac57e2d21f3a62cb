// The defaults of system.state_dir and system.run_dir: see
// default_state_dir() and default_run_dir().
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {

// Root keeps its state where services do; anyone else where the XDG base
// directory rules put per-user state, so that tests and unprivileged
// processes need no setup. No $HOME either: the working directory.
std::string default_state_dir() {
  if (::geteuid() == 0) return "/var/lib/ringcast";
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/ringcast";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/state/ringcast";
  return ".ringcast-state";
}

// A run directory goes with the boot (tmpfs): root's is the services' one,
// a user's the per-user one systemd-logind makes, else a name of its own in
// /tmp.
std::string default_run_dir() {
  if (::geteuid() == 0) return "/run/ringcast";
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/ringcast";
  return "/tmp/ringcast-" + std::to_string(::geteuid());
}

}  // namespace ringcast::config
