// The oracle of the fault simulations: a global view of every member's event
// stream (messages and configuration changes), checking:
//   * nothing invented: each message is one some member submitted, byte for
//     byte (payloads are a function of (sender, counter));
//   * no duplicates and per-sender FIFO at each member;
//   * total order: in each ring, seq s is the same message at every member;
//   * virtual synchrony: members that move from configuration C to the same
//     next configuration C' delivered the same messages, in the same order,
//     in C (a transitional configuration is C' of the regular one it ends);
//   * transitional configurations: the one ending ring R at a member lists
//     exactly the members of R that go on with it into its next ring (a
//     subset of both rings; left = the rest of R), the same list at every
//     member coming from R, and nobody who came from elsewhere; a regular
//     change's left and joined are what its ring lost and gained;
//   * SAFE: when a SAFE message is delivered in a regular configuration,
//     every member of it that is still in that ring has it: that member
//     delivered it already, or it sits intact in that member's log;
//   * incarnations: a member's restarted process has a larger incarnation
//     than its previous one, whatever its clock did;
//   * nothing wrong is delivered: a payload differs from the sender's in no
//     byte (check_content), whatever was corrupted on the way;
//   * no member stalls silently: one that met a corrupted record shows it in
//     its counters (check_not_silent); one that stalls for good fails the
//     harness's liveness check, and one that left must say why;
//   * at the end: every running member delivered the messages its running
//     process submitted (nothing of a survivor lost), and the members of each
//     final ring delivered the same messages in it.
// The first violation is kept and reported.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "membership/membership.hpp"

namespace ringcast::membership::fault_test {

class FaultOracle {
 public:
  explicit FaultOracle(std::vector<fabric::NodeId> nodes);

  void on_submitted(std::uint32_t sender, std::uint32_t counter, std::uint32_t bytes,
                    ring::Guarantee guarantee);
  // logs[j]: member j's log; ring_of[j]: the ring member j has installed.
  void on_event(std::size_t m, const MemberEvent& e, std::span<const std::byte> record,
                std::span<const std::span<const std::byte>> logs,
                std::span<const ring::RingId> ring_of, std::uint64_t log_bytes,
                std::uint64_t now_ns);
  // Member m restarted: a new process with an empty view; its messages from
  // now on (counter >= next_counter) must not be lost.
  void on_restart(std::size_t m, std::uint32_t next_counter);
  // Member m's process restarts with incarnation `after`: incarnations of a
  // member strictly increase, whatever its clock did.
  void on_incarnation(std::size_t m, std::uint32_t before, std::uint32_t after);
  // At the end. live[m]: member m is running (never crashed, or restarted).
  void finish(const std::vector<bool>& live);

  // The harness changed the byte at this offset of member m's log as it
  // landed: until m fetches the record again, that byte may differ there
  // from the sender's (SAFE counts a landed batch as held; m refuses the
  // bad copy at delivery and fetches it from a member that holds it).
  void on_corrupted(std::size_t m, std::uint64_t log_offset);
  // Member m met a corrupted record (in the ring it runs at the end); noticed:
  // what its counters show of refused records and stalled deliveries.
  void check_not_silent(std::size_t m, bool corrupted, std::uint64_t noticed);

  bool delivered_own(std::size_t m) const;
  std::uint64_t delivered_total() const { return delivered_total_; }
  std::uint64_t changes_total() const { return changes_total_; }
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  void fail(std::string what);

 private:
  struct Message {
    std::uint32_t sender = 0;
    std::uint32_t counter = 0;
    friend auto operator<=>(const Message&, const Message&) = default;
  };
  struct ConfigKey {  // a configuration: ring, kind, members
    std::uint32_t representative = 0;
    std::uint64_t epoch = 0;
    bool transitional = false;
    std::vector<fabric::NodeId> members;
    friend auto operator<=>(const ConfigKey&, const ConfigKey&) = default;
  };
  struct View {
    ConfigKey config;
    bool configured = false;
    std::vector<fabric::NodeId> regular_members;  // of the last regular configuration
    std::vector<fabric::NodeId> transitional_left;
    std::vector<Message> in_config;  // delivered in the current configuration
    std::vector<std::uint32_t> next_counter;
    std::vector<std::vector<bool>> seen;  // [sender][counter]
  };
  struct Arrival {  // how one member came into a regular configuration
    std::size_t member = 0;
    bool from_ring = false;  // false: a fresh process (no configuration before)
    ConfigKey from;          // the transitional configuration it came through
  };
  struct Moved {  // what the first member seen moving C -> C' delivered in C
    std::size_t member = 0;
    std::vector<Message> messages;
  };

  bool check_content(std::size_t m, const MemberEvent& e, std::uint32_t counter);
  void on_change(std::size_t m, const ConfigurationChange& c);
  void on_message(std::size_t m, const MemberEvent& e, std::span<const std::byte> record,
                  std::span<const std::span<const std::byte>> logs,
                  std::span<const ring::RingId> ring_of, std::uint64_t log_bytes,
                  std::uint64_t now_ns);
  void check_transition(std::size_t m, const ConfigurationChange& c);
  void check_arrival(std::size_t m, const ConfigurationChange& c, const Arrival& a);
  void compare_move(std::size_t m, const ConfigKey& from, const ConfigKey& to,
                    const std::vector<Message>& messages);

  std::size_t members_;
  std::vector<fabric::NodeId> nodes_;
  std::vector<std::vector<std::uint32_t>> sent_bytes_;  // [sender][counter]
  std::vector<std::vector<ring::Guarantee>> sent_guarantee_;
  std::vector<View> views_;
  std::vector<std::uint32_t> own_from_;  // [m]: first counter of its running process
  std::map<std::pair<ConfigKey, ConfigKey>, Moved> moves_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<Arrival>> arrivals_;  // by ring
  struct Ordered {  // the message at one seq of one ring, and who delivered it
    Message message;
    std::vector<bool> delivered_by;  // [member]
  };
  std::map<std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>, Ordered> order_;
  std::uint64_t delivered_total_ = 0;
  std::uint64_t changes_total_ = 0;
  std::string failure_;
  std::vector<std::byte> scratch_;
  std::vector<std::vector<std::uint64_t>> corrupted_;  // [member]: log offsets
  // A member of `ring` (by ring_of) that neither delivered this record nor
  // holds it intact at `offset` of its log.
  std::optional<std::size_t> member_lacking(const ring::RingId& ring, std::uint64_t offset,
                                            std::span<const std::byte> record,
                                            std::span<const std::span<const std::byte>> logs,
                                            std::span<const ring::RingId> ring_of,
                                            const std::vector<bool>& delivered_by) const;
  bool differs_beyond_corruption(std::size_t j, std::uint64_t offset,
                                 std::span<const std::byte> theirs,
                                 std::span<const std::byte> record) const;
};

}  // namespace ringcast::membership::fault_test
