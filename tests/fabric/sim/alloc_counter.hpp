// Counts heap allocations (global operator new) between start and stop, to
// check that a hot path does not allocate. The replacement operators live in
// alloc_counter.cpp, their own translation unit, so no caller inlines them.
#pragma once

#include <cstdint>

namespace ringcast::test {

void start_counting_allocations() noexcept;
// Allocations since start_counting_allocations().
std::uint64_t stop_counting_allocations() noexcept;

}  // namespace ringcast::test
