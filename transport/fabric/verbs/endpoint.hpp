// The verbs backend of the fabric: one VerbsEndpoint per process, over
// libibverbs + librdmacm, on a real NIC (InfiniBand, RoCE) or soft-RoCE (rxe).
//
//   auto ep = VerbsEndpoint::open({.node = 1, .device = "rxe0"});
//   auto log = (*ep)->allocate(1 << 20, Access::remote_write);
//   LinkOptions opts{.ours = info_with((*log)->remote())};
//   auto listener = (*ep)->listen("10.99.0.1", 0, opts);     // one side
//   auto link = (*listener)->accept(timeout_ns);
//   auto link = (*ep)->connect("", "10.99.0.1", port, opts);  // the other side
//   link->post(chain); ... ep->poll(completions) / ep->wait(timeout_ns)
//
// Threading: an endpoint and everything made from it (links, listeners,
// regions) is used from one thread. Links and listeners must be destroyed
// before their endpoint; regions before the endpoint too.
//
// This header does not include verbs or rdma_cm headers: what needs them
// lives behind the pimpl.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/connect_info.hpp"
#include "fabric/fabric.hpp"

namespace ringcast::fabric::verbs {

struct EndpointOptions {
  NodeId node = 0;
  // Which device: by name ("rxe0", "mlx5_0") or by a local IP address that an
  // RDMA device serves (rdma_cm finds it). With both, they must agree.
  std::string device;
  std::string local_ip;
  std::uint8_t port = 0;  // 0: the port serving local_ip, else 1
  // RoCE: a GID index to check (-1: none). Its IPv4 address, if it has one,
  // becomes the default local address of connect() and listen().
  int gid_index = -1;
  std::uint32_t cq_depth = 8192;   // holds srq_depth + sq_depth of every link
  std::uint32_t srq_depth = 1024;  // receives for immediates, shared by all links
  std::uint32_t max_links = 64;
};

// Vets the peer's ConnectInfo once it decoded cleanly (magic, checksum,
// version). Return an error (Errc::refused) to refuse the connection; its
// message is the reason the peer is given.
using PeerCheck = std::function<Status(const ConnectInfo& peer)>;
// Listener only: vets the address a request came from (as inet_ntop writes
// it, without the port) against the node the peer claims, before `check`.
using PeerAddressCheck = std::function<Status(const ConnectInfo& peer, std::string_view address)>;

struct LinkOptions {
  ConnectInfo ours;                // what the peer learns: our node, the regions it may write
  PeerCheck check;                 // optional
  PeerAddressCheck address_check;  // optional; listen() only
  // The link key (fabric/auth): with one, set-up is the challenge-response
  // handshake of fabric/auth/handshake.hpp and the peer must hold the same
  // key; empty, both sides must be empty too and nothing is authenticated.
  auth::AuthKey key;
  std::uint32_t sq_depth = 256;              // writes in flight; chains up to half of it
  std::uint32_t max_inline_bytes = 256;      // asked for; Link::max_inline_bytes() is granted
  std::uint64_t timeout_ns = 5'000'000'000;  // set-up (resolve, connect, accept)
  // Set-up on another thread than the one that polls the endpoint: takes
  // the lock which that thread holds around poll() and prepare_wait(); held
  // around the set-up steps that touch the endpoint's shared state (creating
  // the QP on its CQ and SRQ, attaching the link), never while waiting for
  // the peer. Whoever destroys a link must hold it too. Empty: one thread.
  std::function<std::unique_lock<std::mutex>()> endpoint_lock;
};

class Listener;

class VerbsEndpoint final : public Endpoint {
 public:
  struct Impl;

  // Errc::not_found (no such device/port/GID, no device at all),
  // Errc::port_down, Errc::invalid_argument, Errc::system.
  static Result<std::unique_ptr<VerbsEndpoint>> open(const EndpointOptions& options);
  ~VerbsEndpoint() override;
  VerbsEndpoint(const VerbsEndpoint&) = delete;
  VerbsEndpoint& operator=(const VerbsEndpoint&) = delete;

