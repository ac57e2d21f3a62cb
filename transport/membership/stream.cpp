// Membership: the one event stream across rings, and releases.
//
// Per ring, in order: its regular configuration change, its messages; when
// the next ring installs, the messages up to regular_through (delivered by a
// member of the group in the old configuration already), the transitional
// change, the messages up to `through` (SAFE ones now only need the group:
// extended virtual synchrony), then the next ring's regular change.
#include <algorithm>

#include "membership/generation.hpp"
#include "membership/membership.hpp"

namespace ringcast::membership {

std::optional<MemberEvent> Membership::next_event() {
  while (stream_ < gens_.size()) {
    Generation& g = *gens_[stream_];
    if (!g.installed) return std::nullopt;
    if (!g.announced) {
      RC_ASSERT(g.regular.ring == g.id());
      g.announced = true;
      g.index_base = next_index_ - 1;
      change_ = g.regular;
      return MemberEvent{&change_, {}, g.id(), next_index_ - 1};
    }
    if (auto e = next_from(g)) return e;
    if (!g.ending || !g.transitional_sent || g.ring->log().delivered_seq() < g.through) {
      return std::nullopt;
    }
    // A ring's stream ends at `through`, and the ring that ended it follows.
    RC_ASSERT(g.ring->log().delivered_seq() == g.through);
    RC_ASSERT(stream_ + 1 < gens_.size());
    ++stream_;
    drop_released_generations();
  }
  return std::nullopt;
}

std::optional<MemberEvent> Membership::next_from(Generation& g) {
  std::optional<ring::Delivery> d;
  if (!g.ending) {
    // Only the running ring delivers; a frozen one waits for the commit.
    if (phase_ != Phase::operational || &g != gens_.back().get()) return std::nullopt;
    d = g.ring->next_delivery();
  } else {
    ring::ReceiveLog& log = g.ring->mutable_log();
    RC_ASSERT(g.regular_through <= g.through);
    const std::uint64_t limit = g.transitional_sent ? g.through : g.regular_through;
    if (log.delivered_seq() < limit) {
      d = log.next_delivery(limit);
      if (!d) {  // everything up to limit is in the log: only a corrupted header stops it
        leave(0, "a record of the ending ring failed its checks after recovery");
        return std::nullopt;
      }
      RC_ASSERT(d->seq <= limit);
    } else if (!g.transitional_sent) {
      // The transitional change comes right after regular_through, never later.
      RC_ASSERT(log.delivered_seq() == g.regular_through);
      g.transitional_sent = true;
      change_ = g.transitional;
      return MemberEvent{&change_, {}, g.id(), next_index_ - 1};
    }
  }
  if (!d) return std::nullopt;
  const std::uint64_t index = g.index_base + d->seq;
  RC_ASSERT(index == next_index_);
  next_index_ = index + 1;
  return MemberEvent{nullptr, *d, g.id(), index};
}

Status Membership::release_through(std::uint64_t index) {
  if (index >= next_index_) {
    return make_error(Errc::invalid_argument, "release_through",
                      "index " + std::to_string(index) + " not delivered yet");
  }
  for (auto& g : gens_) {
    if (!g->announced || index <= g->index_base) break;
    const std::uint64_t seq = std::min(index - g->index_base, g->ring->log().delivered_seq());
    if (seq > 0) RC_TRY(g->ring->release_through_seq(seq));
  }
  drop_released_generations();
  return {};
}

// A ring whose stream ended and whose messages are all released is dropped
// (once the NIC reads none of its zero-copy sources); each later ring's
// released position follows the one before it until it releases its own.
void Membership::drop_released_generations() noexcept {
  while (stream_ > 0 && gens_.size() > 1) {
    Generation& oldest = *gens_.front();
    const ring::RingState& front = *oldest.ring;
    // Nor while an answer it asked for may still land in the log.
    if (front.log().released_seq() != front.log().delivered_seq() || front.zero_copy_in_use() > 0 ||
        front.awaits_answer()) {
      break;
    }
    RC_ASSERT(gens_.front()->ending);  // the stream passed it: a later ring ended it
    ring::RingState& next = *gens_[1]->ring;
    next.release_inherited(next.log().base_position());
    retire(oldest);
    gens_.pop_front();
    --stream_;
  }
  for (std::size_t i = 1; i < gens_.size(); ++i) {
    gens_[i]->ring->release_inherited(gens_[i - 1]->ring->released_for_peers());
  }
  update_release_caps();
}

}  // namespace ringcast::membership
