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
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "client/node.hpp"
#include "client/quorum_handle.hpp"
#include "client/segment_pool.hpp"
#include "client/session.hpp"
#include "daemon/event_writer.hpp"
#include "daemon/server_counters.hpp"
#include "ipc/frame_codec.hpp"
#include "ipc/messages.hpp"
#include "ipc/quota.hpp"
#include "ipc/shared_segment.hpp"

namespace ringcast::daemon {

// Handles one connection may hold at once (the library opens a connection
// per handle; more is a client that leaks them).
inline constexpr std::size_t kMaxHandlesPerClient = 64;

class ServerLog;

class ClientSessions {
 public:
  // log: the node's receive log as the client maps it (empty: none); a
  // message of at least copy_below bytes lying whole in it is delivered by
  // reference (client_refs.cpp).
  ClientSessions(std::shared_ptr<client::Node> node, EventWriter& writer, ipc::QuotaLedger& ledger,
                 ServerCounters& counters, pid_t pid, std::span<const std::byte> log = {},
                 std::uint32_t copy_below = 0);
  ~ClientSessions();
  ClientSessions(const ClientSessions&) = delete;
  ClientSessions& operator=(const ClientSessions&) = delete;

  // What decode_request may let through for this client, for this frame.
  // With a zcb segment, a zero-copy request's offsets and sizes are checked
  // against it and the quota; without one they are not: it decodes, and is
  // answered CS_ERR_NOT_SUPPORTED rather than taken for malformed.
  ipc::RequestLimits limits(std::span<const std::byte> frame) const noexcept;
  // ---- zero copy (client_zero_copy.cpp)
  // Serves the zero-copy requests from the client's zcb segment (the
  // daemon's mapping of it, kept until the NIC read its last buffer);
  // ledger bounds the bytes of its live buffers. An error: nothing changed.
  cpg::Status enable_zero_copy(ipc::Mapping segment, ipc::QuotaLedger& ledger, ServerLog& log);
  // Replies to the zcb_mcasts whose buffer the NIC finished reading; true
  // when any went out.
  bool finish_zero_copy_sends();
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
  // the connection takes no more requests but releases until it went: the library
  // returned CS_OK for it, and what follows it must keep its place.
  // Or an mcast in fragments is on its way (start_large_send): the same
  // wait for the requests behind it.
  bool holding() const noexcept { return held_.has_value() || large_.has_value(); }
  // Replies to the mcast in fragments once it ended; true then.
  bool finish_large_send();
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
  void zcb_alloc(std::uint64_t request_id, const ipc::ZcbAlloc& m);
  void zcb_free(const ipc::ZcbFree& m);  // not answered
  void refuse_unanswered_free(const ipc::ZcbFree& m);
  // A refused request that gets no answer (a release, a zcb_free): a
  // bounded log line, the client's only trace of it.
  void log_unanswered_refusal(const char* source, std::uint64_t handle, const std::string& what);
  void zcb_mcast(std::uint64_t request_id, const ipc::ZcbMcast& m);
  // A zero-copy request refused for what the client named: counted, logged
  // (bounded), answered with the error when it expects an answer.
  void zcb_refuse(std::optional<std::uint64_t> request_id, const cpg::Status& why,
                  const char* what);
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
  // ---- deliveries by reference (client_refs.cpp)
  // The message's place in the log, when it goes by reference.
  std::optional<ipc::DeliverRef> reference(std::uint64_t handle, const std::byte* payload,
                                           std::size_t bytes) const noexcept;
  // A queued message's callback (the connection's thread).
  void deliver_queued(std::uint64_t handle, const cpg::Message& m);
  void release(const ipc::Release& m);
  // The handle goes (finalized, evicted, the client gone): its held bytes
  // leave the ledger (its pins went with its session).
  void drop_held(client::Session& session);

  std::shared_ptr<client::Node> node_;
  EventWriter& writer_;
  ipc::QuotaLedger& ledger_;
  ServerCounters& counters_;
  pid_t pid_;
  std::map<std::uint64_t, Handle> handles_;
  // The same numbering as handles_ (next_handle_), never both.
  std::map<std::uint64_t, std::shared_ptr<client::QuorumHandle>> quorum_;
  std::uint64_t next_handle_ = 1;
  std::span<const std::byte> log_;
  std::uint32_t copy_below_ = 0;
  LogLimiter refusal_log_;  // a client's refused releases and frees: bounded lines
  bool finalized_last_ = false;

  // The client's zero-copy buffers; null while it has no zcb segment.
  struct ZeroCopy {
    std::uint64_t segment_bytes = 0;
    std::unique_ptr<client::SegmentPool> pool;
    ipc::QuotaLedger* ledger = nullptr;
    ServerLog* log = nullptr;
    // Written by the ring's thread after a round ended sends of the pool;
    // shared with that callback, which may run once more after we are gone.
    std::shared_ptr<UniqueFd> done;
    struct Pending {
      std::uint64_t request_id = 0;
      std::uint64_t offset = 0;
      std::uint64_t length = 0;
    };
    std::vector<Pending> pending;  // zcb_mcasts answered once the NIC read them
  };
  std::unique_ptr<ZeroCopy> zcb_;
  std::optional<Held> held_;
  // An mcast in fragments (client_large_send.cpp): sent by a thread of
  // its own, which returns once it was put together, while the connection
  // goes on writing events (the deliveries its fragments may wait for) and
  // takes no requests, so that what follows keeps its place.
  void start_large_send(std::uint64_t request_id, Handle& h, cpg::Guarantee guarantee,
                        std::vector<std::byte> bytes);
  // The same for a zero-copy buffer above the atomic size: the NIC reads the
  // client's segment, so the reply waits for that read as any zcb_mcast's.
  void start_large_zero_copy_send(std::uint64_t request_id, Handle& h, cpg::Guarantee guarantee,
                                  const ipc::ZcbMcast& m);
  void end_zero_copy_send(std::uint64_t request_id, const ipc::ZcbMcast& m,
                          const cpg::Result<bool>& in_place);
  // Destroyed first: a connection that ends during the send waits for it
  // (the send holds the session). The result says whether the NIC reads the
  // bytes in place (a zero-copy buffer), or why the send failed.
  struct LargeSend {
    std::uint64_t request_id = 0;
    std::optional<ipc::ZcbMcast> zero_copy;
    std::future<cpg::Result<bool>> result;
  };
  std::optional<LargeSend> large_;
};

}  // namespace ringcast::daemon
