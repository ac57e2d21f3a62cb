#include "client/client_mode.hpp"

#include <cstdlib>
#include <string_view>

#include "base/log.hpp"
#include "client/node.hpp"
#include "config/cluster_config.hpp"

namespace ringcast::client {

namespace {

cpg::Result<DaemonAddress> daemon_of(const config::LocalConfig& local) {
  const std::string& dir = local.config.system.run_dir;
  DaemonAddress a;
  a.node = local.local().nodeid;
  a.socket_path = daemon_socket_path(dir.empty() ? config::default_run_dir() : dir, a.node);
  a.config_file = local.config.file;
  // What an embedded handle may hold before it is evicted: its share of
  // the log, then its spill. Less would refuse the retried send of a
  // program that dispatches only after a send went through (corosync's
  // cpgverify) for good, once its references were spilled.
  const config::Totem& t = local.config.totem;
  a.undispatched_max_bytes =
      std::uint64_t{t.handle_unreleased_max_bytes} + std::uint64_t{t.handle_spill_max_bytes};
  a.spill_from_bytes = t.handle_unreleased_max_bytes;
  return a;
}

cpg::Status config_failed(const std::string& why) {
  log_line("cannot load the cluster configuration: " + why);
  return cpg::Status(CS_ERR_LIBRARY, why);
}

}  // namespace

std::string daemon_socket_path(const std::string& run_dir, std::uint32_t node) {
  return run_dir + "/ringcastd-" + std::to_string(node) + ".sock";
}

cpg::Result<std::optional<DaemonAddress>> choose_mode() {
  if (Node::overridden()) return std::optional<DaemonAddress>();
  const char* env = std::getenv(kModeEnv);
  const std::string_view mode = env != nullptr ? env : "";
  if (mode == "embedded") return std::optional<DaemonAddress>();
  if (!mode.empty() && mode != "daemon") {
    const std::string why =
        std::string(kModeEnv) + "=" + peer_text(mode, 64) + ": neither daemon nor embedded";
    log_line(why);
    return cpg::Status(CS_ERR_LIBRARY, why);
  }
  // The key stays unread: the daemon holds it, and a client may not read it.
  auto local = config::locate_from_environment();
  if (!local.ok()) return config_failed(local.error().message());
  if (mode.empty() && local->config.system.mode == config::System::Mode::embedded)
    return std::optional<DaemonAddress>();
  auto address = daemon_of(*local);
  if (!address) return address.status();
  return std::optional<DaemonAddress>(std::move(*address));
}

}  // namespace ringcast::client
