// run_fault_scenario: the event loop of one simulated cluster with faults,
// its applications, and the checks around the oracle (liveness, agreement).
#include <algorithm>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

#include "base/log.hpp"
#include "base/wire.hpp"
#include "fabric/sim/sim_world.hpp"
#include "fault_oracle.hpp"
#include "fault_sim.hpp"
#include "membership/generation.hpp"
#include "membership/membership_driver.hpp"
#include "membership/membership_message.hpp"
#include "ring/imm.hpp"
#include "ring/token.hpp"
#include "runtime/incarnation.hpp"
#include "support/ring_oracle.hpp"
#include "support/sim_scenario.hpp"

namespace ringcast::membership::fault_test {
namespace {

using fabric::sim::SimRandom;
using ring::kNever;

constexpr std::uint64_t kEventLimit = 20'000'000;

fabric::NodeId node_of(std::size_t index) {
  return static_cast<fabric::NodeId>(100 + 3 * index);
}

struct Node {
  std::size_t index = 0;
  fabric::sim::SimEndpoint* ep = nullptr;
  std::unique_ptr<MembershipDriver> driver;
  const std::vector<PlannedMessage>* plan = nullptr;
  std::size_t next_plan = 0;
  std::uint32_t counter = 0;
  bool submit_blocked = false;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> releases;  // (at_ns, index)
  std::uint64_t last_release_ns = 0;
  std::uint64_t delivered_index = 0;
  bool crashed = false;
  std::uint32_t incarnation = 0;
  // What its keeper kept (membership::EpochKeeper): the runtime's file in
  // the state directory, which outlives its processes.
  std::uint64_t epochs_kept = 0;
  // Its wall clock in incarnation units (100 ms): it stands still (every
  // restart falls in the same 100 ms) unless a clock_step moves it.
  std::uint32_t clock_units = 0;
  std::uint64_t paused_until_ns = 0;
  std::string last_state;  // traced when it changes
  // corrupt_record / corrupt_payload: the next records write that lands here.
  std::optional<FaultKind> corrupt_next;
  std::uint64_t corruptions = 0;
  RingId corrupted_ring;  // the ring installed when the last one landed
};

// Log lines of the drivers that say a delivery stopped (the "never silent"
// rule reads it); the simulation is single-threaded.
std::uint64_t g_stall_lines = 0;
void count_stall_lines(std::string_view line) {
  if (line.find("delivery stopped") != std::string_view::npos) ++g_stall_lines;
}

class Run {
 public:
  Run(const FaultScenario& s, bool trace)
      : s_(s),
        world_(s.seed, s.sim),
        rng_(s.seed ^ 0x4150505300ull),
        corrupt_rng_(s.seed ^ 0x42595445464c4950ull),  // "BYTEFLIP"
        oracle_(nodes()),
        trace_(trace) {}
  FaultRunResult go();

 private:
  std::vector<fabric::NodeId> nodes() const {
    std::vector<fabric::NodeId> n;
    for (std::size_t i = 0; i < s_.members; ++i)
      n.push_back(node_of(i));
    return n;
  }
  Status set_up();
  Status make_driver(Node& n);
  void restart(Node& n);
  void step_clock(Node& n, std::int64_t units);
  void reconnect();
  bool expect_one_ring() const;
  void schedule_faults();
  void apply(const Fault& f);
  void corrupt_landing(fabric::NodeId to, std::span<std::byte> bytes, bool with_imm,
                       std::uint32_t imm);
  void check_corruption_noticed();
  bool active(const Node& n) const { return !n.crashed && now() >= n.paused_until_ns; }
  // Trust faults (fault_trust block below): writes a member must refuse.
  void apply_trust_fault(const Fault& f);
  void forge_token(std::size_t a, std::size_t b);
  void send_in_anothers_name(std::size_t a, std::size_t b);
  void corrupt_control(std::size_t a);
  void post_forged(std::size_t from, std::size_t to, std::span<const std::byte> bytes,
                   std::uint8_t region, std::uint64_t offset, std::uint32_t imm);
  void step(Node& n);
  bool submit_due(Node& n);
  bool deliver(Node& n);
  bool release_due(Node& n);
  std::uint64_t timer(const Node& n) const;
  bool due(const Node& n) const;
  bool done() const;
  bool settled(const Node& n) const;
  std::string dump() const;
  std::uint64_t now() const { return world_.now_ns(); }
  void fail(const std::string& what) { oracle_.fail(what); }

