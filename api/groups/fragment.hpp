// Fragments: how a CPG message larger than the ring's atomic size
// (totem.max_message_size_bytes) travels. The sender cuts it into records of
// ring group kFragmentGroup, each with a fragment header and a slice of the
// message, in order; every member reassembles the slices of one sender and
// delivers the message at the place of its last fragment in the total order
// (FragmentAssembler).
//
// Wire format of a fragment payload (little-endian, base/wire.hpp):
//    0 u8  magic (0xCA)          1 u8  version (1)
//    2 u16 flags (0; reserved)   4 u32 group key (group_key of the group)
//    8 u64 message id (per sending process, increasing)
//   16 u64 total bytes of the message
//   24 u64 offset of this slice
//   32     the slice: 1 or more bytes, offset + slice <= total
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"
#include "groups/group_message.hpp"

namespace ringcast::groups {

inline constexpr std::uint8_t kFragmentMagic = 0xCA;
inline constexpr std::uint8_t kFragmentVersion = 1;
inline constexpr std::size_t kFragmentHeaderBytes = 32;

struct FragmentHeader {
  std::uint32_t group = 0;  // the data group's key
  std::uint64_t message_id = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t offset = 0;

  friend bool operator==(const FragmentHeader&, const FragmentHeader&) = default;
};

// Why decode_fragment refused a payload.
enum class FragmentFault : std::uint8_t {
  truncated,        // shorter than the header
  bad_magic,        // not a fragment
  bad_version,      // a version this build does not speak
  bad_flags,        // a reserved bit set
  bad_group,        // the control or the fragment group
  empty_slice,      // no bytes after the header
  beyond_total,     // offset + slice above the message's total
  total_too_large,  // above the receiver's max_fragmented_message_bytes
};

const char* fragment_fault_name(FragmentFault fault) noexcept;

struct FragmentError {
  FragmentFault fault = FragmentFault::truncated;
  std::size_t payload_bytes = 0;

  // "fragment refused: beyond_total (payload of 70 bytes)"; nothing of the
  // peer's bytes.
  std::string message() const;
};

struct Fragment {
  FragmentHeader header;
  std::span<const std::byte> slice;
};

// Writes the header into the first kFragmentHeaderBytes of `out`.
void encode_fragment_header(const FragmentHeader& header, std::span<std::byte> out) noexcept;

// Reads a fragment from a peer; every length is checked, the total against
// max_total_bytes.
Result<Fragment, FragmentError> decode_fragment(std::span<const std::byte> payload,
                                                std::uint64_t max_total_bytes);

}  // namespace ringcast::groups
