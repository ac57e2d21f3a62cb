// Member processes of a one-host ring (ringcast-bench --members N and the
// rdma ring test): each member runs run_member() in a forked child and talks
// to the parent over two pipes, one line at a time ("ready", "go", its
// encoded result, "exit"; support/line_pipe.hpp). Fork before anything opens
// RDMA resources: a child must not inherit the parent's device contexts.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bench_member.hpp"
#include "support/line_pipe.hpp"

namespace ringcast::bench {

using test::read_line;
using test::write_line;

struct MemberProcess {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
  std::string buffer;  // what was read from from_child past the last line

  std::string read_line(int timeout_ms) { return test::read_line(from_child, buffer, timeout_ms); }
};

// Forks a member running `plan`. With wait_for_go it says "ready" once its
// ring is up and starts on "go"; it always reports its result as one line
// and waits for "exit" (or the parent's end) before leaving. pid -1 when the
// pipes or the fork failed.
MemberProcess spawn_member(const MemberPlan& plan, bool wait_for_go);

// Forks a member that stays in its ring for a series of cases
// (run_member_series): it says "ready" once the ring is up, then for each
// "case ..." line (encode_case) it runs the case and answers with its result;
// "exit" or the parent's end makes it leave.
MemberProcess spawn_series_member(const runtime::RingNodeOptions& node);

// Tells every member to exit, then reaps each, killing one that has not left
// within grace_ms.
void finish_members(std::vector<MemberProcess>& members, int grace_ms);

}  // namespace ringcast::bench
