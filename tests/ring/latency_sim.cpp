// run_latency_case: the event loop of one simulated latency run (see
// latency_sim.hpp), with a model of each member's progress thread.
#include "latency_sim.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include "fabric/sim/sim_world.hpp"
#include "ring/driver.hpp"
#include "runtime/spin_policy.hpp"

namespace ringcast::ring::sim_test {
namespace {

constexpr std::uint64_t kVirtualLimitNs = 600'000'000'000;
constexpr std::uint64_t kEventLimit = 50'000'000;
constexpr std::uint32_t kZeroCopySlots = 64;          // used round-robin, one message in flight
constexpr std::uint32_t kPreludeGroup = 0x80000000u;  // groups of prelude messages

fabric::NodeId node_of(std::size_t index) {
  return static_cast<fabric::NodeId>(100 + index);
}

std::uint64_t plus(std::uint64_t a, std::uint64_t b) {
  return a > kNever - b ? kNever : a + b;
}

// A member and the model of its progress thread.
struct Member {
  fabric::sim::SimEndpoint* ep = nullptr;
  std::unique_ptr<RingDriver> driver;
  std::unique_ptr<fabric::MemoryRegion> zero_copy;  // the sender's payload slots
  std::optional<runtime::SpinPolicy> spin;          // when the thread sleeps
  std::uint64_t last_round_ns = 0;
  std::uint64_t run_at_ns = kNever;  // the thread's next round
  bool waits_for_event = false;      // a round at this time did nothing: wait for the fabric
};

LatencySummaryNs summarize(std::vector<std::uint64_t> v) {
  LatencySummaryNs s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.median = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  s.max = v.back();
  return s;
}

class LatencyRun {
 public:
  explicit LatencyRun(const LatencyCase& c) : c_(c), world_(c.seed, c.sim) {}
  LatencyFigures go();

 private:
  Status set_up();
  void loop();
  std::uint64_t next_time() const;
  void schedule(Member& m);
  void thread_round(std::size_t index);
  void app_submit();
  void submit_prelude(std::size_t index);
  void deliver(std::size_t index, bool in_app);
  bool all_delivered() const { return fully_delivered_ == c_.messages; }
  std::uint64_t passes() const;
  void figures();
  std::uint64_t now() const { return world_.now_ns(); }
  std::size_t slot_bytes() const { return (std::size_t{c_.size_bytes} + 63) / 64 * 64 + 64; }

