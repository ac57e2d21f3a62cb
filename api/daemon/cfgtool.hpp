// ringcast-cfgtool: what a node's ringcastd says about its ring, in the
// layout of corosync-cfgtool -s, from the daemon's status file
// (node_status.hpp). Its exit status serves scripts: 0 once the local
// daemon is in a ring (scripts wait for a daemon with it), 1 when none runs
// or it is not in a ring yet, 2 a bad command line, 3 a bad cluster file.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "daemon/node_status.hpp"

namespace ringcast::daemon {

// corosync-cfgtool -s's layout: the local node, the ring, one link section
// with each node's state, then the counters.
std::string cfgtool_text(const NodeStatus& s);

// Whether the process that wrote a status file still runs.
bool writer_runs(const NodeStatus& s);

// The tool's main, on argv without argv[0].
int cfgtool_main(std::span<const std::string_view> args);

}  // namespace ringcast::daemon
