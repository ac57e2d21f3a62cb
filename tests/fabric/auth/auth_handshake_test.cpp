// The authenticated handshake without RDMA: both sides driven in memory
// (fabric/auth/handshake.hpp), the MAC and its transcript, the challenge
// table. What rdma_cm adds (carrying the bytes, QP numbers) is in
// tests/fabric/verbs/verbs_auth_test.cpp.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/crc32c.hpp"
#include "base/wire.hpp"

#include "fabric/auth/challenge_table.hpp"
#include "fabric/auth/handshake.hpp"
#include "fabric/auth/transcript.hpp"

namespace ringcast::fabric::auth {
namespace {

constexpr std::uint32_t kConnectorQpn = 0x11;
constexpr std::uint32_t kListenerQpn = 0x22;
constexpr std::uint64_t kNow = 1'000'000'000;

AuthKey key_of(unsigned char seed) {
  std::array<std::byte, 32> cluster_key;
  for (std::size_t i = 0; i < cluster_key.size(); ++i)
    cluster_key[i] = std::byte{static_cast<unsigned char>(seed + i)};
  return *AuthKey::derive(cluster_key);
}

ConnectInfo member(NodeId node) {
  ConnectInfo info;
  info.node = node;
  info.incarnation = node * 10;
  info.region_count = 2;
  info.regions[0] = {0x10000ull * node, 1u << 20, 0x100 + node};
  info.regions[1] = {0x90000ull * node, 4096, 0x200 + node};
  return info;
}

std::string text(const Error& e) {
  return e.message();
}

bool has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The hello and challenge of one round, and the listener's verdict on it.
struct Challenged {
  SetupMessage hello;
  ListenerVerdict verdict;
};

Challenged challenge(ConnectorHandshake& c, ListenerHandshake& l, std::uint64_t now = kNow) {
  Challenged out;
  out.hello = *c.start();
  out.verdict = l.on_request(out.hello.span(), 0, now);
  return out;
}

// A whole keyed handshake that should succeed; the listener's admission.
ListenerVerdict prove(ConnectorHandshake& c, ListenerHandshake& l, SetupMessage* proof = nullptr) {
  Challenged ch = challenge(c, l);
  EXPECT_EQ(ch.verdict.action, ListenerVerdict::Action::challenge) << ch.verdict.reason;
  EXPECT_TRUE(c.on_challenge(ch.verdict.reply.span()).ok());
  const SetupMessage p = *c.proof(kConnectorQpn);
  if (proof != nullptr) *proof = p;
  return l.on_request(p.span(), kConnectorQpn, kNow + 1);
}

TEST(AuthKey, KnownAnswerPinsDerivationMacAndTruncation) {
  // HMAC-SHA256(HMAC-SHA256(00 01 .. 1f, "ringcast-auth-v1 link key"), "abc"),
  // first 16 bytes (computed independently with Python's hmac module).
  const AuthKey key = key_of(0);
  const std::string_view abc = "abc";
  const Tag tag = *key.mac(std::as_bytes(std::span(abc.data(), abc.size())));
  const unsigned char expected[16] = {0x52, 0xc1, 0x00, 0xef, 0x95, 0x5d, 0x94, 0x4e,
                                      0x24, 0xcc, 0x92, 0x0d, 0xfd, 0x4d, 0x78, 0x64};
  for (std::size_t i = 0; i < tag.size(); ++i)
    EXPECT_EQ(std::to_integer<unsigned>(tag[i]), expected[i]) << "byte " << i;
}

TEST(AuthKey, EmptyMeansNoAuthenticationAndShortKeysAreRefused) {
  auto none = AuthKey::derive({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::array<std::byte, kMinClusterKeyBytes - 1> short_key{};
  auto refused = AuthKey::derive(short_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_TRUE(has(text(refused.error()), "at least 16"));
  EXPECT_FALSE(key_of(1).empty());
}

TEST(AuthKey, NoncesAreFreshAndTagsCompareExactly) {
  EXPECT_NE(*random_nonce(), *random_nonce());
  Tag a{};
  Tag b{};
  EXPECT_TRUE(tags_equal(a, b));
  b[15] = std::byte{1};
  EXPECT_FALSE(tags_equal(a, b));
}

TEST(Transcript, EveryByteAndTheLabelChangeTheTag) {
  const AuthKey key = key_of(3);
  const HelloBytes hello = encode(Hello{1, 2, 0, *random_nonce()});
  const ChallengeBytes challenge = encode(Challenge{5, 6, 7, *random_nonce(), {}});
  const Tag base = *challenge_tag(key, hello, challenge);
  for (std::size_t i = 0; i < hello.size(); ++i) {
    HelloBytes other = hello;
    other[i] ^= std::byte{0x80};
    EXPECT_FALSE(tags_equal(base, *challenge_tag(key, other, challenge))) << "hello byte " << i;
  }
  ChallengeBytes tagged = challenge;
  set_tag(tagged, Tag{std::byte{9}});
  EXPECT_TRUE(tags_equal(base, *challenge_tag(key, hello, tagged))) << "the tag covers itself";
  EXPECT_FALSE(tags_equal(base, *challenge_tag(key_of(4), hello, challenge)));
  // Same messages, another label: a challenge tag is no proof tag.
  Proof p;
  const ProofBytes proof = encode(p);
  EXPECT_FALSE(tags_equal(*proof_tag(key, hello, challenge, proof, 1),
                          *proof_tag(key, hello, challenge, proof, 2)));
  Transcript a("x");
  Transcript b("xx");
  EXPECT_NE(a.bytes().size(), b.bytes().size());
}

TEST(Handshake, SameKeyAdmitsAndBothSidesLearnTheOther) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1));
  const ListenerVerdict v = prove(c, l);
  ASSERT_EQ(v.action, ListenerVerdict::Action::admit) << v.reason;
  EXPECT_EQ(v.peer, member(2));
  EXPECT_EQ(v.node, 2u);
  const SetupMessage accept = *l.accept(v.admission, kListenerQpn);
  EXPECT_EQ(accept.size, kAcceptBytes);
  auto listener = c.on_accept(accept.span(), kListenerQpn);
  ASSERT_TRUE(listener.ok()) << text(listener.error());
  EXPECT_EQ(*listener, member(1));
  EXPECT_EQ(l.challenges().size(), 0u);
}

TEST(Handshake, DifferentKeysAreCaughtByTheConnectorAndTheComplaintIsLogged) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(99), member(1));
  Challenged ch = challenge(c, l);
  ASSERT_EQ(ch.verdict.action, ListenerVerdict::Action::challenge);
  auto verified = c.on_challenge(ch.verdict.reply.span());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, Errc::refused);
  EXPECT_TRUE(has(text(verified.error()), "different cluster keys"));
  const ListenerVerdict v = l.on_request(c.complaint().span(), 0, kNow + 1);
  EXPECT_EQ(v.action, ListenerVerdict::Action::refuse);
  EXPECT_EQ(v.reason, kKeysDiffer);
  EXPECT_EQ(v.node, 2u);
  EXPECT_EQ(l.counters().complaints, 1u);
  EXPECT_EQ(l.challenges().size(), 0u) << "the complaint took its challenge";
}

