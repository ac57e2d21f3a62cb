// Connection set-up with mutual challenge-response, sans I/O: the verbs
// backend carries the bytes (rdma_cm private data), these two classes decide.
//
// With a cluster key (both sides must have the same one):
//
//   connector                                      listener
//   connect(hello: node, incarnation, Nc)  ---->   not yet: issue a challenge
//              <---- reject(challenge: node, incarnation, ticket, Nl, tag_L)
//   check tag_L (else: different keys;
//     tell the listener with a complaint
//     that echoes the ticket and Nl)
//   connect(proof: ticket, regions, tag_C) ---->   ticket live? tag_C right?
//                                                  (else refuse and log)
//              <---- accept(accept: node, incarnation, regions, tag_A)
//   check tag_A before the link is used
//   (else hang up)
//
// What this buys:
// * the key never travels; a peer without it cannot produce tag_L, tag_C or
//   tag_A (HMAC-SHA256 under the link key, transcript.hpp);
// * rkeys never reach a peer that has not proved the key. The listener
//   proves first (tag_L, in the reject) because rdma_cm moves the
//   connector's QP to RTS before the connector sees the accept: regions the
//   connector sent an impostor could be written at once;
// * a proof is good once (the ticket is taken), within the challenge's
//   lifetime, on the one connection whose QP number it names; a recorded
//   proof replayed later is refused as a stale challenge;
// * nobody but the peer a challenge went to can spend it: tickets are
//   random, a proof takes its ticket only once its tag verifies, and a
//   complaint only when it echoes the challenge's nonce (else it is ignored
//   and names no node).
//
// Without a key both sides send the open message (a ConnectInfo) and check
// nothing but its form. A keyed side refuses an unkeyed one and vice versa,
// each saying why.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/auth/challenge_table.hpp"
#include "fabric/auth/messages.hpp"
#include "fabric/connect_info.hpp"

namespace ringcast::fabric::auth {

// Why a listener refuses, as the peer is told and the log says.
inline constexpr std::string_view kBadProof = "bad cluster key proof";
inline constexpr std::string_view kStaleChallenge =
    "stale challenge (unknown, expired or already answered)";
inline constexpr std::string_view kStaleChallengeStart = "stale challenge";
inline constexpr std::string_view kPeerHasNoKey =
    "no cluster key proof offered, and this node requires one";
inline constexpr std::string_view kListenerHasNoKey =
    "a cluster key handshake offered, and this node has no cluster key";
inline constexpr std::string_view kUnknownComplaint =
    "a complaint about a challenge it was not sent (ignored)";
inline constexpr std::string_view kKeysDiffer =
    "the peer found this node's cluster key proof wrong: the two nodes have different cluster keys";

// A refusal the connector should answer by starting over (a fresh hello).
bool is_stale_challenge(std::string_view reason) noexcept;

// Whether a set-up error's text says the two sides' keys do not match (a
// proof refused either way, a key on one side only): as the listener tells
// the peer, as a connector says when it refuses the listener's proof.
bool is_key_mismatch(std::string_view text) noexcept;

// A set-up message ready for rdma_cm.
struct SetupMessage {
  std::array<std::byte, 64> bytes{};
  std::uint8_t size = 0;

  std::span<const std::byte> span() const noexcept { return {bytes.data(), size}; }
  template <std::size_t N>
  static SetupMessage of(const std::array<std::byte, N>& from) noexcept {
    static_assert(N <= 64);
    SetupMessage m;
    std::copy(from.begin(), from.end(), m.bytes.begin());
    m.size = static_cast<std::uint8_t>(N);
    return m;
  }
};

// The connecting side of one link set-up, across its attempts.
class ConnectorHandshake {
 public:
  ConnectorHandshake(AuthKey key, const ConnectInfo& ours);

