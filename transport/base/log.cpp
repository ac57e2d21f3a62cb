#include "base/log.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>

#include "base/assert.hpp"

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

std::string peer_text(std::string_view text, std::size_t max_bytes) {
  RC_ASSERT(max_bytes >= 3);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t cut = std::string::npos;  // where "..." goes if the rest does not fit
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = byte >= 0x20 && byte < 0x7f && byte != '\\';
    const std::size_t piece = plain ? 1 : 4;
    if (cut == std::string::npos && out.size() + piece > max_bytes - 3) cut = out.size();
    if (out.size() + piece > max_bytes) {
      out.resize(cut);
      return out + "...";
    }
    if (plain) {
      out += c;
    } else {
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out;
}

LogLimiter::LogLimiter(LogLimits limits) : limits_(limits) {
  RC_ASSERT(limits_.window_ns > 0);
  RC_ASSERT(limits_.per_source > 0 && limits_.total > 0 && limits_.max_sources > 0);
  sources_.reserve(limits_.max_sources);
}

// The source's entry, made (in place of the one quiet longest, when full).
LogLimiter::Source& LogLimiter::source(std::string_view name, std::uint64_t now_ns) {
  constexpr std::size_t kMaxNameBytes = 64;
  name = name.substr(0, kMaxNameBytes);
  for (Source& s : sources_) {
    if (s.name == name) return s;
  }
  if (sources_.size() < limits_.max_sources) {
    sources_.push_back(Source{});
  } else {
    auto quiet =
        std::min_element(sources_.begin(), sources_.end(),
                         [](const Source& a, const Source& b) { return a.last_ns < b.last_ns; });
    untracked_ += quiet->held_back;
    *quiet = Source{};
    std::rotate(quiet, quiet + 1, sources_.end());  // the new one goes last
  }
  Source& s = sources_.back();
  s.name = std::string(name);
  s.window_start_ns = now_ns;
  return s;
}

std::string LogLimiter::summary(Source& s) {
  std::string out;
  if (s.held_back > 0) {
    out += " (suppressed " + std::to_string(s.held_back) + " similar lines from " + s.name + ")";
  }
  if (untracked_ > 0) {
    out += " (suppressed " + std::to_string(untracked_) + " lines from sources no longer tracked)";
  }
  s.held_back = 0;
  untracked_ = 0;
  return out;
}

bool LogLimiter::log(LogLevel level, std::string_view source_name, std::string_view line,
                     std::uint64_t now_ns) {
  if (!started_ || now_ns - window_start_ns_ >= limits_.window_ns) {
    started_ = true;
    window_start_ns_ = now_ns;
    lines_ = 0;
  }
  Source& s = source(source_name, now_ns);
  s.last_ns = now_ns;
  if (now_ns - s.window_start_ns >= limits_.window_ns) {
    s.window_start_ns = now_ns;
    s.lines = 0;
  }
  if (s.lines >= limits_.per_source || lines_ >= limits_.total) {
    ++s.held_back;
    ++suppressed_;
    return false;
  }
  ++s.lines;
  ++lines_;
  log_line(level, std::string(line) + summary(s));
  return true;
}

}  // namespace ringcast
