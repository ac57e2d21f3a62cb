#include "ring/flow_control.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace ringcast::ring {
namespace {

// The token's sums include this member's previous shares; a sum smaller than
// a share can only come from a token of another ring, which is refused
// earlier, but the arithmetic stays safe anyway.
std::uint32_t minus(std::uint32_t a, std::uint32_t b) noexcept {
  return a > b ? a - b : 0;
}

}  // namespace

std::uint32_t FlowControl::allowed(std::uint32_t token_fcc, std::uint32_t token_backlog,
                                   std::uint32_t my_backlog) const noexcept {
  const std::uint32_t others_sent = minus(token_fcc, my_sent_);
  std::uint32_t allowed = std::min(max_per_visit_, minus(window_, others_sent));
  const std::uint64_t total_backlog = std::uint64_t{minus(token_backlog, my_backlog_)} + my_backlog;
  if (my_backlog > 0 && total_backlog > 0) {
    const std::uint64_t share = std::uint64_t{window_} * my_backlog / total_backlog;
    allowed = std::min<std::uint64_t>(allowed, std::max<std::uint64_t>(share, 1));
  }
  allowed = std::min(allowed, my_backlog);
  RC_ASSERT(allowed <= max_per_visit_);
  return allowed;
}

void FlowControl::record_visit(std::uint32_t* token_fcc, std::uint32_t* token_backlog,
                               std::uint32_t sent, std::uint32_t backlog_after) noexcept {
  RC_ASSERT(sent <= max_per_visit_);  // a visit sends at most what allowed() gave
  *token_fcc = minus(*token_fcc, my_sent_) + sent;
  *token_backlog = minus(*token_backlog, my_backlog_) + backlog_after;
  my_sent_ = sent;
  my_backlog_ = backlog_after;
}

}  // namespace ringcast::ring
