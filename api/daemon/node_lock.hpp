// One ringcastd per node: an exclusive flock(2) on a file in the run
// directory, held for the daemon's life (the kernel drops it when the
// process dies, however it dies, so a stale file never blocks a restart).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace ringcast::daemon {

// <run_dir>/ringcastd-<node>.lock
std::string lock_path(const std::string& run_dir, std::uint32_t node);

// Creates run_dir when missing (mode 0755: clients read what is in it),
// then takes the lock without waiting and writes our pid into the file.
// Errc::try_again when another process holds it: the message names its pid.
Result<UniqueFd> take_node_lock(const std::string& path);

}  // namespace ringcast::daemon
