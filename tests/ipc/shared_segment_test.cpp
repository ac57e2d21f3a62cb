// Sealed segments: whoever holds the descriptor can neither shrink nor grow
// it nor change its seals, so the daemon's mapping never faults; a segment
// shared read-only cannot be mapped writable by a client; a client refuses
// an unsealed or wrongly sized segment.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ipc/shared_segment.hpp"

namespace ringcast::ipc {
namespace {

constexpr std::size_t kBytes = 1 << 16;

TEST(SharedSegment, IsSealedAgainstShrinkGrowAndNewSeals) {
  auto segment = create_sealed_segment("ipc-test", kBytes, PeerAccess::read_write);
  ASSERT_TRUE(segment.ok()) << segment.error().message();
  const int fd = segment->fd.get();
  const int seals = ::fcntl(fd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_EQ(seals & F_SEAL_FUTURE_WRITE, 0);
  EXPECT_EQ(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
}

TEST(SharedSegment, AClientsFtruncateFailsAndTheDaemonsMappingStaysWhole) {
  auto segment = create_sealed_segment("ipc-test", kBytes, PeerAccess::read_write);
  ASSERT_TRUE(segment.ok());
  // The client's view: the descriptor it was passed, mapped its way.
  auto client = map_received(segment->fd.get(), kBytes, PeerAccess::read_write);
  ASSERT_TRUE(client.ok()) << client.error().message();
  EXPECT_EQ(::ftruncate(segment->fd.get(), 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(segment->fd.get(), kBytes / 2), -1);
  EXPECT_EQ(::ftruncate(segment->fd.get(), kBytes * 2), -1);
  EXPECT_EQ(errno, EPERM);
  // Its writes are the daemon's reads, to the last byte (no SIGBUS).
  client->bytes()[kBytes - 1] = std::byte{0x5a};
  EXPECT_EQ(segment->mapping.bytes()[kBytes - 1], std::byte{0x5a});
}

TEST(SharedSegment, AReadOnlySegmentCannotBeMappedWritableByAClient) {
  auto segment = create_sealed_segment("ipc-test-log", kBytes, PeerAccess::read_only);
  ASSERT_TRUE(segment.ok()) << segment.error().message();
  const int fd = segment->fd.get();
  EXPECT_NE(::fcntl(fd, F_GET_SEALS) & F_SEAL_FUTURE_WRITE, 0);
  void* writable = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_EQ(writable, MAP_FAILED);
  EXPECT_EQ(::pwrite(fd, "x", 1, 0), -1);
  auto client = map_received(fd, kBytes, PeerAccess::read_only);
  ASSERT_TRUE(client.ok()) << client.error().message();
  EXPECT_EQ(::mprotect(client->bytes().data(), kBytes, PROT_READ | PROT_WRITE), -1);
  // The daemon still writes through the mapping it made before the seal.
  std::memcpy(segment->mapping.bytes().data(), "log", 3);
  EXPECT_EQ(std::memcmp(client->bytes().data(), "log", 3), 0);
}

TEST(SharedSegment, AClientRefusesAnUnsealedOrWronglySizedSegment) {
  const int plain = ::memfd_create("unsealed", MFD_CLOEXEC);
  ASSERT_GE(plain, 0);
  ASSERT_EQ(::ftruncate(plain, kBytes), 0);
  auto refused = map_received(plain, kBytes, PeerAccess::read_write);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::protocol);
  ::close(plain);

  auto segment = create_sealed_segment("ipc-test", kBytes, PeerAccess::read_write);
  ASSERT_TRUE(segment.ok());
  EXPECT_EQ(map_received(segment->fd.get(), kBytes * 2, PeerAccess::read_write).error().code,
            Errc::protocol);
  // A read-write segment lacks the seal a read-only one needs.
  EXPECT_FALSE(map_received(segment->fd.get(), kBytes, PeerAccess::read_only).ok());
}

TEST(SharedSegment, SizesThatAreNotWholePagesAreRefused) {
  EXPECT_EQ(create_sealed_segment("x", 0, PeerAccess::read_write).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(create_sealed_segment("x", 100, PeerAccess::read_write).error().code,
            Errc::invalid_argument);
}

}  // namespace
}  // namespace ringcast::ipc
