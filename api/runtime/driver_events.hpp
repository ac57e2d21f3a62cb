// EventSource adapters: a driver's output as RingTransport's one ordered
// stream of events.
//
// StaticRingEvents: a RingDriver (one static ring) announces its ring as the
// first regular configuration (every member, all joined), then its messages,
// numbered by their sequence numbers (one ring: they already increase).
// MemberEvents: a membership::MemberDriver's stream is that stream already.
#pragma once

#include <optional>

#include "membership/member_driver.hpp"
#include "ring/driver.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::runtime {

class StaticRingEvents final : public EventSource {
 public:
  StaticRingEvents(ring::RingDriver& driver, const ring::RingMembership& ring) : driver_(&driver) {
    first_.ring = ring.ring;
    first_.members = ring.members;
    first_.joined = ring.members;
  }

  std::optional<TransportEvent> next_event() override {
    if (!announced_) {
      announced_ = true;
      return TransportEvent{&first_, {}, 0};
    }
    auto d = driver_->next_delivery();
    if (!d) return std::nullopt;
    return TransportEvent{nullptr, *d, d->seq};
  }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept override {
    return driver_->next_zero_copy_done();
  }
  Status release_through(std::uint64_t index) override { return driver_->release_through(index); }

 private:
  ring::RingDriver* driver_;
  membership::ConfigurationChange first_;
  bool announced_ = false;
};

class MemberEvents final : public EventSource {
 public:
  explicit MemberEvents(membership::MemberDriver& driver) : driver_(&driver) {}

  std::optional<TransportEvent> next_event() override {
    auto e = driver_->next_event();
    if (!e) return std::nullopt;
    return TransportEvent{e->change, e->message, e->index};
  }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept override {
    return driver_->next_zero_copy_done();
  }
  Status release_through(std::uint64_t index) override { return driver_->release_through(index); }

 private:
  membership::MemberDriver* driver_;
};

// The counters of a static ring's driver, as TransportStatus.
inline TransportStatus status_of(const ring::RingDriver& d, const ring::RingMembership& ring) {
  TransportStatus s;
  s.ring = ring.ring;
  s.members = ring.members;
  if (!d.started()) return s;
  const auto& rc = d.state().counters();
  s.tokens_received = rc.tokens_received;
  s.tokens_passed = rc.tokens_passed;
  s.tokens_dropped = rc.tokens_dropped;
  s.records_delivered = d.state().log().counters().records_delivered;
  s.records_dropped = d.state().log().counters().records_dropped;
  return s;
}

// A member's status (every ring it was in) as TransportStatus.
inline TransportStatus status_of(const membership::Member& m) {
  const membership::MemberStatus ms = m.status();
  TransportStatus s;
  s.ring = ms.ring;
  s.members = ms.members;
  s.operational = ms.phase == membership::Phase::operational;
  s.tokens_received = ms.tokens_seen;
  s.tokens_dropped = ms.tokens_dropped;
  s.records_dropped = ms.records_dropped;
  s.retransmissions = ms.retransmissions;
  s.reformations = ms.reformations;
  s.control_dropped = ms.control_dropped;
  const ring::RingState& r = m.ring();
  s.tokens_passed = r.counters().tokens_passed;
  s.records_delivered = r.log().counters().records_delivered;
  return s;
}

}  // namespace ringcast::runtime
