// A streaming member process (member_kill_test, member_wrong_key_test, the
// separate-hosts test's member_stream): a runtime::MembershipNode that streams
// messages and reports, one line each, what it delivers, to its parent.
//
// Commands in (one per line): "stop" (stop streaming, then send one end
// marker), "exit". Reports out:
//   conf <t_ns> <T|R> <rep>.<epoch> m=<ids> l=<ids> j=<ids> seg=<count>:<hash> d=<node:ms,...>
//     a configuration change at steady-clock time t_ns; seg: the messages
//     delivered since the change before it (count and running FNV-1a hash);
//     d: per node that left, the ms since its latest message was delivered
//     here ("-" for none): on a stream, its death to the change
//   final <count>:<hash>   every member of the current regular configuration
//     sent its end marker: the messages since that configuration began
//   status <runtime::status_line>   at "exit"
//   error <what>
// With plan.view_hash_path set it also writes, to that file, a line
// "view members=<ids> ring=<rep>.<epoch>/<T|R>" at each configuration change
// and then the running hash (16 hex digits) after each delivery: a checker
// can then read any member's hash at any count of a view (members that part
// ways must have delivered prefixes of one sequence).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/membership_node.hpp"
#include "runtime/ring_node.hpp"

namespace ringcast::test {

struct StreamMemberPlan {
  std::vector<runtime::MemberAddress> members;
  fabric::NodeId me = 0;
  std::string device;
  int gid_index = -1;
  std::uint64_t send_interval_ns = 5'000'000;  // one message per member this often
  bool keyed = true;  // links authenticated with a cluster key, as in production
  // The key is derived from 32 bytes key_seed ^ i: a process with another
  // seed holds another cluster key (member_wrong_key_test's intruder).
  std::uint8_t key_seed = 0xA5;
  std::string view_hash_path{};  // empty: none (see the top)
};

// Member members[index] of a test cluster on the given device.
StreamMemberPlan plan_for(const std::vector<runtime::MemberAddress>& members, std::size_t index,
                          const std::string& device, int gid_index);

// The MembershipNode options a member process starts with (the cluster file's
// default timeouts, a small log, the plan's key); on_events is the caller's.
runtime::MemberNodeOptions member_node_options(const StreamMemberPlan& plan);

// Runs in a forked child until "exit" or EOF on command_fd; returns the exit
// status.
int stream_member_main(const StreamMemberPlan& plan, int command_fd, int report_fd);

// A node list as the reports write it ("1,2,3", "-" for none): for other
// member programs of the rdma tests.
std::string node_list(const std::vector<fabric::NodeId>& nodes);

}  // namespace ringcast::test