  // fabric::Endpoint
  NodeId node() const noexcept override;
  Result<std::unique_ptr<MemoryRegion>> allocate(std::size_t bytes, Access access) override;
  Result<std::unique_ptr<MemoryRegion>> register_memory(std::span<std::byte> memory,
                                                        Access access) override;
  std::size_t poll(std::span<Completion> out) override;
  std::uint64_t now_ns() const noexcept override;  // CLOCK_MONOTONIC

  // Blocks until completions may be ready (then poll()) or timeout_ns passed
  // (Errc::timeout). Returns at once when something is already pending.
  Status wait(std::uint64_t timeout_ns);
  // For callers that multiplex: if prepare_wait() says false, sleep until
  // wait_fd() is readable, then poll(); if true, poll() now.
  Result<bool> prepare_wait();
  int wait_fd() const noexcept;

  // Listens on ip:port (port 0: rdma_cm picks one, see Listener::port()).
  // An empty ip means local_address().
  Result<std::unique_ptr<Listener>> listen(std::string_view ip, std::uint16_t port,
                                           LinkOptions options);
  // Connects to a listener. An empty local_ip means local_address(), or
  // whatever rdma_cm routes from when that is empty too.
  // Errc::unreachable (no route, nobody listening), Errc::refused (the peer
  // refused us, or we refused the peer's data or key proof), Errc::timeout.
  // With a key this takes two connect requests (hello, proof), and starts
  // over (at most 3 times) when the listener calls the challenge stale.
  Result<std::unique_ptr<Link>> connect(std::string_view local_ip, std::string_view remote_ip,
                                        std::uint16_t port, LinkOptions options);

  // Cuts a link made by this endpoint (fencing, or making way for a peer's
  // new connection): its QP goes to error and the peer is told; both ends
  // then report it down (link_down, write_failed). The object stays until
  // its owner destroys it. Idempotent.
  void disconnect(Link& link) noexcept;

  const std::string& device_name() const noexcept;
  std::uint8_t port_num() const noexcept;
  // options.local_ip, else the IPv4 of options.gid_index, else "".
  const std::string& local_address() const noexcept;
  // The NUMA locality line logged at open.
  const std::string& locality() const noexcept;

  // Only open() can make an Impl.
  explicit VerbsEndpoint(std::unique_ptr<Impl> impl) noexcept;

 private:
  std::unique_ptr<Impl> impl_;
};

// Accepts links on one address. Requests are validated (the handshake with
// LinkOptions::key, the peer's ConnectInfo, then LinkOptions::check) and
// refused with a reason, which is also logged (log.hpp) with the peer's
// address. A hello is answered with a challenge inside accept(), which then
// goes on waiting for the proof.
class Listener {
 public:
  struct Impl;
  explicit Listener(std::unique_ptr<Impl> impl) noexcept;
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Waits up to timeout_ns for one connection request and sets the link up.
  // Errc::timeout when none came; Errc::refused when the request was refused
  // (the reason names what was wrong); call again for the next one.
  Result<std::unique_ptr<Link>> accept(std::uint64_t timeout_ns);
  std::uint16_t port() const noexcept;
  const std::string& address() const noexcept;
  // Readable when a request is waiting (for callers that multiplex), except
  // for requests already read while accept() set another one up: see
  // pending().
  int fd() const noexcept;
  // Requests read from the channel and not accepted yet: accept() takes
  // them without waiting (the fd does not show them).
  bool pending() const noexcept;

 private:
  std::unique_ptr<Impl> impl_;
};

// Names of the RDMA devices present ("rxe0"). Opens nothing: safe to call
// before fork(), unlike everything else here.
std::vector<std::string> rdma_device_names();

// IPv4 addresses of this host served by an RDMA device (by `device` when not
// empty), in interface order. Empty when there is no device.
std::vector<std::string> rdma_ipv4_addresses(std::string_view device = {});

}  // namespace ringcast::fabric::verbs
