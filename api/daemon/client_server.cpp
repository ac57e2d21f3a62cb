#include "daemon/client_server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/thread_name.hpp"
#include "ipc/peer_credentials.hpp"
#include "ringcast/cpg.h"

namespace ringcast::daemon {

std::string client_socket_path(const std::string& run_dir, std::uint32_t node) {
  return run_dir + "/ringcastd-" + std::to_string(node) + ".sock";
}

Result<UniqueFd> listen_on(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return make_error(Errc::invalid_argument, "bind", path + ": longer than a socket path may be");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return system_error("socket", errno, path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return system_error("unlink", errno, path);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return system_error("bind", errno, path);
  // Anyone may connect; the credentials decide (ipc::check_access).
  if (::chmod(path.c_str(), 0666) != 0) return system_error("chmod", errno, path);
  if (::listen(fd.get(), SOMAXCONN) != 0) return system_error("listen", errno, path);
  return fd;
}

Result<std::unique_ptr<ClientServer>> ClientServer::start(std::shared_ptr<client::Node> node,
                                                          ServerOptions options) {
  if (options.allow_own_user) options.access.uids.push_back(::getuid());
  auto listener = listen_on(options.socket_path);
  if (!listener) return listener.error();
  UniqueFd stop_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (stop_fd.get() < 0) return system_error("eventfd", errno, "the client server's stop");
  std::unique_ptr<ClientServer> s(new ClientServer(std::move(node), std::move(options),
                                                   std::move(*listener), std::move(stop_fd)));
  s->thread_ = std::thread([p = s.get()] {
    name_this_thread("rc-clients");
    p->run();
  });
  return s;
}

ClientServer::ClientServer(std::shared_ptr<client::Node> node, ServerOptions options,
                           UniqueFd listener, UniqueFd stop_fd)
    : node_(std::move(node)),
      options_(std::move(options)),
      listener_(std::move(listener)),
      stop_fd_(std::move(stop_fd)) {}

ClientServer::~ClientServer() {
  stop();
}

void ClientServer::stop() {
  std::call_once(stopped_, [this] {
    stopping_.store(true);
    const eventfd_t one = 1;
    (void)::write(stop_fd_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    listener_.reset();
    ::unlink(options_.socket_path.c_str());
  });
}

void ClientServer::reap(bool all) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (all || it->connection->finished()) {
      if (it->thread.joinable()) it->thread.join();
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}

void ClientServer::accept_one() {
  UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (fd.get() < 0) return;  // EAGAIN, or a client that went before it was taken
  auto peer = ipc::peer_credentials(fd.get());
  if (!peer) return;
  ClientConnection::Shared shared{node_, &options_, &counters_, &log_, stop_fd_.get(), &stopping_};
  if (clients_.size() >= options_.max_clients) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    log_.line(LogLevel::warning, "clients",
              "client pid " + std::to_string(peer->pid) +
                  " refused: " + std::to_string(clients_.size()) + " clients already");
    // No thread for it: the welcome may reach it before its hello is read.
    auto c = std::make_unique<ClientConnection>(std::move(fd), *peer, shared);
    c->refuse(CS_ERR_NO_RESOURCES);
    return;
  }
  Client& c = clients_.emplace_back();
  c.connection = std::make_unique<ClientConnection>(std::move(fd), *peer, std::move(shared));
  c.thread = std::thread([p = c.connection.get()] {
    name_this_thread("rc-client");
    p->run();
  });
}

void ClientServer::run() {
  while (!stopping_.load()) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    const int n = ::poll(p, 2, 1000);
    reap(false);
    // The zcb pools of clients gone with sends in flight, once the NIC read them.
    (void)node_->reap_pools();
    if (n > 0 && p[1].revents != 0) break;
    if (n > 0 && (p[0].revents & POLLIN) != 0) accept_one();
  }
  reap(true);
}

}  // namespace ringcast::daemon
