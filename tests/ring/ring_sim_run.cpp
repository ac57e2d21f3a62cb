// run_scenario: the event loop of one simulated ring, its applications, and
// the checks around the oracle (bounds, counters).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>

#include "fabric/sim/sim_world.hpp"
#include "ring/driver.hpp"
#include "ring_sim_harness.hpp"
#include "support/ring_oracle.hpp"
#include "support/sim_scenario.hpp"

namespace ringcast::ring::sim_test {
namespace {

using fabric::sim::SimRandom;

constexpr std::uint64_t kVirtualLimitNs = 2'000'000'000;  // liveness: done within 2 s
constexpr std::uint64_t kEventLimit = 20'000'000;

fabric::NodeId node_of(std::size_t index) {
  return static_cast<fabric::NodeId>(100 + 3 * index);
}

struct Member {
  std::size_t index = 0;
  fabric::sim::SimEndpoint* ep = nullptr;
  std::unique_ptr<RingDriver> driver;
  std::unique_ptr<fabric::MemoryRegion> zero_copy;
  std::vector<bool> slot_busy;
  const std::vector<PlannedMessage>* plan = nullptr;
  std::size_t next_plan = 0;
  std::uint32_t counter = 0;
  bool submit_blocked = false;  // try_again: retry after the next fabric event
  std::deque<std::pair<std::uint64_t, std::uint64_t>> releases;  // (at_ns, seq)
  std::uint64_t last_release_ns = 0;
  // Liveness of holds: since when this member holds the token it last got.
  std::uint64_t held_since_ns = 0;
  std::uint64_t held_at_passes = UINT64_MAX;  // tokens_passed when first seen holding
};

// A hold (idle or busy) ends token_hold_ns after the token arrived; the pass
// may then wait for a link to drain, which this slack covers generously.
constexpr std::uint64_t kHoldSlackNs = 50'000'000;

class Run {
 public:
  Run(const Scenario& s, bool trace)
      : s_(s),
        world_(s.seed, s.sim),
        rng_(s.seed ^ 0x4150505300ull),
        oracle_(nodes(s)),
        trace_(trace) {}

  RunResult go();

 private:
  static std::vector<fabric::NodeId> nodes(const Scenario& s) {
    std::vector<fabric::NodeId> n;
    for (std::size_t i = 0; i < s.members; ++i)
      n.push_back(node_of(i));
    return n;
  }
  Status set_up();
  Status connect_all(std::vector<std::vector<fabric::Link*>>* links);
  void step_member(Member& m);
  bool submit_due(Member& m);
  bool deliver(Member& m);
  bool release_due(Member& m);
  bool return_zero_copy(Member& m);
  std::uint64_t timer(const Member& m) const;
  bool due(const Member& m) const;
  bool done() const;
  void check_bounds(Member& m);
  void check_hold(Member& m);
  void final_checks();
  std::string dump() const;
  std::uint64_t now() const { return world_.now_ns(); }
  void fail(const std::string& what) { oracle_.fail(what); }

