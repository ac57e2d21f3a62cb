// The client server's log: lines a client can cause (a refusal, a malformed
// frame, a flood) go through one LogLimiter, so that no client can flood
// the daemon's log. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "base/log.hpp"

namespace ringcast::daemon {

class ServerLog {
 public:
  void line(LogLevel level, std::string_view source, std::string_view text) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    std::lock_guard lock(mutex_);
    limiter_.log(level, source, text, static_cast<std::uint64_t>(ns));
  }

 private:
  std::mutex mutex_;
  LogLimiter limiter_;
};

}  // namespace ringcast::daemon