  const FaultScenario& s_;
  fabric::sim::SimWorld world_;
  SimRandom rng_;
  SimRandom corrupt_rng_;
  std::vector<Node> nodes_;
  std::vector<std::unique_ptr<MembershipDriver>> graveyard_;  // crashed processes' memory
  MembershipConfig membership_;
  // The runtime keeps trying to connect every pair of running members whose
  // link both ends saw fail (fenced, cut, or a peer that restarted).
  bool reconnecting_ = true;
  std::vector<std::vector<fabric::Link*>> links_;  // [i][j]: i's end of the link to j
  std::uint64_t next_reconnect_ns_ = 0;
  std::size_t pairs_down_ = 0;
  std::vector<std::span<const std::byte>> logs_;
  std::vector<ring::RingId> ring_of_;
  std::vector<std::byte> scratch_;
  FaultOracle oracle_;
  FaultRunResult result_;
  std::uint64_t quiet_after_ns_ = 0;  // no fault acts after this
  bool trace_;
  // Per endpoint: a local region the trust faults write from.
  std::vector<std::pair<const fabric::Endpoint*, std::unique_ptr<fabric::MemoryRegion>>> forge_;
};

Status Run::set_up() {
  if (trace_) {
    world_.set_trace([](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    });
  }
  world_.set_land_hook([this](fabric::NodeId, fabric::NodeId to, std::span<std::byte> bytes,
                              bool with_imm,
                              std::uint32_t imm) { corrupt_landing(to, bytes, with_imm, imm); });
  membership_ = s_.membership;
  membership_.nodes = nodes();
  nodes_.resize(s_.members);
  for (std::size_t i = 0; i < s_.members; ++i) {
    Node& n = nodes_[i];
    n.index = i;
    n.ep = &world_.add_endpoint(node_of(i));
    RC_TRY(make_driver(n));
    n.plan = &s_.plan[i];
  }
  links_.assign(s_.members, std::vector<fabric::Link*>(s_.members, nullptr));
  auto& links = links_;
  for (std::size_t i = 0; i < s_.members; ++i) {
    for (std::size_t j = i + 1; j < s_.members; ++j) {
      auto pair = world_.connect(*nodes_[i].ep, nodes_[i].driver->connect_info(0), *nodes_[j].ep,
                                 nodes_[j].driver->connect_info(0));
      RC_TRY(pair);
      links[i][j] = pair->a_to_b;
      links[j][i] = pair->b_to_a;
    }
  }
  for (Node& n : nodes_) {
    RC_TRY(n.driver->start(links[n.index]));
    logs_.push_back(n.driver->log_region().bytes());
    ring_of_.push_back(n.driver->membership().ring_id());
  }
  return {};
}

Status Run::make_driver(Node& n) {
  auto d = MembershipDriver::create(*n.ep, s_.ring, membership_);
  RC_TRY(d);
  n.driver = std::move(*d);
  n.driver->set_disconnect([this](fabric::Link& l) { world_.disconnect(l); });
  n.driver->keep_epochs_with([&n](std::uint64_t through) {
    n.epochs_kept = std::max(n.epochs_kept, through);
    return true;
  });
  return {};
}

// A new process for a crashed member: new endpoint, new incarnation, alone
// until the harness (as the runtime would) reconnects it and merge detection
// takes it in. Its application goes on with its plan.
void Run::restart(Node& n) {
  if (!n.crashed) return;
  // The runtime of each other member sees a new incarnation connect: it
  // drops the old connection (on strict RC an idle end never notices).
  for (std::size_t j = 0; j < s_.members; ++j) {
    if (links_[j][n.index] != nullptr && !nodes_[j].crashed) world_.disconnect(*links_[j][n.index]);
    links_[j][n.index] = links_[n.index][j] = nullptr;
  }
  graveyard_.push_back(std::move(n.driver));
  n.ep = &world_.restart(node_of(n.index));
  // The runtime's rule, with the last incarnation as the state file keeps it.
  const std::optional<std::uint32_t> next = runtime::next_incarnation(n.incarnation, n.clock_units);
  if (!next) return fail("restart: incarnations used up");
  oracle_.on_incarnation(n.index, n.incarnation, *next);
  n.incarnation = *next;
  result_.max_incarnation = std::max(result_.max_incarnation, n.incarnation);
  if (Status st = make_driver(n); !st.ok()) return fail("restart: " + st.error().message());
  std::vector<fabric::Link*> none(s_.members, nullptr);
  // Its epochs start above every one its old processes named (the runtime's rule).
  const std::uint64_t floor = membership::epoch_floor(n.incarnation, n.epochs_kept);
  if (Status st = n.driver->start_joining(none, floor); !st.ok()) {
    return fail("restart: " + st.error().message());
  }
  n.crashed = false;
  n.releases.clear();
  n.submit_blocked = false;
  logs_[n.index] = n.driver->log_region().bytes();
  ring_of_[n.index] = n.driver->membership().ring_id();
  oracle_.on_restart(n.index, n.counter);
  reconnecting_ = true;
}

// A clock stepped back or forward (clamped to the clock's range), then the
// process restarts, as after a reboot that an NTP step came with.
void Run::step_clock(Node& n, std::int64_t units) {
  const std::int64_t stepped = std::int64_t{n.clock_units} + units;
  n.clock_units = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(stepped, 0, std::numeric_limits<std::uint32_t>::max()));
  if (n.crashed) return;  // its restart, if one comes, meets the stepped clock
  world_.crash(node_of(n.index));
  n.crashed = true;
  restart(n);
}

// What the runtime does: a pair of running members whose link is down at
// both ends (each has seen it fail) and that the network lets through gets a
// new connection.
void Run::reconnect() {
  pairs_down_ = 0;
  const bool act = now() >= next_reconnect_ns_;
  if (act) next_reconnect_ns_ = now() + 100'000;
  for (std::size_t i = 0; i < s_.members; ++i) {
    for (std::size_t j = i + 1; j < s_.members; ++j) {
      Node& a = nodes_[i];
      Node& b = nodes_[j];
      if (a.crashed || b.crashed) continue;
      const bool a_up = has(a.driver->membership().live_links(), j);
      const bool b_up = has(b.driver->membership().live_links(), i);
      if (a_up && b_up) continue;
      ++pairs_down_;
      if (!act || !active(a) || !active(b)) continue;
      // One end saw the link fail, the other (idle, strict RC) did not: the
      // runtime of the first reconnects, and the second drops its old link.
      if (a_up || b_up) {
        fabric::Link* old = a_up ? links_[i][j] : links_[j][i];
        if (old != nullptr) world_.disconnect(*old);
        continue;
      }
      auto pair = world_.connect(*a.ep, a.driver->connect_info(a.incarnation), *b.ep,
                                 b.driver->connect_info(b.incarnation));
      if (!pair) continue;  // still cut off
      links_[i][j] = pair->a_to_b;
      links_[j][i] = pair->b_to_a;
      if (Status st = a.driver->add_link(j, pair->a_to_b); !st.ok()) {
        fail("add_link: " + st.error().message());
      }
      if (Status st = b.driver->add_link(i, pair->b_to_a); !st.ok()) {
        fail("add_link: " + st.error().message());
      }
      step(a);  // the runtime hands the link over from its own thread: a round now
      step(b);
    }
  }
}

// Every partition and one-way break healed later: then all running members
// must end in one ring.
bool Run::expect_one_ring() const {
  std::uint64_t last_cut = 0;
  std::uint64_t last_heal = 0;
  bool cut = false;
  for (const Fault& f : s_.faults) {
    if (f.kind == FaultKind::partition || f.kind == FaultKind::one_way) {
      cut = true;
      last_cut = std::max(last_cut, f.at_ns);
    }
    if (f.kind == FaultKind::heal) last_heal = std::max(last_heal, f.at_ns);
  }
  return !cut || last_heal >= last_cut;
}

void Run::apply(const Fault& f) {
  ++result_.faults;
  const bool crashed = nodes_[f.a].crashed;
  if ((f.kind == FaultKind::crash && crashed) || (f.kind == FaultKind::restart && !crashed)) {
    return;  // nothing to do: crashed already, or running
  }
  result_.applied.add(fault_counter(f.kind));
  const fabric::NodeId a = node_of(f.a);
  const fabric::NodeId b = node_of(f.b);
  switch (f.kind) {
    case FaultKind::crash:
      world_.crash(a);
      nodes_[f.a].crashed = true;
      return;
    case FaultKind::partition: {
      std::vector<fabric::NodeId> one, other;
      for (std::uint32_t i = 0; i < s_.members; ++i) {
        (std::find(f.side.begin(), f.side.end(), i) != f.side.end() ? one : other)
            .push_back(node_of(i));
      }
      world_.partition(one, other);
      return;
    }
    case FaultKind::one_way:
      world_.break_link_one_way(a, b);
      return;
    case FaultKind::slow:
      for (std::uint32_t j = 0; j < s_.members; ++j) {
        if (j != f.a) world_.set_link_delay(a, node_of(j), f.duration_ns);
      }
      return;
    case FaultKind::pause:
      nodes_[f.a].paused_until_ns = now() + f.duration_ns;
      return;
    case FaultKind::restart:
      restart(nodes_[f.a]);
      return;
    case FaultKind::heal:
      world_.heal();
      reconnecting_ = true;
      return;
    case FaultKind::forged_token:
    case FaultKind::wrong_link:
    case FaultKind::duplicate_write:
    case FaultKind::corrupt_control:
      apply_trust_fault(f);
      return;
    case FaultKind::clock_step:
      step_clock(nodes_[f.a], f.clock_step_units);
      return;
    case FaultKind::corrupt_record:
    case FaultKind::corrupt_payload:
      if (!nodes_[f.a].crashed) nodes_[f.a].corrupt_next = f.kind;
      return;
    case FaultKind::lose_token: {
      // Whatever token sits in (or lands next in) these slots is refused.
      auto slots = nodes_[f.a].driver->mailbox_region().bytes().first(
          std::size_t{s_.ring.mailbox_slots} * ring::kTokenSlotBytes);
      for (auto& byte : slots)
        byte = std::byte(world_.rng().below(256));
      return;
    }
  }
}

// A batch of records landing in an armed member's log: one byte of the
// write's first record changes, in its header or its payload (a write
// starts at a record's header; with several records in it, the first is not
// the one the imm names, so both the landing check and the delivery check
// meet corrupted headers). Repairs and recovery writes are left alone.
void Run::corrupt_landing(fabric::NodeId to, std::span<std::byte> bytes, bool with_imm,
                          std::uint32_t imm) {
  Node& n = nodes_[(to - 100) / 3];
  if (!n.corrupt_next || n.crashed || !with_imm || ring::imm_kind(imm) != ring::ImmKind::records) {
    return;
  }
  const auto log = logs_[n.index];
  if (bytes.data() < log.data() || bytes.data() + bytes.size() > log.data() + log.size() ||
      bytes.size() < ring::kRecordHeaderBytes) {
    return;
  }
  // Records of the running ring only: an ending ring's records are checked
  // once, at the commit, and one corrupted after that makes the member leave
  // (docs/protocol.md "Repair" says where repair ends).
  const Membership& m = n.driver->membership();
  const RingId id{wire::get<std::uint32_t>(bytes.data() + 4),
                  wire::get<std::uint64_t>(bytes.data() + 8)};
  if (m.phase() != Phase::operational || id != m.ring_id()) return;
  std::size_t at = corrupt_rng_.below(ring::kRecordHeaderBytes);
  if (*n.corrupt_next == FaultKind::corrupt_payload) {
    const auto payload = wire::get<std::uint32_t>(bytes.data() + 44);
    if (payload == 0 || payload > bytes.size() - ring::kRecordHeaderBytes) return;  // the next one
    at = ring::kRecordHeaderBytes + corrupt_rng_.below(payload);
  }
  bytes[at] ^= std::byte(static_cast<unsigned char>(1 + corrupt_rng_.below(255)));
  oracle_.on_corrupted(n.index, static_cast<std::uint64_t>(bytes.data() + at - log.data()));
  n.corrupt_next.reset();
  ++n.corruptions;
  ++result_.corruptions;
  n.corrupted_ring = n.driver->membership().ring_id();
}

// No member stalls silently: a member that met a corrupted record in the
// ring it still runs says so in its counters (a refused batch or a stalled
// delivery), and each stall got a log line. (A ring that ended meanwhile may
// have recovered the record before anything read it.)
void Run::check_corruption_noticed() {
  std::uint64_t stalls = 0;
  for (const Node& n : nodes_) {
    if (n.crashed) continue;
    const StatusSnapshot st = n.driver->status();
    stalls += st.record_stalls;
    result_.record_stalls += st.record_stalls;
    result_.records_repaired += st.records_repaired;
    oracle_.check_not_silent(
        n.index, n.corruptions > 0 && n.driver->membership().ring_id() == n.corrupted_ring,
        st.records_dropped + st.record_stalls);
  }
  if (stalls > 0 && g_stall_lines == 0) fail("a delivery stopped and no log line said so");
}

void Run::schedule_faults() {
  for (const Fault& f : s_.faults) {
    world_.schedule(f.at_ns, [this, f](fabric::sim::SimWorld&) { apply(f); });
    quiet_after_ns_ =
        std::max(quiet_after_ns_,
                 f.at_ns + (f.kind == FaultKind::pause ? f.duration_ns : s_.sim.link_timeout_ns));
  }
}

// ------------------------------------------------------------ trust faults
// What a stray or hostile member can write: anything, anywhere in a peer's
// log and mailbox, but only on its own link. Each fault here must be
// refused by the member it targets (checked by the oracle: nothing wrong is
// delivered, nothing accepted is lost, the cluster settles).

void Run::apply_trust_fault(const Fault& f) {
  if (nodes_[f.a].crashed || nodes_[f.b].crashed) return;
  switch (f.kind) {
    case FaultKind::forged_token:
      return forge_token(f.a, f.b);
    case FaultKind::wrong_link:
      return send_in_anothers_name(f.a, f.b);
    case FaultKind::duplicate_write:
      return world_.duplicate_next_landing(node_of(f.b), node_of(f.a));
    case FaultKind::corrupt_control:
      return corrupt_control(f.a);
    default:
      return;
  }
}

void Run::post_forged(std::size_t from, std::size_t to, std::span<const std::byte> bytes,
                      std::uint8_t region, std::uint64_t offset, std::uint32_t imm) {
  fabric::Link* link = links_[from][to];
  if (link == nullptr || link->failed() || bytes.size() > ring::kControlSlotBytes) return;
  const fabric::Endpoint* ep = nodes_[from].ep;
  auto it = std::find_if(forge_.begin(), forge_.end(), [&](auto& e) { return e.first == ep; });
  if (it == forge_.end()) {
    auto r = nodes_[from].ep->allocate(ring::kControlSlotBytes, fabric::Access::local_only);
    if (!r) return fail("forge region: " + r.error().message());
    forge_.emplace_back(ep, std::move(*r));
    it = forge_.end() - 1;
  }
  std::copy(bytes.begin(), bytes.end(), it->second->data());
  fabric::WriteOp op;
  op.segments[0] = {it->second.get(), 0, static_cast<std::uint32_t>(bytes.size())};
  op.segment_count = 1;
  op.remote_region = region;
  op.remote_offset = offset;
  op.with_imm = true;
  op.imm = imm;
  const fabric::WriteOp chain[] = {op};
  (void)link->post(chain);  // a full send queue: this fault does nothing
}

// A token in a's mailbox from b (never a's predecessor): the newest token a
// holds there, moved on, claiming every member holds every seq.
void Run::forge_token(std::size_t a, std::size_t b) {
  const ring::RingState& r = nodes_[a].driver->membership().ring();
  const ring::RingMembership& rm = r.membership();
  if (rm.size() < 2 || rm.members[rm.predecessor_index()] == node_of(b)) return;
  const auto mailbox = nodes_[a].driver->mailbox_region().bytes();
  ring::Token newest;
  for (std::uint32_t slot = 0; slot < s_.ring.mailbox_slots; ++slot) {
    ring::Token t;
    if (ring::decode_token(mailbox.subspan(slot * ring::kTokenSlotBytes, ring::kTokenSlotBytes),
                           {rm.ring, rm.size()}, &t) == ring::TokenFault::none &&
        t.token_seq > newest.token_seq) {
      newest = t;
    }
  }
  if (newest.token_seq == 0) return;
  // In the slot of the newest token, which the predecessor does not write
  // again for a while: a token it writes there meanwhile would read ours.
  // When a has not read that token yet (paused), ours replaces it, and a
  // must refuse what the predecessor's immediate then announces.
  newest.token_seq += std::uint64_t{s_.ring.mailbox_slots} * 1000;
  for (std::size_t i = 0; i < rm.size(); ++i)
    newest.members[i].received_up_to = newest.highest_seq;
  std::vector<std::byte> bytes(ring::kTokenSlotBytes);
  bytes.resize(ring::encode_token(newest, bytes));
  const auto slot = static_cast<std::uint32_t>(newest.token_seq % s_.ring.mailbox_slots);
  post_forged(b, a, bytes, ring::kMailboxRegion, slot * ring::kTokenSlotBytes,
              ring::token_imm(slot, ring::encoded_token_checksum(bytes)));
}

// From b to a, in the name of c: a join (in c's control slot, announced as
// c's), a batch signal and a wake. Writes that land go where nobody reads
// them unless the immediate is believed.
void Run::send_in_anothers_name(std::size_t a, std::size_t b) {
  std::size_t c = a;
  for (std::size_t k = 0; k < s_.members; ++k) {
    if (k != a && k != b) c = k;
  }
  const Membership& m = nodes_[a].driver->membership();
  MembershipMessage join;
  join.type = MembershipMessageType::join;
  join.sender_index = static_cast<std::uint8_t>(c);
  join.sender = node_of(c);
  join.message_seq = std::uint64_t{1} << 40;  // newer than anything c will send
  join.candidates = (NodeMask{1} << s_.members) - 1;
  join.reach = join.candidates;
  join.info_count = 1;
  join.infos[0].ring = m.ring_id();
  join.infos[0].max_epoch = m.ring_id().epoch + 1000;
  std::vector<std::byte> bytes(ring::kControlSlotBytes);
  bytes.resize(encode_membership_message(join, bytes));
  const std::uint64_t control =
      ring::control_area_offset(s_.ring.mailbox_slots) + c * ring::kControlSlotBytes;
  post_forged(b, a, bytes, ring::kMailboxRegion, control,
              membership_message_imm(c, join.message_seq));
  // Eight bytes into the last wake word (no member of a small ring uses it).
  const std::uint64_t spare_wake =
      std::uint64_t{s_.ring.mailbox_slots} * ring::kTokenSlotBytes + (ring::kMaxMembers - 1) * 8;
  const std::byte word[8] = {};
  post_forged(b, a, word, ring::kMailboxRegion, spare_wake, ring::records_imm(0));
  const auto& members = m.ring().membership().members;
  const auto it = std::find(members.begin(), members.end(), node_of(c));
  if (it != members.end() && c != a) {
    post_forged(b, a, word, ring::kMailboxRegion, spare_wake,
                ring::control_imm(ring::ControlImmType::wake,
                                  static_cast<std::uint32_t>(it - members.begin())));
  }
}

// Scribbles over a's control slots: a message landed there and not read yet
// is refused (its checksum), and its sender's next repeat replaces it.
void Run::corrupt_control(std::size_t a) {
  auto slots = nodes_[a].driver->mailbox_region().bytes().subspan(
      ring::control_area_offset(s_.ring.mailbox_slots), s_.members * ring::kControlSlotBytes);
  for (int i = 0; i < 64; ++i)
    slots[world_.rng().below(slots.size())] = std::byte(world_.rng().below(256));
}

// ------------------------------------------------------------ applications

bool Run::submit_due(Node& n) {
  bool any = false;
  n.submit_blocked = false;
  while (n.next_plan < n.plan->size() && (*n.plan)[n.next_plan].at_ns <= now()) {
    const PlannedMessage& p = (*n.plan)[n.next_plan];
    scratch_.resize(p.bytes);
    ring::sim_test::fill_payload(scratch_, static_cast<std::uint32_t>(n.index), n.counter);
    ring::OutgoingMessage out;
    out.payload = scratch_;
    out.group = n.counter;  // the oracle reads the counter from the group id
    out.sender_pid = static_cast<std::uint32_t>(n.index);
    out.guarantee = p.guarantee;
    Status st = n.driver->submit(out);
    if (!st.ok()) {
      if (st.error().code != Errc::try_again) fail("submit: " + st.error().message());
      n.submit_blocked = true;
      break;
    }
    oracle_.on_submitted(static_cast<std::uint32_t>(n.index), n.counter, p.bytes, p.guarantee);
    ++n.counter;
    ++n.next_plan;
    any = true;
  }
  return any;
}

bool Run::deliver(Node& n) {
  bool any = false;
  const std::uint64_t log_bytes = s_.ring.log_bytes;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].crashed) ring_of_[i] = nodes_[i].driver->membership().ring_id();
  }
  while (auto e = n.driver->next_event()) {
    std::span<const std::byte> record;
    if (e->change == nullptr) {
      record = logs_[n.index].subspan(e->message.position % log_bytes,
                                      ring::kRecordHeaderBytes + e->message.payload.size());
    }
    oracle_.on_event(n.index, *e, record, logs_, ring_of_, log_bytes, now());
    if (e->change != nullptr) {
      result_.changes_seen.push_back({n.index, now(), e->change->transitional, e->change->members,
                                      e->change->left, e->change->joined});
    } else {
      result_.delivered_ids.resize(s_.members);
      result_.delivered_ids[n.index].push_back((std::uint64_t{e->message.sender_pid} << 32) |
                                               e->message.group);
    }
    if (trace_) {
      if (e->change) {
        std::fprintf(
            stderr, "%llu member %zu: %s ring %u/%llu members %zu\n",
            static_cast<unsigned long long>(now()), n.index,
            e->change->transitional ? "transitional" : "regular", e->change->ring.representative,
            static_cast<unsigned long long>(e->change->ring.epoch), e->change->members.size());
      } else {
        std::fprintf(stderr, "%llu member %zu delivers %llu (ring %llu seq %llu): %u#%u\n",
                     static_cast<unsigned long long>(now()), n.index,
                     static_cast<unsigned long long>(e->index),
                     static_cast<unsigned long long>(e->ring.epoch),
                     static_cast<unsigned long long>(e->message.seq), e->message.sender_pid,
                     e->message.group);
      }
    }
    if (e->change == nullptr) {
      const std::uint64_t delay =
          s_.max_release_delay_ns ? rng_.below(s_.max_release_delay_ns + 1) : 0;
      n.last_release_ns = std::max(n.last_release_ns, now() + delay);
      n.releases.emplace_back(n.last_release_ns, e->index);
      n.delivered_index = e->index;
    }
    any = true;
  }
  return any;
}

