// Membership: construction, completions and their routing, time, actions.
#include "membership/membership.hpp"

#include <algorithm>
#include <limits>

#include "base/wire.hpp"
#include "membership/generation.hpp"
#include "ring/imm.hpp"

namespace ringcast::membership {
namespace {

constexpr std::size_t kControlChains = 2;    // per peer
constexpr std::size_t kControlChainOps = 8;  // recovery: record ranges, then the message

}  // namespace

const char* phase_name(Phase phase) noexcept {
  switch (phase) {
    case Phase::operational:
      return "operational";
    case Phase::gather:
      return "gather";
    case Phase::commit:
      return "commit";
    case Phase::left:
      return "left";
  }
  return "unknown";
}

Membership::Membership(const ring::RingConfig& ring_config, const MembershipConfig& config,
                       NodeId me, const MemberMemory& memory)
    : ring_config_(ring_config),
      config_(config),
      me_(static_cast<std::size_t>(std::find(config.nodes.begin(), config.nodes.end(), me) -
                                   config.nodes.begin())),
      memory_(memory),
      outbox_(config.nodes.size(), kControlChains, kControlChainOps),
      staging_busy_(config.nodes.size(), false),
      last_seq_seen_(config.nodes.size(), 0),
      repair_owed_(config.nodes.size()) {
  RC_ASSERT(validate(config, ring_config).ok());
  RC_ASSERT(me_ < config.nodes.size());
  RC_ASSERT(memory.control_staging->size() >= config.nodes.size() * ring::kControlSlotBytes);
  RC_ASSERT(memory.ring.mailbox->size() >= ring::mailbox_bytes(ring_config.mailbox_slots));
  cluster_ = config.nodes.size() >= 64 ? ~NodeMask{0} : bit(config.nodes.size()) - 1;
  untold_stalls_.reserve(kMaxGenerations);  // retire() never allocates
}

Membership::~Membership() = default;

std::vector<NodeId> Membership::nodes_of(NodeMask m) const {
  std::vector<NodeId> out;
  for (std::size_t i = 0; i < config_.nodes.size(); ++i) {
    if (has(m, i)) out.push_back(config_.nodes[i]);
  }
  return out;
}

// Each ring gets the ring config with idle holds short enough that an idle
// rotation takes at most half the token timeout.
std::unique_ptr<Membership::Generation> Membership::make_generation(NodeMask members, RingId id,
                                                                    const ring::RingStart& where) {
  RC_ASSERT(has(members, me_));
  RC_ASSERT((members & ~cluster_) == 0);
  ring::RingMembership m{id, nodes_of(members), 0};
  m.my_index = static_cast<std::size_t>(count(members & (bit(me_) - 1)));
  // Rings keep the cluster's node order, so my place in it is my rank there.
  RC_ASSERT(m.my_index < m.size());
  RC_ASSERT(m.me() == config_.nodes[me_]);
  ring::RingConfig c = ring_config_;
  c.token_hold_ns = std::min(c.token_hold_ns, config_.token_timeout_ns / (2 * m.size() + 2));
  // The last holder writes a token that shows no sign of moving on again
  // half-way to the timeout, as Totem's does, before anyone declares it lost.
  c.token_retransmit_ns = config_.token_timeout_ns / 2;
  ring::RingStart start = where;
  start.generation = next_generation_++;
  auto g = std::make_unique<Generation>();
  g->members = members;
  g->ring = std::make_unique<ring::RingState>(c, std::move(m), memory_.ring, start);
  return g;
}

// The first ring's id (epoch 1) is the same at every member without a word
// between them; the ones after it are named above the floor.
void Membership::start(NodeMask members, std::uint64_t now_ns, std::uint64_t epoch_floor) {
  start_with(members, members, 1, now_ns);
  max_epoch_ = std::max(max_epoch_, epoch_floor);
}

bool Membership::start_joining(NodeMask links, std::uint64_t epoch_floor, std::uint64_t now_ns) {
  RC_ASSERT(epoch_floor < std::numeric_limits<std::uint64_t>::max());
  epochs_kept_through_ = epoch_floor;
  if (!may_name(epoch_floor + 1)) return false;
  start_with(bit(me_), links | bit(me_), epoch_floor + 1, now_ns);
  return true;
}

bool Membership::may_name(std::uint64_t epoch) {
  if (!epoch_keeper_ || epoch <= epochs_kept_through_) return true;
  const std::uint64_t room = std::numeric_limits<std::uint64_t>::max() - epoch;
  const std::uint64_t through = epoch + std::min(room, kEpochsKeptAhead);
  if (!epoch_keeper_(through)) return false;
  epochs_kept_through_ = through;
  return true;
}

void Membership::start_with(NodeMask members, NodeMask links, std::uint64_t epoch,
                            std::uint64_t now_ns) {
  RC_ASSERT(gens_.empty());
  RC_ASSERT(has(members, me_));
  RC_ASSERT((links & ~cluster_) == 0);
  RC_ASSERT((members & ~links & ~bit(me_)) == 0);
  RC_ASSERT(epoch >= 1);
  link_ok_ = links & ~bit(me_);
  // The cluster's first ring is epoch 1 everywhere; a process that joins
  // later starts in a ring of its own above every epoch it used before.
  const RingId id{config_.nodes[lowest(members)], epoch};
  auto g = make_generation(members, id, ring::RingStart{});
  g->installed = true;
  g->regular = {id, nodes_of(members), {}, nodes_of(members), false};
  max_epoch_ = id.epoch;
  gens_.push_back(std::move(g));
  newest().ring->start(now_ns);
  last_activity_ns_ = now_ns;
  phase_ = Phase::operational;
}

Membership::Generation& Membership::installed() noexcept {
  for (auto it = gens_.rbegin(); it != gens_.rend(); ++it) {
    if ((*it)->installed) return **it;
  }
  RC_ASSERT(false && "a member always has an installed ring");
  return *gens_.back();
}

const Membership::Generation& Membership::installed() const noexcept {
  return const_cast<Membership*>(this)->installed();
}

RingId Membership::ring_id() const noexcept {
  return installed().id();
}
std::vector<NodeId> Membership::ring_members() const {
  return installed().ring->membership().members;
}
const ring::RingState& Membership::ring() const noexcept {
  return *installed().ring;
}

ring::RingState* Membership::sending_ring() const noexcept {
  if (gens_.empty() || gens_.back()->ring->frozen()) return nullptr;
  return gens_.back()->ring.get();
}

Status Membership::submit(const ring::OutgoingMessage& message) {
  if (phase_ == Phase::left) return make_error(Errc::link_failed, "submit", "left the ring");
  // The newest ring queues it; a ring that forms later takes the queue over.
  return newest().ring->submit(message);
}

// ---------------------------------------------------------------- completions

void Membership::on_completion(const fabric::Completion& c, std::uint64_t now_ns) {
  if (phase_ == Phase::left) return;
  switch (c.type) {
    case fabric::CompletionType::received_imm:
      switch (ring::imm_kind(c.imm)) {
        case ring::ImmKind::membership:
          on_control(c, now_ns);
          return;
        case ring::ImmKind::records:
          route_records(c, now_ns);
          return;
        case ring::ImmKind::control:
          if (ring::control_imm_type(c.imm) == ring::ControlImmType::repair_request) {
            return on_repair_request(c);
          }
          if (ring::control_imm_type(c.imm) == ring::ControlImmType::repaired) {
            return route_repair_answer(c, now_ns);
          }
          newest().ring->on_completion(c, now_ns);
          return;
        case ring::ImmKind::token:
          newest().ring->on_completion(c, now_ns);
          return;
      }
      return;
    case fabric::CompletionType::write_done:
      on_write_completion(c);
      return;
    case fabric::CompletionType::write_failed:
      on_write_completion(c);
      [[fallthrough]];
    case fabric::CompletionType::link_down: {
      const auto it = std::find(config_.nodes.begin(), config_.nodes.end(), c.peer);
      if (it != config_.nodes.end()) {
        on_link_failed(static_cast<std::size_t>(it - config_.nodes.begin()), now_ns);
      }
      return;
    }
  }
}

// A batch belongs to the ring named in its last header: the old ring's late
// batches go to the old log (recovery may need them), the new ring's to the
// new one, even before it is installed. Validation stays the log's.
void Membership::route_records(const fabric::Completion& c, std::uint64_t now_ns) {
  const std::uint64_t offset = ring::records_imm_offset(c.imm);
  if (offset + ring::kRecordHeaderBytes <= ring_config_.log_bytes) {
    const std::byte* h = memory_.ring.log->data() + offset;
    const RingId id{wire::get<std::uint32_t>(h + 4), wire::get<std::uint64_t>(h + 8)};
    for (auto it = gens_.rbegin(); it != gens_.rend(); ++it) {
      if ((*it)->id() == id) {
        (*it)->ring->on_completion(c, now_ns);
        return;
      }
    }
  }
  newest().ring->on_completion(c, now_ns);  // counts what it drops
}

void Membership::on_write_completion(const fabric::Completion& c) {
  if ((c.wr_id >> 32) == kControlWrTag) {
    const std::size_t peer = c.wr_id & 0xFF;
    if (peer < staging_busy_.size()) staging_busy_[peer] = false;
    return;
  }
  for (auto& g : gens_)
    g->ring->on_write_finished(c.wr_id);  // each ring takes only its own
  // The ready a relay's forwards held back goes as soon as they landed, not
  // with the next repeat a join interval later.
  if (ready_after_forwards_ && phase_ == Phase::commit && old_forwards_landed()) {
    ready_after_forwards_ = false;
    skipped_ |= bit(lowest(commit_->members));
  }
}

void Membership::on_link_failed(std::size_t peer, std::uint64_t now_ns) {
  if (peer >= config_.nodes.size() || peer == me_) return;
  forget_repairs(peer);
  if (!has(link_ok_, peer)) return;
  link_ok_ &= ~bit(peer);
  ++counters_.link_failures;
  // Chains not posted yet will not be; their staging slot is free again.
  while (!outbox_.front(peer).empty())
    outbox_.pop(peer);
  staging_busy_[peer] = false;
  switch (phase_) {
    case Phase::operational:
      if (has(installed().members, peer)) {
        enter_gather(now_ns);
        check_consensus(now_ns);
      }
      return;
    case Phase::gather:
      if (has(proc_, peer) && !has(fail_, peer)) {
        fail_ |= bit(peer);
        sets_changed(now_ns);
        check_consensus(now_ns);
      }
      return;
    case Phase::commit:
      if (has(commit_->members, peer)) {
        enter_gather(now_ns);
        check_consensus(now_ns);
      }
      return;
    case Phase::left:
      return;
  }
}

void Membership::on_link_up(std::size_t peer, std::uint64_t now_ns) {
  if (peer >= config_.nodes.size() || peer == me_ || has(link_ok_, peer)) return;
  forget_repairs(peer);  // a new link: the old one carries nothing more
  link_ok_ |= bit(peer);
  last_seq_seen_[peer] = 0;
  staging_busy_[peer] = false;
  while (!outbox_.front(peer).empty())
    outbox_.pop(peer);
  // A member of the running ring whose link came back saw it fail: the ring
  // is over for it, and no ring from before this link may write on it.
  if (phase_ == Phase::operational && has(installed().members, peer)) {
    enter_gather(now_ns);
    check_consensus(now_ns);
  }
}

// ---------------------------------------------------------------- time

// Any sign of the ring (a token, a batch, a wake, holding the token) restarts
// the token timeout; none for token_timeout_ns means the token is lost.
void Membership::watch_token(std::uint64_t now_ns) {
  RC_ASSERT(phase_ == Phase::operational);
  const ring::RingState& r = *installed().ring;
  if (r.membership().size() == 1) return;
  const std::uint64_t activity = r.counters().tokens_received + r.counters().tokens_passed +
                                 r.counters().wakes_received + r.log().counters().batches_landed;
  if (activity != activity_ || r.holds_token()) {
    activity_ = activity;
    last_activity_ns_ = now_ns;
    return;
  }
  if (now_ns - last_activity_ns_ >= config_.token_timeout_ns) {
    ++counters_.token_losses;
    enter_gather(now_ns);
    check_consensus(now_ns);
  }
}

// The ring asked every member that held a record it lacks and none wrote it
// again in time: a new ring's recovery writes it again from a member whose
// copy checks (or, if none has one, ends the ring before it at every member
// alike). Repeated without end it would only churn: then this member leaves.
void Membership::watch_repair(std::uint64_t now_ns) {
  RC_ASSERT(phase_ == Phase::operational);
  if (!installed().ring->repair_exhausted()) return;
  if (++counters_.unrepaired_gathers > kMaxUnrepairedGathers) {
    return leave(now_ns,
                 "records kept failing their checks here and no member could write them "
                 "again (" +
                     std::to_string(kMaxUnrepairedGathers) +
                     " new rings formed "
                     "for it): this member's log memory or NIC may be faulty");
  }
  enter_gather(now_ns);
  check_consensus(now_ns);
}

bool Membership::tick(std::uint64_t now_ns) {
  const std::size_t queued = outbox_.total_queued();
  const std::uint64_t gathers = counters_.gathers;
  for (std::size_t k = 0; repair_owed_total_ > 0 && k < repair_owed_.size(); ++k)
    answer_repairs(k);
  switch (phase_) {
    case Phase::operational:
      watch_token(now_ns);
      if (phase_ == Phase::operational) watch_repair(now_ns);
      if (phase_ == Phase::operational && now_ns >= next_probe_deadline()) {
        probe_outsiders(now_ns);
      }
      break;
    case Phase::gather:
      if (now_ns >= consensus_deadline_ns_) {
        on_consensus_timeout(now_ns);
      } else if (now_ns >= next_send_ns_) {
        send_joins(now_ns);
      } else {
        resend_skipped(now_ns);
      }
      break;
    case Phase::commit:
      if (now_ns >= commit_deadline_ns_) {
        ++counters_.commits_abandoned;
        enter_gather(now_ns);
        check_consensus(now_ns);
        break;
      }
      if (now_ns >= next_send_ns_) {
        send_commit_messages(now_ns);
      } else {
        resend_skipped(now_ns);
      }
      check_install(now_ns);
      break;
    case Phase::left:
      return false;
  }
  bool acted = outbox_.total_queued() != queued || counters_.gathers != gathers;
  if (phase_ == Phase::operational) acted = newest().ring->tick(now_ns) || acted;
  return acted;
}

// A gather or commit message skipped for a busy slot goes to that peer as
// soon as the slot is free (its write completed), rather than with the next
// repeat: the repeat comes a join interval later, and a gather skips
// whenever its sets change right after it sent (a join merged just after
// the first ones went), a commit whenever the last joins are still on the
// wire. On rxe each such skip costs the survivors of a kill -9 50 ms.
void Membership::resend_skipped(std::uint64_t now_ns) {
  NodeMask free = 0;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (has(skipped_, k) && !staging_busy_[k] && outbox_.has_room(k)) free |= bit(k);
  }
  if (free == 0) return;
  skipped_ &= ~free;
  const std::uint64_t repeat_ns = next_send_ns_;  // the regular repeat keeps its time
  if (phase_ == Phase::gather) send_joins(now_ns, free);
  if (phase_ == Phase::commit) send_commit_messages(now_ns, free);
  next_send_ns_ = repeat_ns;
}

