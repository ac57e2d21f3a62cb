// Totem's flow control, in messages.
//
// The token carries two sums over the members: fcc, the messages each member
// sent at its latest visit (so: the messages sent during the last rotation),
// and backlog, the messages each member had queued when it last held the
// token. A member replaces its own share of both at every visit.
//
// At a visit a member may send at most
//   * max_messages_per_visit;
//   * what is left of the rotation's window: window_messages minus what the
//     OTHER members sent since this member's previous visit (its own share of
//     fcc is the part it is about to replace);
//   * its fair share of the window when several members have backlogs:
//     window_messages * my_backlog / total_backlog, at least 1 so that a member
//     with work is never shut out;
//   * and its backlog.
// The caller applies the remaining limits (log space, outbox room).
#pragma once

#include <cstdint>

namespace ringcast::ring {

class FlowControl {
 public:
  FlowControl(std::uint32_t max_messages_per_visit, std::uint32_t window_messages) noexcept
      : max_per_visit_(max_messages_per_visit), window_(window_messages) {}

  std::uint32_t allowed(std::uint32_t token_fcc, std::uint32_t token_backlog,
                        std::uint32_t my_backlog) const noexcept;

  // After the visit: replaces this member's shares in the token's sums.
  void record_visit(std::uint32_t* token_fcc, std::uint32_t* token_backlog, std::uint32_t sent,
                    std::uint32_t backlog_after) noexcept;

  std::uint32_t my_last_sent() const noexcept { return my_sent_; }
  std::uint32_t my_last_backlog() const noexcept { return my_backlog_; }

 private:
  std::uint32_t max_per_visit_;
  std::uint32_t window_;
  std::uint32_t my_sent_ = 0;     // my share of the token's fcc
  std::uint32_t my_backlog_ = 0;  // my share of the token's backlog
};

}  // namespace ringcast::ring
