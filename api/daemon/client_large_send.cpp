// A client's mcast above the atomic size: the node sends it in fragments
// and returns once it put the message together, which can take as long as
// the log has no room for the fragments. The connection's thread must not
// wait for that: the deliveries it alone writes to the client (large ones
// go through it) may be what holds the log, and the client can only
// release what it was given. So the send runs on a thread of its own; the
// connection takes no request meanwhile (what follows keeps its place) and
// replies once it ended.
#include <chrono>
#include <utility>

#include "base/assert.hpp"
#include "base/thread_name.hpp"
#include "daemon/client_sessions.hpp"

namespace ringcast::daemon {

void ClientSessions::start_large_send(std::uint64_t request_id, Handle& h, cpg::Guarantee guarantee,
                                      std::vector<std::byte> bytes) {
  RC_ASSERT(!large_);
  std::shared_ptr<client::Session> session = h.session;
  auto send = [session = std::move(session), guarantee,
               bytes = std::move(bytes)]() -> cpg::Result<bool> {
    name_this_thread("rc-large-send");
    const std::span<const std::byte> whole[] = {bytes};
    if (cpg::Status s = session->send(guarantee, whole); !s.ok()) return s;
    return false;
  };
  large_ = LargeSend{request_id, std::nullopt, std::async(std::launch::async, std::move(send))};
}

// The pool is safe from any thread, and the connection takes no zcb_alloc
// or zcb_free while the send lasts (holding() defers them), so the buffer
// stays the client's live one throughout.
void ClientSessions::start_large_zero_copy_send(std::uint64_t request_id, Handle& h,
                                                cpg::Guarantee guarantee, const ipc::ZcbMcast& m) {
  RC_ASSERT(!large_);
  RC_ASSERT(zcb_);
  auto send = [session = h.session, pool = zcb_->pool.get(), guarantee, offset = m.offset,
               length = m.length] {
    name_this_thread("rc-large-send");
    return pool->send(*session, guarantee, offset, length);
  };
  large_ = LargeSend{request_id, m, std::async(std::launch::async, std::move(send))};
}

bool ClientSessions::finish_large_send() {
  if (!large_ || large_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return false;
  LargeSend done = std::move(*large_);
  large_.reset();
  const cpg::Result<bool> sent = done.result.get();
  if (done.zero_copy) {
    end_zero_copy_send(done.request_id, *done.zero_copy, sent);
  } else {
    reply(done.request_id, sent ? CS_OK : sent.status().code());
  }
  return true;
}

}  // namespace ringcast::daemon
