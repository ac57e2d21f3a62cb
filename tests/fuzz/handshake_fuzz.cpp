// Fuzzes the listening side of connection set-up (fabric/auth/handshake.hpp)
// as a sequence of requests: hostile bytes from anyone, interleaved with a
// legitimate connector that holds the cluster key, and the connecting side
// facing hostile answers. The promises checked:
//   - nobody is admitted without the key: only the legitimate connector's
//     own proof, on its own connection, while its challenge is live;
//   - nothing a keyless peer sends (hellos, guessed or replayed proofs,
//     complaints naming the ticket) spends the legitimate connector's
//     challenge: its proof is admitted unless the challenge expired or was
//     pushed out of the table;
//   - an unkeyed listener admits exactly the well-formed open messages.
//
// Input: a sequence of operations, each u8 op then its arguments (below).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/assert.hpp"
#include "fabric/auth/handshake.hpp"
#include "fuzz_support.hpp"

namespace ringcast::fabric::auth {
namespace {

using Action = ListenerVerdict::Action;

enum Op : std::uint8_t {
  kRaw,             // u8 length, bytes: a request to the keyed listener
  kRawOpen,         // u8 length, bytes: a request to the unkeyed listener
  kHello,           // the legitimate connector says hello
  kProof,           // u32 qpn, u8 mutate (bit 0: on; offset, value follow), u8 other qpn
  kReplay,          // the last admitted proof, again
  kComplaint,       // u8 use the live ticket, u16 ticket, 16 bytes nonce
  kLegitComplaint,  // the legitimate connector complains (spends its ticket)
  kTime,            // u32: the clock moves on this many microseconds
  kConnector,       // u8 length, bytes: a hostile challenge to a fresh connector
  kOps
};

constexpr std::uint64_t kLifetimeNs = 1'000'000'000;

ConnectInfo info_of(NodeId node) {
  ConnectInfo info;
  info.node = node;
  info.incarnation = 3;
  info.region_count = 2;
  info.regions[0] = {0x10000, 4096, 17};
  info.regions[1] = {0x20000, 8192, 18};
  return info;
}

AuthKey cluster_key() {
  std::vector<std::byte> key(32, std::byte{0x5a});
  return *AuthKey::derive(key);
}

class Session {
 public:
  Session()
      : listener_(cluster_key(), info_of(1), ChallengeTable(8, kLifetimeNs)),
        open_listener_(AuthKey(), info_of(1)) {}
  void run(fuzz::Reader& in);

 private:
  struct Pending {
    Pending() : connector(cluster_key(), info_of(2)) {}
    ConnectorHandshake connector;
    Nonce nonce{};
    std::uint16_t ticket = 0;
  };

  bool live(std::uint16_t ticket) const {
    ChallengeTable copy = listener_.challenges();
    return copy.find(ticket, now_ns_) != nullptr;
  }
  void raw(fuzz::Reader& in, ListenerHandshake& l);
  void hello();
  void proof(fuzz::Reader& in);
  void complaint(fuzz::Reader& in);
  void legit_complaint();
  void connector(fuzz::Reader& in);

