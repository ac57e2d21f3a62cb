#include "client/session.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/assert.hpp"
#include "client/node.hpp"

namespace ringcast::client {

namespace {

cpg::Status bad_state(cs_error_t code, const char* why) {
  return cpg::Status(code, why);
}

}  // namespace

Session::Session(std::shared_ptr<Node> node, Callbacks callbacks, int event_fd, std::uint32_t pid)
    : node_(std::move(node)), callbacks_(std::move(callbacks)), pid_(pid), event_fd_(event_fd) {}

cpg::Result<std::shared_ptr<Session>> Session::open(std::shared_ptr<Node> node,
                                                    Callbacks callbacks) {
  const std::uint32_t pid = node->pid();
  return open(std::move(node), std::move(callbacks), pid);
}

cpg::Result<std::shared_ptr<Session>> Session::open(std::shared_ptr<Node> node, Callbacks callbacks,
                                                    std::uint32_t pid) {
  // A process's first handles wait for its node to settle in the ring.
  node->wait_settled();
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0)
    return cpg::Status(CS_ERR_NO_RESOURCES, std::string("eventfd: ") + std::strerror(errno));
  const bool initial_ring = callbacks.initial_ring_change;
  std::shared_ptr<Session> s(new Session(std::move(node), std::move(callbacks), fd, pid));
  s->node_->add_session(s.get(), initial_ring);
  return s;
}

Session::~Session() {
  close();
  if (event_fd_ >= 0) ::close(event_fd_);
}

bool Session::closed() const {
  std::lock_guard lock(node_->mutex());
  return closed_ || evicted_;
}

bool Session::evicted() const {
  std::lock_guard lock(node_->mutex());
  return evicted_;
}

cpg::Status Session::evicted_status() const {
  return cpg::Status(CS_ERR_LIBRARY, "the handle was evicted (" + evicted_why_ +
                                         "); finalize it and open a new one");
}

void Session::set_readable_locked(bool readable) {
  if (readable == readable_.load(std::memory_order_relaxed)) return;
  if (readable) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  } else {
    std::uint64_t value = 0;
    [[maybe_unused]] ssize_t n = ::read(event_fd_, &value, sizeof value);
  }
  readable_.store(readable, std::memory_order_release);
}

void Session::set_sink(Sink sink) {
  std::lock_guard lock(node_->mutex());
  if (!closed_) sink_ = std::move(sink);
}

void Session::push_locked(Event&& event) {
  if (closed_ || evicted_) return;
  if (sink_ && events_.empty() && dispatching_.load(std::memory_order_acquire) == 0) {
    const Taken taken = sink_(event, refs_issued_ + 1);
    if (taken == Taken::copied) return;
    if (taken == Taken::held) {
      RC_ASSERT(held_pins_ == pinned_.size());  // nothing queued or running
      ++refs_issued_;
      held_bytes_ += event.payload_bytes;
      pinned_.push_back({event.seq, event.log_mark, event.queued_at, event.payload_bytes});
      ++held_pins_;
      return;
    }
  }
  if (event.kind == Event::Kind::message)
    pinned_.push_back({event.seq, event.log_mark, event.queued_at});
  events_.push_back(std::move(event));
  set_readable_locked(true);
}

void Session::unpin_locked(std::uint64_t seq) {
  // A close() in a callback cleared the pins already.
  if (pinned_.size() <= held_pins_) return;
  // Dispatched in queue order: the first after the held ones.
  RC_ASSERT(pinned_[held_pins_].seq == seq);
  pinned_.erase(pinned_.begin() + static_cast<std::ptrdiff_t>(held_pins_));
}

std::uint64_t Session::hold_running(std::uint64_t bytes) {
  std::lock_guard lock(node_->mutex());
  keep_pinned_ = true;
  ++refs_issued_;
  held_bytes_ += bytes;
  // Closed or evicted meanwhile: its pins are gone, the id is still given.
  if (pinned_.size() > held_pins_ && pinned_[held_pins_].seq == running_seq_) {
    pinned_[held_pins_].held_bytes = bytes;
    ++held_pins_;
  }
  return refs_issued_;
}

Session::Released Session::release_held_locked(std::uint64_t through) {
  if (through <= refs_released_) return {false, 0, "already released"};
  if (through > refs_issued_) return {false, 0, "never delivered by reference"};
  Released r{true, 0, ""};
  for (std::uint64_t n = through - refs_released_; n > 0 && held_pins_ > 0; --n, --held_pins_) {
    r.bytes += pinned_.front().held_bytes;
    pinned_.pop_front();
  }
  refs_released_ = through;
  held_bytes_ -= std::min(r.bytes, held_bytes_);
  return r;
}

std::uint64_t Session::take_held_bytes() {
  std::lock_guard lock(node_->mutex());
  return std::exchange(held_bytes_, 0);
}

