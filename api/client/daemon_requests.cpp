// A client-mode handle's requests: each pushed into the request ring and
// answered by one reply with its request id (mcast_part and release by
// none). A message larger than a frame goes as mcast_part frames, then
// the mcast with its last bytes, all under push_mutex_ so that nothing of
// this handle comes between them.
#include <sys/uio.h>

#include <algorithm>
#include <thread>

#include "base/log.hpp"
#include "base/wire.hpp"
#include "client/daemon_connection.hpp"
#include "ipc/frame_codec.hpp"

namespace ringcast::client {

namespace {

// The fixed bytes before an mcast's or an mcast_part's payload.
constexpr std::size_t kMcastFixedBytes = ipc::kFrameHeaderBytes + 16;
// Pieces of one frame, at most: more are gathered into one copy first.
constexpr std::size_t kMaxFramePieces = 64;

// The bytes [offset, offset + length) of the pieces, as spans.
void slice(std::span<const iovec> pieces, std::size_t offset, std::size_t length,
           std::vector<std::span<const std::byte>>& out) {
  for (const iovec& p : pieces) {
    if (length == 0) break;
    if (offset >= p.iov_len) {
      offset -= p.iov_len;
      continue;
    }
    const std::size_t n = std::min(p.iov_len - offset, length);
    out.emplace_back(static_cast<const std::byte*>(p.iov_base) + offset, n);
    offset = 0;
    length -= n;
  }
}

// A reply's error: 0 and CS_OK both mean success; a code that is no
// cs_error_t is the daemon's fault.
cs_error_t reply_code(std::uint32_t error) {
  if (error == 0 || error == CS_OK) return CS_OK;
  if (error <= CS_ERR_TOO_MANY_GROUPS || error == CS_ERR_SECURITY)
    return static_cast<cs_error_t>(error);
  return CS_ERR_LIBRARY;
}

}  // namespace

cs_error_t DaemonConnection::wrong_reply(const char* expected) {
  die(std::string("a request answered by an event that is no ") + expected);
  return CS_ERR_LIBRARY;
}

cs_error_t DaemonConnection::push_frame(const ipc::EncodedFrame& frame) {
  const std::span<const std::byte> parts[] = {frame.fixed, frame.payload};
  return push_parts(parts);
}

cs_error_t DaemonConnection::push_parts(std::span<const std::span<const std::byte>> parts) {
  // The daemon empties the ring as fast as the ring takes messages; while
  // it is full, wait, checking now and then that the daemon is still there,
  // and take the events out of the other ring meanwhile: a daemon waiting
  // for room there would otherwise never come back to this one.
  for (std::uint64_t tries = 0;; ++tries) {
    auto pushed = channel_.requests->push(parts);
    if (pushed.ok()) return CS_OK;
    if (pushed.error().code == Errc::too_big) return CS_ERR_TOO_BIG;
    if (pushed.error().code != Errc::try_again) {
      die("the request ring: " + pushed.error().message());
      return CS_ERR_LIBRARY;
    }
    if (tries % 64 == 63) (void)pump([] { return false; }, false);
    if (tries % 1024 == 1023 && !daemon_alive()) return CS_ERR_LIBRARY;
    if (dead_.load(std::memory_order_acquire)) return CS_ERR_LIBRARY;
    std::this_thread::yield();
  }
}

cs_error_t DaemonConnection::call(const ipc::RequestBody& body, Reply& reply) {
  if (cs_error_t e = usable(); e != CS_OK) return e;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(push_mutex_);
    id = next_request_id_++;
    ipc::EncodedFrame frame;
    ipc::encode(ipc::Request{id, body}, frame);
    if (cs_error_t e = push_frame(frame); e != CS_OK) return e;
  }
  return await_reply(id, reply);
}

