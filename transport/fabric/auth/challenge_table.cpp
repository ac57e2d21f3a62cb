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

void ChallengeTable::add(const HelloBytes& hello, const ChallengeBytes& challenge, NodeId node,
                         std::uint64_t now_ns) {
  drop_expired(now_ns);
  if (entries_.size() == capacity_) {
    entries_.erase(entries_.begin());
    ++pushed_out_;
  }
  entries_.push_back(Entry{next_ticket_, now_ns, hello, challenge, node});
  ++next_ticket_;
  RC_ASSERT(entries_.size() <= capacity_);
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
