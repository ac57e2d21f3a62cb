// The challenges a listener has issued and not yet seen answered: each is
// good for one proof, within its lifetime. Bounded: when full, a new
// challenge pushes out the oldest (whose connector then hears "stale
// challenge" and starts over), so a flood of hellos costs a fixed amount of
// memory and cannot keep a live challenge from being issued. Tickets are
// random, and only a verified proof or a complaint that echoes the
// challenge's nonce takes one (handshake.cpp): naming a ticket spends
// nothing.
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

  // A ticket for the next add(), from a random draw: the draw itself, or
  // the next value after it that no live entry holds (never 0). The
  // challenge message names it, and its tag covers it, before it is
  // recorded. Capacity is far below 2^16, so one is always free.
  std::uint16_t free_ticket(std::uint16_t random) const noexcept;
  void add(std::uint16_t ticket, const HelloBytes& hello, const ChallengeBytes& challenge,
           NodeId node, std::uint64_t now_ns);
  // The live entry of a ticket, left in place (nullptr: unknown, taken,
  // expired or pushed out); valid until the next call that changes the table.
  const Entry* find(std::uint16_t ticket, std::uint64_t now_ns);
  // Removes and returns the entry: nullopt when the ticket is unknown, was
  // taken already, expired or was pushed out. Taking is what makes a proof
  // good only once.
  std::optional<Entry> take(std::uint16_t ticket, std::uint64_t now_ns);

  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  std::uint64_t pushed_out() const noexcept { return pushed_out_; }

 private:
  void drop_expired(std::uint64_t now_ns);
  bool live(std::uint16_t ticket) const noexcept;

  std::size_t capacity_;
  std::uint64_t lifetime_ns_;
  std::vector<Entry> entries_;  // oldest first; reserved once, never grows past capacity_
  std::uint64_t pushed_out_ = 0;
};

}  // namespace ringcast::fabric::auth