// Only a representative with live links outside its ring probes.
std::uint64_t Membership::next_probe_deadline() const noexcept {
  const Generation& g = installed();
  if (lowest(g.members) != me_ || (link_ok_ & ~g.members) == 0) return ring::kNever;
  return next_probe_ns_;
}

std::uint64_t Membership::next_deadline_ns() const noexcept {
  if (phase_ == Phase::left) return ring::kNever;
  if (outbox_.total_queued() > 0) return 0;
  std::uint64_t t = ring::kNever;
  switch (phase_) {
    case Phase::operational:
      t = std::min(gens_.back()->ring->next_deadline_ns(), next_probe_deadline());
      if (installed().ring->membership().size() > 1) {
        t = std::min(t, last_activity_ns_ + config_.token_timeout_ns);
      }
      return t;
    case Phase::gather:
      return std::min(next_send_ns_, consensus_deadline_ns_);
    case Phase::commit:
      if (gens_.back()->ring->token_seen()) return 0;  // install
      return std::min(next_send_ns_, commit_deadline_ns_);
    case Phase::left:
      break;
  }
  return t;
}

// ---------------------------------------------------------------- actions

std::span<const fabric::WriteOp> Membership::pending_chain(std::size_t peer) const noexcept {
  if (ring::RingState* r = sending_ring()) {
    const auto& members = r->membership().members;
    const auto it = std::find(members.begin(), members.end(), config_.nodes[peer]);
    if (it != members.end()) {
      auto chain = r->pending_chain(static_cast<std::size_t>(it - members.begin()));
      if (!chain.empty()) return chain;
    }
  }
  return outbox_.front(peer);
}

