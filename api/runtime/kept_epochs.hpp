// The ring epochs a node named, kept across its processes in
// <state_dir>/epochs.<node>: a bound at or above every epoch the node named
// a ring with (membership::EpochKeeper says why). A process starts its
// epochs above it (membership::epoch_floor) and raises it, in blocks of
// membership::kEpochsKeptAhead, before it names a ring above it: one
// durable write per that many rings, none on the data path.
//
// docs/operations.md "State directory": the directory's failure cases, as
// for the incarnation file.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace ringcast::runtime {

class KeptEpochs {
 public:
  // Reads what the last process of `node` kept (no file: 0). `required`
  // (the directory was configured): a directory that cannot be read is an
  // error. Not required: nothing is kept (warning): restarts rely on the
  // incarnation alone. A corrupt file: 0 with a warning, rewritten by the
  // next keep().
  static Result<KeptEpochs> open(const std::string& dir, std::uint32_t node, bool required);

  std::uint64_t kept() const noexcept { return kept_; }
  // Empty, or what went wrong at open and what is done instead.
  const std::string& warning() const noexcept { return warning_; }

  // membership::EpochKeeper: `through` (when above what is kept) is on disk
  // when it returns true. A failed write: false when the directory is
  // required (no ring is named until a write works); else true, and nothing
  // more is kept. Logs a failure once, not at every retry.
  bool keep(std::uint64_t through);

 private:
  KeptEpochs() = default;

  std::string dir_;
  std::string path_;  // empty: nothing is kept
  bool required_ = false;
  bool failing_ = false;  // the last write failed (logged)
  std::uint64_t kept_ = 0;
  std::string warning_;
};

}  // namespace ringcast::runtime