Session::Spill Session::spill_locked(std::uint64_t budget) {
  std::size_t unspilled = 0;
  for (const Event& e : events_)
    unspilled += e.kind == Event::Kind::message && !e.spilled;
  RC_ASSERT(pinned_.size() >= unspilled);
  // The pins of running callbacks come first; the queued messages' after
  // them, in queue order, and spills take the oldest first.
  const std::size_t running = pinned_.size() - unspilled;
  Spill done;
  for (Event& e : events_) {
    if (e.kind != Event::Kind::message || e.spilled) continue;
    if (spilled_bytes_ + e.payload_bytes > budget) break;
    if (e.assembled == nullptr) {
      e.assembled =
          std::make_shared<std::vector<std::byte>>(e.payload, e.payload + e.payload_bytes);
      e.payload = e.assembled->data();
      done.bytes_copied += e.payload_bytes;
    }
    e.spilled = true;
    spilled_bytes_ += e.payload_bytes;
    ++done.messages;
  }
  const auto first = pinned_.begin() + static_cast<std::ptrdiff_t>(running);
  pinned_.erase(first, first + static_cast<std::ptrdiff_t>(done.messages));
  return done;
}

bool Session::join_refused_locked(std::string why) {
  if (closed_ || evicted_ || (state_ != State::joining && state_ != State::leaving)) return false;
  state_ = State::unjoined;
  member_ = false;
  join_refused_why_ = std::move(why);
  return true;
}

Session::State Session::evict_locked(std::string why) {
  RC_ASSERT(!closed_ && !evicted_);
  const State was = state_;
  evicted_ = true;
  evicted_why_ = std::move(why);
  events_.clear();
  pinned_.clear();
  held_pins_ = 0;
  spilled_bytes_ = 0;
  member_ = false;
  state_ = State::unjoined;   // its finalize goes out from the node; close() sends none
  set_readable_locked(true);  // a blocked dispatcher wakes and sees evicted_
  return was;
}

cpg::Status Session::close() {
  std::lock_guard api(api_mutex_);
  State was;
  {
    std::lock_guard lock(node_->mutex());
    if (closed_) return {};
    closed_ = true;
    sink_ = nullptr;  // what it writes to may go once close() returns
    was = state_;
    events_.clear();
    pinned_.clear();
    held_pins_ = 0;
    spilled_bytes_ = 0;
    set_readable_locked(true);  // a blocked dispatcher wakes and sees closed_
  }
  node_->remove_session(this);
  free_buffers();
  cpg::Status s;
  // A member (or would-be member) leaves with PROCDOWN; a leave already on
  // its way needs nothing more.
  if (was == State::joining || was == State::joined) {
    s = node_->submit_control(id, pid_, groups::GroupMessageKind::finalize, *group_, true);
  }
  node_->release_unpinned();
  return s;
}

cpg::Status Session::join(std::string_view group) {
  std::lock_guard api(api_mutex_);
  {
    std::lock_guard lock(node_->mutex());
    if (closed_) return bad_state(CS_ERR_BAD_HANDLE, "the handle is finalized");
    if (evicted_) return evicted_status();
    if (state_ != State::unjoined)
      return bad_state(CS_ERR_EXIST, "this handle is already in a group (one group per handle)");
    if (node_->group_taken(group, pid_, this)) {
      return bad_state(CS_ERR_EXIST,
                       "another handle of this process is in this group (or one whose name "
                       "has the same key)");
    }
    if (cpg::Status refused = node_->join_check_locked(group, pid_); !refused.ok()) return refused;
    join_refused_why_.clear();
    state_ = State::joining;
    group_ = std::make_shared<const std::string>(group);
  }
  cpg::Status s = node_->submit_control(id, pid_, groups::GroupMessageKind::join, group, false);
  if (!s.ok()) {
    std::lock_guard lock(node_->mutex());
    state_ = State::unjoined;
  }
  return s;
}

cpg::Status Session::leave(std::string_view group) {
  std::lock_guard api(api_mutex_);
  State was;
  {
    std::lock_guard lock(node_->mutex());
    if (closed_) return bad_state(CS_ERR_BAD_HANDLE, "the handle is finalized");
    if (evicted_) return evicted_status();
    if ((state_ != State::joining && state_ != State::joined) || *group_ != group)
      return bad_state(CS_ERR_NOT_EXIST, "this handle has not joined that group");
    was = state_;
    state_ = State::leaving;
  }
  cpg::Status s = node_->submit_control(id, pid_, groups::GroupMessageKind::leave, group, false);
  if (!s.ok()) {
    std::lock_guard lock(node_->mutex());
    if (state_ == State::leaving) state_ = was;
  }
  return s;
}

cpg::Status Session::not_in_group_locked() const {
  if (!join_refused_why_.empty()) return cpg::Status(CS_ERR_NOT_EXIST, join_refused_why_);
  return bad_state(CS_ERR_NOT_EXIST, "this handle is not in a group");
}