bool Run::release_due(Node& n) {
  std::uint64_t through = 0;
  while (!n.releases.empty() && n.releases.front().first <= now()) {
    through = n.releases.front().second;
    n.releases.pop_front();
  }
  if (through == 0) return false;
  Status st = n.driver->release_through(through);
  if (!st.ok()) fail("release_through: " + st.error().message());
  return true;
}

void Run::step(Node& n) {
  if (!active(n)) return;
  for (int round = 0; round < 1000; ++round) {
    bool worked = n.driver->progress();
    worked = submit_due(n) || worked;
    worked = deliver(n) || worked;
    worked = release_due(n) || worked;
    while (n.driver->next_zero_copy_done()) {
    }
    if (!worked || oracle_.failed()) break;
  }
  if (trace_) {
    const Membership& m = n.driver->membership();
    const std::string state =
        std::string(phase_name(m.phase())) + " ring " + std::to_string(m.ring_id().representative) +
        "/" + std::to_string(m.ring_id().epoch) + " members " +
        std::to_string(m.ring_members().size()) + " links " + std::to_string(m.live_links());
    if (state != n.last_state) {
      std::fprintf(stderr, "%llu member %zu: %s\n", static_cast<unsigned long long>(now()), n.index,
                   state.c_str());
      n.last_state = state;
    }
  }
  if (n.driver->membership().phase() == Phase::left) {
    const std::string& why = n.driver->membership().left_reason();
    fail("member " + std::to_string(n.index) +
         " left the ring: " + (why.empty() ? "(silently)" : why));
  }
  if (world_.stats().cq_overflows != 0) fail("a completion queue overflowed");
}

