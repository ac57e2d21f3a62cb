#include "support/child_process.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "support/line_pipe.hpp"

namespace ringcast::test {

ChildProcess::ChildProcess(const std::function<int(int, int)>& body) {
  int cmd[2], rep[2];
  if (pipe(cmd) != 0 || pipe(rep) != 0) return;
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    close(cmd[1]);
    close(rep[0]);
    _exit(body(cmd[0], rep[1]));
  }
  close(cmd[0]);
  close(rep[1]);
  to_ = cmd[1];
  from_ = rep[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) kill9();
  if (to_ >= 0) close(to_);
  if (from_ >= 0) close(from_);
}

void ChildProcess::command(const std::string& line) {
  write_line(to_, line);
}

void ChildProcess::kill9() {
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int ChildProcess::reap(std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

void ChildProcess::read_some() {
  char chunk[4096];
  const ssize_t n = read(from_, chunk, sizeof chunk);
  if (n <= 0) return;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  while (auto line = take_line(buffer_))
    lines.push_back(std::move(*line));
}

bool pump_until(std::span<const std::unique_ptr<ChildProcess>> children,
                const std::function<bool()>& pred, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::vector<pollfd> fds;
    std::vector<ChildProcess*> who;
    for (const auto& c : children) {
      if (c && c->fd() >= 0) {
        fds.push_back({c->fd(), POLLIN, 0});
        who.push_back(c.get());
      }
    }
    if (poll(fds.data(), fds.size(), 50) <= 0) continue;
    for (std::size_t k = 0; k < fds.size(); ++k)
      if (fds[k].revents != 0) who[k]->read_some();
  }
  return true;
}

}  // namespace ringcast::test