  bool keyed() const noexcept { return !key_.empty(); }
  // The first request of a round: the open message without a key, else a
  // hello with a fresh nonce. Calling it again starts a new round.
  Result<SetupMessage> start();
  // The listener rejected the hello with a challenge (reject private data).
  // Errc::refused when this side has no key, or when the listener's tag
  // does not verify (different keys: send complaint() then).
  Status on_challenge(std::span<const std::byte> reject_data);
  // After on_challenge: the proof for the connection whose QP is connector_qpn.
  Result<SetupMessage> proof(std::uint32_t connector_qpn);
  // After on_challenge refused a tag: tells the listener, which logs it.
  SetupMessage complaint() const noexcept;
  // The listener accepted: its ConnectInfo once the accept is checked (its
  // tag, keyed; its form, unkeyed). Errc::refused with the reason otherwise.
  Result<ConnectInfo> on_accept(std::span<const std::byte> accept_data, std::uint32_t listener_qpn);

 private:
  enum class Stage : std::uint8_t { idle, hello_sent, challenged, proof_sent, done };
  Result<ConnectInfo> on_keyed_accept(std::span<const std::byte> data, std::uint32_t listener_qpn);

  AuthKey key_;
  ConnectInfo ours_;
  Stage stage_ = Stage::idle;
  HelloBytes hello_{};
  ChallengeBytes challenge_bytes_{};
  Challenge challenge_{};
  ProofBytes proof_{};
  std::uint32_t connector_qpn_ = 0;
};

// What an admitted proof leaves for the accept message.
struct Admission {
  bool keyed = false;
  HelloBytes hello{};
  ChallengeBytes challenge{};
  ProofBytes proof{};
  std::uint32_t connector_qpn = 0;
};

struct ListenerVerdict {
  enum class Action : std::uint8_t {
    challenge,  // reject with `reply` (no QP needed) and wait for the proof
    refuse,     // reject with `reason`, and log it
    admit,      // create the QP, then accept with ListenerHandshake::accept()
  };
  Action action = Action::refuse;
  SetupMessage reply;  // challenge
  std::string reason;  // refuse
  NodeId node = 0;     // the node the request named (0: not known)
  ConnectInfo peer;    // admit: the peer's node and regions
  Admission admission;
};

// What a listener refused, by kind (each refusal is also logged by the
// backend).
struct ListenerCounters {
  std::uint64_t bad_proofs = 0;          // a live ticket, a tag that does not verify
  std::uint64_t stale_tickets = 0;       // a proof naming no live challenge
  std::uint64_t complaints = 0;          // from the peer the challenge went to
  std::uint64_t complaints_ignored = 0;  // naming a challenge the sender was not sent
};

// The listening side: one per listener, for every request it gets.
class ListenerHandshake {
 public:
  ListenerHandshake(AuthKey key, const ConnectInfo& ours, ChallengeTable table = ChallengeTable());

  bool keyed() const noexcept { return !key_.empty(); }
  // A connect request's private data and the requester's QP number (as
  // rdma_cm reported it). now_ns: a monotonic clock, for challenge lifetimes.
  ListenerVerdict on_request(std::span<const std::byte> data, std::uint32_t connector_qpn,
                             std::uint64_t now_ns);
  // The accept's private data for an admitted request, once our QP exists.
  Result<SetupMessage> accept(const Admission& admission, std::uint32_t listener_qpn) const;

  const ChallengeTable& challenges() const noexcept { return table_; }
  const ListenerCounters& counters() const noexcept { return counters_; }

 private:
  ListenerVerdict on_open(std::span<const std::byte> data);
  ListenerVerdict on_hello(std::span<const std::byte> data, std::uint64_t now_ns);
  ListenerVerdict on_proof(std::span<const std::byte> data, std::uint32_t connector_qpn,
                           std::uint64_t now_ns);
  ListenerVerdict on_complaint(std::span<const std::byte> data, std::uint64_t now_ns);

  AuthKey key_;
  ConnectInfo ours_;
  ChallengeTable table_;
  ListenerCounters counters_;
};

}  // namespace ringcast::fabric::auth