std::uint64_t Run::timer(const Node& n) const {
  if (n.crashed) return kNever;
  if (now() < n.paused_until_ns) return n.paused_until_ns;
  std::uint64_t t = kNever;
  auto consider = [&](std::uint64_t at) {
    if (at > now()) t = std::min(t, at);
  };
  consider(n.driver->next_deadline_ns());
  if (n.next_plan < n.plan->size() && !n.submit_blocked) consider((*n.plan)[n.next_plan].at_ns);
  if (!n.releases.empty()) consider(n.releases.front().first);
  return t;
}

bool Run::due(const Node& n) const {
  if (!active(n)) return false;
  if (n.driver->next_deadline_ns() <= now()) return true;
  if (n.next_plan < n.plan->size() && (*n.plan)[n.next_plan].at_ns <= now()) return true;
  return !n.releases.empty() && n.releases.front().first <= now();
}

// A live member has settled: all its messages submitted and delivered back
// to itself and released, its ring running and agreed by every member of
// it, each of whom is live and has delivered as much in it.
bool Run::settled(const Node& n) const {
  const Membership& m = n.driver->membership();
  if (n.next_plan < n.plan->size() || !n.releases.empty() || !oracle_.delivered_own(n.index)) {
    return false;
  }
  if (m.phase() != Phase::operational || !m.ring().send_queue().empty()) return false;
  for (fabric::NodeId peer : m.ring_members()) {
    const Node& p = nodes_[(peer - 100) / 3];
    if (!active(p) || p.driver->membership().phase() != Phase::operational ||
        p.driver->membership().ring_id() != m.ring_id() ||
        p.driver->membership().ring().log().delivered_seq() != m.ring().log().delivered_seq() ||
        m.ring().log().delivered_seq() != m.ring().log().received_up_to()) {
      return false;
    }
  }
  return true;
}

