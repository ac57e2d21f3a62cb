// Fuzzes the ring's token decoder (ring/token.hpp) past its checksum: any
// bytes in a mailbox slot are refused or decode into a token that keeps the
// decoder's promises and survives encode + decode unchanged.
//
// Input: u8 member count of the ring (mod 64, + 1), u8 options, then the
// token's bytes. Unless the options say otherwise, the harness makes the
// byte length agree with the member and retransmit counts (bit 0 keeps it)
// and recomputes the crc at the end of that length (bit 1 keeps it), so
// mutations reach the checks behind the crc.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "ring/token.hpp"

namespace {

using namespace ringcast::ring;
namespace wire = ringcast::wire;

// Offsets of the token layout (token.hpp): byte length, member count,
// retransmit count.
constexpr std::size_t kLengthAt = 6;
constexpr std::size_t kMembersAt = 12;
constexpr std::size_t kRetransmitsAt = 14;

void reseal(std::span<std::byte> t, std::uint8_t options) {
  if (t.size() < kTokenFixedBytes) return;
  if ((options & 1) == 0) {
    const std::size_t n = token_encoded_bytes(wire::get<std::uint16_t>(t.data() + kMembersAt),
                                              wire::get<std::uint16_t>(t.data() + kRetransmitsAt));
    wire::put<std::uint16_t>(t.data() + kLengthAt, static_cast<std::uint16_t>(n));
  }
  const std::size_t length = wire::get<std::uint16_t>(t.data() + kLengthAt);
  if ((options & 2) == 0 && length >= 4) ringcast::fuzz::reseal_crc_at(t, length - 4);
}

}  // namespace

ringcast::fuzz::Seeds make_seeds() {
  ringcast::fuzz::Seeds seeds;
  for (std::size_t members : {1, 2, 3, 8, 64}) {
    Token t;
    t.ring = {7, 3};
    t.token_seq = 40 + members;
    t.highest_seq = 90;
    t.next_position = 90 * 128;
    t.fcc = 5;
    t.backlog = static_cast<std::uint32_t>(members);
    t.member_count = static_cast<std::uint16_t>(members);
    for (std::size_t i = 0; i < members; ++i)
      t.members[i] = {80 + i % 10, 64 * (70 + i % 10)};
    t.retransmit_count = static_cast<std::uint16_t>(members % 4);
    for (std::size_t i = 0; i < t.retransmit_count; ++i)
      t.retransmit[i] = 81 + i;
    std::array<std::byte, kMaxTokenBytes> buf{};
    const std::size_t n = encode_token(t, buf);
    ringcast::fuzz::Writer w;
    w.u8(static_cast<std::uint8_t>(members - 1)).u8(0).bytes(std::span(buf).first(n));
    seeds.push_back(w.take());
  }
  return seeds;
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const TokenLimits limits{RingId{7, 3}, std::size_t{data[0]} % kMaxMembers + 1};
  std::vector<std::byte> bytes(size - 2);
  std::copy_n(reinterpret_cast<const std::byte*>(data + 2), size - 2, bytes.begin());
  reseal(bytes, data[1]);
  Token t;
  if (decode_token(bytes, limits, &t) != TokenFault::none) return 0;
  RC_ASSERT(t.ring == limits.ring);
  RC_ASSERT(t.member_count == limits.member_count);
  RC_ASSERT(t.retransmit_count <= kMaxRetransmitRequests);
  for (std::size_t i = 0; i < t.member_count; ++i) {
    RC_ASSERT(t.members[i].received_up_to <= t.highest_seq);
    RC_ASSERT(t.members[i].released_position <= t.next_position);
  }
  std::array<std::byte, kMaxTokenBytes> buffer{};
  const std::size_t n = encode_token(t, buffer);
  RC_ASSERT(n <= kMaxTokenBytes && n <= bytes.size());
  RC_ASSERT(
      std::equal(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n), bytes.begin()));
  Token again;
  RC_ASSERT(decode_token(std::span(buffer).first(n), limits, &again) == TokenFault::none);
  RC_ASSERT(again == t);
  return 0;
}
