// What dissemination costs each member's NIC: one sender streams AGREED
// messages through a ring of N members over the simulated fabric, and the
// simulator counts the work requests and bytes every node posted
// (SimWorld::node_stats). Written directly, the holder writes every record to
// every other member, so its NIC sends N-1 bytes per delivered payload byte;
// relayed along the ring (relay_min_batch_bytes, in a ring of at least
// relay_min_members), every member's NIC sends about one. The tables are in
// docs/performance.md, "Dissemination cost per member".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "ring/driver.hpp"

namespace ringcast::ring::sim_test {
namespace {

constexpr std::uint64_t kEventLimit = 20'000'000;

fabric::NodeId node_of(std::size_t index) {
  return static_cast<fabric::NodeId>(100 + index);
}

struct Cost {
  std::string failure;                // empty: every member delivered every message in order
  double sender_bytes_per_byte = 0;   // bytes the sender's NIC posted per delivered payload byte
  double sender_writes_per_msg = 0;   // its work requests per message
  double average_bytes_per_byte = 0;  // the same, averaged over the members
  double average_writes_per_msg = 0;
  double max_bytes_per_byte = 0;      // the busiest member's bytes per delivered byte
  double max_writes_per_msg = 0;      // the busiest member's work requests per message
  double records_per_visit = 0;       // the sender's
  std::uint64_t records_relayed = 0;  // by every member
};

// The ring's relay settings a stream runs with.
struct Relay {
  std::uint64_t min_batch_bytes = 0;
  std::uint32_t min_members = 3;
};
// Direct writes only.
constexpr Relay kDirect{0, 3};
// The default threshold in every ring that can relay (3 members or more).
const Relay kRelayWhereItMay{RingConfig{}.relay_min_batch_bytes, 3};
// The ring's defaults.
const Relay kDefaults{RingConfig{}.relay_min_batch_bytes, RingConfig{}.relay_min_members};

// Member 0 submits whenever its send queue takes more; every member reacts
// at once to every event (the protocol's cost, no thread model).
class Stream {
 public:
  Stream(std::size_t members, std::uint32_t size_bytes, std::uint64_t messages, Relay relay)
      : members_(members), size_(size_bytes), messages_(messages), relay_(relay), world_(1) {}
  Cost go();

 private:
  Status set_up();
  void submit_more();
  void round(std::size_t i);
  void deliver(std::size_t i);
  bool due(std::size_t i) const;
  Cost figures() const;

