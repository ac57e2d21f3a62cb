// Opening an endpoint and the plain accessors. Completions: completions.cpp;
// links: connector.cpp, listener.cpp, link.cpp.
#include "fabric/verbs/endpoint.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>

#include "base/log.hpp"
#include "fabric/verbs/endpoint_impl.hpp"
#include "fabric/verbs/link.hpp"
#include "fabric/verbs/memory_region.hpp"

namespace ringcast::fabric::verbs {
namespace {

Status check_options(const EndpointOptions& o) {
  if (o.srq_depth == 0 || o.max_links == 0) {
    return make_error(Errc::invalid_argument, "open endpoint",
                      "srq_depth and max_links must be > 0");
  }
  if (o.cq_depth <= o.srq_depth) {
    return make_error(Errc::invalid_argument, "open endpoint",
                      "cq_depth " + std::to_string(o.cq_depth) + " leaves no room for send " +
                          "completions beside srq_depth " + std::to_string(o.srq_depth));
  }
  return {};
}

Status make_non_blocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return system_error("fcntl", errno, "making the rdma_cm channel non-blocking");
  }
  return {};
}

// One descriptor that is readable when either the CQ raised an event or
// rdma_cm has news: what wait() sleeps on, and what wait_fd() hands out.
Result<UniqueFd> make_wait_set(int cq_fd, int cm_fd) {
  UniqueFd set(epoll_create1(EPOLL_CLOEXEC));
  if (set.get() < 0) return system_error("epoll_create1", errno);
  for (int fd : {cq_fd, cm_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(set.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      return system_error("epoll_ctl", errno, "adding the completion and rdma_cm channels");
    }
  }
  return set;
}

}  // namespace

VerbsEndpoint::Impl::Impl(const EndpointOptions& opts, Device dev, NumaPlacement placement,
                          PdHandle protection, CompletionQueue completions,
                          SharedReceiveQueue receives, EventChannelHandle cm, UniqueFd waits)
    : options(opts),
      device(std::move(dev)),
      numa(std::move(placement)),
      local_address(!opts.local_ip.empty() ? opts.local_ip : device.gid_address()),
      pd(std::move(protection)),
      cq(std::move(completions)),
      srq(std::move(receives)),
      cm_channel(std::move(cm)),
      wait_set(std::move(waits)),
      links_(opts.max_links),
      pending_(opts.max_links + kPollBatch),
      cq_reserved_(opts.srq_depth) {}

VerbsEndpoint::Impl::~Impl() {
  // A link holds a QP on our PD and CQ, and points back here.
  RC_ASSERT(links_.size() == 0);
}

Status VerbsEndpoint::Impl::can_attach(std::uint32_t sq_depth) const {
  if (links_.full()) {
    return make_error(Errc::too_big, "set up link",
                      "endpoint already has max_links = " + std::to_string(options.max_links));
  }
  if (std::uint64_t{cq_reserved_} + sq_depth > cq.depth()) {
    return make_error(Errc::too_big, "set up link",
                      "completion queue of " + std::to_string(cq.depth()) + " entries is full (" +
                          std::to_string(cq_reserved_) + " reserved); raise cq_depth");
  }
  return {};
}

void VerbsEndpoint::Impl::attach(VerbsLink& link, std::uint32_t qp_num,
                                 std::uint32_t sq_depth) noexcept {
  RC_ASSERT(can_attach(sq_depth).ok());
  links_.add(qp_num, &link);
  cq_reserved_ += sq_depth;
}

void VerbsEndpoint::Impl::detach(VerbsLink& link, std::uint32_t sq_depth) noexcept {
  links_.remove(&link);
  RC_ASSERT(cq_reserved_ >= sq_depth);
  cq_reserved_ -= sq_depth;
}

Result<std::unique_ptr<VerbsEndpoint>> VerbsEndpoint::open(const EndpointOptions& options) {
  RC_TRY(check_options(options));
  auto device = Device::open(options);
  if (!device) return device.error();
  ibv_context* context = device->context();
  PdHandle pd(ibv_alloc_pd(context));
  if (!pd) return system_error("ibv_alloc_pd", errno, device->name());
  auto cq = CompletionQueue::create(context, options.cq_depth);
  if (!cq) return cq.error();
  auto srq = SharedReceiveQueue::create(pd.get(), options.srq_depth);
  if (!srq) return srq.error();
  EventChannelHandle cm(rdma_create_event_channel());
  if (!cm) return system_error("rdma_create_event_channel", errno);
  RC_TRY(make_non_blocking(cm->fd));
  auto wait_set = make_wait_set(cq->fd(), cm->fd);
  if (!wait_set) return wait_set.error();
  NumaPlacement numa = NumaPlacement::discover(context->device);
  log_line(device->describe() + ": " + numa.description());
  auto impl =
      std::make_unique<Impl>(options, std::move(*device), std::move(numa), std::move(pd),
                             std::move(*cq), std::move(*srq), std::move(cm), std::move(*wait_set));
  return std::make_unique<VerbsEndpoint>(std::move(impl));
}

VerbsEndpoint::VerbsEndpoint(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
VerbsEndpoint::~VerbsEndpoint() = default;

NodeId VerbsEndpoint::node() const noexcept {
  return impl_->options.node;
}

Result<std::unique_ptr<MemoryRegion>> VerbsEndpoint::allocate(std::size_t bytes, Access access) {
  return VerbsMemoryRegion::allocate(impl_->pd.get(), impl_->numa, bytes, access);
}

Result<std::unique_ptr<MemoryRegion>> VerbsEndpoint::register_memory(std::span<std::byte> memory,
                                                                     Access access) {
  return VerbsMemoryRegion::register_memory(impl_->pd.get(), memory, access);
}

std::size_t VerbsEndpoint::poll(std::span<Completion> out) {
  return impl_->poll(out);
}
Status VerbsEndpoint::wait(std::uint64_t timeout_ns) {
  return impl_->wait(timeout_ns);
}
Result<bool> VerbsEndpoint::prepare_wait() {
  return impl_->prepare_wait();
}
int VerbsEndpoint::wait_fd() const noexcept {
  return impl_->wait_set.get();
}

std::uint64_t VerbsEndpoint::now_ns() const noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Every Link this endpoint hands out is a VerbsLink (connect, accept).
void VerbsEndpoint::disconnect(Link& link) noexcept {
  static_cast<VerbsLink&>(link).cut();
}

const std::string& VerbsEndpoint::device_name() const noexcept {
  return impl_->device.name();
}
std::uint8_t VerbsEndpoint::port_num() const noexcept {
  return impl_->device.port();
}
const std::string& VerbsEndpoint::local_address() const noexcept {
  return impl_->local_address;
}
const std::string& VerbsEndpoint::locality() const noexcept {
  return impl_->numa.description();
}

}  // namespace ringcast::fabric::verbs
