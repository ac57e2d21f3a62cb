// Descriptors across a unix socket (SCM_RIGHTS), in one process and into a
// forked child that maps the passed segment as a client would, fails to
// shrink it and rings the passed doorbell; the refusals of the helpers; and
// SO_PEERCRED with the access rule.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ipc/doorbell.hpp"
#include "ipc/fd_passing.hpp"
#include "ipc/peer_credentials.hpp"
#include "ipc/shared_segment.hpp"
#include "socket_pair.hpp"

namespace ringcast::ipc {
namespace {

bool same_file(int x, int y) {
  struct stat sx {
  }, sy{};
  return ::fstat(x, &sx) == 0 && ::fstat(y, &sy) == 0 && sx.st_ino == sy.st_ino &&
         sx.st_dev == sy.st_dev;
}

const std::byte kTag[] = {std::byte{'r'}, std::byte{'c'}};

TEST(FdPassing, DescriptorsAndDataArriveInOrder) {
  SocketPair pair;
  auto segment = create_sealed_segment("ipc-pass", 4096, PeerAccess::read_write);
  auto doorbell = Doorbell::create();
  ASSERT_TRUE(segment.ok() && doorbell.ok());
  const int sent[] = {segment->fd.get(), doorbell->fd()};
  ASSERT_TRUE(send_fds(pair.daemon.get(), kTag, sent).ok());
  std::byte data[8];
  auto got = receive_fds(pair.client.get(), data, 4);
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(got->bytes, 2u);
  EXPECT_EQ(data[0], std::byte{'r'});
  ASSERT_EQ(got->fds.size(), 2u);
  EXPECT_TRUE(same_file(got->fds[0].get(), segment->fd.get()));
  EXPECT_TRUE(same_file(got->fds[1].get(), doorbell->fd()));
  EXPECT_NE(::fcntl(got->fds[0].get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(FdPassing, AForkedClientMapsTheSegmentCannotShrinkItAndRingsTheDoorbell) {
  SocketPair pair;
  auto segment = create_sealed_segment("ipc-pass", 1 << 16, PeerAccess::read_write);
  auto doorbell = Doorbell::create();
  ASSERT_TRUE(segment.ok() && doorbell.ok());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The client: everything it knows came over the socket.
    pair.daemon.reset();
    std::byte data[8];
    auto got = receive_fds(pair.client.get(), data, 2);
    if (!got.ok() || got->fds.size() != 2) ::_exit(2);
    auto mapping = map_received(got->fds[0].get(), 1 << 16, PeerAccess::read_write);
    if (!mapping.ok()) ::_exit(3);
    if (::ftruncate(got->fds[0].get(), 0) == 0 || errno != EPERM) ::_exit(4);
    std::memcpy(mapping->bytes().data() + (1 << 16) - 6, "child", 6);
    Doorbell bell(std::move(got->fds[1]));
    ::_exit(bell.ring().ok() ? 0 : 5);
  }
  const int sent[] = {segment->fd.get(), doorbell->fd()};
  ASSERT_TRUE(send_fds(pair.daemon.get(), kTag, sent).ok());
  auto rang = doorbell->wait(10'000'000'000);
  ASSERT_TRUE(rang.ok() && *rang);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_STREQ(reinterpret_cast<const char*>(segment->mapping.bytes().data()) + (1 << 16) - 6,
               "child");
}

TEST(FdPassing, MoreDescriptorsThanExpectedAreRefusedAndClosed) {
  SocketPair pair;
  auto doorbell = Doorbell::create();
  ASSERT_TRUE(doorbell.ok());
  const int sent[] = {doorbell->fd(), doorbell->fd(), doorbell->fd()};
  ASSERT_TRUE(send_fds(pair.daemon.get(), kTag, sent).ok());
  std::byte data[8];
  auto got = receive_fds(pair.client.get(), data, 2);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::protocol);
}

TEST(FdPassing, TheHelpersRefuseWhatCannotWork) {
  SocketPair pair;
  int many[kMaxPassedFds + 1];
  std::fill(std::begin(many), std::end(many), 0);
  EXPECT_EQ(send_fds(pair.daemon.get(), kTag, many).error().code, Errc::invalid_argument);
  EXPECT_EQ(send_fds(pair.daemon.get(), {}, std::span<const int>()).error().code,
            Errc::invalid_argument);
  std::byte data[8];
  EXPECT_EQ(receive_fds(pair.client.get(), data, kMaxPassedFds + 1).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(send_fds(-1, kTag, {}).error().code, Errc::system);
}

TEST(FdPassing, APeerThatClosedIsReportedAsClosed) {
  SocketPair pair;
  pair.daemon.reset();
  std::byte data[8];
  auto got = receive_fds(pair.client.get(), data, 1);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::closed);
  EXPECT_FALSE(send_fds(pair.client.get(), kTag, {}).ok());  // EPIPE, no SIGPIPE
}

TEST(PeerCredentials, AreTheConnectingProcesss) {
  SocketPair pair;
  auto cred = peer_credentials(pair.client.get());
  ASSERT_TRUE(cred.ok()) << cred.error().message();
  EXPECT_EQ(cred->pid, ::getpid());
  EXPECT_EQ(cred->uid, ::getuid());
  EXPECT_EQ(cred->gid, ::getgid());
  EXPECT_FALSE(peer_credentials(-1).ok());
}

TEST(PeerCredentials, RootAlwaysAndOtherwiseTheListedUsersAndGroups) {
  const AccessPolicy policy{{1000}, {2000}};
  EXPECT_TRUE(check_access({1, 0, 0}, {}).ok());
  EXPECT_TRUE(check_access({1, 1000, 5}, policy).ok());
  EXPECT_TRUE(check_access({1, 5, 2000}, policy).ok());
  auto refused = check_access({77, 1001, 2001}, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::refused);
  EXPECT_NE(refused.error().message().find("process 77 (uid 1001, gid 2001)"), std::string::npos);
}

}  // namespace
}  // namespace ringcast::ipc
