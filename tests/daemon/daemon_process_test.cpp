// The pieces of ringcastd that talk to the system: the node's lock
// (node_lock.cpp), systemd's notify socket (notify.cpp), log levels
// (daemon_log.cpp) and the stop signals (stop_signals.cpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "daemon/daemon_log.hpp"
#include "daemon/node_lock.hpp"
#include "daemon/notify.hpp"
#include "daemon/stop_signals.hpp"
#include "notify_socket.hpp"

namespace ringcast::daemon {
namespace {

std::string scratch_dir() {
  char name[] = "/tmp/ringcastd-test-XXXXXX";
  const char* dir = ::mkdtemp(name);
  EXPECT_NE(dir, nullptr);
  return dir != nullptr ? dir : "/tmp";
}

TEST(NodeLock, ASecondHolderIsRefusedWithThePidOfTheFirst) {
  const std::string path = lock_path(scratch_dir() + "/run", 3);
  EXPECT_TRUE(path.ends_with("/run/ringcastd-3.lock")) << path;
  Result<UniqueFd> first = take_node_lock(path);  // makes the missing run/
  ASSERT_TRUE(first.ok()) << first.error().message();
  // flock locks belong to the open file: a second open in this process
  // conflicts exactly as a second daemon's would.
  Result<UniqueFd> second = take_node_lock(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::try_again);
  EXPECT_NE(second.error().detail.find("another ringcastd runs this node (pid " +
                                       std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error().message();
  EXPECT_NE(second.error().detail.find(path), std::string::npos);
  first->reset();  // the daemon exits: the kernel drops its lock
  Result<UniqueFd> third = take_node_lock(path);
  EXPECT_TRUE(third.ok()) << third.error().message();
}

TEST(NodeLock, AnUnusableRunDirectoryIsASystemError) {
  Result<UniqueFd> r = take_node_lock("/proc/ringcast-no/ringcastd-1.lock");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::system);
}

TEST(Notify, ReadyReachesASocketAtAPath) {
  test::NotifySocket socket(scratch_dir() + "/notify");
  ASSERT_TRUE(notify_to(socket.name(), "READY=1").ok());
  EXPECT_EQ(socket.receive(), "READY=1");
}

TEST(Notify, ReadyReachesAnAbstractSocket) {
  test::NotifySocket socket("@ringcastd-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(notify_to(socket.name(), "READY=1\nSTATUS=x").ok());
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=x");
}

TEST(Notify, TheEnvironmentChoosesTheSocketAndUnsetMeansNothing) {
  test::NotifySocket socket(scratch_dir() + "/notify");
  ::setenv("NOTIFY_SOCKET", socket.name().c_str(), 1);
  EXPECT_TRUE(notify("STOPPING=1").ok());
  EXPECT_EQ(socket.receive(), "STOPPING=1");
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(notify("READY=1").ok());
  EXPECT_EQ(socket.receive_for(std::chrono::milliseconds(50)), "");
}

TEST(Notify, ANameThatIsNoSocketAddressIsRefused) {
  EXPECT_EQ(notify_to("relative/path", "READY=1").error().code, Errc::invalid_argument);
  EXPECT_EQ(notify_to(std::string(200, '/'), "READY=1").error().code, Errc::invalid_argument);
  EXPECT_EQ(notify_to("/nonexistent/notify", "READY=1").error().code, Errc::system);
}

TEST(DaemonLog, TheLevelWordIsThePriority) {
  EXPECT_EQ(log_priority("error: node 1 cannot start"), LOG_ERR);
  EXPECT_EQ(log_priority("warning: cannot tell systemd"), LOG_WARNING);
  EXPECT_EQ(log_priority("ring 1:4 members 1 2"), LOG_INFO);
}

TEST(DaemonLog, TheJournalIsRecognisedByItsVariable) {
  ::setenv("JOURNAL_STREAM", "8:1234", 1);
  EXPECT_TRUE(log_targets(true, false).journal);
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(log_targets(true, true).journal);
  EXPECT_TRUE(log_targets(true, true).to_syslog);
}

TEST(StopSignals, SigtermIsReadFromTheDescriptorNotDelivered) {
  Result<UniqueFd> fd = stop_signal_fd();
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_EQ(read_stop_signal(fd->get()), 0) << "nothing pending yet";
  ASSERT_EQ(::raise(SIGTERM), 0);  // blocked: the process lives on
  EXPECT_EQ(read_stop_signal(fd->get()), SIGTERM);
  EXPECT_STREQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_STREQ(signal_name(SIGINT), "SIGINT");
}

}  // namespace
}  // namespace ringcast::daemon
