#include "support/line_pipe.hpp"

#include <poll.h>
#include <unistd.h>

#include <chrono>

namespace ringcast::test {

bool write_line(int fd, const std::string& text) {
  const std::string line = text + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> take_line(std::string& buffer) {
  const auto nl = buffer.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  std::string line = buffer.substr(0, nl);
  buffer.erase(0, nl + 1);
  return line;
}

LineWait wait_line(int fd, std::string& buffer, int timeout_ms, std::string& line) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto taken = take_line(buffer)) {
      line = std::move(*taken);
      return LineWait::line;
    }
    int wait_ms = -1;
    if (timeout_ms >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait_ms = left > 0 ? static_cast<int>(left) : 0;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return LineWait::timeout;
    char chunk[512];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return LineWait::closed;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string read_line(int fd, std::string& buffer, int timeout_ms) {
  std::string line;
  return wait_line(fd, buffer, timeout_ms, line) == LineWait::line ? line : std::string();
}

}  // namespace ringcast::test
