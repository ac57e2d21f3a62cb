// Progress of a long run on stderr. On a terminal: one line redrawn in place
// ("[#####.....] 12/120 3 members 16 KiB safe ... ~4m10s left"). Elsewhere:
// nothing, unless lines were asked for (one plain line per step, for logs and
// for bench/compare, whose output is a pipe inside the VM).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace ringcast::bench {

class ProgressBar {
 public:
  ProgressBar(std::size_t total, bool lines_when_not_a_terminal)
      : total_(total),
        terminal_(isatty(STDERR_FILENO) == 1),
        lines_(!terminal_ && lines_when_not_a_terminal),
        start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Step `done` (0-based) starts; `what` names it.
  void step(std::size_t done, const std::string& what) {
    if (lines_) {
      std::fprintf(stderr, "ringcast-bench: [%zu/%zu] %s%s\n", done + 1, total_, what.c_str(),
                   eta(done).c_str());
    } else if (terminal_) {
      constexpr std::size_t kWidth = 24;
      const std::size_t filled = total_ == 0 ? kWidth : done * kWidth / total_;
      std::fprintf(stderr, "\r\033[K[%s%s] %zu/%zu %s%s", std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, '.').c_str(), done + 1, total_, what.c_str(),
                   eta(done).c_str());
      drawn_ = true;
    }
  }
  // Clears the bar so that ordinary output follows on a clean line.
  void clear() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }
  void finish() { clear(); }

 private:
  std::string eta(std::size_t done) const {
    if (done == 0) return "";
    const double spent_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const auto left_s =
        static_cast<long>(spent_s / static_cast<double>(done) * static_cast<double>(total_ - done));
    char text[48];
    std::snprintf(text, sizeof text, ", ~%ldm%02lds left", left_s / 60, left_s % 60);
    return text;
  }

  std::size_t total_;
  bool terminal_;
  bool lines_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ringcast::bench
