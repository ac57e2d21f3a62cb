// The tree's one log: a line per call on stderr, "ringcast: " in front.
// For set-up facts and failures worth a line (a device's NUMA locality, a
// refused peer, a link that went down, a record dropped); never called on
// the data path except when something failed. Safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

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

}  // namespace ringcast