// A complaint for `ticket` from someone who never saw the challenge: it can
// name the ticket but not the challenge's nonce. Its bytes are a complaint
// with a checksum both at 8 (over bytes 0..7) and at 24 (over 0..23), so it
// decodes whatever the complaint's length.
SetupMessage forged_complaint(std::uint16_t ticket) {
  std::array<std::byte, 28> bytes{};
  put_setup_header(bytes.data(), SetupKind::complaint);
  wire::put<std::uint16_t>(bytes.data() + 4, ticket);
  wire::put<std::uint32_t>(bytes.data() + 8, crc32c(std::span(bytes).first(8)));
  wire::put<std::uint32_t>(bytes.data() + 24, crc32c(std::span(bytes).first(24)));
  return SetupMessage::of(bytes);
}

TEST(Handshake, AComplaintCannotSpendAnotherPeersChallenge) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1));
  Challenged ch = challenge(c, l);
  ASSERT_EQ(ch.verdict.action, ListenerVerdict::Action::challenge);
  for (std::uint32_t ticket = 0; ticket <= 0xFFFF; ++ticket) {
    const ListenerVerdict v =
        l.on_request(forged_complaint(static_cast<std::uint16_t>(ticket)).span(), 9, kNow);
    ASSERT_EQ(v.action, ListenerVerdict::Action::refuse);
    ASSERT_EQ(v.node, 0u) << "a forged complaint named node " << v.node;
  }
  EXPECT_EQ(l.counters().complaints_ignored, 0x10000u);
  ASSERT_TRUE(c.on_challenge(ch.verdict.reply.span()).ok());
  const ListenerVerdict v = l.on_request(c.proof(kConnectorQpn)->span(), kConnectorQpn, kNow);
  EXPECT_EQ(v.action, ListenerVerdict::Action::admit) << v.reason;
}

