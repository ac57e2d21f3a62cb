// Arithmetic of the global log: positions are u64 byte counts that only grow;
// a position's offset in every member's log is position % log_bytes, so the
// record with a given seq sits at the same offset everywhere.
#pragma once

#include <cstdint>

namespace ringcast::ring {

// The highest position a record may end at. Positions come from peers
// (record headers, tokens, membership's infos); bounded by 2^63, a position
// plus any number of log lengths (each below 4 GiB) the code adds stays
// within a u64, so no comparison of the space rule can wrap. An honest ring
// never gets there: 2^63 bytes are 5.8 years of writes at 50 GB/s.
inline constexpr std::uint64_t kMaxLogPosition = std::uint64_t{1} << 63;

// Where a record of span_bytes goes when the next free position is `next`:
// right there, or, when it would straddle the end of the log, at the start of
// the next lap (the skipped tail stays unused for this lap).
constexpr std::uint64_t place_position(std::uint64_t next, std::uint64_t span_bytes,
                                       std::uint64_t log_bytes) noexcept {
  const std::uint64_t offset = next % log_bytes;
  return offset + span_bytes <= log_bytes ? next : next - offset + log_bytes;
}

// The space rule. Every log holds the same bytes at the same offsets, so one
// rule protects every member: a record may be written at [position, position
// + span) only if no member still holds, unreleased, anything at those
// offsets. A member's unreleased bytes are the positions [its released
// position, written_end), written_end being the end of everything written so
// far; the offsets of [position, position + span) were last used by the
// positions one log length earlier. So the record fits when
//   * position + span <= min_released + log_bytes: the previous lap's bytes at
//     those offsets are all released; or
//   * min_released == written_end: every member released everything, the
//     whole log is free. This case matters after a skip to the next lap: the
//     skipped tail was never written, but the first rule counts it as used,
//     and a record larger than what precedes the skip would never fit.
// Nothing is ever overwritten before every member delivered it and its
// application released it. A record ending beyond kMaxLogPosition never fits
// (checked first, so neither sum below can wrap).
constexpr bool fits_space(std::uint64_t position, std::uint64_t span_bytes,
                          std::uint64_t min_released_position, std::uint64_t written_end,
                          std::uint64_t log_bytes) noexcept {
  if (position > kMaxLogPosition || span_bytes > kMaxLogPosition - position) return false;
  return position >= min_released_position &&
         (position + span_bytes <= min_released_position + log_bytes ||
          min_released_position == written_end);
}

}  // namespace ringcast::ring
