#include "support/rdma_harness.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "support/line_pipe.hpp"

namespace ringcast::test {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;)
    out.push_back(word);
  return out;
}

// Writes all of `text` (a report can be longer than one pipe write).
void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

struct Child {
  pid_t pid = -1;
  int report_fd = -1;
};

Child spawn(const Body& body, int channel_fd, int other_fd) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    if (other_fd >= 0) close(other_fd);
    Channel channel(channel_fd);
    const std::string report = body(channel);
    write_all(pipe_fds[1], report);
    close(pipe_fds[1]);
    std::fflush(nullptr);
    _exit(report.empty() ? 0 : 1);
  }
  close(pipe_fds[1]);
  return {pid, pipe_fds[0]};
}

// Reads the child's report and reaps it, killing it past the deadline.
std::string finish(Child child, std::chrono::steady_clock::time_point deadline) {
  if (child.pid < 0) return "could not fork";
  std::string report;
  char buffer[512];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fd{child.report_fd, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(child.report_fd, buffer, sizeof buffer);
    if (n <= 0) break;  // EOF: the child is done
    report.append(buffer, static_cast<std::size_t>(n));
  }
  close(child.report_fd);
  int status = 0;
  if (std::chrono::steady_clock::now() >= deadline && waitpid(child.pid, &status, WNOHANG) == 0) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, &status, 0);
    return report + "[timed out and was killed]";
  }
  waitpid(child.pid, &status, 0);
  if (WIFSIGNALED(status))
    return report + "[died of signal " + std::to_string(WTERMSIG(status)) + "]";
  if (WEXITSTATUS(status) != 0 && report.empty())
    return "[exited with status " + std::to_string(WEXITSTATUS(status)) + "]";
  return report;
}

std::vector<std::string> discover_addresses(const std::string& device) {
  // In a child: probing binds rdma_cm ids, which opens device contexts.
  std::string found;
  Body probe = [&](Channel&) {
    std::string words;
    for (const auto& a : fabric::verbs::rdma_ipv4_addresses(device))
      words += a + " ";
    return words;  // non-empty "report" carries the answer
  };
  found = run_one(probe, 30);
  if (found.find('[') != std::string::npos) return {};
  return split(found);
}

}  // namespace

bool softroce_required() {
  return env_or("RINGCAST_SOFTROCE", "") == "1";
}

std::optional<RdmaEnv> rdma_env() {
  const auto devices = fabric::verbs::rdma_device_names();
  if (devices.empty()) return std::nullopt;
  RdmaEnv env;
  env.device = env_or("RINGCAST_RDMA_DEVICE", devices.front());
  env.addrs = split(env_or("RINGCAST_RDMA_ADDRS", ""));
  if (env.addrs.empty()) env.addrs = discover_addresses(env.device);
  if (env.addrs.empty()) return std::nullopt;
  env.gid_index = std::atoi(env_or("RINGCAST_GID_INDEX", "-1").c_str());
  return env;
}

bool Channel::send(const std::string& message) {
  const std::string line = message + "\n";
  return ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size());
}

std::string Channel::receive(int timeout_ms, bool* ok) {
  std::string line;
  *ok = wait_line(fd_, buffer_, timeout_ms, line) == LineWait::line;
  return line;
}

PairReport run_pair(const Body& server, const Body& client, int timeout_s) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return {"socketpair failed", ""};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  Child s = spawn(server, fds[0], fds[1]);
  Child c = spawn(client, fds[1], fds[0]);
  close(fds[0]);
  close(fds[1]);
  PairReport report;
  report.server = finish(s, deadline);
  report.client = finish(c, deadline);
  return report;
}

std::string run_one(const Body& body, int timeout_s) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return "socketpair failed";
  Child child = spawn(body, fds[0], fds[1]);
  close(fds[0]);
  close(fds[1]);
  return finish(child, std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s));
}

std::string failure(const char* file, int line, const char* what, const std::string& detail) {
  const char* base = std::strrchr(file, '/');
  return std::string(base != nullptr ? base + 1 : file) + ":" + std::to_string(line) +
         ": failed: " + what + (detail.empty() ? "" : ": " + detail);
}

fabric::verbs::EndpointOptions endpoint_options(const RdmaEnv& env, fabric::NodeId node,
                                                const std::string& local_ip) {
  fabric::verbs::EndpointOptions options;
  options.node = node;
  options.device = env.device;
  options.local_ip = local_ip;
  options.gid_index = env.gid_index;
  return options;
}

std::optional<Completion> Poller::next(int timeout_ms) {
  const std::uint64_t deadline = ep_.now_ns() + std::uint64_t(timeout_ms) * 1'000'000u;
  std::array<Completion, 16> batch;
  while (stash_at_ == stash_.size()) {
    stash_.clear();
    stash_at_ = 0;
    if (ep_.now_ns() >= deadline) return std::nullopt;
    const std::size_t n = ep_.poll(batch);
    stash_.assign(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
    if (n == 0) std::this_thread::yield();
  }
  return stash_[stash_at_++];
}

std::optional<Completion> Poller::await(CompletionType type, int timeout_ms,
                                        std::vector<Completion>* skipped) {
  const std::uint64_t deadline = ep_.now_ns() + std::uint64_t(timeout_ms) * 1'000'000u;
  while (ep_.now_ns() < deadline) {
    const int left_ms = static_cast<int>((deadline - ep_.now_ns()) / 1'000'000u) + 1;
    auto c = next(left_ms);
    if (!c) return std::nullopt;
    if (c->type == type) return c;
    if (skipped != nullptr) skipped->push_back(*c);
  }
  return std::nullopt;
}

std::string describe(const Completion& c) {
  static const char* names[] = {"write_done", "received_imm", "write_failed", "link_down"};
  return std::string(names[static_cast<int>(c.type)]) + " peer " + std::to_string(c.peer) +
         " wr_id " + std::to_string(c.wr_id) + " imm " + std::to_string(c.imm) + " len " +
         std::to_string(c.byte_len) + " status " + std::to_string(c.status) + " '" + c.status_text +
         "'";
}

fabric::ConnectInfo connect_info(fabric::NodeId node, const fabric::RemoteRegion& region) {
  fabric::ConnectInfo info;
  info.node = node;
  info.incarnation = 1;
  info.region_count = 1;
  info.regions[0] = region;
  return info;
}

}  // namespace ringcast::test