TEST(Handshake, AWrongProofDoesNotSpendTheChallenge) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1));
  Challenged ch = challenge(c, l);
  Proof forged;
  forged.regions = member(3);
  forged.tag = Tag{std::byte{0x42}};
  for (std::uint32_t ticket = 0; ticket <= 0xFFFF; ++ticket) {
    forged.ticket = static_cast<std::uint16_t>(ticket);
    const ListenerVerdict v = l.on_request(SetupMessage::of(encode(forged)).span(), 5, kNow);
    ASSERT_EQ(v.action, ListenerVerdict::Action::refuse);
  }
  EXPECT_EQ(l.counters().bad_proofs, 1u);
  EXPECT_EQ(l.counters().stale_tickets, 0xFFFFu);
  ASSERT_TRUE(c.on_challenge(ch.verdict.reply.span()).ok());
  const ListenerVerdict v = l.on_request(c.proof(kConnectorQpn)->span(), kConnectorQpn, kNow);
  EXPECT_EQ(v.action, ListenerVerdict::Action::admit) << v.reason;
}

TEST(Handshake, TicketsAreNotPredictable) {
  ListenerHandshake l(key_of(1), member(1));
  std::vector<std::uint16_t> tickets;
  for (int i = 0; i < 64; ++i) {
    ConnectorHandshake c(key_of(1), member(2));
    Challenged ch = challenge(c, l);
    ASSERT_EQ(ch.verdict.action, ListenerVerdict::Action::challenge);
    tickets.push_back(decode_challenge(ch.verdict.reply.span())->ticket);
  }
  int in_sequence = 0;
  for (std::size_t i = 1; i < tickets.size(); ++i)
    in_sequence += tickets[i] == static_cast<std::uint16_t>(tickets[i - 1] + 1);
  EXPECT_LT(in_sequence, 4);
}

TEST(Handshake, AProofWithoutTheKeyIsRefusedAsBad) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1));
  Challenged ch = challenge(c, l);
  // An impostor answers the challenge with a guessed tag.
  Proof forged;
  forged.ticket = decode_challenge(ch.verdict.reply.span())->ticket;
  forged.regions = member(2);
  forged.tag = Tag{std::byte{0x42}};
  const ListenerVerdict v = l.on_request(SetupMessage::of(encode(forged)).span(), 5, kNow);
  EXPECT_EQ(v.action, ListenerVerdict::Action::refuse);
  EXPECT_EQ(v.reason, kBadProof);
  EXPECT_EQ(v.node, 2u);
}

TEST(Handshake, AProofIsGoodOnlyOnTheConnectionItNames) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1));
  Challenged ch = challenge(c, l);
  ASSERT_TRUE(c.on_challenge(ch.verdict.reply.span()).ok());
  const SetupMessage proof = *c.proof(kConnectorQpn);
  // Relayed from another QP: rdma_cm reports another requester QP number.
  const ListenerVerdict v = l.on_request(proof.span(), kConnectorQpn + 1, kNow);
  EXPECT_EQ(v.action, ListenerVerdict::Action::refuse);
  EXPECT_EQ(v.reason, kBadProof);
}

