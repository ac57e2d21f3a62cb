#include "ipc/doorbell.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace ringcast::ipc {

Result<Doorbell> Doorbell::create() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return system_error("eventfd", errno, "a ring's doorbell");
  return Doorbell(UniqueFd(fd));
}

Status Doorbell::ring() noexcept {
  const eventfd_t one = 1;
  if (::write(fd_.get(), &one, sizeof one) == sizeof one || errno == EAGAIN) return {};
  return system_error("write", errno, "a ring's doorbell");
}

std::uint64_t Doorbell::drain() noexcept {
  eventfd_t count = 0;
  if (::read(fd_.get(), &count, sizeof count) != sizeof count) return 0;
  return count;
}

Result<bool> Doorbell::wait(std::uint64_t timeout_ns) noexcept {
  pollfd p{fd_.get(), POLLIN, 0};
  const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000),
                         static_cast<long>(timeout_ns % 1'000'000'000)};
  const int n = ::ppoll(&p, 1, &timeout, nullptr);
  if (n < 0 && errno != EINTR) return system_error("ppoll", errno, "a ring's doorbell");
  if (n <= 0) return false;
  drain();
  return true;
}

namespace {

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

Result<bool> wait_for_frames(RingConsumer& ring, Doorbell& doorbell, const WaitPolicy& policy,
                             WaitStats* stats) {
  const std::uint64_t spin_end = now_ns() + policy.spin_ns;
  do {
    if (ring.has_frames()) return true;
    std::this_thread::yield();
  } while (now_ns() < spin_end);
  if (stats != nullptr) ++stats->announced;
  if (!ring.prepare_sleep()) return true;
  if (stats != nullptr) ++stats->sleeps;
  auto rang = doorbell.wait(policy.max_sleep_ns);
  ring.end_sleep();
  if (!rang) return rang.error();
  if (!*rang && stats != nullptr) ++stats->timeouts;
  return ring.has_frames();
}

}  // namespace ringcast::ipc
