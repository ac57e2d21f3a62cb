// The drivers' vocabulary as RingTransport's (internal to the runtime).
//
// StaticRingEvents: a RingDriver (one static ring) announces its ring as the
// first regular configuration (every member, all joined), then its messages,
// numbered by their sequence numbers (one ring: they already increase).
// MembershipEvents: a membership::MembershipDriver's stream is that stream already.
#pragma once

#include <optional>

#include "membership/membership_driver.hpp"
#include "ring/driver.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::runtime {

static_assert(static_cast<int>(DeliveryGuarantee::unordered) ==
              static_cast<int>(ring::Guarantee::unordered));
static_assert(static_cast<int>(DeliveryGuarantee::fifo) == static_cast<int>(ring::Guarantee::fifo));
static_assert(static_cast<int>(DeliveryGuarantee::agreed) ==
              static_cast<int>(ring::Guarantee::agreed));
static_assert(static_cast<int>(DeliveryGuarantee::safe) == static_cast<int>(ring::Guarantee::safe));

inline ring::OutgoingMessage to_ring(const OutgoingTransportMessage& m) {
  ring::OutgoingMessage r;
  r.payload = m.payload;
  r.pieces = m.pieces;
  r.zero_copy = m.zero_copy;
  r.prefix = m.prefix;
  r.group = m.group;
  r.sender_pid = m.sender_pid;
  r.guarantee = static_cast<ring::Guarantee>(m.guarantee);
  r.tag = m.tag;
  return r;
}

inline TransportMessage to_transport(const ring::Delivery& d) {
  return TransportMessage{d.sender, d.sender_pid, d.group,
                          static_cast<DeliveryGuarantee>(d.guarantee), d.payload};
}

inline TransportRingId to_transport(ring::RingId id) {
  return TransportRingId{id.representative, id.epoch};
}

inline void assign(TransportConfiguration& out, const membership::ConfigurationChange& c) {
  out.ring = to_transport(c.ring);
  out.members.assign(c.members.begin(), c.members.end());
  out.left.assign(c.left.begin(), c.left.end());
  out.joined.assign(c.joined.begin(), c.joined.end());
  out.transitional = c.transitional;
}

class StaticRingEvents final : public EventSource {
 public:
  StaticRingEvents(ring::RingDriver& driver, const ring::RingMembership& ring) : driver_(&driver) {
    first_.ring = to_transport(ring.ring);
    first_.members.assign(ring.members.begin(), ring.members.end());
    first_.joined = first_.members;
  }

  std::optional<TransportEvent> next_event() override {
    if (!announced_) {
      announced_ = true;
      return TransportEvent{&first_, {}, 0};
    }
    auto d = driver_->next_delivery();
    if (!d) return std::nullopt;
    return TransportEvent{nullptr, to_transport(*d), d->seq};
  }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept override {
    return driver_->next_zero_copy_done();
  }
  Status release_through(std::uint64_t index) override {
    return driver_->release_through_seq(index);
  }

 private:
  ring::RingDriver* driver_;
  TransportConfiguration first_;
  bool announced_ = false;
};

class MembershipEvents final : public EventSource {
 public:
  explicit MembershipEvents(membership::MembershipDriver& driver) : driver_(&driver) {}

  std::optional<TransportEvent> next_event() override {
    auto e = driver_->next_event();
    if (!e) return std::nullopt;
    if (e->change == nullptr) return TransportEvent{nullptr, to_transport(e->message), e->index};
    assign(change_, *e->change);
    return TransportEvent{&change_, {}, e->index};
  }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept override {
    return driver_->next_zero_copy_done();
  }
  Status release_through(std::uint64_t index) override { return driver_->release_through(index); }
  std::optional<std::uint64_t> left_unsent() const noexcept override {
    const membership::Membership& m = driver_->membership();
    if (m.phase() != membership::Phase::left) return std::nullopt;
    return m.counters().messages_unsent_on_leave;
  }

 private:
  membership::MembershipDriver* driver_;
  TransportConfiguration change_;  // the last change, valid until the next event
};

}  // namespace ringcast::runtime