cpg::Status Session::send(Guarantee guarantee, std::span<const std::span<const std::byte>> pieces) {
  std::shared_ptr<const std::string> group;
  {
    std::lock_guard lock(node_->mutex());
    if (closed_) return bad_state(CS_ERR_BAD_HANDLE, "the handle is finalized");
    if (evicted_) return evicted_status();
    if (state_ != State::joining && state_ != State::joined) return not_in_group_locked();
    group = group_;
  }
  return node_->send(pid_, *group, guarantee, pieces);
}

cpg::Status Session::send_zero_copy(Guarantee guarantee, void* buffer, std::size_t bytes) {
  return send_zero_copy(PoolRef{}, guarantee, buffer, bytes);
}

cpg::Status Session::send_zero_copy(const PoolRef& pool, Guarantee guarantee, void* buffer,
                                    std::size_t bytes) {
  std::shared_ptr<const std::string> group;
  {
    std::lock_guard lock(node_->mutex());
    if (closed_) return bad_state(CS_ERR_BAD_HANDLE, "the handle is finalized");
    if (evicted_) return evicted_status();
    if (state_ != State::joining && state_ != State::joined) return not_in_group_locked();
    group = group_;
  }
  return node_->send_zero_copy(pool, pid_, *group, guarantee, buffer, bytes);
}

// One pending callback, run in this thread; false when none was pending.
bool Session::run_one() {
  std::lock_guard serial(dispatch_mutex_);
  Event e;
  {
    std::lock_guard lock(node_->mutex());
    if (closed_ || evicted_ || events_.empty()) {
      if (!closed_ && !evicted_) set_readable_locked(false);
      return false;
    }
    e = std::move(events_.front());
    events_.pop_front();
    if (e.spilled) spilled_bytes_ -= e.payload_bytes;
    if (events_.empty()) set_readable_locked(false);
    dispatching_.fetch_add(1, std::memory_order_relaxed);
  }
  running_seq_ = e.seq;
  keep_pinned_ = false;
  run_callback(e);
  // Unpinned (or held) first: a sink that holds a message must find every
  // pin before its own held (Session::push_locked).
  const bool held = std::exchange(keep_pinned_, false);
  if (e.kind == Event::Kind::message && !e.spilled && !held) node_->unpin(*this, e.seq);
  // Release: a sink that sees 0 comes after what the callback wrote.
  dispatching_.fetch_sub(1, std::memory_order_release);
  return true;
}

void Session::run_callback(const Event& e) {
  switch (e.kind) {
    case Event::Kind::message:
      if (callbacks_.on_message) {
        callbacks_.on_message(Message{*e.group, e.sender, {e.payload, e.payload_bytes}});
      }
      return;
    case Event::Kind::view:
      if (callbacks_.on_view_change) {
        const ViewEvent& v = *e.view;
        callbacks_.on_view_change(ViewChange{v.group, v.members, v.left, v.joined});
      }
      return;
    case Event::Kind::ring:
      if (callbacks_.on_ring_change) {
        const RingEvent& r = *e.ring;
        callbacks_.on_ring_change(RingChange{r.representative, r.seq, r.nodes});
      }
      return;
  }
}

// Waits until the eventfd is readable; false once the session is closed.
bool Session::wait_readable() {
  for (;;) {
    if (closed() || node_->has_left()) return false;
    pollfd p{event_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, -1);
    if (n > 0) return !closed();
    if (n < 0 && errno != EINTR) return false;
  }
}

cpg::Status Session::dispatch(DispatchMode mode) {
  cpg::Status s = dispatch_loop(mode);
  // Eviction and close leave the fd readable, so a drained queue (the
  // common end of a dispatch) needs no trip through the node's lock.
  if (!readable_.load(std::memory_order_acquire) && !node_->has_left()) return s;
  {
    std::lock_guard lock(node_->mutex());
    if (evicted_) return evicted_status();
    if (!node_->has_left() || !events_.empty() || closed_) return s;
  }
  return node_->left_status();
}

cpg::Status Session::dispatch_loop(DispatchMode mode) {
  switch (mode) {
    case DispatchMode::one_nonblocking:
      return run_one() ? cpg::Status{} : cpg::Status(CS_ERR_TRY_AGAIN, "no callback pending");
    case DispatchMode::all:
      while (run_one() && readable_.load(std::memory_order_acquire)) {
      }
      return {};
    case DispatchMode::one:
      while (!run_one()) {
        if (!wait_readable()) return {};
      }
      return {};
    case DispatchMode::blocking:
      for (;;) {
        while (run_one() && readable_.load(std::memory_order_acquire)) {
        }
        if (!wait_readable()) return {};
      }
  }
  return cpg::Status(CS_ERR_INVALID_PARAM, "unknown dispatch mode");
}

}  // namespace ringcast::client
