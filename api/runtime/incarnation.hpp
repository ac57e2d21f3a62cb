// A node's incarnation: the number its process advertises at every link
// set-up and above which its rings' epochs start (incarnation << 32, and
// above what kept_epochs.hpp kept). It must grow from one process of a node
// to the next, whatever the clocks do: a peer takes a link with an equal or
// lower incarnation for the old process's.
//
// So it is max(last + 1, clock), where `last` is the one the previous process
// of this node took, kept in the state directory (system.state_dir), and
// `clock` is the wall clock in 100 ms units since 2024-01-01 (what peers
// compare for the start-up window: processes started together take numbers
// within the window of each other). The new number is written (temporary
// file, fsync, rename, fsync of the directory) before it is used: a crash
// after that never hands the next process the same one. A stepped-back clock
// or two restarts within 100 ms still give a larger number; a clock stepped
// far forward raises the number for good (harmless: it only grows).
//
// docs/operations.md "State directory" says what happens when the
// directory is missing, read-only or holds a corrupt file.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "base/result.hpp"

namespace ringcast::runtime {

// max(last + 1, clock_units), never 0; last == UINT32_MAX: nullopt (the
// numbers are used up; nothing larger exists). Inline: the fault simulation
// restarts its members by this rule too.
constexpr std::optional<std::uint32_t> next_incarnation(std::optional<std::uint32_t> last,
                                                        std::uint32_t clock_units) noexcept {
  if (last && *last == std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  const std::uint32_t after = last ? *last + 1 : 1;
  return clock_units > after ? clock_units : after;
}

struct TakenIncarnation {
  std::uint32_t incarnation = 0;
  // Empty when it was read and written as it should be; else what went
  // wrong and what was done instead (the caller logs it).
  std::string warning;
};

// Takes this process's incarnation for `node` from <dir>/incarnation.<node>
// and writes it back before returning. The directory is created (mode 0700)
// when missing. `required` (the directory was configured): a directory that
// cannot be created, read or written is an error (Errc::system), the process
// must not start with a number it cannot keep. Not required (the default
// directory): the same cases take the clock's number with a warning. A
// corrupt file is never an error: the clock's number (warning), and the
// file is rewritten.
Result<TakenIncarnation> take_incarnation(const std::string& dir, std::uint32_t node,
                                          std::uint32_t clock_units, bool required);

}  // namespace ringcast::runtime