TEST(Handshake, AReplayedProofIsRefusedAsStale) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1));
  SetupMessage proof;
  ASSERT_EQ(prove(c, l, &proof).action, ListenerVerdict::Action::admit);
  const ListenerVerdict again = l.on_request(proof.span(), kConnectorQpn, kNow + 2);
  EXPECT_EQ(again.action, ListenerVerdict::Action::refuse);
  EXPECT_EQ(again.reason, kStaleChallenge);
  EXPECT_TRUE(is_stale_challenge(again.reason));
  EXPECT_FALSE(is_stale_challenge(kBadProof));
}

TEST(Handshake, AnExpiredChallengeIsStale) {
  ConnectorHandshake c(key_of(1), member(2));
  ListenerHandshake l(key_of(1), member(1), ChallengeTable(8, 1000));
  Challenged ch = challenge(c, l, kNow);
  ASSERT_TRUE(c.on_challenge(ch.verdict.reply.span()).ok());
  const ListenerVerdict v =
      l.on_request(c.proof(kConnectorQpn)->span(), kConnectorQpn, kNow + 1000);
  EXPECT_EQ(v.reason, kStaleChallenge);
}

TEST(Handshake, EveryFlippedBitOfAProofIsRefused) {
  ListenerHandshake l(key_of(1), member(1));
  for (std::size_t bit = 0; bit < kProofBytes * 8; ++bit) {
    ConnectorHandshake c(key_of(1), member(2));
    Challenged ch = challenge(c, l);
    ASSERT_TRUE(c.on_challenge(ch.verdict.reply.span()).ok());
    SetupMessage proof = *c.proof(kConnectorQpn);
    proof.bytes[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    const ListenerVerdict v = l.on_request(proof.span(), kConnectorQpn, kNow);
    EXPECT_EQ(v.action, ListenerVerdict::Action::refuse) << "bit " << bit;
  }
}

TEST(Handshake, ATamperedOrMisdirectedAcceptIsRefusedByTheConnector) {
  for (int variant = 0; variant < 3; ++variant) {
    ConnectorHandshake c(key_of(1), member(2));
    ListenerHandshake l(key_of(1), member(1));
    const ListenerVerdict v = prove(c, l);
    ASSERT_EQ(v.action, ListenerVerdict::Action::admit);
    SetupMessage accept = *l.accept(v.admission, kListenerQpn);
    std::uint32_t qpn = kListenerQpn;
    if (variant == 0) accept.bytes[20] ^= std::byte{1};              // a region address
    if (variant == 1) qpn += 1;                                      // another QP answered
    if (variant == 2) accept = SetupMessage::of(encode(member(1)));  // no proof at all
    auto result = c.on_accept(accept.span(), qpn);
    ASSERT_FALSE(result.ok()) << "variant " << variant;
    EXPECT_EQ(result.error().code, Errc::refused);
  }
}

TEST(Handshake, KeyedAndUnkeyedSidesRefuseEachOtherSayingWhy) {
  ConnectorHandshake open_connector(AuthKey{}, member(2));
  ListenerHandshake keyed_listener(key_of(1), member(1));
  const ListenerVerdict a = keyed_listener.on_request(open_connector.start()->span(), 0, kNow);
  EXPECT_EQ(a.action, ListenerVerdict::Action::refuse);
  EXPECT_EQ(a.reason, kPeerHasNoKey);
  EXPECT_EQ(a.node, 2u);

  ConnectorHandshake keyed_connector(key_of(1), member(3));
  ListenerHandshake open_listener(AuthKey{}, member(1));
  const ListenerVerdict b = open_listener.on_request(keyed_connector.start()->span(), 0, kNow);
  EXPECT_EQ(b.action, ListenerVerdict::Action::refuse);
  EXPECT_EQ(b.reason, kListenerHasNoKey);
  EXPECT_EQ(b.node, 3u);

  // A challenge to an unkeyed connector (only a hostile listener sends one).
  ConnectorHandshake c(key_of(1), member(2));
  Challenged ch = challenge(c, keyed_listener);
  ConnectorHandshake unkeyed(AuthKey{}, member(2));
  (void)unkeyed.start();
  auto refused = unkeyed.on_challenge(ch.verdict.reply.span());
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(has(text(refused.error()), "requires a cluster key"));
}

TEST(Handshake, WithoutKeysBothSidesExchangeOpenMessages) {
  ConnectorHandshake c(AuthKey{}, member(2));
  ListenerHandshake l(AuthKey{}, member(1));
  const SetupMessage first = *c.start();
  EXPECT_EQ(first.size, kConnectInfoBytes);
  const ListenerVerdict v = l.on_request(first.span(), 0, kNow);
  ASSERT_EQ(v.action, ListenerVerdict::Action::admit) << v.reason;
  EXPECT_EQ(v.peer, member(2));
  auto listener = c.on_accept(l.accept(v.admission, kListenerQpn)->span(), kListenerQpn);
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(*listener, member(1));
}

TEST(Handshake, HostileRequestsAreNeverAdmittedAndMemoryStaysBounded) {
  ListenerHandshake l(key_of(1), member(1), ChallengeTable(16, 1'000'000));
  std::mt19937_64 rng(77);
  std::array<std::byte, kPrivateDataBudget> buffer;
  int challenged = 0;
  for (int round = 0; round < 100'000; ++round) {
    for (auto& b : buffer)
      b = std::byte{static_cast<unsigned char>(rng())};
    put_setup_header(buffer.data(), static_cast<SetupKind>(1 + rng() % 6));
    const std::size_t length = rng() % (buffer.size() + 1);
    const ListenerVerdict v = l.on_request({buffer.data(), length}, 1, kNow + round);
    EXPECT_NE(v.action, ListenerVerdict::Action::admit) << "round " << round;
    if (v.action == ListenerVerdict::Action::challenge) ++challenged;
    ASSERT_LE(l.challenges().size(), 16u);
  }
  // Hellos carry a crc: random ones are refused before they cost a challenge.
  EXPECT_EQ(challenged, 0);
}

TEST(ChallengeTable, ATicketIsTakenOnceWithinItsLifetime) {
  ChallengeTable t(4, 100);
  const std::uint16_t first = t.free_ticket(500);
  EXPECT_EQ(first, 500);
  t.add(first, {}, {}, 7, 1000);
  EXPECT_FALSE(t.take(first + 1, 1000).has_value());
  ASSERT_NE(t.find(first, 1050), nullptr);
  EXPECT_EQ(t.find(first, 1050)->node, 7u) << "found, left in place";
  auto entry = t.take(first, 1099);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->node, 7u);
  EXPECT_FALSE(t.take(first, 1099).has_value()) << "taken twice";
  const std::uint16_t second = t.free_ticket(9);
  t.add(second, {}, {}, 8, 2000);
  EXPECT_EQ(t.find(second, 2100), nullptr) << "expired";
  EXPECT_FALSE(t.take(second, 2100).has_value()) << "expired";
  EXPECT_EQ(t.size(), 0u);
}

TEST(ChallengeTable, WhenFullTheOldestIsPushedOut) {
  ChallengeTable t(4, 1'000'000);
  std::vector<std::uint16_t> tickets;
  for (int i = 0; i < 5; ++i) {
    tickets.push_back(t.free_ticket(static_cast<std::uint16_t>(1000 * i + 1)));
    t.add(tickets.back(), {}, {}, static_cast<NodeId>(i + 1), 10 + i);
  }
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.pushed_out(), 1u);
  EXPECT_FALSE(t.take(tickets[0], 20).has_value());
  EXPECT_EQ(t.take(tickets[4], 20)->node, 5u);
}

TEST(ChallengeTable, AFreeTicketIsNeverZeroNorLive) {
  ChallengeTable t(4, 1'000'000);
  EXPECT_EQ(t.free_ticket(0), 1);
  t.add(65535, {}, {}, 1, 10);
  t.add(1, {}, {}, 2, 10);
  t.add(2, {}, {}, 3, 10);
  EXPECT_EQ(t.free_ticket(65535), 3) << "skips the live ones and 0, wrapping";
  EXPECT_EQ(t.free_ticket(7), 7);
}

}  // namespace
}  // namespace ringcast::fabric::auth