// A reply that takes long may wait for the ring, and the ring for log
// space this handle's queued references hold (a message in fragments is
// answered once it was put together): after as long as refusals may last,
// they are spilled, and the wait goes on.
cs_error_t DaemonConnection::await_reply(std::uint64_t id, Reply& reply) {
  auto it = replies_.end();
  for (;;) {
    const std::int64_t deadline = spill_deadline_ns();
    bool found = false;
    const cs_error_t e = pump(
        [&] {
          it = std::find_if(replies_.begin(), replies_.end(),
                            [id](const auto& r) { return r.first == id; });
          found = it != replies_.end();
          return found || past(deadline);
        },
        true);
    if (e != CS_OK) return e;
    if (found) break;
    spill_queued_refs("waiting for a reply", true);
  }
  std::lock_guard lock(state_mutex_);
  it =
      std::find_if(replies_.begin(), replies_.end(), [id](const auto& r) { return r.first == id; });
  reply = std::move(it->second);
  replies_.erase(it);
  return CS_OK;
}

cs_error_t DaemonConnection::simple_call(const ipc::RequestBody& body, std::uint64_t* value) {
  Reply reply;
  if (cs_error_t e = call(body, reply); e != CS_OK) return e;
  const auto* r = std::get_if<ipc::Reply>(&reply);
  if (r == nullptr) return wrong_reply("a reply");
  if (value != nullptr) *value = r->value;
  return reply_code(r->error);
}

cs_error_t DaemonConnection::join(std::string_view group) {
  const cs_error_t e = simple_call(ipc::Join{remote_handle_, ipc::GroupName::of(group)});
  if (e == CS_OK) joined_.store(true, std::memory_order_release);
  return e;
}

cs_error_t DaemonConnection::leave(std::string_view group) {
  const cs_error_t e = simple_call(ipc::Leave{remote_handle_, ipc::GroupName::of(group)});
  if (e == CS_OK) joined_.store(false, std::memory_order_release);
  return e;
}

cs_error_t DaemonConnection::local_node(unsigned int& node) {
  std::uint64_t value = 0;
  const cs_error_t e = simple_call(ipc::LocalGet{remote_handle_}, &value);
  if (e == CS_OK) node = static_cast<unsigned int>(value);
  return e;
}

bool DaemonConnection::holds_too_much() {
  std::lock_guard lock(state_mutex_);
  return undispatched_max_bytes_ != 0 && queued_bytes_ >= undispatched_max_bytes_;
}

cs_error_t DaemonConnection::mcast(cpg_guarantee_t guarantee, std::span<const iovec> pieces) {
  if (cs_error_t e = usable(); e != CS_OK) return e;
  if (holds_too_much()) {
    sends_refused_undispatched_.fetch_add(1, std::memory_order_relaxed);
    log_bounded(LogLevel::info, "flow control",
                "a handle holds " + std::to_string(undispatched_max_bytes_) +
                    " bytes or more of undispatched deliveries "
                    "(totem.handle_unreleased_max_bytes + handle_spill_max_bytes): its sends get "
                    "CS_ERR_TRY_AGAIN until "
                    "cpg_dispatch() runs them");
    return CS_ERR_TRY_AGAIN;
  }
  std::size_t total = 0;
  for (const iovec& p : pieces)
    total += p.iov_len;
  if (total > largest_message_bytes()) return CS_ERR_TOO_BIG;
  const std::size_t chunk = channel_.welcome.max_frame_bytes - kMcastFixedBytes;
  std::uint64_t id = 0;
  bool credited = false;
  for (;;) {
    std::unique_lock lock(push_mutex_);
    bool out_of_credit = false;
    if (cs_error_t e = take_credit(total, credited, out_of_credit); e != CS_OK) {
      lock.unlock();
      // The daemon holds an earlier send: perhaps for log space that this
      // handle's own undispatched deliveries take.
      if (e == CS_ERR_TRY_AGAIN) spill_refs();
      return e;
    }
    if (out_of_credit) {
      // Waits for acks without the push lock: a thread that dispatches
      // must get its releases through, or the daemon may never send.
      lock.unlock();
      if (cs_error_t e = wait_for_credit(); e != CS_OK) return e;
      continue;
    }
    id = next_request_id_++;
    std::size_t offset = 0;
    for (; total - offset > chunk; offset += chunk)
      if (cs_error_t e = push_payload(ipc::McastPart{remote_handle_, {}}, 0, pieces, offset, chunk);
          e != CS_OK)
        return e;
    const auto g = static_cast<std::uint32_t>(guarantee);
    const cs_error_t e = credited ? push_payload(ipc::McastCredited{remote_handle_, g, {}}, id,
                                                 pieces, offset, total - offset)
                                  : push_payload(ipc::Mcast{remote_handle_, g, {}}, id, pieces,
                                                 offset, total - offset);
    if (e != CS_OK) return e;
    break;
  }
  if (credited) {
    // Sent on the daemon's credit: an ack answers it, not a reply.
    bytes_copied_.fetch_add(total, std::memory_order_relaxed);
    send_taken();
    return CS_OK;
  }
  Reply reply;
  if (cs_error_t e = await_reply(id, reply); e != CS_OK) return e;
  const auto* r = std::get_if<ipc::Reply>(&reply);
  if (r == nullptr) return wrong_reply("a reply");
  const cs_error_t e = reply_code(r->error);
  if (e == CS_OK) {
    bytes_copied_.fetch_add(total, std::memory_order_relaxed);
    send_taken();
  }
  // The ring is full: perhaps of this handle's own undispatched deliveries.
  if (e == CS_ERR_TRY_AGAIN) spill_refs();
  return e;
}

