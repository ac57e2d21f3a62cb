#include "ring/token.hpp"

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/log_space.hpp"
#include "ring/record.hpp"

namespace ringcast::ring {
namespace {

// Positions are record boundaries: aligned and within the log's range, or
// the holder would place records no member accepts.
bool position_possible(std::uint64_t position) noexcept {
  return position % kRecordAlignBytes == 0 && position <= kMaxLogPosition;
}

bool fields_consistent(const Token& t) noexcept {
  if (t.token_seq == 0 || !position_possible(t.next_position)) return false;
  for (std::size_t i = 0; i < t.member_count; ++i) {
    if (t.members[i].received_up_to > t.highest_seq) return false;
    if (t.members[i].released_position > t.next_position) return false;
    if (!position_possible(t.members[i].released_position)) return false;
  }
  for (std::size_t i = 0; i < t.retransmit_count; ++i) {
    if (t.retransmit[i] == 0 || t.retransmit[i] > t.highest_seq) return false;
  }
  return true;
}

void decode_arrays(const std::byte* p, Token* t) noexcept {
  const std::byte* at = p + kTokenFixedBytes;
  for (std::size_t i = 0; i < t->member_count; ++i, at += 16) {
    t->members[i] = {wire::get<std::uint64_t>(at), wire::get<std::uint64_t>(at + 8)};
  }
  for (std::size_t i = 0; i < t->retransmit_count; ++i, at += 8) {
    t->retransmit[i] = wire::get<std::uint64_t>(at);
  }
}

}  // namespace

std::size_t encode_token(const Token& t, std::span<std::byte> out) noexcept {
  RC_ASSERT(t.member_count >= 1);
  RC_ASSERT(t.member_count <= kMaxMembers);
  RC_ASSERT(t.retransmit_count <= kMaxRetransmitRequests);
  const std::size_t length = token_encoded_bytes(t.member_count, t.retransmit_count);
  RC_ASSERT(out.size() >= length);
  std::byte* p = out.data();
  wire::put<std::uint32_t>(p + 0, kTokenMagic);
  wire::put<std::uint16_t>(p + 4, kTokenVersion);
  wire::put<std::uint16_t>(p + 6, static_cast<std::uint16_t>(length));
  wire::put<std::uint32_t>(p + 8, t.ring.representative);
  wire::put<std::uint16_t>(p + 12, t.member_count);
  wire::put<std::uint16_t>(p + 14, t.retransmit_count);
  wire::put<std::uint64_t>(p + 16, t.ring.epoch);
  wire::put<std::uint64_t>(p + 24, t.token_seq);
  wire::put<std::uint64_t>(p + 32, t.highest_seq);
  wire::put<std::uint64_t>(p + 40, t.next_position);
  wire::put<std::uint32_t>(p + 48, t.fcc);
  wire::put<std::uint32_t>(p + 52, t.backlog);
  wire::put<std::uint64_t>(p + 56, 0);
  std::byte* at = p + kTokenFixedBytes;
  for (std::size_t i = 0; i < t.member_count; ++i, at += 16) {
    wire::put<std::uint64_t>(at, t.members[i].received_up_to);
    wire::put<std::uint64_t>(at + 8, t.members[i].released_position);
  }
  for (std::size_t i = 0; i < t.retransmit_count; ++i, at += 8) {
    wire::put<std::uint64_t>(at, t.retransmit[i]);
  }
  wire::put<std::uint32_t>(at, crc32c(out.first(length - 4)));
  return length;
}

TokenFault decode_token(std::span<const std::byte> bytes, const TokenLimits& limits, Token* out,
                        std::uint32_t* checksum) noexcept {
  if (bytes.size() < kTokenFixedBytes) return TokenFault::truncated;
  const std::byte* p = bytes.data();
  if (wire::get<std::uint32_t>(p) != kTokenMagic) return TokenFault::bad_magic;
  const std::size_t length = wire::get<std::uint16_t>(p + 6);
  const std::size_t members = wire::get<std::uint16_t>(p + 12);
  const std::size_t retransmits = wire::get<std::uint16_t>(p + 14);
  if (members == 0 || members > kMaxMembers || retransmits > kMaxRetransmitRequests ||
      length != token_encoded_bytes(members, retransmits)) {
    return TokenFault::bad_length;
  }
  if (bytes.size() < length) return TokenFault::truncated;
  const std::uint32_t stored = wire::get<std::uint32_t>(p + length - 4);
  if (stored != crc32c(bytes.first(length - 4))) return TokenFault::bad_checksum;
  if (wire::get<std::uint16_t>(p + 4) != kTokenVersion) return TokenFault::bad_version;
  Token t;
  t.ring = {wire::get<std::uint32_t>(p + 8), wire::get<std::uint64_t>(p + 16)};
  if (t.ring != limits.ring) return TokenFault::wrong_ring;
  if (members != limits.member_count) return TokenFault::wrong_members;
  t.member_count = static_cast<std::uint16_t>(members);
  t.retransmit_count = static_cast<std::uint16_t>(retransmits);
  t.token_seq = wire::get<std::uint64_t>(p + 24);
  t.highest_seq = wire::get<std::uint64_t>(p + 32);
  t.next_position = wire::get<std::uint64_t>(p + 40);
  t.fcc = wire::get<std::uint32_t>(p + 48);
  t.backlog = wire::get<std::uint32_t>(p + 52);
  if (wire::get<std::uint64_t>(p + 56) != 0) return TokenFault::bad_field;
  decode_arrays(p, &t);
  if (!fields_consistent(t)) return TokenFault::bad_field;
  *out = t;
  if (checksum != nullptr) *checksum = stored;
  return TokenFault::none;
}

std::uint32_t encoded_token_checksum(std::span<const std::byte> encoded) noexcept {
  const std::size_t length = wire::get<std::uint16_t>(encoded.data() + 6);
  RC_ASSERT(length >= kTokenFixedBytes + 4);
  RC_ASSERT(length <= encoded.size());
  return wire::get<std::uint32_t>(encoded.data() + length - 4);
}

const char* token_fault_name(TokenFault fault) noexcept {
  switch (fault) {
    case TokenFault::none:
      return "none";
    case TokenFault::truncated:
      return "truncated";
    case TokenFault::bad_magic:
      return "bad magic";
    case TokenFault::bad_length:
      return "bad length";
    case TokenFault::bad_checksum:
      return "bad checksum";
    case TokenFault::bad_version:
      return "bad version";
    case TokenFault::wrong_ring:
      return "wrong ring";
    case TokenFault::wrong_members:
      return "wrong members";
    case TokenFault::bad_field:
      return "bad field";
    case TokenFault::stale:
      return "stale";
    case TokenFault::wrong_link:
      return "wrong link";
    case TokenFault::overwritten:
      return "overwritten";
  }
  return "unknown";
}

}  // namespace ringcast::ring