  const LatencyCase& c_;
  fabric::sim::SimWorld world_;
  std::vector<Member> members_;
  std::vector<std::uint64_t> submitted_at_;
  std::vector<std::vector<std::uint64_t>> delivered_at_;  // [message][member], 0: not yet
  std::vector<bool> waited_;
  std::vector<std::uint64_t> next_index_;  // per member: the next message index it expects
  std::uint64_t next_message_ = 0;
  std::uint64_t app_at_ns_ = kNever;
  std::uint64_t fully_delivered_ = 0;
  std::uint64_t passes_at_first_counted_ = 0;
  std::uint64_t events_ = 0;
  LatencyFigures out_;
};

Status LatencyRun::set_up() {
  members_.resize(c_.members);
  for (std::size_t i = 0; i < c_.members; ++i) {
    members_[i].ep = &world_.add_endpoint(node_of(i));
    auto driver = RingDriver::create(*members_[i].ep, c_.ring);
    RC_TRY(driver);
    members_[i].driver = std::move(*driver);
    members_[i].spin.emplace(c_.progress.spin_ns, c_.progress.max_spin_ns);
    members_[i].spin->on_activity(0);
  }
  auto region = members_[0].ep->allocate(std::size_t{kZeroCopySlots} * slot_bytes(),
                                         fabric::Access::local_only);
  RC_TRY(region);
  members_[0].zero_copy = std::move(*region);
  std::vector<std::vector<fabric::Link*>> links(c_.members,
                                                std::vector<fabric::Link*>(c_.members, nullptr));
  for (std::size_t i = 0; i < c_.members; ++i) {
    for (std::size_t j = i + 1; j < c_.members; ++j) {
      auto pair = world_.connect(*members_[i].ep, members_[i].driver->connect_info(0),
                                 *members_[j].ep, members_[j].driver->connect_info(0));
      RC_TRY(pair);
      links[i][j] = pair->a_to_b;
      links[j][i] = pair->b_to_a;
    }
  }
  RingMembership ring{{node_of(0), 1}, {}, 0};
  for (std::size_t i = 0; i < c_.members; ++i)
    ring.members.push_back(node_of(i));
  for (std::size_t i = 0; i < c_.members; ++i) {
    ring.my_index = i;
    RC_TRY(members_[i].driver->start(ring, links[i]));
  }
  submitted_at_.assign(c_.messages, 0);
  waited_.assign(c_.messages, false);
  delivered_at_.assign(c_.messages, std::vector<std::uint64_t>(c_.members, 0));
  next_index_.assign(c_.members, 0);
  for (std::size_t i = 0; i < c_.members; ++i)
    submit_prelude(i);
  app_at_ns_ = c_.idle_before_ns;
  return {};
}

void LatencyRun::submit_prelude(std::size_t index) {
  std::vector<std::byte> payload(c_.size_bytes);
  for (std::uint64_t k = 0; k < c_.prelude_per_member; ++k) {
    OutgoingMessage m;
    m.payload = payload;
    m.group = kPreludeGroup | static_cast<std::uint32_t>(k);
    m.guarantee = c_.guarantee;
    if (!members_[index].driver->submit(m).ok()) out_.failure = "prelude submit refused";
  }
}

// When the member's thread runs next: at once while it spins, wakeup_ns
// after the event when it sleeps; a round that did nothing waits for the
// fabric.
void LatencyRun::schedule(Member& m) {
  const std::uint64_t wakeup = c_.progress.wakeup_ns;
  if (m.ep->pending_completions() > 0) {
    m.run_at_ns = std::min(m.run_at_ns, m.spin->spinning(now()) ? now() : now() + wakeup);
    return;
  }
  const std::uint64_t deadline = m.driver->next_deadline_ns();
  if (deadline == kNever || (deadline <= now() && m.waits_for_event)) return;
  const std::uint64_t at = std::max(deadline, now());
  m.run_at_ns = std::min(m.run_at_ns, at < m.spin->spin_end_ns() ? at : plus(at, wakeup));
}

// Between two rounds the real thread polled and found nothing (a pause for
// the spin rule), or it slept and was woken.
void LatencyRun::thread_round(std::size_t index) {
  Member& m = members_[index];
  if (now() > m.last_round_ns) m.spin->on_idle_round();
  if (!m.spin->spinning(now())) m.spin->on_wake(now());
  m.last_round_ns = now();
  m.run_at_ns = kNever;
  const bool worked = m.driver->progress();
  const std::uint64_t delivered_before = fully_delivered_;
  deliver(index, false);
  if (worked) m.spin->on_activity(now());
  m.waits_for_event = !worked && fully_delivered_ == delivered_before;
  schedule(m);
}

// RingNode::submit: the submit and one round in the caller's thread, which
// delivers to itself when this member keeps the token.
void LatencyRun::app_submit() {
  app_at_ns_ = kNever;
  const std::uint64_t i = next_message_++;
  if (i == c_.warmup) passes_at_first_counted_ = passes();
  std::vector<std::byte> payload(c_.size_bytes);
  OutgoingMessage m;
  m.payload = payload;
  if (c_.zero_copy) {
    const std::uint32_t slot = static_cast<std::uint32_t>(i % kZeroCopySlots);
    m.zero_copy = {members_[0].zero_copy.get(), slot * slot_bytes(), c_.size_bytes};
    m.tag = slot;
  }
  m.group = static_cast<std::uint32_t>(i);
  m.guarantee = c_.guarantee;
  Member& sender = members_[0];
  submitted_at_[i] = now();
  waited_[i] = !sender.driver->state().holds_token();
  if (!sender.driver->submit(m).ok()) out_.failure = "submit refused";
  sender.driver->progress();
  deliver(0, true);
  sender.waits_for_event = false;
  schedule(sender);
}

void LatencyRun::deliver(std::size_t index, bool in_app) {
  RingDriver& d = *members_[index].driver;
  while (d.next_zero_copy_done()) {
  }
  std::uint64_t last = 0;
  while (auto del = d.next_delivery()) {
    last = del->seq;
    if ((del->group & kPreludeGroup) != 0) continue;
    const std::uint64_t i = del->group;
    if (del->sender != node_of(0) || i != next_index_[index] || i >= c_.messages) {
      out_.failure = "member " + std::to_string(index) + " delivered message " + std::to_string(i) +
                     " out of order";
      return;
    }
    ++next_index_[index];
    delivered_at_[i][index] = now();
    if (std::all_of(next_index_.begin(), next_index_.end(),
                    [i](std::uint64_t n) { return n > i; })) {
      ++fully_delivered_;
    }
    if (index == 0 && next_message_ < c_.messages) {
      // The waiting thread wakes up first when the progress thread delivered.
      app_at_ns_ = now() + c_.think_ns + (in_app ? 0 : c_.progress.wakeup_ns);
    }
  }
  if (last != 0 && !d.release_through_seq(last).ok()) out_.failure = "release refused";
}

std::uint64_t LatencyRun::passes() const {
  std::uint64_t n = 0;
  for (const Member& m : members_)
    n += m.driver->state().counters().tokens_passed;
  return n;
}

std::uint64_t LatencyRun::next_time() const {
  std::uint64_t t = world_.next_event_ns().value_or(kNever);
  t = std::min(t, app_at_ns_);
  for (const Member& m : members_)
    t = std::min(t, m.run_at_ns);
  return t;
}

void LatencyRun::loop() {
  for (Member& m : members_)
    schedule(m);
  while (out_.failure.empty() && !all_delivered()) {
    const std::uint64_t t = next_time();
    if (t == kNever || t > kVirtualLimitNs || ++events_ > kEventLimit) {
      out_.failure = "stalled or too slow at " + std::to_string(now()) + " ns, " +
                     std::to_string(fully_delivered_) + " messages delivered everywhere";
      return;
    }
    if (world_.next_event_ns().value_or(kNever) <= t) {
      world_.step();
      for (Member& m : members_) {
        m.waits_for_event = false;
        schedule(m);
      }
      continue;
    }
    world_.run_until(t);
    if (app_at_ns_ <= now()) app_submit();
    for (std::size_t i = 0; i < members_.size(); ++i)
      if (members_[i].run_at_ns <= now()) thread_round(i);
  }
}

void LatencyRun::figures() {
  std::vector<std::uint64_t> self, slowest;
  for (std::uint64_t i = c_.warmup; i < c_.messages; ++i) {
    self.push_back(delivered_at_[i][0] - submitted_at_[i]);
    std::uint64_t last = delivered_at_[i][0];
    for (std::size_t m = 1; m < c_.members; ++m)
      last = std::max(last, delivered_at_[i][m]);
    slowest.push_back(last - submitted_at_[i]);
    if (waited_[i]) ++out_.waited_for_token;
  }
  out_.counted = self.size();
  out_.self = summarize(self);
  out_.slowest = summarize(slowest);
  if (!self.empty()) {
    out_.passes_per_message =
        static_cast<double>(passes() - passes_at_first_counted_) / static_cast<double>(self.size());
  }
  out_.one_write_ns = c_.sim.base_latency_ns;
}

LatencyFigures LatencyRun::go() {
  if (Status s = set_up(); !s.ok()) {
    out_.failure = "set-up: " + s.error().message();
    return out_;
  }
  loop();
  if (out_.failure.empty()) figures();
  return out_;
}

}  // namespace

std::string LatencyFigures::describe() const {
  char line[320];
  std::snprintf(line, sizeof line,
                "self min/median/p99 %.1f/%.1f/%.1f us, slowest other %.1f/%.1f/%.1f us, "
                "%.2f token passes per message, %llu of %llu waited for the token",
                self.min / 1e3, self.median / 1e3, self.p99 / 1e3, slowest.min / 1e3,
                slowest.median / 1e3, slowest.p99 / 1e3, passes_per_message,
                static_cast<unsigned long long>(waited_for_token),
                static_cast<unsigned long long>(counted));
  return failure.empty() ? line : "failed: " + failure;
}

LatencyFigures run_latency_case(const LatencyCase& c) {
  return LatencyRun(c).go();
}

}  // namespace ringcast::ring::sim_test