void Membership::chain_posted(std::size_t peer) noexcept {
  if (ring::RingState* r = sending_ring()) {
    const auto& members = r->membership().members;
    const auto it = std::find(members.begin(), members.end(), config_.nodes[peer]);
    if (it != members.end()) {
      const auto d = static_cast<std::size_t>(it - members.begin());
      if (!r->pending_chain(d).empty()) {
        r->chain_posted(d);
        return;
      }
    }
  }
  outbox_.pop(peer);
}

void Membership::retire(Generation& g) noexcept {
  const ring::RingState& r = *g.ring;
  if (r.log().counters().stalls != g.stalls_told && untold_stalls_.size() < kMaxGenerations) {
    g.stalls_told = r.log().counters().stalls;
    untold_stalls_.push_back(stall_notice(g));
  }
  retired_.tokens += r.counters().tokens_received;
  retired_.records_dropped += r.log().counters().records_dropped;
  retired_.tokens_dropped += r.counters().tokens_dropped;
  retired_.tokens_retransmitted += r.counters().tokens_retransmitted;
  retired_.writes_wrong_link += r.counters().writes_wrong_link;
  retired_.record_stalls += r.log().counters().stalls;
  retired_.records_repaired += r.log().counters().records_repaired;
  retired_.records_relayed += r.counters().records_relayed;
  retired_.relay_waits += r.counters().relay_waits;
}

