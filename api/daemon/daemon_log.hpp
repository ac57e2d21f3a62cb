// Where ringcastd's log lines go: the tree's one log (base/log.hpp) with a
// sink of the daemon's. Lines carry their level: "error: ", "warning: " or
// none (info). No colours, one line per event.
//
//   stderr  "ringcastd: warning: ..."; when systemd's journal reads stderr
//           ($JOURNAL_STREAM set) each line starts with its syslog priority
//           ("<4>"), which the journal takes as the level (sd-daemon(3))
//   syslog  facility daemon, ident "ringcastd", with the pid; the level as
//           the priority (LOG_ERR, LOG_WARNING, LOG_INFO)
#pragma once

#include <string_view>

namespace ringcast::daemon {

struct LogTargets {
  bool to_stderr = true;
  bool to_syslog = false;
  bool journal = false;  // stderr is the journal's: priority prefixes
};

// What the environment says about stderr: journal when $JOURNAL_STREAM is set.
LogTargets log_targets(bool to_stderr, bool to_syslog);

// Installs the sink; safe to call again (after detaching from the terminal).
void use_log_targets(const LogTargets& targets);

// "error: " lines: why the daemon cannot start or must stop.
void log_error(std::string_view line);

// The syslog priority of a line by its level word (LOG_ERR, LOG_WARNING,
// LOG_INFO); the journal's prefix uses the same numbers.
int log_priority(std::string_view line);

}  // namespace ringcast::daemon