bool Run::done() const {
  if (result_.faults < s_.faults.size()) return false;
  std::size_t running = 0;
  for (const Node& n : nodes_) {
    if (n.crashed) continue;
    ++running;
    if (!settled(n)) return false;
  }
  if (!expect_one_ring()) return true;
  for (const Node& n : nodes_) {
    if (!n.crashed && n.driver->membership().ring_members().size() != running) return false;
  }
  return true;
}

std::string Run::dump() const {
  std::string out;
  for (const Node& n : nodes_) {
    const Membership& m = n.driver->membership();
    const ring::RingState& r = m.ring();
    char line[1024];
    std::snprintf(line, sizeof line,
                  "\n  m%zu%s: %s ring %u/%llu (%zu members) token=%d received=%llu "
                  "delivered=%llu queue=%u plan=%zu/%zu own=%d releases=%zu gens=%zu links=%llx "
                  "recdrop=%llu (%s) tokdrop=%llu deadline=%llu outbox=%zu waits=%llu gathers=%llu "
                  "sent=%llu received=%llu dropped=%llu (%s) stale=%llu",
                  n.index, n.crashed ? " CRASHED" : "", phase_name(m.phase()),
                  m.ring_id().representative, static_cast<unsigned long long>(m.ring_id().epoch),
                  r.membership().size(), r.holds_token(),
                  static_cast<unsigned long long>(r.log().received_up_to()),
                  static_cast<unsigned long long>(r.log().delivered_seq()), r.send_queue().size(),
                  n.next_plan, n.plan->size(), oracle_.delivered_own(n.index), n.releases.size(),
                  m.generations(), static_cast<unsigned long long>(m.live_links()),
                  static_cast<unsigned long long>(r.log().counters().records_dropped),
                  ring::record_fault_name(r.log().counters().last_fault),
                  static_cast<unsigned long long>(r.counters().tokens_dropped),
                  static_cast<unsigned long long>(m.next_deadline_ns()), r.outbox().total_queued(),
                  static_cast<unsigned long long>(r.counters().catch_up_waits),
                  static_cast<unsigned long long>(m.counters().gathers),
                  static_cast<unsigned long long>(m.counters().control_sent),
                  static_cast<unsigned long long>(m.counters().control_received),
                  static_cast<unsigned long long>(m.counters().control_dropped),
                  membership_message_fault_name(m.counters().last_control_fault),
                  static_cast<unsigned long long>(m.counters().control_stale));
    out += line;
  }
  return out;
}

