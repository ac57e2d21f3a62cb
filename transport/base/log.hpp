// The tree's one log: a line per call on stderr, "ringcast: " in front.
// For set-up facts and failures worth a line (a device's NUMA locality, a
// refused peer, a link that went down, a record dropped); never called on
// the data path except when something failed. Safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringcast {

// warning lines read "warning: ..."; info lines carry no level word.
enum class LogLevel : std::uint8_t { info, warning };

// Longer lines are cut to this many bytes.
inline constexpr std::size_t kMaxLogLineBytes = 1024;

// Gets each line, level word included, without "ringcast: " or the newline.
using LogSink = void (*)(std::string_view line);

// nullptr restores the default (stderr).
void set_log_sink(LogSink sink) noexcept;

void log_line(LogLevel level, std::string_view line) noexcept;
inline void log_line(std::string_view line) noexcept {
  log_line(LogLevel::info, line);
}

// Text a peer chose (a refusal's reason), fit for a log line or an error:
// printable ASCII stays, every other byte and the backslash become \xNN, and
// the result is at most max_bytes (>= 3), ending in "..." when cut.
std::string peer_text(std::string_view text, std::size_t max_bytes);

struct LogLimits {
  std::uint64_t window_ns = 10'000'000'000;  // 10 s
  std::uint32_t per_source = 5;              // lines per source per window
  std::uint32_t total = 20;                  // lines of all sources per window
  std::size_t max_sources = 64;              // sources tracked at once
};

// For lines a peer can cause at will (a refused connection request, a
// failed dial): at most per_source lines of one source (a peer's address, a
// node) and total lines of all sources per window. What is held back is
// counted, and the next line of its source that goes out says so:
// "... (suppressed N similar lines from SOURCE)". Memory is bounded: a new
// source beyond max_sources replaces the one quiet longest, and what that one
// held back goes to the next line that goes out ("... from sources no longer
// tracked"). Time comes in; not thread-safe (its owner guards it).
class LogLimiter {
 public:
  LogLimiter() : LogLimiter(LogLimits{}) {}
  explicit LogLimiter(LogLimits limits);

  // Logs the line, or holds it back; true when it went out.
  bool log(LogLevel level, std::string_view source, std::string_view line, std::uint64_t now_ns);

  std::uint64_t suppressed() const noexcept { return suppressed_; }  // ever held back
  std::size_t sources() const noexcept { return sources_.size(); }

 private:
  struct Source {
    std::string name;
    std::uint64_t window_start_ns = 0;
    std::uint64_t last_ns = 0;
    std::uint32_t lines = 0;      // in this window
    std::uint64_t held_back = 0;  // since its last line went out
  };
  Source& source(std::string_view name, std::uint64_t now_ns);
  std::string summary(Source& s);

  LogLimits limits_;
  std::vector<Source> sources_;
  std::uint64_t window_start_ns_ = 0;
  std::uint32_t lines_ = 0;      // of all sources, in this window
  std::uint64_t untracked_ = 0;  // held back by sources no longer tracked
  std::uint64_t suppressed_ = 0;
  bool started_ = false;
};

}  // namespace ringcast
