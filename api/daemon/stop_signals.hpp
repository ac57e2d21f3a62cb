// SIGTERM and SIGINT, read from a descriptor instead of handled: the main
// loop polls it beside its other work, so a stop runs as ordinary code (no
// async-signal-safety limits on leaving the ring and logging).
#pragma once

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace ringcast::daemon {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and ignores
// SIGPIPE, then returns a signalfd(2) that reads SIGTERM and SIGINT. Call it
// before any thread starts: threads inherit the mask, so no other thread
// takes the signal instead. SIGHUP stays blocked and unread (a closed
// terminal does not stop the daemon).
Result<UniqueFd> stop_signal_fd();

// The signal waiting on fd (SIGTERM, SIGINT), 0 when none.
int read_stop_signal(int fd);

// "SIGTERM", "SIGINT", or the number.
const char* signal_name(int signal);

}  // namespace ringcast::daemon
