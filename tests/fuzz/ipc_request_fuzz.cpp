// Fuzzes the daemon's decoder of client requests (ipc/frame_codec.hpp): the
// input is one frame as a client would leave it in its request ring, copied
// out as RingConsumer::pop does. Whatever arrives, decode_request refuses it
// with an IpcError, or returns a request that keeps the limits (ranges in the
// zcb segment, sizes under the maxima, names within CPG's bound) and
// re-encodes to exactly the input (one encoding per request).
//
// Input: the frame's bytes. Seeds: one valid frame of every request type
// (tests/support/ipc_samples.hpp), so mutations start past the header checks.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "ipc/frame_codec.hpp"
#include "support/ipc_samples.hpp"

namespace ringcast::ipc {
namespace {

void check_limits(const Request& request, const RequestLimits& limits) {
  if (const auto* m = std::get_if<Mcast>(&request.body)) {
    RC_ASSERT(m->payload.size() <= limits.max_message_bytes);
    RC_ASSERT(m->guarantee <= 3);
  }
  if (const auto* z = std::get_if<ZcbMcast>(&request.body)) {
    RC_ASSERT(z->offset <= limits.zcb_segment_bytes);
    RC_ASSERT(z->length <= limits.zcb_segment_bytes - z->offset);
    RC_ASSERT(z->length <= limits.max_message_bytes);
  }
  if (const auto* a = std::get_if<ZcbAlloc>(&request.body))
    RC_ASSERT(a->bytes > 0 && a->bytes <= limits.max_zcb_alloc_bytes);
  if (const auto* f = std::get_if<ZcbFree>(&request.body))
    RC_ASSERT(f->offset < limits.zcb_segment_bytes);
  if (const auto* j = std::get_if<Join>(&request.body))
    RC_ASSERT(j->group.length <= kMaxGroupNameBytes);
  if (const auto* q = std::get_if<QuorumInitialize>(&request.body)) RC_ASSERT(q->model <= 1);
  if (const auto* t = std::get_if<QuorumTrackstart>(&request.body))
    RC_ASSERT((t->flags & ~7u) == 0);
}

}  // namespace
}  // namespace ringcast::ipc

ringcast::fuzz::Seeds make_seeds() {
  ringcast::fuzz::Seeds seeds;
  for (const auto& request : ringcast::ipc::samples::requests())
    seeds.push_back(ringcast::ipc::samples::frame_of(request));
  return seeds;
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::ipc;
  // A private copy of exactly the frame's length, as pop hands it over (so
  // ASan sees any read past the frame).
  const std::vector<std::byte> frame(reinterpret_cast<const std::byte*>(data),
                                     reinterpret_cast<const std::byte*>(data) + size);
  const RequestLimits limits = samples::request_limits();
  auto decoded = decode_request(frame, limits);
  if (!decoded.ok()) {
    RC_ASSERT(!decoded.error().message.empty());
    return 0;
  }
  check_limits(*decoded, limits);
  RC_ASSERT(samples::frame_of(*decoded) == frame);
  return 0;
}
