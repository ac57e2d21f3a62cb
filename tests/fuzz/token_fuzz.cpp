// Fuzzes the ring's token decoder (ring/token.hpp): any bytes in a mailbox
// slot are refused or decode into a token that keeps the decoder's promises
// and survives encode + decode unchanged. The first input byte picks the
// ring's member count, so every count is exercised.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/assert.hpp"
#include "ring/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::ring;
  if (size < 1) return 0;
  const TokenLimits limits{RingId{7, 3}, std::size_t{data[0]} % kMaxMembers + 1};
  const auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  Token t;
  if (decode_token(bytes, limits, &t) != TokenFault::none) return 0;
  RC_ASSERT(t.ring == limits.ring);
  std::array<std::byte, kMaxTokenBytes> buffer{};
  const std::size_t n = encode_token(t, buffer);
  RC_ASSERT(n <= kMaxTokenBytes);
  Token again;
  RC_ASSERT(decode_token(std::span(buffer).first(n), limits, &again) == TokenFault::none);
  RC_ASSERT(again == t);
  return 0;
}
