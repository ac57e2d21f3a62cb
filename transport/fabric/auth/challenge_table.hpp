// The challenges a listener has issued and not yet seen answered: each is
// good for one proof, within its lifetime. Bounded: when full, a new
// challenge pushes out the oldest (whose connector then hears "stale
// challenge" and starts over), so a flood of hellos costs a fixed amount of
// memory and cannot keep a live challenge from being issued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fabric/auth/messages.hpp"

namespace ringcast::fabric::auth {

class ChallengeTable {
 public:
  static constexpr std::size_t kDefaultCapacity = 256;
  static constexpr std::uint64_t kDefaultLifetimeNs = 10'000'000'000;  // 10 s

  struct Entry {
    std::uint16_t ticket = 0;
    std::uint64_t issued_ns = 0;
    HelloBytes hello{};  // as received (the transcript needs it)
    ChallengeBytes challenge{};
    NodeId node = 0;  // who said hello, for messages
  };

  ChallengeTable(std::size_t capacity = kDefaultCapacity,
                 std::uint64_t lifetime_ns = kDefaultLifetimeNs);

  // The ticket the next add() records: the challenge message names it, and
  // its tag covers it, before it is recorded. Tickets count up (mod 2^16):
  // a live one is unique since capacity is far below 2^16.
  std::uint16_t next_ticket() const noexcept { return next_ticket_; }
  void add(const HelloBytes& hello, const ChallengeBytes& challenge, NodeId node,
           std::uint64_t now_ns);
  // Removes and returns the entry: nullopt when the ticket is unknown, was
  // taken already, expired or was pushed out. Taking is what makes a proof
  // good only once.
  std::optional<Entry> take(std::uint16_t ticket, std::uint64_t now_ns);

  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  std::uint64_t pushed_out() const noexcept { return pushed_out_; }

 private:
  void drop_expired(std::uint64_t now_ns);

  std::size_t capacity_;
  std::uint64_t lifetime_ns_;
  std::vector<Entry> entries_;  // oldest first; reserved once, never grows past capacity_
  std::uint16_t next_ticket_ = 1;
  std::uint64_t pushed_out_ = 0;
};

}  // namespace ringcast::fabric::auth
