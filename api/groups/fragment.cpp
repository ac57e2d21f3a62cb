#include "groups/fragment.hpp"

#include "base/assert.hpp"
#include "base/wire.hpp"

namespace ringcast::groups {

const char* fragment_fault_name(FragmentFault fault) noexcept {
  switch (fault) {
    case FragmentFault::truncated:
      return "truncated";
    case FragmentFault::bad_magic:
      return "bad_magic";
    case FragmentFault::bad_version:
      return "bad_version";
    case FragmentFault::bad_flags:
      return "bad_flags";
    case FragmentFault::bad_group:
      return "bad_group";
    case FragmentFault::empty_slice:
      return "empty_slice";
    case FragmentFault::beyond_total:
      return "beyond_total";
    case FragmentFault::total_too_large:
      return "total_too_large";
  }
  return "unknown";
}

std::string FragmentError::message() const {
  return std::string("fragment refused: ") + fragment_fault_name(fault) + " (payload of " +
         std::to_string(payload_bytes) + " bytes)";
}

void encode_fragment_header(const FragmentHeader& header, std::span<std::byte> out) noexcept {
  RC_ASSERT(out.size() >= kFragmentHeaderBytes);
  std::byte* p = out.data();
  wire::put<std::uint8_t>(p + 0, kFragmentMagic);
  wire::put<std::uint8_t>(p + 1, kFragmentVersion);
  wire::put<std::uint16_t>(p + 2, 0);
  wire::put<std::uint32_t>(p + 4, header.group);
  wire::put<std::uint64_t>(p + 8, header.message_id);
  wire::put<std::uint64_t>(p + 16, header.total_bytes);
  wire::put<std::uint64_t>(p + 24, header.offset);
}

namespace {

Result<FragmentHeader, FragmentFault> check(std::span<const std::byte> payload,
                                            std::uint64_t max_total_bytes) noexcept {
  if (payload.size() < kFragmentHeaderBytes) return FragmentFault::truncated;
  const std::byte* p = payload.data();
  if (wire::get<std::uint8_t>(p + 0) != kFragmentMagic) return FragmentFault::bad_magic;
  if (wire::get<std::uint8_t>(p + 1) != kFragmentVersion) return FragmentFault::bad_version;
  if (wire::get<std::uint16_t>(p + 2) != 0) return FragmentFault::bad_flags;
  FragmentHeader h;
  h.group = wire::get<std::uint32_t>(p + 4);
  if (h.group == kControlGroup || h.group == kFragmentGroup) return FragmentFault::bad_group;
  h.message_id = wire::get<std::uint64_t>(p + 8);
  h.total_bytes = wire::get<std::uint64_t>(p + 16);
  h.offset = wire::get<std::uint64_t>(p + 24);
  const std::size_t slice = payload.size() - kFragmentHeaderBytes;
  if (slice == 0) return FragmentFault::empty_slice;
  if (h.total_bytes > max_total_bytes) return FragmentFault::total_too_large;
  // offset + slice <= total, written so that it cannot wrap.
  if (h.offset > h.total_bytes || slice > h.total_bytes - h.offset)
    return FragmentFault::beyond_total;
  return h;
}

}  // namespace

Result<Fragment, FragmentError> decode_fragment(std::span<const std::byte> payload,
                                                std::uint64_t max_total_bytes) {
  auto header = check(payload, max_total_bytes);
  if (!header) return FragmentError{header.error(), payload.size()};
  return Fragment{*header, payload.subspan(kFragmentHeaderBytes)};
}

}  // namespace ringcast::groups
