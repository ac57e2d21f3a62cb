// Where a running ringcastd's node stands, as it writes it for
// ringcast-cfgtool: <run_dir>/ringcastd-<node>.status, replaced whole
// (written aside, then renamed) whenever it changes, from the moment the
// node is first in an operational ring until the daemon stops. Plain
// "key value" lines, one fact each:
//
//   node 1
//   pid 4242
//   address 10.0.0.1
//   ring 1 8589934595
//   operational 1
//   members 1 2 3
//   link 2 1            (node 2: linked)
//   counter tokens_received 1200
//   counter clients_connected 3  (the client server's, after the ring's)
//
// No client protocol: the tool reads the file, and the pid in it says
// whether the daemon that wrote it still runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "base/status_snapshot.hpp"

namespace ringcast::daemon {

struct NodeStatus {
  std::uint32_t node = 0;
  std::int64_t pid = 0;
  std::string address;
  std::uint32_t ring_representative = 0;
  std::uint64_t ring_seq = 0;
  bool operational = false;
  std::vector<std::uint32_t> members;
  std::vector<std::pair<std::uint32_t, bool>> links;  // every other node of the file
  std::vector<std::pair<std::string, std::uint64_t>> counters;
};

// Larger files are refused unread: bounded by the nodes of a cluster (128).
inline constexpr std::size_t kMaxStatusFileBytes = 64 << 10;

// <run_dir>/ringcastd-<node>.status
std::string status_path(const std::string& run_dir, std::uint32_t node);

// The ring's part from the member's snapshot; links from linked (the nodes
// it has a link to) against others (the file's other nodes).
void fill_ring(NodeStatus& s, const StatusSnapshot& snapshot,
               const std::vector<std::uint32_t>& others, const std::vector<std::uint32_t>& linked);

std::string to_text(const NodeStatus& s);
// nullopt for text that is not a status file (a line without a value, a
// number that is none).
std::optional<NodeStatus> parse_status(std::string_view text);

// Writes path.tmp, then renames it over path: a reader sees the old file or
// the new, never half of one.
Status replace_file(const std::string& path, std::string_view text);

}  // namespace ringcast::daemon
