// The event ring of a client-mode handle: decoding what the daemon sent,
// filing replies and queueing events, waiting for frames, and noticing
// that the daemon is gone.
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "base/log.hpp"
#include "client/daemon_connection.hpp"
#include "ipc/frame_codec.hpp"

namespace ringcast::client {

namespace {

// Frames one reader pass takes before it looks at what it filed.
constexpr int kMaxFramesPerPass = 256;
// Busy-poll the ring this long before announcing a sleep (the daemon's
// next frame then costs it a doorbell write, and us a wake-up).
constexpr std::uint64_t kSpinNs = 50'000;
constexpr std::uint64_t kPauseNs = 10'000;  // of which spent without yielding
constexpr int kMaxSleepMs = 100;
// The spin reads the clock once in this many turns: where the clock has no
// vDSO (a VM under emulation) every read is a system call.
constexpr std::uint32_t kTurnsPerClockRead = 16;

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

// One limiter for the process, a budget per source: a broken daemon kills
// every handle at once, and a program may retry a refused send in a loop.
void log_bounded(LogLevel level, std::string_view source, const std::string& line) {
  static std::mutex mutex;
  static LogLimiter limiter;
  std::lock_guard lock(mutex);
  limiter.log(level, source, line, now_ns());
}

namespace {

std::uint64_t handle_of(const ipc::EventBody& body) {
  if (const auto* d = std::get_if<ipc::DeliverInline>(&body)) return d->handle;
  if (const auto* p = std::get_if<ipc::DeliverPart>(&body)) return p->handle;
  if (const auto* r = std::get_if<ipc::DeliverRef>(&body)) return r->handle;
  if (const auto* c = std::get_if<ipc::Confchg>(&body)) return c->handle;
  if (const auto* t = std::get_if<ipc::TotemConfchg>(&body)) return t->handle;
  if (const auto* q = std::get_if<ipc::QuorumNotify>(&body)) return q->handle;
  if (const auto* a = std::get_if<ipc::McastAck>(&body)) return a->handle;
  return 0;
}

bool is_reply(const ipc::EventBody& body) {
  return std::holds_alternative<ipc::Reply>(body) ||
         std::holds_alternative<ipc::ReplyMembers>(body) ||
         std::holds_alternative<ipc::ReplyIteration>(body);
}

}  // namespace

void DaemonConnection::die(const std::string& why) {
  {
    std::lock_guard lock(state_mutex_);
    if (dead_.load(std::memory_order_acquire)) return;
    dead_why_ = why;
    dead_.store(true, std::memory_order_release);
    set_ready_locked();  // a program polling the fd comes to dispatch and learns it
  }
  if (!finalizing_.load(std::memory_order_acquire))
    log_bounded(LogLevel::warning, "ringcastd", "client handle lost: " + peer_text(why, 300));
  cv_.notify_all();
}

bool DaemonConnection::daemon_alive() {
  pollfd p{socket_.get(), POLLIN | POLLRDHUP, 0};
  // Nothing readable, or a signal of the program's (EINTR): no news.
  if (::poll(&p, 1, 0) <= 0) return true;
  // The daemon sends nothing over the socket after the welcome: anything
  // readable there is its end, or a daemon that does not follow the protocol.
  char byte;
  const ssize_t n = ::recv(socket_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  const bool hung_up = (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
  if (n < 0 && !hung_up && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  die(n > 0 && !hung_up ? "ringcastd sent a message over the socket after its welcome"
                        : "ringcastd closed the connection (it stopped or was killed)");
  return false;
}

void DaemonConnection::set_ready_locked() {
  if (ready_set_) return;
  const std::uint64_t one = 1;
  if (::write(ready_.get(), &one, sizeof one) == sizeof one) ready_set_ = true;
}

void DaemonConnection::announce_locked() {
  if (channel_.events->prepare_sleep()) {
    announced_ = true;
  } else {
    set_ready_locked();  // a frame came meanwhile: the fd must say so
  }
}

void DaemonConnection::after_reading_locked() {
  if (!queue_.empty()) {
    if (!dispatch_reading_) set_ready_locked();
  } else {
    announce_locked();
  }
}

bool DaemonConnection::liveness_check_due() {
  std::lock_guard lock(state_mutex_);
  if (credit_.messages == 0) return true;
  return ++idle_dispatches_ % 32 == 0;
}

void DaemonConnection::settle_idle() {
  std::lock_guard lock(state_mutex_);
  if (reader_active_ || !queue_.empty()) return;
  if (ready_set_) {
    std::uint64_t count = 0;
    if (::read(ready_.get(), &count, sizeof count) == sizeof count) ready_set_ = false;
  }
  if (announced_) {
    // Withdrawn first, so that the daemon rings nothing between this look
    // and the new announcement; drained only when it did ring.
    const bool still_announced = channel_.events->end_sleep();
    if (!still_announced || bell_rung_.exchange(false, std::memory_order_relaxed))
      channel_.event_bell->drain();
    announced_ = false;
  }
  announce_locked();
}

bool DaemonConnection::read_available() {
  bool read = false;
  for (int i = 0; i < kMaxFramesPerPass; ++i) {
    auto got = channel_.events->pop(frame_);
    if (!got.ok()) {
      die("the event ring: " + got.error().message());
      return read;
    }
    if (!*got) break;
    read = true;
    if (!route(frame_)) return read;
  }
  return read;
}

bool DaemonConnection::sleep_for_frames() {
  const std::uint64_t start = now_ns();
  std::uint64_t now = start;
  for (std::uint32_t turn = 1; now - start < kSpinNs; ++turn) {
    if (channel_.events->has_frames()) return false;
    // Past the first microseconds the daemon may be waiting for this CPU
    // (more runnable threads than cores): yielding lets it answer sooner
    // than a sleep and its wake-up would.
    if (now - start < kPauseNs) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
    if (turn % kTurnsPerClockRead == 0) now = now_ns();
  }
  if (!channel_.events->prepare_sleep()) return false;
  pollfd p[2] = {{channel_.event_bell->fd(), POLLIN, 0}, {socket_.get(), POLLIN | POLLRDHUP, 0}};
  const int n = ::poll(p, 2, kMaxSleepMs);
  const bool still_announced = channel_.events->end_sleep();
  if (n > 0 && p[0].revents != 0) {
    channel_.event_bell->drain();
  } else if (!still_announced) {
    bell_rung_.store(true, std::memory_order_relaxed);  // rang after the poll
  }
  if (n > 0 && p[1].revents != 0) daemon_alive();
  return true;
}

// A frame the reader popped: a reply is filed under its request id, an
// event queued for dispatch; false when it killed the handle.
bool DaemonConnection::route(std::vector<std::byte>& frame) {
  // A deliver_ref outside the mapped log does not decode.
  const ipc::EventLimits limits{channel_.log.bytes().size(), channel_.welcome.max_frame_bytes,
                                channel_.welcome.atomic_message_bytes};
  auto decoded = ipc::decode_event(frame, limits);
  if (!decoded.ok()) {
    die("a malformed event from ringcastd: " + decoded.error().message);
    return false;
  }
  ipc::Event& event = *decoded;
  if (is_reply(event.body)) {
    if (event.request_id == 0 ||
        event.request_id >= next_request_id_.load(std::memory_order_acquire)) {
      die("a reply to request " + std::to_string(event.request_id) + ", which was never sent");
      return false;
    }
    if (event.request_id == initialize_id_) {
      if (const auto* r = std::get_if<ipc::Reply>(&event.body)) remote_handle_ = r->value;
    }
    std::lock_guard lock(state_mutex_);
    replies_.emplace_back(event.request_id, std::move(event.body));
    return true;
  }
  if (std::holds_alternative<ipc::Welcome>(event.body)) {
    die(std::string("ringcastd sent ") + ipc::message_type_name(ipc::type_of(event.body)) +
        " over the event ring, which this library does not take");
    return false;
  }
  if (handle_of(event.body) != remote_handle_) {
    die("an event for handle " + std::to_string(handle_of(event.body)) + ", this connection's is " +
        std::to_string(remote_handle_));
    return false;
  }
  const bool quorum_event = std::holds_alternative<ipc::QuorumNotify>(event.body);
  if (quorum_event != quorum_service_) {
    die(std::string("ringcastd sent ") + ipc::message_type_name(ipc::type_of(event.body)) +
        " to a " + (quorum_service_ ? "quorum" : "CPG") + " handle");
    return false;
  }
  if (const auto* ack = std::get_if<ipc::McastAck>(&event.body)) return route_ack(*ack);
  if (quorum_event) return route_quorum(event);
  if (std::holds_alternative<ipc::DeliverRef>(event.body)) return route_ref(event);
  return route_delivery(frame, event);
}

// A V1 handle's notification is two callbacks, node list first (as an
// embedded handle queues them): two entries, so CS_DISPATCH_ONE runs one.
bool DaemonConnection::route_quorum(ipc::Event& event) {
  std::lock_guard lock(state_mutex_);
  if (quorum_callbacks_.model == QUORUM_MODEL_V1) queue_.push_back({{}, event.body, true});
  queue_.push_back({{}, std::move(event.body), false});
  return true;
}

bool DaemonConnection::route_delivery(std::vector<std::byte>& frame, ipc::Event& event) {
  if (const auto* part = std::get_if<ipc::DeliverPart>(&event.body)) {
    if (partial_.size() + part->payload.size() > largest_message_bytes()) {
      die("deliver_part frames beyond the largest message (" +
          std::to_string(largest_message_bytes()) + " bytes)");
      return false;
    }
    partial_.insert(partial_.end(), part->payload.begin(), part->payload.end());
    return true;
  }
  QueuedEvent queued;
  if (auto* d = std::get_if<ipc::DeliverInline>(&event.body); d != nullptr && !partial_.empty()) {
    if (partial_.size() + d->payload.size() > largest_message_bytes()) {
      die("a delivery beyond the largest message");
      return false;
    }
    partial_.insert(partial_.end(), d->payload.begin(), d->payload.end());
    queued.frame = std::move(partial_);
    partial_ = {};
    d->payload = queued.frame;
  } else {
    // The payload's span points into the frame's buffer, which moves with it.
    queued.frame = std::move(frame);
    frame = {};
  }
  queued.body = std::move(event.body);
  std::lock_guard lock(state_mutex_);
  queued_bytes_ += queued.frame.size();
  queue_.push_back(std::move(queued));
  return true;
}

}  // namespace ringcast::client