StatusSnapshot Membership::status() const {
  StatusSnapshot s;
  const RingId id = ring_id();
  s.ring_representative = id.representative;
  s.ring_seq = id.epoch;
  s.members = ring_members();
  s.operational = phase_ == Phase::operational;
  s.tokens_received = retired_.tokens;
  s.records_dropped = retired_.records_dropped;
  s.tokens_dropped = retired_.tokens_dropped;
  for (const auto& g : gens_) {
    s.tokens_received += g->ring->counters().tokens_received;
    s.records_dropped += g->ring->log().counters().records_dropped;
    s.tokens_dropped += g->ring->counters().tokens_dropped;
    s.retransmissions += g->ring->counters().tokens_retransmitted;
  }
  s.record_stalls = retired_.record_stalls;
  s.records_repaired = retired_.records_repaired;
  s.records_relayed = retired_.records_relayed;
  s.relay_waits = retired_.relay_waits;
  for (const auto& g : gens_) {
    s.record_stalls += g->ring->log().counters().stalls;
    s.records_repaired += g->ring->log().counters().records_repaired;
    s.records_relayed += g->ring->counters().records_relayed;
    s.relay_waits += g->ring->counters().relay_waits;
  }
  s.retransmissions += counters_.recovery_writes + retired_.tokens_retransmitted;
  s.reformations = counters_.reformations;
  s.control_dropped = counters_.control_dropped;
  s.tokens_passed = ring().counters().tokens_passed;
  s.records_delivered = ring().log().counters().records_delivered;
  s.writes_wrong_link = writes_wrong_link();
  s.left = phase_ == Phase::left;
  s.messages_unsent_on_leave = counters_.messages_unsent_on_leave;
  return s;
}

