// A named thread shows its name where top -H and ps -L read it.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "base/thread_name.hpp"

namespace ringcast {
namespace {

std::string comm_of_this_thread() {
  const long tid = ::syscall(SYS_gettid);
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(ThreadName, TheKernelShowsTheNameOfTheCallingThreadOnly) {
  const std::string before = comm_of_this_thread();
  std::string named, long_named;
  std::thread t([&] {
    name_this_thread("rc-progress");
    named = comm_of_this_thread();
    name_this_thread("rc-a-name-longer-than-fifteen");
    long_named = comm_of_this_thread();
  });
  t.join();
  EXPECT_EQ(named, "rc-progress");
  EXPECT_EQ(long_named, "rc-a-name-longe");  // the kernel keeps 15 characters
  EXPECT_EQ(comm_of_this_thread(), before);
}

}  // namespace
}  // namespace ringcast
