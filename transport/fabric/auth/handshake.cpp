#include "fabric/auth/handshake.hpp"

#include <algorithm>
#include <utility>

#include "base/wire.hpp"
#include "fabric/auth/transcript.hpp"

namespace ringcast::fabric::auth {
namespace {

Error refused(std::string reason) {
  return make_error(Errc::refused, "connection set-up", std::move(reason));
}

ListenerVerdict refusal(std::string reason, NodeId node = 0) {
  ListenerVerdict v;
  v.action = ListenerVerdict::Action::refuse;
  v.reason = std::move(reason);
  v.node = node;
  return v;
}

// A decode error as the reason a peer is given.
std::string why(const Error& e) {
  return e.detail.empty() ? e.message() : e.call + ": " + e.detail;
}

}  // namespace

bool is_stale_challenge(std::string_view reason) noexcept {
  return reason.starts_with(kStaleChallengeStart);
}

namespace {
constexpr std::string_view kConnectorFindsKeysDiffer =
    "its cluster key proof is wrong: the two nodes have different cluster keys";
constexpr std::string_view kConnectorHasNoKey =
    "it requires a cluster key and this node has none (no auth key configured)";
}  // namespace

bool is_key_mismatch(std::string_view text) noexcept {
  for (std::string_view reason : {kBadProof, kPeerHasNoKey, kListenerHasNoKey, kKeysDiffer,
                                  kConnectorFindsKeysDiffer, kConnectorHasNoKey}) {
    if (text.find(reason) != std::string_view::npos) return true;
  }
  return false;
}

// ---- connector ----

ConnectorHandshake::ConnectorHandshake(AuthKey key, const ConnectInfo& ours)
    : key_(std::move(key)), ours_(ours) {}

Result<SetupMessage> ConnectorHandshake::start() {
  if (!keyed()) {
    stage_ = Stage::proof_sent;  // the open message is all the proof there is
    return SetupMessage::of(encode(ours_));
  }
  auto nonce = random_nonce();
  if (!nonce) return nonce.error();
  hello_ = encode(Hello{ours_.node, ours_.incarnation, ours_.flags, *nonce});
  stage_ = Stage::hello_sent;
  return SetupMessage::of(hello_);
}

Status ConnectorHandshake::on_challenge(std::span<const std::byte> reject_data) {
  if (!keyed()) {
    return refused(std::string(kConnectorHasNoKey));
  }
  if (stage_ != Stage::hello_sent) {
    return make_error(Errc::protocol, "connection set-up", "a challenge answered no hello");
  }
  auto challenge = decode_challenge(reject_data);
  if (!challenge) return refused(why(challenge.error()));
  std::copy_n(reject_data.begin(), kChallengeBytes, challenge_bytes_.begin());
  auto expected = challenge_tag(key_, hello_, challenge_bytes_);
  if (!expected) return expected.error();
  challenge_ = *challenge;
  if (!tags_equal(*expected, challenge->tag)) {
    stage_ = Stage::done;
    return refused(std::string(kConnectorFindsKeysDiffer));
  }
  stage_ = Stage::challenged;
  return {};
}

Result<SetupMessage> ConnectorHandshake::proof(std::uint32_t connector_qpn) {
  RC_ASSERT(stage_ == Stage::challenged);
  Proof p;
  p.ticket = challenge_.ticket;
  p.regions = ours_;
  proof_ = encode(p);
  auto tag = proof_tag(key_, hello_, challenge_bytes_, proof_, connector_qpn);
  if (!tag) return tag.error();
  set_tag(proof_, *tag);
  connector_qpn_ = connector_qpn;
  stage_ = Stage::proof_sent;
  return SetupMessage::of(proof_);
}

SetupMessage ConnectorHandshake::complaint() const noexcept {
  return SetupMessage::of(encode(Complaint{challenge_.ticket, challenge_.nonce}));
}

Result<ConnectInfo> ConnectorHandshake::on_accept(std::span<const std::byte> accept_data,
                                                  std::uint32_t listener_qpn) {
  if (stage_ != Stage::proof_sent) {
    return make_error(Errc::protocol, "connection set-up", "accepted before our proof");
  }
  stage_ = Stage::done;
  if (keyed()) return on_keyed_accept(accept_data, listener_qpn);
  auto info = decode_connect_info(accept_data);
  if (!info) return refused(why(info.error()));
  return info;
}

Result<ConnectInfo> ConnectorHandshake::on_keyed_accept(std::span<const std::byte> data,
                                                        std::uint32_t listener_qpn) {
  auto kind = peek_setup_kind(data);
  if (kind && *kind == SetupKind::open) {
    return refused("it accepted without a cluster key proof, and this node requires one");
  }
  auto accept = decode_accept(data);
  if (!accept) return refused(why(accept.error()));
  AcceptBytes bytes;
  std::copy_n(data.begin(), kAcceptBytes, bytes.begin());
  auto expected =
      accept_tag(key_, hello_, challenge_bytes_, proof_, bytes, connector_qpn_, listener_qpn);
  if (!expected) return expected.error();
  if (!tags_equal(*expected, accept->tag)) return refused("its accept carries a bad key proof");
  if (accept->info.node != challenge_.node || accept->info.incarnation != challenge_.incarnation) {
    return refused("its accept names node " + std::to_string(accept->info.node) +
                   ", its challenge node " + std::to_string(challenge_.node));
  }
  return accept->info;
}

// ---- listener ----

ListenerHandshake::ListenerHandshake(AuthKey key, const ConnectInfo& ours, ChallengeTable table)
    : key_(std::move(key)), ours_(ours), table_(std::move(table)) {}

ListenerVerdict ListenerHandshake::on_request(std::span<const std::byte> data,
                                              std::uint32_t connector_qpn, std::uint64_t now_ns) {
  auto kind = peek_setup_kind(data);
  if (!kind) return refusal(why(kind.error()));
  if (*kind == SetupKind::open) return on_open(data);
  if (!keyed()) {
    auto hello = decode_hello(data);
    return refusal(std::string(kListenerHasNoKey), hello ? hello->node : 0);
  }
  switch (*kind) {
    case SetupKind::hello:
      return on_hello(data, now_ns);
    case SetupKind::proof:
      return on_proof(data, connector_qpn, now_ns);
    case SetupKind::complaint:
      return on_complaint(data, now_ns);
    default:
      return refusal(std::string("a ") + setup_kind_name(*kind) + " message is not a request");
  }
}

ListenerVerdict ListenerHandshake::on_open(std::span<const std::byte> data) {
  auto info = decode_connect_info(data);
  if (!info) return refusal(why(info.error()));
  if (keyed()) return refusal(std::string(kPeerHasNoKey), info->node);
  ListenerVerdict v;
  v.action = ListenerVerdict::Action::admit;
  v.node = info->node;
  v.peer = *info;
  return v;
}

ListenerVerdict ListenerHandshake::on_hello(std::span<const std::byte> data, std::uint64_t now_ns) {
  auto hello = decode_hello(data);
  if (!hello) return refusal(why(hello.error()));
  auto nonce = random_nonce();
  auto draw = random_nonce();  // the ticket's: unpredictable, so only the challenge names it
  if (!nonce || !draw) {
    const Error& e = nonce ? draw.error() : nonce.error();
    return refusal("cannot make a challenge: " + e.message(), hello->node);
  }
  const std::uint16_t ticket = table_.free_ticket(wire::get<std::uint16_t>(draw->data()));
  HelloBytes hello_bytes;
  std::copy_n(data.begin(), kHelloBytes, hello_bytes.begin());
  ChallengeBytes challenge = encode(Challenge{ours_.node, ours_.incarnation, ticket, *nonce, {}});
  auto tag = challenge_tag(key_, hello_bytes, challenge);
  if (!tag) return refusal("cannot make a challenge: " + tag.error().message(), hello->node);
  set_tag(challenge, *tag);
  table_.add(ticket, hello_bytes, challenge, hello->node, now_ns);
  ListenerVerdict v;
  v.action = ListenerVerdict::Action::challenge;
  v.reply = SetupMessage::of(challenge);
  v.node = hello->node;
  return v;
}

ListenerVerdict ListenerHandshake::on_proof(std::span<const std::byte> data,
                                            std::uint32_t connector_qpn, std::uint64_t now_ns) {
  auto proof = decode_proof(data);
  if (!proof) return refusal(why(proof.error()));
  const ChallengeTable::Entry* live = table_.find(proof->ticket, now_ns);
  if (!live) {
    ++counters_.stale_tickets;
    return refusal(std::string(kStaleChallenge));
  }
  ProofBytes proof_bytes;
  std::copy_n(data.begin(), kProofBytes, proof_bytes.begin());
  auto expected = proof_tag(key_, live->hello, live->challenge, proof_bytes, connector_qpn);
  if (!expected) return refusal("cannot check a proof: " + expected.error().message(), live->node);
  // Taken only once the tag verifies: a guess, or a proof replayed on
  // another connection, spends nothing the real peer needs. The node it
  // names is only what the hello claimed.
  if (!tags_equal(*expected, proof->tag)) {
    ++counters_.bad_proofs;
    return refusal(std::string(kBadProof), live->node);
  }
  const auto entry = table_.take(proof->ticket, now_ns);
  RC_ASSERT(entry.has_value());
  // The hello was checked when the challenge was made, and the tag covers it.
  const Hello hello = *decode_hello(entry->hello);
  ListenerVerdict v;
  v.action = ListenerVerdict::Action::admit;
  v.node = hello.node;
  v.peer = proof->regions;
  v.peer.node = hello.node;
  v.peer.incarnation = hello.incarnation;
  v.peer.flags = hello.flags;
  v.admission = Admission{true, entry->hello, entry->challenge, proof_bytes, connector_qpn};
  return v;
}

ListenerVerdict ListenerHandshake::on_complaint(std::span<const std::byte> data,
                                                std::uint64_t now_ns) {
  auto complaint = decode_complaint(data);
  if (!complaint) return refusal(why(complaint.error()));
  // Only the peer the challenge went to knows its nonce: anyone else's
  // complaint spends nothing and names nobody.
  const ChallengeTable::Entry* live = table_.find(complaint->ticket, now_ns);
  if (!live || !std::equal(complaint->nonce.begin(), complaint->nonce.end(),
                           live->challenge.begin() + kChallengeNonceAt)) {
    ++counters_.complaints_ignored;
    return refusal(std::string(kUnknownComplaint));
  }
  ++counters_.complaints;
  return refusal(std::string(kKeysDiffer), table_.take(complaint->ticket, now_ns)->node);
}

Result<SetupMessage> ListenerHandshake::accept(const Admission& admission,
                                               std::uint32_t listener_qpn) const {
  if (!admission.keyed) {
    RC_ASSERT(!keyed());
    return SetupMessage::of(encode(ours_));
  }
  AcceptBytes bytes = encode(Accept{ours_, {}});
  auto tag = accept_tag(key_, admission.hello, admission.challenge, admission.proof, bytes,
                        admission.connector_qpn, listener_qpn);
  if (!tag) return tag.error();
  set_tag(bytes, *tag);
  return SetupMessage::of(bytes);
}

}  // namespace ringcast::fabric::auth