// One frame of an mcast or mcast_part whose payload is the pieces' bytes
// [offset, offset + length), written into the ring without gathering them.
cs_error_t DaemonConnection::push_payload(ipc::RequestBody body, std::uint64_t id,
                                          std::span<const iovec> pieces, std::size_t offset,
                                          std::size_t length) {
  std::vector<std::span<const std::byte>> parts;
  parts.reserve(std::min(pieces.size(), kMaxFramePieces) + 1);
  slice(pieces, offset, length, parts);
  std::vector<std::byte> gathered;
  if (parts.size() > kMaxFramePieces) {
    for (const auto& p : parts)
      gathered.insert(gathered.end(), p.begin(), p.end());
    parts.assign(1, gathered);
  }
  // Encoded without its payload, then given the payload's length, which
  // both layouts keep in the u32 before their reserved or payload bytes.
  ipc::EncodedFrame frame;
  ipc::encode(ipc::Request{id, body}, frame);
  const std::size_t length_at = std::holds_alternative<ipc::McastPart>(body)
                                    ? ipc::kFrameHeaderBytes + 8
                                    : ipc::kFrameHeaderBytes + 12;
  wire::put<std::uint32_t>(frame.fixed.data() + length_at, static_cast<std::uint32_t>(length));
  parts.insert(parts.begin(), std::span<const std::byte>(frame.fixed));
  return push_parts(parts);
}

cs_error_t DaemonConnection::membership(std::string_view group, std::vector<ipc::ProcessId>& out) {
  Reply reply;
  if (cs_error_t e = call(ipc::MembershipGet{remote_handle_, ipc::GroupName::of(group)}, reply);
      e != CS_OK)
    return e;
  auto* r = std::get_if<ipc::ReplyMembers>(&reply);
  if (r == nullptr) return wrong_reply("reply_members");
  out = std::move(r->members);
  return reply_code(r->error);
}

cs_error_t DaemonConnection::iterate(cpg_iteration_type_t kind, std::string_view group,
                                     std::vector<ipc::IterationEntry>& out) {
  Reply reply;
  const ipc::Iteration request{remote_handle_, static_cast<std::uint32_t>(kind),
                               ipc::GroupName::of(group)};
  if (cs_error_t e = call(request, reply); e != CS_OK) return e;
  auto* r = std::get_if<ipc::ReplyIteration>(&reply);
  if (r == nullptr) return wrong_reply("reply_iteration");
  out = std::move(r->entries);
  return reply_code(r->error);
}

}  // namespace ringcast::client
