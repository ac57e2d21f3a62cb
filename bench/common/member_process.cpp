#include "member_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace ringcast::bench {
namespace {

[[noreturn]] void member_main(const MemberPlan& plan, bool wait_for_go, int in_fd, int out_fd) {
  std::string buffer;
  MemberHooks hooks;
  if (wait_for_go) {
    hooks.ready_then_wait_go = [&] {
      return write_line(out_fd, "ready") && read_line(in_fd, buffer, -1) == "go";
    };
  }
  hooks.report_then_wait_exit = [&](const MemberResult& r) {
    write_line(out_fd, encode(r));
    read_line(in_fd, buffer, -1);  // "exit", or EOF when the parent is gone
  };
  const MemberResult r = run_member(plan, hooks);
  std::fflush(nullptr);
  _exit(r.error.empty() ? 0 : 1);
}

[[noreturn]] void series_main(const runtime::RingNodeOptions& node, int in_fd, int out_fd) {
  std::string buffer;
  SeriesHooks hooks;
  hooks.ready = [&] { return write_line(out_fd, "ready"); };
  hooks.next_case = [&]() -> std::optional<MemberPlan> {
    MemberPlan plan;
    if (!decode_case(read_line(in_fd, buffer, -1), &plan)) return std::nullopt;  // "exit", EOF
    return plan;
  };
  hooks.report = [&](const MemberResult& r) { write_line(out_fd, encode(r)); };
  run_member_series(node, hooks);
  std::fflush(nullptr);
  _exit(0);
}

// Forks `child(in_fd, out_fd)` with two pipes to it.
template <class Child>
MemberProcess spawn(Child&& child) {
  int down[2], up[2];
  if (pipe(down) != 0) return {};
  if (pipe(up) != 0) {
    close(down[0]);
    close(down[1]);
    return {};
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    child(down[0], up[1]);
  }
  close(down[0]);
  close(up[1]);
  if (pid < 0) {
    close(down[1]);
    close(up[0]);
    return {};
  }
  return {pid, down[1], up[0], {}};
}

void reap(pid_t pid, int grace_ms) {
  int status = 0;
  for (int waited_ms = 0; waitpid(pid, &status, WNOHANG) == 0; waited_ms += 10) {
    if (waited_ms > grace_ms) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return;
    }
    usleep(10000);
  }
}

}  // namespace

MemberProcess spawn_member(const MemberPlan& plan, bool wait_for_go) {
  return spawn([&](int in_fd, int out_fd) { member_main(plan, wait_for_go, in_fd, out_fd); });
}

MemberProcess spawn_series_member(const runtime::RingNodeOptions& node) {
  return spawn([&](int in_fd, int out_fd) { series_main(node, in_fd, out_fd); });
}

void finish_members(std::vector<MemberProcess>& members, int grace_ms) {
  for (auto& m : members) {
    if (m.pid < 0) continue;
    write_line(m.to_child, "exit");
    close(m.to_child);
  }
  for (auto& m : members) {
    if (m.pid < 0) continue;
    reap(m.pid, grace_ms);
    close(m.from_child);
  }
}

}  // namespace ringcast::bench
