#include "fabric/verbs/log.hpp"

#include <atomic>
#include <cstdio>

namespace ringcast::fabric::verbs {
namespace {

void to_stderr(std::string_view line) {
  std::fprintf(stderr, "ringcast: %.*s\n", static_cast<int>(line.size()), line.data());
}

std::atomic<LogSink> g_sink{&to_stderr};

}  // namespace

void set_log_sink(LogSink sink) noexcept {
  g_sink.store(sink ? sink : &to_stderr);
}

void log_line(std::string_view line) noexcept {
  g_sink.load()(line);
}

}  // namespace ringcast::fabric::verbs
