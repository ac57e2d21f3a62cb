// ringcastd from its options to its exit status: the cluster file and the
// node, the log, the background (without -f), the node's lock, the stop
// signals, the ring member, then the main loop (member_loop.hpp). Every
// failure to start is logged with its reason and returns its ExitCode.
#pragma once

#include "daemon/options.hpp"

namespace ringcast::daemon {

int run_daemon(const Options& options);

}  // namespace ringcast::daemon
