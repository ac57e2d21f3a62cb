#include "base/log.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>

namespace ringcast {
namespace {

void to_stderr(std::string_view line) {
  std::fprintf(stderr, "ringcast: %.*s\n", static_cast<int>(line.size()), line.data());
}

std::atomic<LogSink> g_sink{&to_stderr};

constexpr std::string_view kWarning = "warning: ";

}  // namespace

void set_log_sink(LogSink sink) noexcept {
  g_sink.store(sink ? sink : &to_stderr);
}

void log_line(LogLevel level, std::string_view line) noexcept {
  std::array<char, kMaxLogLineBytes> buffer;
  std::size_t n = 0;
  if (level == LogLevel::warning) {
    std::memcpy(buffer.data(), kWarning.data(), kWarning.size());
    n = kWarning.size();
  }
  const std::size_t take = std::min(line.size(), buffer.size() - n);
  std::memcpy(buffer.data() + n, line.data(), take);
  g_sink.load()(std::string_view(buffer.data(), n + take));
}

}  // namespace ringcast