std::uint64_t Membership::writes_wrong_link() const noexcept {
  std::uint64_t n = counters_.control_wrong_link + retired_.writes_wrong_link;
  for (const auto& g : gens_)
    n += g->ring->counters().writes_wrong_link;
  return n;
}

std::optional<std::size_t> Membership::next_disconnect() noexcept {
  if (to_disconnect_ == 0) return std::nullopt;
  const std::size_t peer = lowest(to_disconnect_);
  RC_ASSERT(peer != me_);  // fencing cuts others' links, never a link to myself
  to_disconnect_ &= ~bit(peer);
  return peer;
}

StallNotice Membership::stall_notice(const Generation& g) const noexcept {
  const ring::ReceiveLog& log = g.ring->log();
  const bool running =
      g.installed && !g.ring->frozen() && &g == gens_.back().get() && phase_ == Phase::operational;
  return StallNotice{g.id(), log.wanted().seq, log.counters().last_fault, running};
}

// Called every round: the common case (nothing new) reads one counter per ring.
std::optional<StallNotice> Membership::next_stall() noexcept {
  if (!untold_stalls_.empty()) {
    const StallNotice n = untold_stalls_.front();
    untold_stalls_.erase(untold_stalls_.begin());
    return n;
  }
  for (auto& g : gens_) {
    const std::uint64_t stalls = g->ring->log().counters().stalls;
    if (stalls == g->stalls_told || (!g->installed && g.get() == gens_.back().get())) continue;
    g->stalls_told = stalls;
    return stall_notice(*g);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> Membership::next_zero_copy_done() noexcept {
  for (auto& g : gens_) {
    if (auto tag = g->ring->next_zero_copy_done()) return tag;
  }
  return std::nullopt;
}

}  // namespace ringcast::membership
