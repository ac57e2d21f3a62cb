// ringcastd's command line, as corosync's daemon reads its own:
//
//   ringcastd [-f] [-c FILE] [-n NODEID] [-h] [-v]
//
// Pure: argv in, Options or a usage error out (tests call it directly).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace ringcast::daemon {

// The exit statuses, for scripts and the systemd unit (a status that a
// restart cannot cure is in the unit's RestartPreventExitStatus).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,  // could not join the ring, or left it for good
  kExitUsage = 2,   // bad command line
  kExitConfig = 3,  // the cluster file, or no node of it for this host
  kExitLocked = 4,  // another ringcastd runs this node
};

struct Options {
  enum class Action { run, help, version };
  Action action = Action::run;
  bool foreground = false;
  std::string config_path;  // empty: $RINGCAST_CONFIG, then /etc/ringcast/ringcast.conf
  std::string node_id;      // empty: $RINGCAST_NODE_ID, then this host's address
};

struct UsageError {
  std::string message;  // one line, without the usage text
};

// args: argv without argv[0].
std::variant<Options, UsageError> parse_options(std::span<const std::string_view> args);

// The text of -h (and, after a usage error, on stderr).
std::string usage_text();

}  // namespace ringcast::daemon
