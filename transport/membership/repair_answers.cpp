// Membership: repair requests and answers across this member's rings
// (docs/protocol.md "Repair"). A request names its ring in its slot; the ring
// of that id answers, frozen or not, and a ring this member no longer has
// answers that nothing was written: every request gets exactly one answer on
// its link, and the asker counts on it (RingState::released_for_peers). The
// answers from one peer come in the order it got the requests, so each goes
// to this member's oldest ring still waiting for that peer.
#include <algorithm>

#include "base/wire.hpp"
#include "membership/generation.hpp"
#include "membership/membership.hpp"
#include "ring/imm.hpp"
#include "ring/token.hpp"

namespace ringcast::membership {

void Membership::on_repair_request(const fabric::Completion& c) {
  const auto it = std::find(config_.nodes.begin(), config_.nodes.end(), c.peer);
  const std::uint32_t from = ring::control_arg(c.imm);
  if (it == config_.nodes.end() || from >= ring::kMaxMembers) {
    return drop_control(MembershipMessageFault::bad_field);
  }
  const auto peer = static_cast<std::size_t>(it - config_.nodes.begin());
  // An honest peer has at most one request out per ring it keeps.
  if (repair_owed_[peer].size() >= kMaxGenerations) {
    return drop_control(MembershipMessageFault::bad_field);
  }
  repair_owed_[peer].push_back(from);
  ++repair_owed_total_;
  answer_repairs(peer);
}

void Membership::answer_repairs(std::size_t peer) {
  auto& owed = repair_owed_[peer];
  while (!owed.empty() && has(link_ok_, peer) && outbox_.has_room(peer)) {
    const std::uint32_t from = owed.front();
    owed.erase(owed.begin());
    --repair_owed_total_;
    const std::byte* req = memory_.ring.mailbox->data() +
                           ring::repair_area_offset(ring_config_.mailbox_slots) +
                           std::size_t{from} * ring::kRepairSlotBytes;
    const RingId id{wire::get<std::uint32_t>(req + 24), wire::get<std::uint64_t>(req + 16)};
    std::optional<fabric::WriteOp> answer = ring::RingState::repair_refusal();
    for (auto& g : gens_) {
      if (g->id() == id) answer = g->ring->repair_answer(from, config_.nodes[peer]);
    }
    if (!answer) continue;  // not from that member of that ring: counted there
    outbox_.open(peer)[0] = *answer;
    outbox_.commit(peer, 1);
  }
}

void Membership::route_repair_answer(const fabric::Completion& c, std::uint64_t now_ns) {
  for (auto& g : gens_) {
    if (g->ring->awaits_answer_from(c.peer)) {
      g->ring->on_completion(c, now_ns);
      update_release_caps();
      return;
    }
  }
  newest().ring->on_completion(c, now_ns);  // nobody asked: counted there
}

// A ring reports no release beyond what an older ring's awaited answer may
// still write: their positions are one line, and the newer ring's records
// may go where the older ring's released bytes were.
void Membership::update_release_caps() noexcept {
  std::uint64_t cap = UINT64_MAX;
  for (auto& g : gens_) {
    g->ring->set_release_cap(cap);
    if (g->ring->awaits_answer()) cap = std::min(cap, g->ring->answer_hold());
  }
}

// The link is gone: nothing more lands from it, and no answer goes on it.
void Membership::forget_repairs(std::size_t peer) noexcept {
  repair_owed_total_ -= repair_owed_[peer].size();
  repair_owed_[peer].clear();
  for (auto& g : gens_)
    g->ring->forget_answer_from(config_.nodes[peer]);
  update_release_caps();
}

}  // namespace ringcast::membership
