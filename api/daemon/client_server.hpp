// ringcastd's client server: the unix socket CPG programs of this node
// connect to (SOCK_SEQPACKET, <run_dir>/ringcastd-<nodeid>.sock), and a
// connection per client (client_connection.hpp), each served by a Session
// of the daemon's node. Access is decided by the client's credentials
// (SO_PEERCRED), not by the socket's mode (0666).
//
// The socket file is the daemon's: one left by a daemon that died is
// replaced (the node's lock already proves that no daemon of the node runs).
// stop() hangs up every client and removes the file.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "client/node.hpp"
#include "daemon/client_connection.hpp"
#include "daemon/server_counters.hpp"
#include "daemon/server_log.hpp"
#include "daemon/server_options.hpp"

namespace ringcast::daemon {

// Binds and listens on path (non-blocking, close-on-exec, mode 0666), after
// removing what is there.
Result<UniqueFd> listen_on(const std::string& path);

class ClientServer {
 public:
  static Result<std::unique_ptr<ClientServer>> start(std::shared_ptr<client::Node> node,
                                                     ServerOptions options);
  ~ClientServer();
  ClientServer(const ClientServer&) = delete;
  ClientServer& operator=(const ClientServer&) = delete;

  // Hangs up every client (their sessions closed) and stops listening.
  void stop();
  const ServerCounters& counters() const noexcept { return counters_; }
  const std::string& path() const noexcept { return options_.socket_path; }

 private:
  ClientServer(std::shared_ptr<client::Node> node, ServerOptions options, UniqueFd listener,
               UniqueFd stop_fd);
  void run();
  void accept_one();
  void reap(bool all);

  struct Client {
    std::unique_ptr<ClientConnection> connection;
    std::thread thread;
  };

  std::shared_ptr<client::Node> node_;
  ServerOptions options_;
  UniqueFd listener_;
  UniqueFd stop_fd_;  // an eventfd, written once by stop()
  std::atomic<bool> stopping_{false};
  ServerCounters counters_;
  ServerLog log_;
  std::list<Client> clients_;  // the listener's thread only
  std::thread thread_;
  std::once_flag stopped_;
};

}  // namespace ringcast::daemon
