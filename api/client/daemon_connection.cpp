// Opening and closing a client-mode handle: the socket, hello and welcome,
// the poll set of cpg_fd_get(), initialize and finalize.
#include "client/daemon_connection.hpp"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.hpp"

namespace ringcast::client {

namespace {

std::atomic<std::uint64_t> g_fork_generation{0};

void bump_fork_generation() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

cpg::Status no_daemon(const DaemonAddress& a, const std::string& why) {
  const std::string line = "no ringcastd for node " + std::to_string(a.node) + " at " +
                           a.socket_path + " (" + why + "): start it with `ringcastd -f -c " +
                           a.config_file + "` or `systemctl start ringcastd`, or set " + kModeEnv +
                           "=embedded to make this program a ring member itself";
  log_line(LogLevel::warning, line);
  return cpg::Status(CS_ERR_LIBRARY, line);
}

// The daemon's refusal as a cs_error_t: a version mismatch, or the code its
// welcome carried ("... (cs_error_t N)").
cs_error_t refusal_code(const std::string& message) {
  if (message.find("protocol version mismatch") != std::string::npos) return CS_ERR_VERSION;
  const std::size_t at = message.find("cs_error_t ");
  if (at == std::string::npos) return CS_ERR_LIBRARY;
  const long code = std::strtol(message.c_str() + at + 11, nullptr, 10);
  return code > CS_OK && code <= CS_ERR_SECURITY ? static_cast<cs_error_t>(code) : CS_ERR_LIBRARY;
}

// The handshake waits at most this long for a daemon that accepted.
constexpr timeval kHandshakeTimeout{10, 0};

}  // namespace

std::uint64_t fork_generation() noexcept {
  static const int registered = ::pthread_atfork(nullptr, nullptr, bump_fork_generation);
  (void)registered;
  return g_fork_generation.load(std::memory_order_relaxed);
}

cpg::Result<std::shared_ptr<DaemonConnection>> DaemonConnection::connect(
    const DaemonAddress& address) {
  std::shared_ptr<DaemonConnection> c(new DaemonConnection());
  c->generation_ = fork_generation();
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (address.socket_path.size() >= sizeof sun.sun_path)
    return no_daemon(address, "the path is longer than a unix socket's");
  std::memcpy(sun.sun_path, address.socket_path.c_str(), address.socket_path.size() + 1);
  c->socket_ = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (c->socket_.get() < 0) return no_daemon(address, std::string("socket: ") + strerror(errno));
  if (::connect(c->socket_.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0)
    return no_daemon(address, std::string("connect: ") + strerror(errno));
  (void)::setsockopt(c->socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &kHandshakeTimeout,
                     sizeof kHandshakeTimeout);
  if (auto sent = ipc::send_hello(c->socket_.get(), ::getpid()); !sent.ok())
    return no_daemon(address, sent.error().message());
  auto channel = ipc::receive_welcome(c->socket_.get());
  if (!channel.ok()) {
    const std::string why = "ringcastd at " + address.socket_path +
                            " refused this program: " + channel.error().message();
    log_line(LogLevel::warning, why);
    return cpg::Status(channel.error().code == Errc::refused
                           ? refusal_code(channel.error().message())
                           : CS_ERR_LIBRARY,
                       why);
  }
  c->channel_ = std::move(*channel);
  if (cs_error_t e = c->make_poll_set(); e != CS_OK)
    return cpg::Status(e, "cannot create the handle's poll set");
  return c;
}

// The first request: its reply's value is the daemon's handle, which the
// reader takes (remote_handle_) before any event of it can arrive.
cs_error_t DaemonConnection::initialize(const ipc::RequestBody& body) {
  initialize_id_ = next_request_id_.load();
  return simple_call(body);
}

cpg::Result<std::shared_ptr<DaemonConnection>> DaemonConnection::open(
    const DaemonAddress& address, const DaemonCallbacks& callbacks) {
  auto c = connect(address);
  if (!c) return c.status();
  (*c)->callbacks_ = callbacks;
  (*c)->undispatched_max_bytes_ = address.undispatched_max_bytes;
  (*c)->spill_from_bytes_ = address.spill_from_bytes;
  const ipc::Initialize init{CPG_MODEL_V1, callbacks.initial_totem ? 1u : 0u};
  if (cs_error_t e = (*c)->initialize(init); e != CS_OK)
    return cpg::Status(e, "ringcastd refused initialize");
  return c;
}

cpg::Result<std::shared_ptr<DaemonConnection>> DaemonConnection::open_quorum(
    const DaemonAddress& address, const DaemonQuorumCallbacks& callbacks) {
  auto c = connect(address);
  if (!c) return c.status();
  (*c)->quorum_service_ = true;
  (*c)->quorum_callbacks_ = callbacks;
  const ipc::QuorumInitialize init{static_cast<std::uint32_t>(callbacks.model)};
  if (cs_error_t e = (*c)->initialize(init); e != CS_OK)
    return cpg::Status(e, "ringcastd refused quorum_initialize");
  return c;
}

cs_error_t DaemonConnection::make_poll_set() {
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  ready_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (epoll_.get() < 0 || ready_.get() < 0) return CS_ERR_NO_RESOURCES;
  const int fds[] = {channel_.event_bell->fd(), ready_.get(), socket_.get()};
  for (int fd : fds) {
    epoll_event ev{};
    ev.events = EPOLLIN | (fd == socket_.get() ? std::uint32_t{EPOLLRDHUP} : 0u);
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return CS_ERR_NO_RESOURCES;
  }
  return CS_OK;
}

DaemonConnection::~DaemonConnection() {
  for (void* b : buffers_)
    std::free(b);
}

cs_error_t DaemonConnection::usable() const noexcept {
  if (generation_ != fork_generation()) return CS_ERR_LIBRARY;
  if (finalized_.load(std::memory_order_acquire)) return CS_ERR_BAD_HANDLE;
  if (dead_.load(std::memory_order_acquire)) return CS_ERR_LIBRARY;
  return CS_OK;
}

cs_error_t DaemonConnection::finalize() {
  // A child's copy of a parent's handle: the daemon knows only the parent,
  // whose handle must stay open; the child closes its descriptors (the
  // destructor), and takes no lock another thread of the parent may have held.
  if (generation_ != fork_generation()) {
    finalized_.store(true, std::memory_order_release);
    return CS_OK;
  }
  if (!dead_.load(std::memory_order_acquire)) {
    finalizing_.store(true, std::memory_order_release);
    if (quorum_service_) {
      (void)simple_call(ipc::QuorumFinalize{remote_handle_});
    } else {
      (void)simple_call(ipc::Finalize{remote_handle_});
    }
  }
  finalized_.store(true, std::memory_order_release);
  {
    std::lock_guard lock(state_mutex_);
    set_ready_locked();  // a blocked dispatch in another thread returns
  }
  cv_.notify_all();
  return CS_OK;
}

std::uint64_t DaemonConnection::atomic_message_bytes() const noexcept {
  return channel_.welcome.atomic_message_bytes;
}

std::uint64_t DaemonConnection::largest_message_bytes() const noexcept {
  return channel_.welcome.largest_message_bytes;
}

cs_error_t DaemonConnection::zcb_alloc(std::size_t bytes, void** buffer) {
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t align = page > 0 ? static_cast<std::size_t>(page) : 4096;
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + align - 1) / align * align;
  void* b = std::aligned_alloc(align, rounded);
  if (b == nullptr) return CS_ERR_NO_MEMORY;
  std::lock_guard lock(zcb_mutex_);
  buffers_.insert(b);
  *buffer = b;
  return CS_OK;
}

bool DaemonConnection::owns_buffer(void* buffer) {
  std::lock_guard lock(zcb_mutex_);
  return buffers_.contains(buffer);
}

cs_error_t DaemonConnection::zcb_free(void* buffer) {
  std::lock_guard lock(zcb_mutex_);
  if (buffers_.erase(buffer) == 0) return CS_ERR_INVALID_PARAM;
  std::free(buffer);
  return CS_OK;
}

}  // namespace ringcast::client