  const Scenario& s_;
  fabric::sim::SimWorld world_;
  SimRandom rng_;  // the applications' choices (release delays)
  std::vector<Member> members_;
  std::vector<std::span<const std::byte>> logs_;
  std::vector<std::byte> scratch_;
  Oracle oracle_;
  RunResult result_;
  bool trace_;
};

Status Run::set_up() {
  if (trace_) {
    world_.set_trace([](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    });
  }
  members_.resize(s_.members);
  for (std::size_t i = 0; i < s_.members; ++i) {
    Member& m = members_[i];
    m.index = i;
    m.ep = &world_.add_endpoint(node_of(i));
    auto driver = RingDriver::create(*m.ep, s_.ring);
    RC_TRY(driver);
    m.driver = std::move(*driver);
    auto zc = m.ep->allocate(std::size_t{s_.zero_copy_slot_bytes} * s_.zero_copy_slots,
                             fabric::Access::local_only);
    RC_TRY(zc);
    m.zero_copy = std::move(*zc);
    m.slot_busy.assign(s_.zero_copy_slots, false);
    m.plan = &s_.plan[i];
  }
  std::vector<std::vector<fabric::Link*>> links;
  RC_TRY(connect_all(&links));
  for (const SlowLink& l : s_.slow_links) {
    world_.set_link_delay(node_of(l.from), node_of(l.to), l.extra_ns);
  }
  RingMembership ring{{node_of(0), 1}, nodes(s_), 0};
  for (Member& m : members_) {
    ring.my_index = m.index;
    RC_TRY(m.driver->start(ring, links[m.index]));
    logs_.push_back(m.driver->log_region().bytes());
  }
  return {};
}

Status Run::connect_all(std::vector<std::vector<fabric::Link*>>* links) {
  links->assign(s_.members, std::vector<fabric::Link*>(s_.members, nullptr));
  for (std::size_t i = 0; i < s_.members; ++i) {
    for (std::size_t j = i + 1; j < s_.members; ++j) {
      Member& a = members_[i];
      Member& b = members_[j];
      auto pair =
          world_.connect(*a.ep, a.driver->connect_info(0), *b.ep, b.driver->connect_info(0));
      RC_TRY(pair);
      (*links)[i][j] = pair->a_to_b;
      (*links)[j][i] = pair->b_to_a;
    }
  }
  return {};
}

// ------------------------------------------------------------ applications

bool Run::submit_due(Member& m) {
  bool any = false;
  m.submit_blocked = false;
  while (m.next_plan < m.plan->size() && (*m.plan)[m.next_plan].at_ns <= now()) {
    const PlannedMessage& p = (*m.plan)[m.next_plan];
    OutgoingMessage out;
    out.group = m.counter;  // the oracle reads the counter from the group id
    out.sender_pid = static_cast<std::uint32_t>(m.index);
    out.guarantee = p.guarantee;
    std::optional<std::uint32_t> slot;
    if (p.zero_copy && p.bytes <= s_.zero_copy_slot_bytes) {
      auto free = std::find(m.slot_busy.begin(), m.slot_busy.end(), false);
      if (free != m.slot_busy.end()) slot = static_cast<std::uint32_t>(free - m.slot_busy.begin());
    }
    if (slot) {
      const std::uint64_t offset = std::uint64_t{*slot} * s_.zero_copy_slot_bytes;
      fill_payload(m.zero_copy->bytes().subspan(offset, p.bytes),
                   static_cast<std::uint32_t>(m.index), m.counter);
      const std::uint32_t prefix = std::min(p.bytes, s_.zero_copy_prefix_bytes);
      out.prefix = m.zero_copy->bytes().subspan(offset, prefix);
      out.zero_copy = {m.zero_copy.get(), offset + prefix, p.bytes - prefix};
      out.tag = *slot;
    } else {
      scratch_.resize(p.bytes);
      fill_payload(scratch_, static_cast<std::uint32_t>(m.index), m.counter);
      out.payload = scratch_;
    }
    Status st = m.driver->submit(out);
    if (!st.ok()) {
      if (st.error().code != Errc::try_again) fail("submit: " + st.error().message());
      m.submit_blocked = true;
      ++result_.submit_retries;
      break;
    }
    if (slot) m.slot_busy[*slot] = true;
    oracle_.on_submitted(static_cast<std::uint32_t>(m.index), m.counter, p.bytes, p.guarantee);
    ++m.counter;
    ++m.next_plan;
    any = true;
  }
  return any;
}

bool Run::deliver(Member& m) {
  bool any = false;
  const std::uint64_t log_bytes = s_.ring.log_bytes;
  while (auto d = m.driver->next_delivery()) {
    auto record =
        logs_[m.index].subspan(d->position % log_bytes, kRecordHeaderBytes + d->payload.size());
    oracle_.on_delivered(m.index, *d, record, logs_, log_bytes, now());
    if (trace_) {
      std::fprintf(stderr, "%llu member %zu delivers seq %llu: %u#%u %zu bytes g%d\n",
                   static_cast<unsigned long long>(now()), m.index,
                   static_cast<unsigned long long>(d->seq), d->sender_pid, d->group,
                   d->payload.size(), static_cast<int>(d->guarantee));
    }
    const std::uint64_t delay =
        s_.max_release_delay_ns ? rng_.below(s_.max_release_delay_ns + 1) : 0;
    m.last_release_ns = std::max(m.last_release_ns, now() + delay);
    m.releases.emplace_back(m.last_release_ns, d->seq);
    any = true;
  }
  return any;
}

bool Run::release_due(Member& m) {
  std::uint64_t through = 0;
  while (!m.releases.empty() && m.releases.front().first <= now()) {
    through = m.releases.front().second;
    m.releases.pop_front();
  }
  if (through == 0) return false;
  Status st = m.driver->release_through_seq(through);
  if (!st.ok()) fail("release_through_seq: " + st.error().message());
  oracle_.on_released(m.index, through, logs_[m.index], s_.ring.log_bytes);
  return true;
}

// A returned zero-copy slot is scribbled over at once: if the ring still read
// it, receivers would see the scribble and the oracle the wrong payload.
bool Run::return_zero_copy(Member& m) {
  bool any = false;
  while (auto tag = m.driver->next_zero_copy_done()) {
    if (*tag >= m.slot_busy.size() || !m.slot_busy[*tag]) {
      fail("member " + std::to_string(m.index) + ": zero-copy tag " + std::to_string(*tag) +
           " returned but not in use");
      return any;
    }
    std::memset(m.zero_copy->data() + *tag * s_.zero_copy_slot_bytes, 0xEE,
                s_.zero_copy_slot_bytes);
    m.slot_busy[*tag] = false;
    any = true;
  }
  return any;
}

void Run::step_member(Member& m) {
  for (int round = 0; round < 1000; ++round) {
    bool worked = m.driver->progress();
    worked = submit_due(m) || worked;
    worked = deliver(m) || worked;
    worked = release_due(m) || worked;
    worked = return_zero_copy(m) || worked;
    if (!worked || oracle_.failed()) break;
  }
  check_bounds(m);
}

// The member's next wake-up strictly after now. A deadline already due, or a
// submit that was refused, waits for the next fabric event instead (the
// member just ran and could not act on it).
std::uint64_t Run::timer(const Member& m) const {
  std::uint64_t t = kNever;
  auto consider = [&](std::uint64_t at) {
    if (at > now()) t = std::min(t, at);
  };
  consider(m.driver->next_deadline_ns());
  if (m.next_plan < m.plan->size() && !m.submit_blocked) consider((*m.plan)[m.next_plan].at_ns);
  if (!m.releases.empty()) consider(m.releases.front().first);
  return t;
}

bool Run::due(const Member& m) const {
  if (m.driver->next_deadline_ns() <= now()) return true;
  if (m.next_plan < m.plan->size() && (*m.plan)[m.next_plan].at_ns <= now()) return true;
  return !m.releases.empty() && m.releases.front().first <= now();
}

// Bounded memory: every queue of the ring within its configured bound.
void Run::check_bounds(Member& m) {
  const RingState& st = m.driver->state();
  const std::string who = "member " + std::to_string(m.index) + ": ";
  if (st.send_queue().size() > st.send_queue().capacity() ||
      st.send_queue().buffer_bytes_used() > s_.ring.send_buffer_bytes) {
    fail(who + "send queue beyond its bound");
  }
  for (std::size_t d = 0; d < s_.members; ++d) {
    if (st.outbox().queued(d) > st.outbox().chains_per_member())
      fail(who + "outbox beyond its bound");
  }
  if (world_.stats().cq_overflows != 0) fail("a completion queue overflowed");
  check_hold(m);
}

// Liveness: nobody keeps the token (held idle, or kept for its own work while
// others wait) much beyond token_hold_ns.
void Run::check_hold(Member& m) {
  const RingState& st = m.driver->state();
  if (!st.holds_token() || s_.members == 1) {
    m.held_at_passes = UINT64_MAX;
    return;
  }
  if (m.held_at_passes != st.counters().tokens_passed) {
    m.held_at_passes = st.counters().tokens_passed;
    m.held_since_ns = now();
    return;
  }
  if (now() - m.held_since_ns > s_.ring.token_hold_ns + kHoldSlackNs) {
    fail("member " + std::to_string(m.index) + ": kept the token from " +
         std::to_string(m.held_since_ns) + " ns to " + std::to_string(now()) + " ns");
  }
}

bool Run::done() const {
  for (const Member& m : members_) {
    if (m.next_plan < m.plan->size()) return false;
    if (std::find(m.slot_busy.begin(), m.slot_busy.end(), true) != m.slot_busy.end()) return false;
  }
  return oracle_.complete();
}

void Run::final_checks() {
  oracle_.finish();
  for (const Member& m : members_) {
    const RingState& st = m.driver->state();
    const std::string who = "member " + std::to_string(m.index) + ": ";
    if (st.failed()) fail(who + "ring failed: " + st.failure().message());
    if (st.log().counters().records_dropped != 0) {
      fail(who + "dropped a record (" + record_fault_name(st.log().counters().last_fault) + ")");
    }
    if (st.counters().tokens_dropped != 0) {
      fail(who + "dropped a token (" + token_fault_name(st.counters().last_token_fault) + ")");
    }
    if (st.counters().imm_dropped != 0) fail(who + "dropped an immediate");
    result_.token_passes += st.counters().tokens_passed;
    result_.wakes += st.counters().wakes_sent;
    result_.holds += st.counters().token_holds + st.counters().busy_holds;  // idle and busy
    result_.space_waits += st.counters().visits_space_limited;
    result_.records_relayed += st.counters().records_relayed;
  }
}

// One line per member, appended to a liveness failure.
std::string Run::dump() const {
  std::string out;
  for (const Member& m : members_) {
    const RingState& st = m.driver->state();
    char line[512];
    std::snprintf(line, sizeof line,
                  "\n  m%zu: token=%d idle=%d received=%llu delivered=%llu released=%llu@%llu "
                  "safe=%llu queue=%u plan=%zu/%zu blocked=%d releases=%zu outbox=%zu "
                  "deadline=%llu visits=%llu",
                  m.index, st.holds_token(), st.holding_idle(),
                  static_cast<unsigned long long>(st.log().received_up_to()),
                  static_cast<unsigned long long>(st.log().delivered_seq()),
                  static_cast<unsigned long long>(st.log().released_seq()),
                  static_cast<unsigned long long>(st.log().released_position()),
                  static_cast<unsigned long long>(st.safe_up_to()), st.send_queue().size(),
                  m.next_plan, m.plan->size(), m.submit_blocked, m.releases.size(),
                  st.outbox().total_queued(),
                  static_cast<unsigned long long>(m.driver->next_deadline_ns()),
                  static_cast<unsigned long long>(st.counters().visits));
    out += line;
  }
  return out;
}

RunResult Run::go() {
  if (Status st = set_up(); !st.ok()) fail("set-up: " + st.error().message());
  for (Member& m : members_)
    step_member(m);
  while (!oracle_.failed() && !done()) {
    std::uint64_t t_members = kNever;
    for (const Member& m : members_)
      t_members = std::min(t_members, timer(m));
    const std::uint64_t t_world = world_.next_event_ns().value_or(kNever);
    if (t_world == kNever && t_members == kNever) {
      fail("stalled at " + std::to_string(now()) + " ns: nothing scheduled and not done" + dump());
      break;
    }
    if (std::min(t_world, t_members) > kVirtualLimitNs) {
      fail("not done after " + std::to_string(kVirtualLimitNs) + " ns of virtual time" + dump());
      break;
    }
    if (t_world <= t_members) {
      world_.step();
      ++result_.events;
    } else {
      world_.run_until(t_members);
    }
    for (Member& m : members_) {
      if (m.ep->pending_completions() > 0 || due(m)) step_member(m);
    }
    if (result_.events > kEventLimit) fail("more than " + std::to_string(kEventLimit) + " events");
  }
  if (!oracle_.failed()) final_checks();
  result_.ok = !oracle_.failed();
  result_.failure = oracle_.failure();
  result_.virtual_ns = now();
  result_.delivered = oracle_.delivered_total();
  return result_;
}

}  // namespace

RunResult run_scenario(const Scenario& scenario, bool trace) {
  Scenario s = scenario;
  test::force_relay_if_asked(s.ring);
  return Run(s, trace).go();
}

}  // namespace ringcast::ring::sim_test
