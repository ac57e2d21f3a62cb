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
  auto send = [session = std::move(session), guarantee, bytes = std::move(bytes)] {
    name_this_thread("rc-large-send");
    const std::span<const std::byte> whole[] = {bytes};
    return session->send(guarantee, whole).code();
  };
  large_ = LargeSend{request_id, std::async(std::launch::async, std::move(send))};
}

bool ClientSessions::finish_large_send() {
  if (!large_ || large_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return false;
  reply(large_->request_id, large_->result.get());
  large_.reset();
  return true;
}

}  // namespace ringcast::daemon
