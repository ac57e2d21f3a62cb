// The fault kinds the fault simulation applies, and how often each was
// applied. A kind registers once, by a short snake_case name, and counts
// where it acts; fault_sim_test prints every registered kind as name=count
// on one line (a kind that never acted shows as 0, so a fault that stopped
// firing is seen at once).
//
//   const FaultKindCounter kCorruptRecord("corrupt_record");  // namespace scope, once
//   counts.add(kCorruptRecord);                               // each time it is applied
//
// Registration happens during static initialization, from any file of the
// test; the registry is built on first use, so the order of files does not
// matter. Names print sorted, so output does not depend on link order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ringcast::membership::fault_test {

class FaultKindCounter {
 public:
  explicit FaultKindCounter(const char* name);
  std::size_t index() const noexcept { return index_; }
  const char* name() const noexcept;

 private:
  std::size_t index_;
};

// Applications per registered kind, for one run or summed over many.
class FaultCounts {
 public:
  void add(const FaultKindCounter& kind, std::uint64_t n = 1);
  std::uint64_t get(const FaultKindCounter& kind) const noexcept;
  std::uint64_t total() const noexcept;
  FaultCounts& operator+=(const FaultCounts& other);
  // "crash=12 partition=3 ..." over every registered kind, sorted by name.
  std::string summary() const;

 private:
  std::vector<std::uint64_t> counts_;  // by FaultKindCounter::index()
};

}  // namespace ringcast::membership::fault_test
