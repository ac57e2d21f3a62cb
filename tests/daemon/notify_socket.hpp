// A stand-in for systemd's notify socket: a unix datagram socket bound at a
// path (or "@name": abstract), whose datagrams the test reads.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>

namespace ringcast::daemon::test {

class NotifySocket {
 public:
  explicit NotifySocket(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    EXPECT_LT(name_.size(), sizeof a.sun_path);
    std::memcpy(a.sun_path, name_.data(), name_.size());
    const bool abstract = name_.front() == '@';
    if (abstract) a.sun_path[0] = '\0';
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() + (abstract ? 0 : 1));
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), length), 0)
        << std::strerror(errno);
  }
  ~NotifySocket() {
    ::close(fd_);
    if (name_.front() == '/') ::unlink(name_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& name() const { return name_; }

  // The next datagram, or "" when none came within `wait`.
  std::string receive_for(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return "";
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }
  std::string receive() { return receive_for(std::chrono::seconds(10)); }

 private:
  std::string name_;
  int fd_ = -1;
};

}  // namespace ringcast::daemon::test
