// The inside of VerbsEndpoint, shared by the files that implement it
// (endpoint, completions, connector, listener, link). Internal.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "fabric/verbs/completion_queue.hpp"
#include "fabric/verbs/device.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "fabric/verbs/handles.hpp"
#include "fabric/verbs/numa.hpp"
#include "fabric/verbs/shared_receive_queue.hpp"

namespace ringcast::fabric::verbs {

class VerbsLink;

// qp_num -> link, for completions. Few links per endpoint (one per peer), so
// a linear scan over a reserved array beats hashing and never allocates.
class LinkTable {
 public:
  explicit LinkTable(std::uint32_t capacity) { entries_.reserve(capacity); }
  std::size_t size() const noexcept { return entries_.size(); }
  bool full() const noexcept { return entries_.size() == entries_.capacity(); }
  VerbsLink* find(std::uint32_t qp_num) const noexcept {
    for (const Entry& e : entries_) {
      if (e.qp_num == qp_num) return e.link;
    }
    return nullptr;
  }
  void add(std::uint32_t qp_num, VerbsLink* link) noexcept {
    RC_ASSERT(!full() && find(qp_num) == nullptr);
    entries_.push_back({qp_num, link});
  }
  void remove(VerbsLink* link) noexcept {
    for (Entry& e : entries_) {
      if (e.link == link) {
        e = entries_.back();
        entries_.pop_back();
        return;
      }
    }
  }

 private:
  struct Entry {
    std::uint32_t qp_num;
    VerbsLink* link;
  };
  std::vector<Entry> entries_;
};

// Completions found outside poll() (by prepare_wait, from cm events) wait
// here for the next poll(). Bounded: fixed capacity, oldest first.
class PendingCompletions {
 public:
  explicit PendingCompletions(std::size_t capacity) : ring_(capacity) {}
  bool empty() const noexcept { return count_ == 0; }
  std::size_t room() const noexcept { return ring_.size() - count_; }
  bool push(const Completion& c) noexcept {
    if (room() == 0) return false;
    ring_[(head_ + count_++) % ring_.size()] = c;
    return true;
  }
  std::size_t drain(std::span<Completion> out) noexcept {
    std::size_t n = 0;
    for (; n < out.size() && count_ > 0; ++n, --count_) {
      out[n] = ring_[head_];
      head_ = (head_ + 1) % ring_.size();
    }
    return n;
  }

 private:
  std::vector<Completion> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

struct VerbsEndpoint::Impl {
  static constexpr std::size_t kPollBatch = 32;
  // rdma_cm events (a peer disconnected) are read at most once per
  // kCmCheckPeriodNs, so a busy poll loop pays for the syscall rarely, and
  // at least that often: a dead peer is failure detection's fastest signal
  // (every 1024 polls was ~100 ms on an emulated VM). The clock is read every
  // kCmCheckInterval polls only. wait() always reads them.
  static constexpr std::uint32_t kCmCheckInterval = 64;
  static constexpr std::uint64_t kCmCheckPeriodNs = 1'000'000;

  Impl(const EndpointOptions& opts, Device dev, NumaPlacement placement, PdHandle protection,
       CompletionQueue completions, SharedReceiveQueue receives, EventChannelHandle cm,
       UniqueFd wait_set);
  ~Impl();

  // Whether a link with this send queue depth fits the CQ and link budget.
  Status can_attach(std::uint32_t sq_depth) const;
  void attach(VerbsLink& link, std::uint32_t qp_num, std::uint32_t sq_depth) noexcept;
  void detach(VerbsLink& link, std::uint32_t sq_depth) noexcept;

  std::size_t poll(std::span<Completion> out);
  Result<bool> prepare_wait();
  Status wait(std::uint64_t timeout_ns);

  // Members in construction order; destroyed in reverse (the device list,
  // which keeps the context open, goes last).
  EndpointOptions options;
  Device device;
  NumaPlacement numa;
  std::string local_address;
  // The refusals connect() logs, by peer: a peer with the wrong key is
  // redialled every few hundred ms.
  std::mutex refusal_log_mutex;
  LogLimiter refusal_log;  // guarded by refusal_log_mutex
  PdHandle pd;
  CompletionQueue cq;
  SharedReceiveQueue srq;
  EventChannelHandle cm_channel;  // non-blocking; every set-up link moves here
  UniqueFd wait_set;              // epoll of the CQ channel and cm_channel

 private:
  std::size_t poll_cq(std::span<Completion> out);
  bool to_completion(const ibv_wc& wc, Completion& out);
  bool on_receive(const ibv_wc& wc, Completion& out);
  void read_cm_events();
  void replenish_receives();

  LinkTable links_;
  PendingCompletions pending_;
  std::uint32_t cq_reserved_ = 0;
  std::uint32_t polls_until_cm_check_ = kCmCheckInterval;
  std::uint64_t next_cm_check_ns_ = 0;
  bool receive_failure_logged_ = false;
  bool cq_may_hold_more_ = false;  // the last CQ poll filled its batch
  std::array<ibv_wc, kPollBatch> wcs_{};
};

}  // namespace ringcast::fabric::verbs
