#include "fabric/auth/challenge_table.hpp"

#include <algorithm>

namespace ringcast::fabric::auth {

ChallengeTable::ChallengeTable(std::size_t capacity, std::uint64_t lifetime_ns)
    : capacity_(capacity), lifetime_ns_(lifetime_ns) {
  RC_ASSERT(capacity_ > 0 && capacity_ < (1u << 16) / 2);
  entries_.reserve(capacity_);
}

void ChallengeTable::drop_expired(std::uint64_t now_ns) {
  // Oldest first, so the expired ones are a prefix. A clock that went
  // backwards (it is monotonic, but tests feed it) expires nothing.
  auto live = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return now_ns < e.issued_ns || now_ns - e.issued_ns < lifetime_ns_;
  });
  entries_.erase(entries_.begin(), live);
}

bool ChallengeTable::live(std::uint16_t ticket) const noexcept {
  return std::any_of(entries_.begin(), entries_.end(),
                     [ticket](const Entry& e) { return e.ticket == ticket; });
}

std::uint16_t ChallengeTable::free_ticket(std::uint16_t random) const noexcept {
  std::uint16_t ticket = random;
  // At most capacity_ + 1 steps: the live tickets are fewer than that.
  for (std::size_t step = 0; step <= capacity_ + 1; ++step, ++ticket) {
    if (ticket != 0 && !live(ticket)) return ticket;
  }
  RC_ASSERT(false);  // capacity_ < 2^15 leaves most tickets free
  return 0;
}

void ChallengeTable::add(std::uint16_t ticket, const HelloBytes& hello,
                         const ChallengeBytes& challenge, NodeId node, std::uint64_t now_ns) {
  RC_ASSERT(ticket != 0);
  RC_ASSERT(!live(ticket));
  drop_expired(now_ns);
  if (entries_.size() == capacity_) {
    entries_.erase(entries_.begin());
    ++pushed_out_;
  }
  entries_.push_back(Entry{ticket, now_ns, hello, challenge, node});
  RC_ASSERT(entries_.size() <= capacity_);
}

const ChallengeTable::Entry* ChallengeTable::find(std::uint16_t ticket, std::uint64_t now_ns) {
  drop_expired(now_ns);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [ticket](const Entry& e) { return e.ticket == ticket; });
  return it == entries_.end() ? nullptr : &*it;
}

std::optional<ChallengeTable::Entry> ChallengeTable::take(std::uint16_t ticket,
                                                          std::uint64_t now_ns) {
  drop_expired(now_ns);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [ticket](const Entry& e) { return e.ticket == ticket; });
  if (it == entries_.end()) return std::nullopt;
  Entry found = *it;
  entries_.erase(it);
  return found;
}

}  // namespace ringcast::fabric::auth
