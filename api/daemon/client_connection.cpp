#include "daemon/client_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "daemon/server_log.hpp"
#include "ipc/fd_passing.hpp"
#include "ringcast/cpg.h"
#include "runtime/spin_policy.hpp"

namespace ringcast::daemon {

namespace {

constexpr std::size_t kRequestsPerRound = 64;
// Requests behind a held mcast: the credit's messages and the requests in
// flight, with room; beyond is a client that ignores both.
constexpr std::size_t kMaxDeferredRequests = 1024;
// While the event ring is full, how often the connection looks whether the
// client made room (the producer has no doorbell of its own).
constexpr int kFullRingPollMs = 1;
// Asleep with nothing to wait for: a bound, so a lost wake-up costs little.
constexpr int kIdlePollMs = 100;
// How often, between sleeps, the socket is checked for a hang-up and the
// sessions for evictions.
constexpr std::uint64_t kSocketCheckNs = 10'000'000;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

std::string ClientConnection::who() const {
  return "client pid " + std::to_string(peer_.pid) + " uid " + std::to_string(peer_.uid);
}

void ClientConnection::drop(std::atomic<std::uint64_t>& counter, const std::string& why) {
  counter.fetch_add(1, std::memory_order_relaxed);
  shared_.log->line(LogLevel::warning, "uid " + std::to_string(peer_.uid),
                    who() + " disconnected: " + why);
  gone_ = true;
}

void ClientConnection::run() {
  if (set_up()) {
    shared_.counters->connected.fetch_add(1, std::memory_order_relaxed);
    shared_.counters->accepted.fetch_add(1, std::memory_order_relaxed);
    serve();
    // Every session's finalize goes out before the socket closes.
    sessions_->close_all();
    shared_.counters->connected.fetch_sub(1, std::memory_order_relaxed);
  }
  sessions_.reset();
  socket_.reset();
  finished_.store(true, std::memory_order_release);
}

bool ClientConnection::hello_arrived() {
  pollfd p[2] = {{socket_.get(), POLLIN, 0}, {shared_.stop_fd, POLLIN, 0}};
  const int ms = static_cast<int>(shared_.options->hello_timeout.count());
  const int n = ::poll(p, 2, ms);
  return n > 0 && p[1].revents == 0 && (p[0].revents & POLLIN) != 0;
}

void ClientConnection::refuse(std::uint32_t error) {
  ipc::EncodedFrame frame;
  ipc::encode(ipc::Event{0, ipc::Welcome{ipc::kProtocolVersion, error}}, frame);
  (void)ipc::send_fds(socket_.get(), frame.joined(), {});
}

bool ClientConnection::set_up() {
  ServerCounters& counters = *shared_.counters;
  if (!hello_arrived()) {
    counters.failed_handshakes.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto hello = ipc::receive_hello(socket_.get());
  if (!hello) {
    counters.failed_handshakes.fetch_add(1, std::memory_order_relaxed);
    shared_.log->line(LogLevel::warning, "hello", who() + ": " + hello.error().message());
    return false;
  }
  if (Status allowed = ipc::check_access(peer_, shared_.options->access); !allowed) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    shared_.log->line(LogLevel::warning, "uid " + std::to_string(peer_.uid),
                      "refused " + allowed.error().detail);
    refuse(CS_ERR_ACCESS);
    return false;
  }
  auto channel = ipc::create_channel(shared_.options->sizes);
  if (!channel) {
    shared_.log->line(LogLevel::warning, "channel", who() + ": " + channel.error().message());
    refuse(CS_ERR_NO_RESOURCES);
    return false;
  }
  channel_.emplace(std::move(*channel));
  client::Node& node = *shared_.node;
  ipc::Welcome w;
  w.node_id = node.node_id();
  w.atomic_message_bytes = node.max_message_bytes();
  w.largest_message_bytes = node.max_fragmented_bytes();
  const ServerOptions& o = *shared_.options;
  if (Status sent = ipc::send_welcome(socket_.get(), *channel_, w, o.log_fd, o.log.size()); !sent) {
    shared_.log->line(LogLevel::warning, "welcome", who() + ": " + sent.error().message());
    return false;
  }
  ledger_.emplace(shared_.options->quota);
  writer_.emplace(*channel_->events, shared_.options->sizes.max_frame_bytes, *ledger_);
  sessions_.emplace(shared_.node, *writer_, *ledger_, counters, peer_.pid, o.log,
                    o.deliver_copy_below_bytes);
  if (channel_->sizes.zcb_segment_bytes > 0) {
    cpg::Status zcb = sessions_->enable_zero_copy(std::move(channel_->zcb_segment.mapping),
                                                  *ledger_, *shared_.log);
    // Its zero-copy requests are then answered CS_ERR_NOT_SUPPORTED.
    if (!zcb.ok()) shared_.log->line(LogLevel::warning, "zcb", who() + ": " + zcb.message());
  }
  return true;
}

// While a credited mcast is held, the requests behind it keep their order
// in deferred_ and are taken once the hold ended, except releases: they
// free the log the held mcast may wait for (only the client's dispatch
// sends them), and a release changes no order, so they are taken at once.
bool ClientConnection::take_requests() {
  bool any = false;
  for (std::size_t i = 0; i < kRequestsPerRound && !gone_; ++i) {
    const bool holding = sessions_->holding();
    if (!holding && !deferred_.empty()) {
      std::vector<std::byte> frame = std::move(deferred_.front());
      deferred_.pop_front();
      any = true;
      if (!take(frame)) break;
      continue;
    }
    auto popped = channel_->requests->pop(frame_);
    if (!popped) {
      drop(shared_.counters->malformed, popped.error().message());
      break;
    }
    if (!*popped) break;
    any = true;
    if (holding && deferrable(frame_)) {
      if (deferred_.size() >= kMaxDeferredRequests) {
        drop(shared_.counters->over_quota,
             "more than " + std::to_string(kMaxDeferredRequests) + " requests behind a held mcast");
        break;
      }
      deferred_.push_back(frame_);
      continue;
    }
    if (!take(frame_)) break;
  }
  return any;
}

// A well-formed request other than a release: a malformed one is dropped
// at once, as always.
bool ClientConnection::deferrable(std::span<const std::byte> frame) {
  auto request = ipc::decode_request(frame, sessions_->limits(frame));
  return request && !std::holds_alternative<ipc::Release>(request->body);
}

// One request: false when it ended the connection.
bool ClientConnection::take(std::span<const std::byte> frame) {
  auto request = ipc::decode_request(frame, sessions_->limits(frame));
  if (!request) {
    drop(shared_.counters->malformed, request.error().message);
    return false;
  }
  if (auto admitted = ledger_->admit(ipc::type_of(request->body)); !admitted) {
    drop(shared_.counters->over_quota, admitted.error().message);
    return false;
  }
  if (auto handled = sessions_->handle(*request); !handled)
    drop(handled.error().code == ipc::IpcErrc::quota_credit ? shared_.counters->over_quota
                                                            : shared_.counters->malformed,
         handled.error().message);
  // Deliveries queued at the sessions pin the node's log until they are
  // written: a large send waits for its own delivery, so a stream of
  // credited mcasts must not keep them waiting behind it.
  if (!gone_) (void)sessions_->dispatch();
  return !gone_;
}

// One turn: what waits for room, the requests, the sessions' events. True
// when anything moved.
bool ClientConnection::round() {
  const std::size_t waiting = writer_->pending_frames();
  if (Status flushed = writer_->flush(); !flushed) {
    drop(shared_.counters->malformed, flushed.error().message());
    return false;
  }
  bool busy = writer_->pending_frames() != waiting;
  busy |= sessions_->finish_large_send();
  busy |= sessions_->retry_held();
  busy |= take_requests();
  if (Status flushed = writer_->flush(); !flushed) {
    drop(shared_.counters->malformed, flushed.error().message());
    return false;
  }
  busy |= sessions_->write_acks();
  if (!gone_) busy |= sessions_->dispatch();
  if (!gone_) busy |= sessions_->finish_zero_copy_sends();
  return busy;
}

// Whether the client is still there: a hang-up is its exit (or crash); any
// byte on the socket after hello breaks the protocol.
bool ClientConnection::socket_alive() {
  std::byte b;
  const ssize_t n = ::recv(socket_.get(), &b, 1, MSG_DONTWAIT | MSG_PEEK);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    gone_ = true;
    return false;
  }
  if (n > 0) {
    drop(shared_.counters->malformed, "data on the socket after hello");
    return false;
  }
  return true;
}

bool ClientConnection::sleep(bool& woken) {
  ipc::RingConsumer& requests = *channel_->requests;
  // While a credited mcast is held the requests wait in their ring: the
  // connection sleeps until its next try, whatever the client sends.
  const bool holding = sessions_->holding();
  woken = true;
  if (!holding && !requests.prepare_sleep()) return true;
  poll_fds_.clear();
  poll_fds_.push_back({holding ? -1 : channel_->request_bell->fd(), POLLIN, 0});
  poll_fds_.push_back({socket_.get(), POLLIN | POLLRDHUP, 0});
  poll_fds_.push_back({shared_.stop_fd, POLLIN, 0});
  sessions_->add_poll_fds(poll_fds_);
  const int ms = writer_->idle() ? kIdlePollMs : kFullRingPollMs;
  // A held mcast is tried again soon: nothing wakes the connection when the
  // node's send queue has room again.
  const timespec held{0, static_cast<long>(hold_retry_ns_)};
  const timespec wait{ms / 1000, (ms % 1000) * 1'000'000L};
  const int n = ::ppoll(poll_fds_.data(), poll_fds_.size(), holding ? &held : &wait, nullptr);
  if (!holding) requests.end_sleep();
  // The bound ran out with nothing to do: no reason to spin (an idle
  // connection would otherwise spin a window every kIdlePollMs, and a daemon
  // with a hundred of them a core).
  woken = n > 0 || holding;
  if (n <= 0) return true;
  if (poll_fds_[2].revents != 0) {
    gone_ = true;
    return false;
  }
  if (poll_fds_[1].revents != 0 && !socket_alive()) return false;
  const std::uint64_t rings = poll_fds_[0].revents != 0 ? channel_->request_bell->drain() : 0;
  if (rings > 0) {
    if (auto allowed = ledger_->charge_wakeup(now_ns(), rings); !allowed) {
      drop(shared_.counters->over_quota, allowed.error().message);
      return false;
    }
  }
  return true;
}

void ClientConnection::serve() {
  const ServerOptions& o = *shared_.options;
  runtime::SpinPolicy spin(o.spin_ns, o.max_spin_ns);
  while (!gone_ && !shared_.stopping->load(std::memory_order_relaxed)) {
    const bool busy = round();
    hold_retry_ns_ = sessions_->holding() && !busy ? std::min(hold_retry_ns_ * 2, kMaxHoldRetryNs)
                                                   : kMinHoldRetryNs;
    if (sessions_->done() && writer_->idle()) break;  // finalized, and the reply is out
    const std::uint64_t now = now_ns();
    if (busy) {
      spin.on_activity(now);
    } else {
      spin.on_idle_round();
    }
    if (now - last_socket_check_ns_ > kSocketCheckNs) {
      last_socket_check_ns_ = now;
      if (!socket_alive()) break;
      sessions_->notice_evictions();
    }
    if (busy || spin.spinning(now)) {
      if (!busy) std::this_thread::yield();
      continue;
    }
    bool woken = false;
    if (!sleep(woken)) break;
    if (woken) spin.on_wake(now_ns());
  }
}

}  // namespace ringcast::daemon
