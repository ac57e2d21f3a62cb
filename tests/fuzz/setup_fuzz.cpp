// Fuzzes the first bytes an unauthenticated peer sends or answers at
// connection set-up (fabric/connect_info.hpp, fabric/auth/messages.hpp,
// fabric/verbs/link_setup.hpp): the open message (ConnectInfo), hello,
// challenge, proof, accept, complaint, a refusal's text, and the header
// every set-up message shares. Each decoder refuses the bytes or returns a
// message that encodes and decodes again to itself; a refusal's text comes
// back bounded and printable.
//
// Input: u8 which decoder (mod 8), u8 options (bit 0: keep the crc as it
// is), then the message. For the messages that end in a crc32c (open,
// hello, complaint) the harness recomputes it over the message's own
// length, so mutations reach the checks behind it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/assert.hpp"
#include "fabric/auth/messages.hpp"
#include "fabric/connect_info.hpp"
#include "fabric/verbs/link_setup.hpp"
#include "fuzz_support.hpp"

namespace ringcast::fabric {
namespace {

enum Which : std::uint8_t {
  kPeek,
  kOpen,
  kHello,
  kChallenge,
  kProof,
  kAccept,
  kComplaint,
  kRefusal
};

ConnectInfo sample_info() {
  ConnectInfo info;
  info.node = 12;
  info.incarnation = 7;
  info.flags = 0;
  info.region_count = 2;
  info.regions[0] = {0x7f0000001000, 1u << 20, 0x1234};
  info.regions[1] = {0x7f0000200000, 65536, 0x5678};
  return info;
}

// The bytes the message of this kind ends its crc at (0: no crc).
std::size_t crc_end(std::uint8_t which) {
  switch (which) {
    case kOpen:
      return kConnectInfoBytes - 4;
    case kHello:
      return auth::kHelloBytes - 4;
    case kComplaint:
      return auth::kComplaintBytes - 4;
    default:
      return 0;
  }
}

template <class M, class Decode>
void round_trip(std::span<const std::byte> bytes, Decode decode) {
  auto m = decode(bytes);
  if (!m) {
    RC_ASSERT(!m.error().message().empty());
    return;
  }
  const auto again = auth::encode(*m);
  auto back = decode(std::span<const std::byte>(again));
  RC_ASSERT(back.ok());
  RC_ASSERT(auth::encode(*back) == again);
}

void check(std::uint8_t which, std::span<const std::byte> bytes) {
  switch (which) {
    case kPeek:
      (void)peek_setup_kind(bytes);
      return;
    case kOpen: {
      auto info = decode_connect_info(bytes);
      if (!info) return;
      RC_ASSERT(info->region_count <= kMaxConnectRegions);
      const ConnectInfoBytes again = encode(*info);
      auto back = decode_connect_info(again);
      RC_ASSERT(back.ok() && *back == *info);
      return;
    }
    case kHello:
      return round_trip<auth::Hello>(bytes, auth::decode_hello);
    case kChallenge:
      return round_trip<auth::Challenge>(bytes, auth::decode_challenge);
    case kProof:
      return round_trip<auth::Proof>(bytes, auth::decode_proof);
    case kAccept:
      return round_trip<auth::Accept>(bytes, auth::decode_accept);
    case kComplaint:
      return round_trip<auth::Complaint>(bytes, auth::decode_complaint);
    default: {
      const auto text = verbs::decode_refusal(bytes);
      if (!text) return;
      RC_ASSERT(text->size() <= verbs::kMaxRefusalTextBytes);
      for (char c : *text)
        RC_ASSERT(c >= 0x20 && c < 0x7f);
      return;
    }
  }
}

}  // namespace
}  // namespace ringcast::fabric

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::fabric;
  ringcast::fuzz::Seeds seeds;
  auto add = [&](std::uint8_t which, std::span<const std::byte> message) {
    ringcast::fuzz::Writer w;
    w.u8(which).u8(0).bytes(message);
    seeds.push_back(w.take());
  };
  const ConnectInfo info = sample_info();
  const auth::Nonce nonce{std::byte{1}, std::byte{2}, std::byte{3}};
  const auth::Tag tag{std::byte{9}, std::byte{8}};
  add(kPeek, encode(info));
  add(kOpen, encode(info));
  add(kHello, auth::encode(auth::Hello{12, 7, 0, nonce}));
  add(kChallenge, auth::encode(auth::Challenge{13, 3, 0x4242, nonce, tag}));
  add(kProof, auth::encode(auth::Proof{0x4242, info, tag}));
  add(kAccept, auth::encode(auth::Accept{info, tag}));
  add(kComplaint, auth::encode(auth::Complaint{0x4242, nonce}));
  const verbs::Refusal r = verbs::encode_refusal("bad cluster key proof from node 12\n\x01");
  add(kRefusal, std::span(r.bytes).first(r.length));
  return seeds;
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t which = data[0] % 8;
  std::vector<std::byte> bytes(size - 2);
  std::copy_n(data + 2, size - 2, reinterpret_cast<std::uint8_t*>(bytes.data()));
  const std::size_t end = ringcast::fabric::crc_end(which);
  if (end != 0 && (data[1] & 1) == 0) ringcast::fuzz::reseal_crc_at(bytes, end);
  ringcast::fabric::check(which, bytes);
  return 0;
}
