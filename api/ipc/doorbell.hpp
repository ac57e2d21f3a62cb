// A ring's wake-up: an eventfd (non-blocking, close-on-exec) the consumer
// sleeps on and the producer writes when the consumer announced its sleep
// (byte_ring.hpp). The daemon creates both of a client's doorbells and
// passes them with the rings; it never takes a descriptor from a client.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "ipc/byte_ring.hpp"

namespace ringcast::ipc {

class Doorbell {
 public:
  static Result<Doorbell> create();
  explicit Doorbell(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

  int fd() const noexcept { return fd_.get(); }
  Status ring() noexcept;
  // Reads the counter back to 0; the rings it had been rung (0: none).
  std::uint64_t drain() noexcept;
  // Until the doorbell rings or timeout_ns passes; true when it rang.
  Result<bool> wait(std::uint64_t timeout_ns) noexcept;

 private:
  UniqueFd fd_;
};

// Busy-poll then sleep, as the progress thread does: poll the ring for
// spin_ns, then announce the sleep and sleep on the doorbell at most
// max_sleep_ns.
struct WaitPolicy {
  std::uint64_t spin_ns = 50'000;
  std::uint64_t max_sleep_ns = 100'000'000;
};

struct WaitStats {
  // Times the consumer told the producer it would sleep: each allows the
  // producer one doorbell write, even when frames came in time and the
  // consumer took the announcement back instead of sleeping.
  std::uint64_t announced = 0;
  std::uint64_t sleeps = 0;    // times the consumer slept on the doorbell
  std::uint64_t timeouts = 0;  // sleeps that ran max_sleep_ns out without a ring
};

// true when the ring has frames; false when the sleep ended without any (it
// ran out, or a ring meant for an earlier, withdrawn announcement woke it).
Result<bool> wait_for_frames(RingConsumer& ring, Doorbell& doorbell, const WaitPolicy& policy,
                             WaitStats* stats = nullptr);

}  // namespace ringcast::ipc