  ListenerHandshake listener_;
  ListenerHandshake open_listener_;
  std::optional<Pending> pending_;
  std::optional<std::pair<SetupMessage, std::uint32_t>> admitted_;  // proof, qpn
  std::uint64_t now_ns_ = 1;
};

void Session::raw(fuzz::Reader& in, ListenerHandshake& l) {
  const auto bytes = in.bytes(in.u8());
  std::vector<std::byte> request(bytes.begin(), bytes.end());
  if (request.size() >= kHelloBytes) fuzz::reseal_crc_at(request, kHelloBytes - 4);
  const ListenerVerdict v = l.on_request(request, 99, now_ns_);
  if (l.keyed()) {
    RC_ASSERT(v.action != Action::admit);
  } else {
    RC_ASSERT((v.action == Action::admit) == decode_connect_info(request).ok());
  }
  if (v.action == Action::refuse) RC_ASSERT(!v.reason.empty());
}

void Session::hello() {
  pending_.emplace();
  auto hello = pending_->connector.start();
  RC_ASSERT(hello.ok());
  const ListenerVerdict v = listener_.on_request(hello->span(), 0, now_ns_);
  RC_ASSERT(v.action == Action::challenge);
  RC_ASSERT(pending_->connector.on_challenge(v.reply.span()).ok());
  const auto challenge = decode_challenge(v.reply.span());
  RC_ASSERT(challenge.ok());
  pending_->ticket = challenge->ticket;
  pending_->nonce = challenge->nonce;
}

void Session::proof(fuzz::Reader& in) {
  const std::uint32_t qpn = in.u32();
  const std::uint8_t mutate = in.u8();
  const std::uint8_t offset = in.u8();
  const std::uint8_t value = in.u8();
  const bool other_qpn = (in.u8() & 1) != 0;
  if (!pending_) return;
  auto proof = pending_->connector.proof(qpn);
  RC_ASSERT(proof.ok());
  SetupMessage sent = *proof;
  bool intact = !other_qpn;
  if ((mutate & 1) != 0) {
    std::byte& b = sent.bytes[offset % sent.size];
    intact = intact && b == std::byte{value};
    b = std::byte{value};
  }
  const bool expected = intact && live(pending_->ticket);
  const ListenerVerdict v = listener_.on_request(sent.span(), other_qpn ? qpn + 1 : qpn, now_ns_);
  RC_ASSERT((v.action == Action::admit) == expected);
  if (v.action == Action::admit) {
    RC_ASSERT(v.peer.node == 2 && v.peer.regions == info_of(2).regions);
    auto accept = listener_.accept(v.admission, 7);
    RC_ASSERT(accept.ok());
    auto theirs = pending_->connector.on_accept(accept->span(), 7);
    RC_ASSERT(theirs.ok() && theirs->node == 1);
    admitted_.emplace(sent, qpn);
  }
  pending_.reset();
}

void Session::complaint(fuzz::Reader& in) {
  const bool at_live = (in.u8() & 1) != 0;
  Complaint c;
  c.ticket = in.u16();
  const auto nonce = in.bytes(kNonceBytes);
  std::copy(nonce.begin(), nonce.end(), c.nonce.begin());
  if (at_live && pending_) c.ticket = pending_->ticket;
  const bool was_live = pending_ && live(pending_->ticket);
  const bool genuine = pending_ && c.ticket == pending_->ticket && c.nonce == pending_->nonce;
  const std::uint64_t before = listener_.counters().complaints;
  const ComplaintBytes bytes = encode(c);
  const ListenerVerdict v = listener_.on_request(bytes, 5, now_ns_);
  RC_ASSERT(v.action == Action::refuse);
  if (!genuine) {
    RC_ASSERT(listener_.counters().complaints == before);
    if (was_live) RC_ASSERT(live(pending_->ticket));
  }
}

void Session::legit_complaint() {
  if (!pending_) return;
  const bool was_live = live(pending_->ticket);
  const std::uint64_t before = listener_.counters().complaints;
  const SetupMessage m = pending_->connector.complaint();
  const ListenerVerdict v = listener_.on_request(m.span(), 5, now_ns_);
  RC_ASSERT(v.action == Action::refuse);
  RC_ASSERT(listener_.counters().complaints == before + (was_live ? 1 : 0));
  RC_ASSERT(!live(pending_->ticket));
  pending_.reset();
}

void Session::connector(fuzz::Reader& in) {
  ConnectorHandshake c(cluster_key(), info_of(3));
  RC_ASSERT(c.start().ok());
  const auto bytes = in.bytes(in.u8());
  RC_ASSERT(!c.on_challenge(bytes).ok());  // no tag verifies without the listener's key
  RC_ASSERT(!c.on_accept(bytes, 9).ok());
}

void Session::run(fuzz::Reader& in) {
  for (int steps = 0; steps < 64 && !in.empty(); ++steps) {
    switch (in.u8() % kOps) {
      case kRaw:
        raw(in, listener_);
        break;
      case kRawOpen:
        raw(in, open_listener_);
        break;
      case kHello:
        hello();
        break;
      case kProof:
        proof(in);
        break;
      case kReplay:
        if (admitted_) {
          const ListenerVerdict v =
              listener_.on_request(admitted_->first.span(), admitted_->second, now_ns_);
          RC_ASSERT(v.action != Action::admit);
        }
        break;
      case kComplaint:
        complaint(in);
        break;
      case kLegitComplaint:
        legit_complaint();
        break;
      case kTime:
        now_ns_ += std::uint64_t{in.u32()} * 1000;
        break;
      default:
        connector(in);
        break;
    }
  }
}

}  // namespace
}  // namespace ringcast::fabric::auth

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::fabric::auth;
  ringcast::fuzz::Writer a;  // hello, a hostile complaint at the live ticket, the proof
  a.u8(kHello).u8(kComplaint).u8(1).u16(0).bytes(std::vector<std::byte>(16));
  a.u8(kProof).u32(77).u8(0).u8(0).u8(0).u8(0).u8(kReplay);
  ringcast::fuzz::Writer b;  // hello, a hello flood pushing it out, then its proof
  b.u8(kHello);
  for (int i = 0; i < 9; ++i) {
    const HelloBytes h = encode(Hello{40u + i, 1, 0, {}});
    b.u8(kRaw).u8(static_cast<std::uint8_t>(h.size())).bytes(h);
  }
  b.u8(kProof).u32(5).u8(1).u8(20).u8(0xff).u8(0);
  ringcast::fuzz::Writer c;  // expiry, a wrong key's complaint, an open message
  c.u8(kHello).u8(kTime).u32(2'000'000).u8(kProof).u32(1).u8(0).u8(0).u8(0).u8(1);
  c.u8(kHello).u8(kLegitComplaint);
  const auto open = ringcast::fabric::encode(info_of(4));
  c.u8(kRawOpen).u8(static_cast<std::uint8_t>(open.size())).bytes(open);
  c.u8(kConnector).u8(48).bytes(std::vector<std::byte>(48, std::byte{1}));
  return {a.take(), b.take(), c.take()};
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ringcast::fuzz::Reader in(data, size);
  ringcast::fabric::auth::Session session;
  session.run(in);
  return 0;
}
