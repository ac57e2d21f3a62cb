// The oracle of the ring simulations: a global view of every member's
// deliveries and releases, checking the ring's properties (docs/protocol.md):
//   * total order: every member delivers seq 1, 2, 3, ... and the same message
//     at the same seq;
//   * nothing invented: each delivery is a message some member submitted,
//     byte for byte (payloads are a function of (sender, counter));
//   * nothing duplicated, per-sender FIFO, and (at the end) nothing lost and
//     self-delivery: every member delivered every submitted message;
//   * SAFE: when anyone delivers a SAFE record, it already sits intact in
//     every member's log (the oracle looks at the logs' bytes itself);
//   * no overwrite before release: a record's bytes in a member's log are
//     the same at its release as at its delivery (and right at delivery).
// The first violation is kept (with the member, seq and time) and reported.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ring/receive_log.hpp"

namespace ringcast::ring::sim_test {

// The payload bytes of message (sender, counter): deterministic, so the
// oracle checks content without storing it.
void fill_payload(std::span<std::byte> out, std::uint32_t sender, std::uint32_t counter);
std::uint64_t hash_bytes(std::span<const std::byte> bytes);

class Oracle {
 public:
  // nodes[i]: member i's node id.
  explicit Oracle(std::vector<fabric::NodeId> nodes);

  // A member's submit() accepted message `counter` of that sender.
  void on_submitted(std::uint32_t sender, std::uint32_t counter, std::uint32_t bytes,
                    Guarantee guarantee);
  // Member `m` delivered d; record_bytes is the record (header + payload) in
  // m's log; logs[j] is member j's whole log (for the SAFE check).
  void on_delivered(std::size_t m, const Delivery& d, std::span<const std::byte> record_bytes,
                    std::span<const std::span<const std::byte>> logs, std::uint64_t log_bytes,
                    std::uint64_t now_ns);
  // Member `m` released through seq; `log` is its log now.
  void on_released(std::size_t m, std::uint64_t seq, std::span<const std::byte> log,
                   std::uint64_t log_bytes);

  // Everything submitted was delivered everywhere and released.
  bool complete() const;
  // The end of the run: reports what is missing when not complete().
  void finish();

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  void fail(std::string what);
  std::uint64_t delivered_total() const { return delivered_total_; }

 private:
  struct Sent {
    std::uint32_t bytes = 0;
    Guarantee guarantee = Guarantee::agreed;
  };
  struct Ordered {
    std::uint32_t sender = 0;
    std::uint32_t counter = 0;
  };
  struct Held {  // delivered, not yet released, at one member
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;  // in the log
    std::uint64_t bytes = 0;   // header and payload
    std::uint64_t hash = 0;
  };
  struct MemberView {
    std::uint64_t delivered_seq = 0;
    std::uint64_t released_seq = 0;
    std::vector<std::uint32_t> next_counter;  // per sender: FIFO and no duplicates
    std::vector<Held> held;
    std::size_t held_first = 0;
  };

  bool check_content(std::size_t m, const Delivery& d, std::uint32_t counter);
  void check_safe(std::size_t m, const Delivery& d, std::span<const std::byte> record_bytes,
                  std::span<const std::span<const std::byte>> logs, std::uint64_t log_bytes);

  std::size_t members_;
  std::vector<fabric::NodeId> nodes_;
  std::vector<std::vector<Sent>> sent_;  // [sender][counter]
  std::vector<Ordered> order_;           // [seq - 1]: the total order seen first
  std::vector<MemberView> views_;
  std::uint64_t delivered_total_ = 0;
  std::string failure_;
  std::vector<std::byte> scratch_;
};

}  // namespace ringcast::ring::sim_test
