// The CPG handles of one connected client: each a client::Session of the
// daemon's node, opened by the client's initialize and closed by its
// finalize or when the client goes; and its quorum handles, each a
// client::QuorumHandle of the node's QuorumTracker whose notifications go
// out as quorum_notify events (client_quorum.cpp). Both are closed when it goes (exit, crash, a
// malformed frame, the daemon's stop). Requests come in decoded (request_handler.cpp); the
// sessions' callbacks write the client's events through the EventWriter.
//
// One thread (the client's connection) calls everything here.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "client/node.hpp"
#include "client/quorum_handle.hpp"
#include "client/session.hpp"
#include "daemon/event_writer.hpp"
#include "daemon/server_counters.hpp"
#include "ipc/frame_codec.hpp"
#include "ipc/messages.hpp"
#include "ipc/quota.hpp"

namespace ringcast::daemon {

// Handles one connection may hold at once (the library opens a connection
// per handle; more is a client that leaks them).
inline constexpr std::size_t kMaxHandlesPerClient = 64;

class ClientSessions {
 public:
  ClientSessions(std::shared_ptr<client::Node> node, EventWriter& writer, ipc::QuotaLedger& ledger,
                 ServerCounters& counters, pid_t pid);
  ~ClientSessions();
  ClientSessions(const ClientSessions&) = delete;
  ClientSessions& operator=(const ClientSessions&) = delete;

  // What decode_request may let through for this client, for this frame:
  // a zero-copy request names no segment the client has (it has none yet),
  // so its offsets and sizes are not checked against one: it decodes, and
  // is answered CS_ERR_NOT_SUPPORTED rather than taken for malformed.
  ipc::RequestLimits limits(std::span<const std::byte> frame) const noexcept;
  // One request, decoded from a frame copied out of the ring. An error when
  // the client broke the protocol (it is then disconnected); a request the
  // node refuses is answered with its cs_error_t instead.
  ipc::IpcStatus handle(const ipc::Request& request);
  // Runs the sessions' pending callbacks while the writer is idle; true when
  // any ran.
  bool dispatch();
  // Counts and logs handles the node evicted meanwhile, even while the
  // writer waits for room (no dispatch then tells).
  void notice_evictions();
  // The eventfds of the sessions that have something to dispatch (readable
  // while their queue is not empty), to sleep on.
  void add_poll_fds(std::vector<pollfd>& fds) const;
  // Every session closed: its finalize goes out (PROCDOWN for the others).
  void close_all();
  std::size_t size() const noexcept { return handles_.size() + quorum_.size(); }
  // Its last handle was finalized: the library opens a connection per
  // handle, so the connection is done once that reply is out.
  bool done() const noexcept { return finalized_last_; }

  // ---- credited mcasts (client_credit.cpp, docs/protocol.md "Credit")
  // A credited mcast the node refused with CS_ERR_TRY_AGAIN waits here, and
  // the connection takes no more requests until it went: the library
  // returned CS_OK for it, and what follows it must keep its place.
  bool holding() const noexcept { return held_.has_value(); }
  // Sends the held mcast again; true when it left (sent or refused for good).
  bool retry_held();
  // Writes the acks that are due while nothing waits aside; true when any went.
  bool write_acks();

 private:
  struct Handle {
    std::shared_ptr<client::Session> session;
    std::vector<std::byte> parts;  // leading bytes of the message its next mcast ends
    // Evicted, or its node left the ring: nothing more to dispatch.
    bool stopped = false;
    // Credited mcasts taken since its last ack.
    ipc::McastAck unacked;
    bool ack_urgent = false;      // a refusal, or holding changed: say it at once
    bool refusal_logged = false;  // one log line per handle
  };
  struct Held {
    std::uint64_t handle = 0;
    std::uint64_t request_id = 0;
    std::uint32_t guarantee = 0;
    std::vector<std::byte> bytes;  // its parts and its last bytes
  };
  Handle* find(std::uint64_t handle);
  // The error of a query's list reply: bad handle, evicted, or CS_OK.
  std::uint32_t queryable(std::uint64_t handle);
  cpg::Callbacks callbacks(std::uint64_t handle);
  client::Session::Sink sink(std::uint64_t handle);
  void reply(std::uint64_t request_id, cs_error_t error, std::uint64_t value = 0);
  void initialize(std::uint64_t request_id, const ipc::Initialize& m);
  void finalize(std::uint64_t request_id, const ipc::Finalize& m);
  ipc::IpcStatus mcast_part(const ipc::McastPart& m);
  void mcast(std::uint64_t request_id, const ipc::Mcast& m);
  ipc::IpcStatus mcast_credited(std::uint64_t request_id, const ipc::McastCredited& m);
  // A credited mcast left: sent, or refused for good with `error`.
  void settle(Handle& h, std::uint64_t request_id, std::uint64_t bytes, cs_error_t error);
  void grant(std::uint64_t handle);
  void forget_credit(Handle& h);
  void membership_get(std::uint64_t request_id, const ipc::MembershipGet& m);
  void iteration(std::uint64_t request_id, const ipc::Iteration& m);
  std::size_t iteration_entries_max() const noexcept;
  ipc::IpcStatus check_parts(const ipc::Request& request);
  bool dispatch_one(std::uint64_t id, Handle& h);
  // ---- quorum handles (client_quorum.cpp)
  client::QuorumHandle* find_quorum(std::uint64_t handle);
  void quorum_initialize(std::uint64_t request_id, const ipc::QuorumInitialize& m);
  void quorum_finalize(std::uint64_t request_id, const ipc::QuorumFinalize& m);
  void quorum_getquorate(std::uint64_t request_id, const ipc::QuorumGetquorate& m);
  void quorum_trackstart(std::uint64_t request_id, const ipc::QuorumTrackstart& m);
  void quorum_trackstop(std::uint64_t request_id, const ipc::QuorumTrackstop& m);
  // Writes the handle's queued notifications; with idle_only, one at a time
  // while nothing waits aside. True when any went out.
  bool forward_quorum(std::uint64_t id, client::QuorumHandle& q, bool idle_only);
  bool dispatch_quorum();
  void close_quorum();
  void stop_dispatching(std::uint64_t id, Handle& h, const cpg::Status& why);

  std::shared_ptr<client::Node> node_;
  EventWriter& writer_;
  ipc::QuotaLedger& ledger_;
  ServerCounters& counters_;
  pid_t pid_;
  std::map<std::uint64_t, Handle> handles_;
  // The same numbering as handles_ (next_handle_), never both.
  std::map<std::uint64_t, std::shared_ptr<client::QuorumHandle>> quorum_;
  std::uint64_t next_handle_ = 1;
  bool finalized_last_ = false;
  std::optional<Held> held_;
};

}  // namespace ringcast::daemon
