// A forked child of an rdma test: a command pipe to it and the lines it
// reports back, read as they come (poll fd(), then read_some()). Shared by
// the tests that kill and restart member processes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ringcast::test {

class ChildProcess {
 public:
  // Runs body(command_fd, report_fd) in the child; its result is the
  // child's exit status (an exec inside it does not return).
  explicit ChildProcess(const std::function<int(int, int)>& body);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const { return pid_ > 0; }
  void command(const std::string& line);  // one line, newline added
  void kill9();
  // Exit status once it exits by itself before the deadline, else -1.
  int reap(std::chrono::steady_clock::time_point deadline);
  int fd() const { return from_; }
  // Reads what is there (the fd polled readable) into complete lines.
  void read_some();
  std::vector<std::string> lines;

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string buffer_;
};

// Reads the children's reports as they come until pred() holds (true) or
// timeout_s passed (false). Empty entries (not started, or reaped) are
// skipped.
bool pump_until(std::span<const std::unique_ptr<ChildProcess>> children,
                const std::function<bool()>& pred, int timeout_s);

}  // namespace ringcast::test