  std::size_t members_;
  std::uint32_t size_;
  std::uint64_t messages_;
  Relay relay_;
  fabric::sim::SimWorld world_;
  std::vector<fabric::sim::SimEndpoint*> eps_;
  std::vector<std::unique_ptr<RingDriver>> drivers_;
  std::vector<std::uint64_t> next_;    // per member: the next message it expects
  std::vector<bool> waits_for_event_;  // its last round did nothing
  std::uint64_t submitted_ = 0;
  std::uint64_t everywhere_ = 0;  // messages delivered at every member
  std::string failure_;
};

Status Stream::set_up() {
  RingConfig config;
  config.log_bytes = 4u << 20;  // the stream wraps the log: the space rule and rotations count
  config.relay_min_batch_bytes = relay_.min_batch_bytes;
  config.relay_min_members = relay_.min_members;
  for (std::size_t i = 0; i < members_; ++i) {
    eps_.push_back(&world_.add_endpoint(node_of(i)));
    auto driver = RingDriver::create(*eps_[i], config);
    RC_TRY(driver);
    drivers_.push_back(std::move(*driver));
  }
  std::vector<std::vector<fabric::Link*>> links(members_,
                                                std::vector<fabric::Link*>(members_, nullptr));
  for (std::size_t i = 0; i < members_; ++i) {
    for (std::size_t j = i + 1; j < members_; ++j) {
      auto pair = world_.connect(*eps_[i], drivers_[i]->connect_info(0), *eps_[j],
                                 drivers_[j]->connect_info(0));
      RC_TRY(pair);
      links[i][j] = pair->a_to_b;
      links[j][i] = pair->b_to_a;
    }
  }
  RingMembership ring{{node_of(0), 1}, {}, 0};
  for (std::size_t i = 0; i < members_; ++i)
    ring.members.push_back(node_of(i));
  for (std::size_t i = 0; i < members_; ++i) {
    ring.my_index = i;
    RC_TRY(drivers_[i]->start(ring, links[i]));
  }
  next_.assign(members_, 0);
  waits_for_event_.assign(members_, false);
  return {};
}

void Stream::submit_more() {
  std::vector<std::byte> payload(size_);
  while (submitted_ < messages_) {
    OutgoingMessage m;
    m.payload = payload;
    m.group = static_cast<std::uint32_t>(submitted_);
    if (!drivers_[0]->submit(m).ok()) return;  // try_again: the queue is full for now
    ++submitted_;
    waits_for_event_[0] = false;
  }
}

void Stream::deliver(std::size_t i) {
  RingDriver& d = *drivers_[i];
  std::uint64_t last = 0;
  while (auto del = d.next_delivery()) {
    last = del->seq;
    if (del->sender != node_of(0) || del->group != next_[i] || del->payload.size() != size_) {
      failure_ = "member " + std::to_string(i) + " delivered message " +
                 std::to_string(del->group) + " out of order";
      return;
    }
    ++next_[i];
  }
  everywhere_ = *std::min_element(next_.begin(), next_.end());
  if (last != 0 && !d.release_through_seq(last).ok()) failure_ = "release refused";
}

void Stream::round(std::size_t i) {
  const bool worked = drivers_[i]->progress();
  const std::uint64_t before = next_[i];
  deliver(i);
  waits_for_event_[i] = !worked && next_[i] == before;
}

bool Stream::due(std::size_t i) const {
  if (eps_[i]->pending_completions() > 0) return true;
  return !waits_for_event_[i] && drivers_[i]->next_deadline_ns() <= world_.now_ns();
}

Cost Stream::go() {
  if (Status s = set_up(); !s.ok()) return {"set-up: " + s.error().message()};
  std::uint64_t events = 0;
  while (failure_.empty() && everywhere_ < messages_) {
    if (++events > kEventLimit) return {"stalled: " + std::to_string(everywhere_) + " delivered"};
    submit_more();
    bool any = false;
    for (std::size_t i = 0; i < members_; ++i) {
      if (due(i)) {
        round(i);
        any = true;
      }
    }
    if (any) continue;
    // A member whose round at this instant did nothing waits for the fabric
    // (a deadline of 0 while its outbox waits for a link).
    std::uint64_t t = world_.next_event_ns().value_or(kNever);
    for (const auto& d : drivers_) {
      if (d->next_deadline_ns() > world_.now_ns()) t = std::min(t, d->next_deadline_ns());
    }
    if (t == kNever) return {"stalled: nothing to do"};
    world_.run_until(t);
    waits_for_event_.assign(members_, false);
  }
  if (!failure_.empty()) return {failure_};
  return figures();
}

Cost Stream::figures() const {
  const double delivered = static_cast<double>(messages_) * size_;
  const double n = static_cast<double>(messages_);
  Cost c;
  const fabric::sim::SimNodeStats sender = world_.node_stats(node_of(0));
  c.sender_bytes_per_byte = static_cast<double>(sender.bytes_posted) / delivered;
  c.sender_writes_per_msg = static_cast<double>(sender.writes_posted) / n;
  const RingCounters& counters = drivers_[0]->state().counters();
  c.records_per_visit = static_cast<double>(counters.records_sent) /
                        static_cast<double>(std::max<std::uint64_t>(counters.visits, 1));
  for (std::size_t i = 0; i < members_; ++i) {
    const fabric::sim::SimNodeStats s = world_.node_stats(node_of(i));
    const double bytes = static_cast<double>(s.bytes_posted) / delivered;
    const double writes = static_cast<double>(s.writes_posted) / n;
    c.average_bytes_per_byte += bytes / members_;
    c.average_writes_per_msg += writes / members_;
    c.max_bytes_per_byte = std::max(c.max_bytes_per_byte, bytes);
    c.max_writes_per_msg = std::max(c.max_writes_per_msg, writes);
    c.records_relayed += drivers_[i]->state().counters().records_relayed;
  }
  return c;
}

// Messages per size: the stream fills the 4 MiB log a few times over.
std::uint64_t messages_for(std::uint32_t size_bytes) {
  return size_bytes >= 65536 ? 160 : size_bytes >= 1024 ? 6000 : 40000;
}

constexpr std::size_t kGroupSizes[] = {2, 3, 4, 5, 6, 8, 10, 12, 16};

// Direct writes (relay off): per delivered payload byte the sender's NIC
// posts a record's bytes once per other member (plus a 64-byte header per
// record and the tokens); the others post only tokens and wakes. Fails when
// the accounting or the shape is off.
TEST(DisseminationSim, TheSendersNicSendsNMinusOneCopies) {
  std::printf("%8s %4s %14s %13s %15s %14s %14s\n", "size", "N", "sender B/B", "sender WR/msg",
              "average B/B", "average WR/msg", "records/visit");
  for (std::uint32_t size : {64u, 1024u, 65536u}) {
    for (std::size_t n : kGroupSizes) {
      const Cost c = Stream(n, size, messages_for(size), kDirect).go();
      ASSERT_TRUE(c.failure.empty()) << n << " members, " << size << " B: " << c.failure;
      std::printf("%8u %4zu %14.3f %13.3f %15.3f %14.3f %14.1f\n", size, n, c.sender_bytes_per_byte,
                  c.sender_writes_per_msg, c.average_bytes_per_byte, c.average_writes_per_msg,
                  c.records_per_visit);
      const double copies = static_cast<double>(n - 1);
      EXPECT_GE(c.sender_bytes_per_byte, copies) << n << " members, " << size << " B";
      EXPECT_LT(c.average_bytes_per_byte, c.sender_bytes_per_byte) << n << " members";
      if (size == 65536) {
        EXPECT_GT(c.sender_bytes_per_byte, copies - 0.5) << n << " members";
        EXPECT_LT(c.sender_bytes_per_byte, copies + 0.5) << n << " members";
        EXPECT_NEAR(c.average_bytes_per_byte, copies / static_cast<double>(n), 0.05)
            << n << " members";
      }
    }
  }
}

// The relay's shape at N members and `size`, for a stream of `messages`
// that relayed: the busiest NIC posts about one byte per delivered byte.
void expect_relayed(const Cost& c, std::size_t n, std::uint32_t size, std::uint64_t messages) {
  if (n > 2 && size == 65536) {
    // Every member but the one before the sender forwards every record
    // (a single 64 KiB record is above the threshold).
    EXPECT_EQ(c.records_relayed, messages * (n - 2)) << n << " members";
  }
  const double header = static_cast<double>(record_span_bytes(size)) / size;
  EXPECT_LE(c.max_bytes_per_byte, header + 0.05) << n << " members, " << size << " B";
  if (size == 65536) {
    EXPECT_LE(c.max_bytes_per_byte, 1.1) << n << " members";
  }
  // The average is what N-1 copies spread over N members cost.
  EXPECT_NEAR(c.average_bytes_per_byte, header * (n - 1) / n, 0.05) << n << " members";
}

// A stream that went directly: the same writes as with the relay off.
void expect_direct(const Cost& c, std::size_t n, std::uint32_t size) {
  const Cost direct = Stream(n, size, messages_for(size), kDirect).go();
  EXPECT_EQ(c.records_relayed, 0u) << n << " members, " << size << " B";
  EXPECT_DOUBLE_EQ(c.sender_bytes_per_byte, direct.sender_bytes_per_byte) << n << ", " << size;
  EXPECT_DOUBLE_EQ(c.average_bytes_per_byte, direct.average_bytes_per_byte) << n << ", " << size;
}

// Relayed wherever it may (the default threshold, relay_min_members 3): a
// visit of at least relay_min_batch_bytes goes to the successor only and
// every member forwards it to its own, so the busiest NIC posts about one
// byte per delivered byte at every N; a smaller visit (64 B messages: 64
// records of 128 bytes, 8 KiB) still goes directly, exactly as with the
// relay off.
TEST(DisseminationSim, RelayedEveryNicSendsAboutOneCopy) {
  ASSERT_GT(kRelayWhereItMay.min_batch_bytes, 8u << 10);  // the 64 B stream stays below it
  std::printf("%8s %4s %11s %11s %12s %12s %14s %9s\n", "size", "N", "max B/B", "sender B/B",
              "max WR/msg", "average B/B", "records/visit", "relayed");
  for (std::uint32_t size : {64u, 1024u, 65536u}) {
    for (std::size_t n : kGroupSizes) {
      const Cost c = Stream(n, size, messages_for(size), kRelayWhereItMay).go();
      ASSERT_TRUE(c.failure.empty()) << n << " members, " << size << " B: " << c.failure;
      std::printf("%8u %4zu %11.3f %11.3f %12.3f %12.3f %14.1f %9llu\n", size, n,
                  c.max_bytes_per_byte, c.sender_bytes_per_byte, c.max_writes_per_msg,
                  c.average_bytes_per_byte, c.records_per_visit,
                  static_cast<unsigned long long>(c.records_relayed));
      if (size == 64) {  // below the threshold: direct writes, unchanged
        expect_direct(c, n, size);
        continue;
      }
      expect_relayed(c, n, size, messages_for(size));
    }
  }
}

// The defaults: a ring smaller than relay_min_members (5) writes even its
// large visits directly, where the relay's hops would cost more than the
// holder's NIC saves; from 5 members a large visit relays.
TEST(DisseminationSim, TheDefaultsRelayFromFiveMembers) {
  ASSERT_EQ(kDefaults.min_members, 5u);
  for (std::uint32_t size : {1024u, 65536u}) {
    for (std::size_t n : kGroupSizes) {
      const Cost c = Stream(n, size, messages_for(size), kDefaults).go();
      ASSERT_TRUE(c.failure.empty()) << n << " members, " << size << " B: " << c.failure;
      if (n < kDefaults.min_members) {
        expect_direct(c, n, size);
      } else {
        EXPECT_GT(c.records_relayed, 0u) << n << " members, " << size << " B";
        expect_relayed(c, n, size, messages_for(size));
      }
    }
  }
}

}  // namespace
}  // namespace ringcast::ring::sim_test
