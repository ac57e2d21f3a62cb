// The log (base/log.hpp): lines a peer can cause are rate-limited per
// source with "suppressed N" summaries, and its text is escaped.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/log.hpp"

namespace ringcast {
namespace {

std::vector<std::string>* g_lines = nullptr;

// Captures the lines logged while it lives.
class Captured {
 public:
  Captured() {
    g_lines = &lines;
    set_log_sink([](std::string_view line) { g_lines->emplace_back(line); });
  }
  ~Captured() {
    set_log_sink(nullptr);
    g_lines = nullptr;
  }
  std::vector<std::string> lines;
};

constexpr std::uint64_t kSecond = 1'000'000'000;

TEST(LogLimiter, OneSourceGetsItsBurstPerWindowThenASummary) {
  Captured log;
  LogLimiter limiter({10 * kSecond, 3, 100, 8});
  for (int i = 0; i < 50; ++i)
    limiter.log(LogLevel::info, "10.0.0.9", "refused 10.0.0.9", kSecond + i);
  ASSERT_EQ(log.lines.size(), 3u);
  EXPECT_EQ(log.lines[2], "refused 10.0.0.9");
  EXPECT_EQ(limiter.suppressed(), 47u);
  // The next window's first line says what was held back.
  limiter.log(LogLevel::info, "10.0.0.9", "refused 10.0.0.9", 11 * kSecond + 1);
  ASSERT_EQ(log.lines.size(), 4u);
  EXPECT_EQ(log.lines[3], "refused 10.0.0.9 (suppressed 47 similar lines from 10.0.0.9)");
  limiter.log(LogLevel::info, "10.0.0.9", "refused 10.0.0.9", 11 * kSecond + 2);
  EXPECT_EQ(log.lines[4], "refused 10.0.0.9") << "said once";
}

TEST(LogLimiter, SourcesAreLimitedApartAndTogether) {
  Captured log;
  LogLimiter limiter({10 * kSecond, 2, 5, 8});
  for (int i = 0; i < 10; ++i)
    limiter.log(LogLevel::warning, "a", "from a", kSecond + i);
  limiter.log(LogLevel::warning, "b", "from b", kSecond + 20);
  EXPECT_EQ(log.lines.size(), 3u) << "a flood from a leaves b its lines";
  EXPECT_EQ(log.lines.back(), "warning: from b");
  for (int i = 0; i < 10; ++i)
    limiter.log(LogLevel::info, "s" + std::to_string(i), "from many", kSecond + 30 + i);
  EXPECT_EQ(log.lines.size(), 5u) << "at most 5 lines a window from all sources";
}

TEST(LogLimiter, ManySourcesCostBoundedMemoryAndTheirCountIsKept) {
  Captured log;
  LogLimiter limiter({10 * kSecond, 1, 4, 8});
  for (int i = 0; i < 1000; ++i)
    limiter.log(LogLevel::info, "10.1." + std::to_string(i), "garbage", kSecond + i);
  EXPECT_LE(limiter.sources(), 8u);
  EXPECT_EQ(log.lines.size(), 4u);
  EXPECT_EQ(limiter.suppressed(), 996u);
  // Counts of sources it stopped tracking go to the next line that goes out:
  // of the 996, those of the 8 sources still tracked but one (replaced now)
  // wait for their own next line.
  limiter.log(LogLevel::info, "10.2.0.1", "garbage", 20 * kSecond);
  ASSERT_EQ(log.lines.size(), 5u);
  EXPECT_EQ(log.lines.back(), "garbage (suppressed 989 lines from sources no longer tracked)");
  limiter.log(LogLevel::info, "10.1.999", "garbage", 20 * kSecond + 1);
  EXPECT_EQ(log.lines.back(), "garbage (suppressed 1 similar lines from 10.1.999)");
}

TEST(PeerText, ControlBytesAreEscapedAndTheLengthBounded) {
  EXPECT_EQ(peer_text("plain text: 1-2", 64), "plain text: 1-2");
  EXPECT_EQ(peer_text("a\nb\r\x1b[0m\\\xc3\xa9", 64), "a\\x0ab\\x0d\\x1b[0m\\x5c\\xc3\\xa9");
  const std::string cut = peer_text(std::string(100, '\x01'), 40);
  EXPECT_LE(cut.size(), 40u);
  EXPECT_TRUE(cut.ends_with("...")) << cut;
  EXPECT_EQ(peer_text(std::string(100, 'x'), 40), std::string(37, 'x') + "...");
}

}  // namespace
}  // namespace ringcast
