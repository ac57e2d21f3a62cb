// The ring epochs a node named, kept in the state directory across its
// processes (runtime/kept_epochs.hpp): they only grow, a new process starts
// above them, and missing, unwritable or corrupt state never crashes.
#include "runtime/kept_epochs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "membership/membership.hpp"

namespace ringcast::runtime {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("ringcast-epochs-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  return p.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(KeptEpochs, KeptAcrossProcessesAndOnlyGrow) {
  const std::string dir = fresh_dir("kept");
  auto first = KeptEpochs::open(dir, 7, true);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->kept(), 0u) << "no file yet";
  EXPECT_TRUE(first->warning().empty()) << first->warning();
  // Epochs taken from a peer of a higher incarnation (2 << 32 and up).
  const std::uint64_t named = (std::uint64_t{2} << 32) + 2;
  EXPECT_TRUE(first->keep(named + membership::kEpochsKeptAhead));
  EXPECT_TRUE(first->keep(5)) << "lower: nothing to write";
  EXPECT_EQ(read_file(dir + "/epochs.7"),
            std::to_string(named + membership::kEpochsKeptAhead) + "\n");
  // The next process, with incarnation 2 (its clock stepped back): it starts
  // above every epoch the old one named, not at 2 << 32.
  auto second = KeptEpochs::open(dir, 7, true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->kept(), named + membership::kEpochsKeptAhead);
  EXPECT_GT(membership::epoch_floor(2, second->kept()), named);
  // Its own incarnation's range when that is higher.
  EXPECT_EQ(membership::epoch_floor(9, second->kept()), std::uint64_t{9} << 32);
  fs::remove_all(dir);
}

TEST(KeptEpochs, ACorruptFileStartsFromTheIncarnationAndIsRewritten) {
  const std::string dir = fresh_dir("corrupt");
  fs::create_directories(dir);
  std::ofstream(dir + "/epochs.3", std::ios::trunc) << "12x\n";
  auto k = KeptEpochs::open(dir, 3, true);
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->kept(), 0u);
  EXPECT_NE(k->warning().find("corrupt"), std::string::npos) << k->warning();
  EXPECT_TRUE(k->keep(70000));
  EXPECT_EQ(read_file(dir + "/epochs.3"), "70000\n");
  fs::remove_all(dir);
}

TEST(KeptEpochs, AnUnusableDirectoryIsAnErrorOnlyWhenConfigured) {
  // Under a regular file: mkdir fails whoever runs it.
  const std::string base = fresh_dir("file");
  std::ofstream(base) << "not a directory\n";
  const std::string dir = base + "/state";
  auto configured = KeptEpochs::open(dir, 1, true);
  ASSERT_FALSE(configured.ok());
  EXPECT_NE(configured.error().message().find("system.state_dir"), std::string::npos)
      << configured.error().message();
  auto fallback = KeptEpochs::open(dir, 1, false);
  ASSERT_TRUE(fallback.ok());
  EXPECT_NE(fallback->warning().find("not kept"), std::string::npos) << fallback->warning();
  EXPECT_TRUE(fallback->keep(1000)) << "nothing kept, the node goes on";
  EXPECT_EQ(fallback->kept(), 0u);
  fs::remove(base);
}

// A write that fails once the process runs (the directory was removed and a
// file put in its place): a configured directory refuses to name the ring.
TEST(KeptEpochs, AWriteThatFailsRefusesWhenConfigured) {
  const std::string dir = fresh_dir("gone");
  auto configured = KeptEpochs::open(dir, 2, true);
  auto fallback = KeptEpochs::open(dir, 3, false);
  ASSERT_TRUE(configured.ok() && fallback.ok());
  fs::remove_all(dir);
  std::ofstream(dir) << "not a directory\n";
  EXPECT_FALSE(configured->keep(500));
  EXPECT_FALSE(configured->keep(500)) << "still refused on the retry";
  EXPECT_TRUE(fallback->keep(500));
  fs::remove(dir);
}

}  // namespace
}  // namespace ringcast::runtime
