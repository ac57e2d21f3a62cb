// The lines a test's C callbacks record and the lines the library logs,
// from whichever thread runs them: the client-mode suites against the fake
// daemon read both (callbacks and log sinks are plain functions, so the
// lines are the process's).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringcast::testing {

struct RecordedLines {
  std::mutex mutex;
  std::vector<std::string> events;
  std::vector<std::string> log;
};

inline RecordedLines& recorded_lines() {
  static RecordedLines lines;
  return lines;
}

inline void record(std::string line) {
  std::lock_guard lock(recorded_lines().mutex);
  recorded_lines().events.push_back(std::move(line));
}

// The events recorded since the last call.
inline std::vector<std::string> take_recorded() {
  std::lock_guard lock(recorded_lines().mutex);
  return std::exchange(recorded_lines().events, {});
}

inline std::size_t recorded_count() {
  std::lock_guard lock(recorded_lines().mutex);
  return recorded_lines().events.size();
}

// A log sink (set_log_sink).
inline void capture_log(std::string_view line) {
  std::lock_guard lock(recorded_lines().mutex);
  recorded_lines().log.emplace_back(line);
}

inline std::vector<std::string> log_lines() {
  std::lock_guard lock(recorded_lines().mutex);
  return recorded_lines().log;
}

inline void clear_log() {
  std::lock_guard lock(recorded_lines().mutex);
  recorded_lines().log.clear();
}

inline bool log_mentions(const std::string& text) {
  for (const std::string& l : log_lines())
    if (l.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace ringcast::testing
