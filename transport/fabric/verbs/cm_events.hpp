// Small helpers around rdma_cm events for connection set-up: a bounded wait
// for the next event, private data as bytes, deadlines.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"
#include "fabric/verbs/handles.hpp"

namespace ringcast::fabric::verbs {

std::uint64_t monotonic_ns() noexcept;

// Waits until `deadline_ns` (monotonic) for the next event on `channel`.
// Errc::timeout says "<what>: no rdma_cm event within N ms".
Result<CmEventHandle> next_cm_event(rdma_event_channel* channel, std::uint64_t deadline_ns,
                                    const std::string& what);

// Milliseconds left until the deadline, at least 1 (rdma_resolve_* want > 0).
int remaining_ms(std::uint64_t deadline_ns) noexcept;

// The private data a connection event carried (empty when none).
std::span<const std::byte> private_data(const rdma_cm_event& event) noexcept;

}  // namespace ringcast::fabric::verbs
