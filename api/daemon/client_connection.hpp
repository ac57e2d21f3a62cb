// One client of the daemon, on a thread of its own: the set-up over its
// unix socket (hello, its credentials against the cluster file's uidgid
// entries, welcome with its channel), then its requests and events until
// it goes.
//
// The thread busy-polls the request ring and the sessions while there is
// work (runtime::SpinPolicy's window, as the progress thread does) and
// then sleeps on the request doorbell (after announcing it in the ring, so
// a busy client writes no doorbell), the socket (a client that exits or
// crashes hangs it up), the sessions' eventfds (deliveries to write) and
// the server's stop. A client that broke the protocol (a malformed frame,
// an impossible ring cursor, data on the socket after hello) or a quota
// (requests in flight, wake-ups) is disconnected, with a bounded log line
// and a counter. Whenever the client goes, its sessions are closed: their
// finalizes go out, and the others see CPG_REASON_PROCDOWN. Once the client
// finalized its last handle and the reply is in its ring, the daemon hangs
// up (the library opens a connection per handle).
#pragma once

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "client/node.hpp"
#include "daemon/client_sessions.hpp"
#include "daemon/event_writer.hpp"
#include "daemon/server_counters.hpp"
#include "daemon/server_options.hpp"
#include "ipc/channel.hpp"
#include "ipc/peer_credentials.hpp"
#include "ipc/quota.hpp"

namespace ringcast::daemon {

class ServerLog;

class ClientConnection {
 public:
  struct Shared {
    std::shared_ptr<client::Node> node;
    const ServerOptions* options = nullptr;
    ServerCounters* counters = nullptr;
    ServerLog* log = nullptr;
    int stop_fd = -1;  // readable once the server stops
    const std::atomic<bool>* stopping = nullptr;
  };
  ClientConnection(UniqueFd socket, ipc::PeerCredentials peer, Shared shared)
      : socket_(std::move(socket)), peer_(peer), shared_(std::move(shared)) {}

  // On the connection's thread; returns once the client is gone.
  void run();
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  // A welcome that says no (error: a cs_error_t), without the channel.
  void refuse(std::uint32_t error);

 private:
  bool set_up();
  bool hello_arrived();
  void serve();
  bool round();
  bool take_requests();
  bool take(std::span<const std::byte> frame);
  bool deferrable(std::span<const std::byte> frame);
  // False: the connection ends. woken: it woke for something, not at its bound.
  bool sleep(bool& woken);
  bool socket_alive();
  void drop(std::atomic<std::uint64_t>& counter, const std::string& why);
  std::string who() const;

  UniqueFd socket_;
  ipc::PeerCredentials peer_;
  Shared shared_;
  std::optional<ipc::DaemonChannel> channel_;
  std::optional<ipc::QuotaLedger> ledger_;
  std::optional<EventWriter> writer_;
  std::optional<ClientSessions> sessions_;
  std::vector<std::byte> frame_;
  std::deque<std::vector<std::byte>> deferred_;  // requests behind a held mcast, in order
  std::vector<pollfd> poll_fds_;
  bool gone_ = false;  // hung up, dropped, or the server stops
  std::uint64_t last_socket_check_ns_ = 0;
  // How long a sleep lasts while a credited mcast is held: from 50 us,
  // doubling while the node keeps refusing it, to 5 ms.
  static constexpr std::uint64_t kMinHoldRetryNs = 50'000, kMaxHoldRetryNs = 5'000'000;
  std::uint64_t hold_retry_ns_ = kMinHoldRetryNs;
  std::atomic<bool> finished_{false};
};

}  // namespace ringcast::daemon
