// Incarnations that only grow (runtime/incarnation.hpp): the rule, and its
// state file under a missing, read-only or corrupt state directory. Never a
// crash: an error when the directory was configured, the clock with a
// warning when it was the default.
#include "runtime/incarnation.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace ringcast::runtime {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() /
                     ("ringcast-incarnation-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  return p.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Incarnation, GrowsWhateverTheClockDoes) {
  EXPECT_EQ(next_incarnation(std::nullopt, 500), 500u);
  EXPECT_EQ(next_incarnation(std::nullopt, 0), 1u) << "never 0";
  EXPECT_EQ(next_incarnation(700, 500), 701u) << "clock stepped back";
  EXPECT_EQ(next_incarnation(500, 500), 501u) << "two restarts within 100 ms";
  EXPECT_EQ(next_incarnation(500, 900), 900u) << "the clock, when it is ahead";
  EXPECT_EQ(next_incarnation(std::numeric_limits<std::uint32_t>::max(), 5), std::nullopt);
}

TEST(Incarnation, KeptInTheStateDirectoryAcrossRestarts) {
  const std::string dir = fresh_dir("kept") + "/a/b";  // missing, two levels: created
  auto first = take_incarnation(dir, 7, 100'000, true);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->incarnation, 100000u);
  EXPECT_TRUE(first->warning.empty()) << first->warning;
  EXPECT_EQ(read_file(dir + "/incarnation.7"), "100000\n");
  // The same 100 ms, then a clock stepped back an hour: still larger.
  auto second = take_incarnation(dir, 7, 100'000, true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->incarnation, 100001u);
  auto third = take_incarnation(dir, 7, 100'000 - 36'000, true);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->incarnation, 100002u);
  // Another node of the same host keeps its own.
  auto other = take_incarnation(dir, 8, 5, true);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->incarnation, 5u);
  EXPECT_FALSE(fs::exists(dir + "/incarnation.7.tmp"));
  fs::remove_all(fs::path(dir).parent_path().parent_path());
}

TEST(Incarnation, ACorruptFileFallsBackToTheClockAndIsRewritten) {
  const std::string dir = fresh_dir("corrupt");
  fs::create_directories(dir);
  const std::vector<std::string> corrupt = {
      "", "12", "x12\n", "12 \n", "0\n", "99999999999\n", std::string(4096, '7') + "\n"};
  for (const std::string& bad : corrupt) {
    std::ofstream(dir + "/incarnation.3", std::ios::trunc) << bad;
    auto t = take_incarnation(dir, 3, 42, true);
    ASSERT_TRUE(t.ok()) << "content '" << bad << "': " << t.error().message();
    EXPECT_EQ(t->incarnation, 42u);
    EXPECT_NE(t->warning.find("corrupt"), std::string::npos) << t->warning;
    EXPECT_EQ(read_file(dir + "/incarnation.3"), "42\n");
  }
  fs::remove_all(dir);
}

// A directory nobody may write: /proc/self for root (whom modes do not
// stop), a mode 0500 directory for anyone else.
std::string read_only_dir() {
  if (::geteuid() == 0) return "/proc/self";
  const std::string dir = fresh_dir("ro");
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0500);
  return dir;
}

TEST(Incarnation, AnUnwritableDirectoryIsAnErrorOnlyWhenConfigured) {
  const std::string dir = read_only_dir();
  auto configured = take_incarnation(dir, 4, 77, true);
  ASSERT_FALSE(configured.ok());
  EXPECT_NE(configured.error().message().find("system.state_dir"), std::string::npos)
      << configured.error().message();
  auto fallback = take_incarnation(dir, 4, 77, false);
  ASSERT_TRUE(fallback.ok()) << fallback.error().message();
  EXPECT_EQ(fallback->incarnation, 77u);
  EXPECT_NE(fallback->warning.find("clock alone"), std::string::npos) << fallback->warning;
  if (dir != "/proc/self") {
    ::chmod(dir.c_str(), 0700);
    fs::remove_all(dir);
  }
}

TEST(Incarnation, AMissingDirectoryThatCannotBeMadeIsAnErrorOnlyWhenConfigured) {
  // Under a regular file: mkdir fails whoever runs it.
  const std::string base = fresh_dir("file");
  std::ofstream(base) << "not a directory\n";
  const std::string dir = base + "/state";
  EXPECT_FALSE(take_incarnation(dir, 1, 9, true).ok());
  auto fallback = take_incarnation(dir, 1, 9, false);
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->incarnation, 9u);
  EXPECT_FALSE(fallback->warning.empty());
  EXPECT_FALSE(take_incarnation("", 1, 9, true).ok());
  fs::remove(base);
}

}  // namespace
}  // namespace ringcast::runtime