FaultRunResult Run::go() {
  g_stall_lines = 0;
  set_log_sink(count_stall_lines);
  if (Status st = set_up(); !st.ok()) {
    // A scenario with configs a driver refuses: nothing to run (its drivers
    // are missing), and the failure says why.
    set_log_sink(nullptr);
    result_.failure = "set-up: " + st.error().message();
    return result_;
  }
  schedule_faults();
  for (Node& n : nodes_)
    step(n);
  const std::uint64_t limit = quiet_after_ns_ + s_.settle_bound_ns();
  std::uint64_t last_plan = 0;
  for (const auto& p : s_.plan) {
    if (!p.empty()) last_plan = std::max(last_plan, p.back().at_ns);
  }
  const std::uint64_t deadline = std::max(limit, last_plan + s_.settle_bound_ns());
  while (!oracle_.failed() && !done()) {
    reconnect();
    std::uint64_t t_nodes =
        reconnecting_ && pairs_down_ > 0 ? std::max(next_reconnect_ns_, now() + 1) : kNever;
    for (const Node& n : nodes_)
      t_nodes = std::min(t_nodes, timer(n));
    const std::uint64_t t_world = world_.next_event_ns().value_or(kNever);
    if (std::min(t_world, t_nodes) > deadline) {
      fail("liveness: not settled " + std::to_string(deadline) + " ns in (faults stop at " +
           std::to_string(quiet_after_ns_) + " ns)" + dump());
      break;
    }
    if (t_world <= t_nodes) {
      world_.step();
      ++result_.events;
    } else {
      world_.run_until(t_nodes);
    }
    for (Node& n : nodes_) {
      if (active(n) && (n.ep->pending_completions() > 0 || due(n))) step(n);
    }
    if (result_.events > kEventLimit) fail("more than " + std::to_string(kEventLimit) + " events");
  }
  std::vector<bool> live;
  for (const Node& n : nodes_) {
    live.push_back(!n.crashed);
    const MembershipCounters& c = n.driver->membership().counters();
    result_.reformations += c.reformations;
    result_.token_losses += c.token_losses;
    result_.records_recovered += c.records_recovered;
    result_.control_dropped += c.control_dropped;
    result_.writes_wrong_link += n.driver->membership().writes_wrong_link();
    const StatusSnapshot st = n.driver->membership().status();
    result_.records_relayed += st.records_relayed;
    result_.relay_waits += st.relay_waits;
    result_.visits_space_limited += n.driver->membership().ring().counters().visits_space_limited;
  }
  if (!oracle_.failed()) check_corruption_noticed();
  if (!oracle_.failed()) oracle_.finish(live);
  set_log_sink(nullptr);
  result_.ok = !oracle_.failed();
  result_.failure = oracle_.failure();
  result_.virtual_ns = now();
  result_.delivered = oracle_.delivered_total();
  result_.changes = oracle_.changes_total();
  return result_;
}

}  // namespace

FaultRunResult run_fault_scenario(const FaultScenario& scenario, bool trace) {
  FaultScenario s = scenario;
  test::force_relay_if_asked(s.ring);
  return Run(s, trace).go();
}

}  // namespace ringcast::membership::fault_test
