#include "zcb/pool_config.hpp"

#include <bit>
#include <limits>
#include <string>

#include "zcb/size_class.hpp"

namespace ringcast::zcb {
namespace {

Status bad(const char* field, const std::string& why) {
  return make_error(Errc::invalid_argument, std::string("zcb pool config: ") + field, why);
}

// A Segment's length is 32 bits, and the lookup of a pointer scans nothing:
// these bounds keep chunk and slab indexes in 32 bits (2^24 slabs of 2 MiB:
// 32 TiB, beyond any machine's pinnable memory).
constexpr std::size_t kMaxBufferBytesLimit = std::size_t{1} << 31;
constexpr std::uint32_t kMaxSlabsLimit = 1u << 24;

}  // namespace

Status validate(const PoolConfig& c) {
  if (!std::has_single_bit(c.max_buffer_bytes) || c.max_buffer_bytes < kMinBufferBytes ||
      c.max_buffer_bytes > kMaxBufferBytesLimit)
    return bad("max_buffer_bytes", "must be a power of two from 64 to 2^31");
  if (c.max_alloc_bytes != 0 &&
      (c.max_alloc_bytes < c.max_buffer_bytes || c.max_alloc_bytes > kMaxBufferBytesLimit))
    return bad("max_alloc_bytes", "must be 0 or from max_buffer_bytes to 2^31");
  if (!std::has_single_bit(c.slab_bytes) || c.slab_bytes < c.max_buffer_bytes)
    return bad("slab_bytes", "must be a power of two, at least max_buffer_bytes");
  if (c.slab_bytes / kMinBufferBytes > std::numeric_limits<std::uint32_t>::max())
    return bad("slab_bytes", "must hold fewer than 2^32 buffers of 64 bytes");
  if (c.max_reserved_bytes < c.slab_bytes || c.max_reserved_bytes % c.slab_bytes != 0)
    return bad("max_reserved_bytes", "must be a non-zero multiple of slab_bytes");
  if (c.max_reserved_bytes / c.slab_bytes > kMaxSlabsLimit)
    return bad("max_reserved_bytes", "allows more than 2^24 slabs");
  if (c.initial_slabs > max_slabs(c))
    return bad("initial_slabs", "must fit max_reserved_bytes / slab_bytes");
  // A buffer's count of sends is 16 bits; it can never exceed the total.
  if (c.max_sends_in_flight == 0 ||
      c.max_sends_in_flight > std::numeric_limits<std::uint16_t>::max())
    return bad("max_sends_in_flight", "must be from 1 to 65535");
  return {};
}

}  // namespace ringcast::zcb
