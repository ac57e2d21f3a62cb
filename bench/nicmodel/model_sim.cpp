#include "model_sim.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ringcast::nicmodel {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("nic-model: " + what);
}

// A counter's growth over a round; the counters are the installed ring's, so
// a new ring starts them again from 0.
std::uint64_t grown(std::uint64_t before, std::uint64_t after) {
  return after >= before ? after - before : after;
}

}  // namespace

ModelSim::ModelSim(std::size_t members, std::uint32_t max_message_bytes, const CostModel& model)
    : model_(model.shared_by(members)), world_(1, model_.sim_config()) {
  ring::RingConfig rc;
  rc.max_message_bytes = std::max(rc.max_message_bytes, max_message_bytes);
  if (model.relay_min_batch_bytes != CostModel::kRingDefault) {
    rc.relay_min_batch_bytes = model.relay_min_batch_bytes;
  }
  if (model.relay_min_members != CostModel::kRingDefault) {
    rc.relay_min_members = static_cast<std::uint32_t>(model.relay_min_members);
  }
  // No failure is modelled: timeouts far beyond the slowest modelled visit
  // (1 MiB to 4 members through an emulated NIC takes seconds).
  membership::MembershipConfig mc;
  mc.token_timeout_ns = 600'000'000'000;
  mc.consensus_timeout_ns = 700'000'000'000;
  for (std::size_t i = 0; i < members; ++i)
    mc.nodes.push_back(static_cast<fabric::NodeId>(i + 1));
  members_.resize(members);
  for (std::size_t i = 0; i < members; ++i) {
    Member& m = members_[i];
    m.endpoint = &world_.add_endpoint(static_cast<fabric::NodeId>(i + 1));
    auto d = membership::MembershipDriver::create(*m.endpoint, rc, mc);
    if (!d) fail(d.error().message());
    m.driver = std::move(*d);
  }
  connect_all();
}

void ModelSim::connect_all() {
  const std::size_t n = members_.size();
  std::vector<std::vector<fabric::Link*>> links(n, std::vector<fabric::Link*>(n, nullptr));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      Member& a = members_[i];
      Member& b = members_[j];
      auto pair = world_.connect(*a.endpoint, a.driver->connect_info(1), *b.endpoint,
                                 b.driver->connect_info(1));
      if (!pair) fail(pair.error().message());
      links[i][j] = pair->a_to_b;
      links[j][i] = pair->b_to_a;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (Status s = members_[i].driver->start(links[i]); !s.ok()) fail(s.error().message());
  }
}

Status ModelSim::submit(std::size_t member, const ring::OutgoingMessage& m) {
  return members_[member].driver->submit(m);
}

// When the member's next round may run: at once with work waiting, else at
// its driver's deadline; never while its CPU is busy. A driver that asks to
// run again at once after a round of this instant (a full send queue) spins
// on its completion queue: it runs at the next fabric event.
std::uint64_t ModelSim::due_ns(const Member& m) const {
  const bool work = m.poked || m.endpoint->pending_completions() > 0;
  std::uint64_t at = work ? world_.now_ns() : m.driver->next_deadline_ns();
  if (!work && at <= world_.now_ns() && m.last_round_ns == world_.now_ns()) at = ring::kNever;
  return at == ring::kNever ? at : std::max(at, m.busy_until_ns);
}

bool ModelSim::step() {
  std::uint64_t due = world_.next_event_ns().value_or(ring::kNever);
  for (const Member& m : members_)
    due = std::min(due, due_ns(m));
  if (due == ring::kNever) return false;
  world_.run_until(std::max(due, world_.now_ns()));
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (due_ns(members_[i]) <= world_.now_ns()) round(i);
  }
  return true;
}

// One round: the member's CPU runs for visit_ns per token visit and
// record_ns per record delivered; what it posted leaves the NIC after that.
void ModelSim::round(std::size_t i) {
  Member& m = members_[i];
  m.poked = false;
  m.last_round_ns = world_.now_ns();
  world_.hold_posts(m.endpoint->node());
  const StatusSnapshot before = m.driver->status();
  if (on_round_start) on_round_start(i);
  m.driver->progress();
  if (drain(i, before) > 0) m.poked = true;
}

// Hands the round's deliveries to on_deliver and releases them; the
// records delivered are counted by next_event(), so the round's cost is
// known only once they are drained.
std::uint64_t ModelSim::drain(std::size_t i, const StatusSnapshot& before) {
  Member& m = members_[i];
  std::uint64_t last = 0;
  deliveries_.clear();
  while (auto e = m.driver->next_event()) {
    last = e->index;
    if (e->change == nullptr) deliveries_.push_back({i, e->message.sender, e->message.payload, 0});
  }
  const StatusSnapshot after = m.driver->status();
  const std::uint64_t visits = grown(before.tokens_received, after.tokens_received);
  const std::uint64_t records = grown(before.records_delivered, after.records_delivered);
  visits_ += visits;
  records_ += records;
  const std::uint64_t cost = model_.visit_ns * visits + model_.record_ns * records;
  const std::uint64_t done_ns = world_.now_ns() + cost;
  world_.release_posts(m.endpoint->node(), done_ns);
  m.busy_until_ns = done_ns;
  if (model_.posts_block_cpu) m.busy_until_ns = std::max(done_ns, m.endpoint->egress_free_ns());
  for (Delivered& d : deliveries_) {
    d.at_ns = m.busy_until_ns;
    if (on_deliver) on_deliver(d);
  }
  if (last != 0) (void)m.driver->release_through(last);
  return deliveries_.size();
}

}  // namespace ringcast::nicmodel
