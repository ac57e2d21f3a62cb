#include "client/quorum_handle.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "client/node.hpp"

namespace ringcast::client {

QuorumHandle::QuorumHandle(std::shared_ptr<Node> node, quorum_model_t model, int event_fd)
    : node_(std::move(node)), model_(model), event_fd_(event_fd) {}

std::pair<cs_error_t, std::shared_ptr<QuorumHandle>> QuorumHandle::open(
    std::shared_ptr<Node> node, quorum_model_t model, const quorum_model_data_t* model_data) {
  // As a CPG handle: the first answer is given in the ring the node settles in.
  node->wait_settled();
  node->quorum().seed(node->ring_event());
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return {CS_ERR_NO_RESOURCES, nullptr};
  std::shared_ptr<QuorumHandle> h(new QuorumHandle(std::move(node), model, fd));
  // The model argument alone picks the layout, as in corosync (the data's
  // own model field is not read).
  if (model_data != nullptr && model == QUORUM_MODEL_V0)
    h->v0_ = *reinterpret_cast<const quorum_model_v0_data_t*>(model_data);
  if (model_data != nullptr && model == QUORUM_MODEL_V1)
    h->v1_ = *reinterpret_cast<const quorum_model_v1_data_t*>(model_data);
  return {CS_OK, std::move(h)};
}

QuorumHandle::~QuorumHandle() {
  close();
  if (event_fd_ >= 0) ::close(event_fd_);
}

void QuorumHandle::close() {
  node_->quorum().untrack(*this);  // first: the tracker pushes with its lock held
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  pending_.clear();
  set_readable_locked(true);  // a blocked dispatcher wakes and sees closed_
}

bool QuorumHandle::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool QuorumHandle::quorate() const {
  return node_->quorum().quorate();
}

cs_error_t QuorumHandle::track(unsigned int flags) {
  return node_->quorum().track(*this, flags);
}

void QuorumHandle::untrack() {
  node_->quorum().untrack(*this);
}

void QuorumHandle::set_readable_locked(bool readable) {
  if (readable == readable_) return;
  if (readable) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  } else {
    std::uint64_t value = 0;
    [[maybe_unused]] ssize_t n = ::read(event_fd_, &value, sizeof value);
  }
  readable_ = readable;
}

// A V1 handle gets the node list first, then the quorum state, as corosync
// sends them; a V0 handle only the quorum state.
void QuorumHandle::push(std::shared_ptr<const QuorumView> view) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (model_ == QUORUM_MODEL_V1) pending_.push_back({true, view});
  pending_.push_back({false, std::move(view)});
  set_readable_locked(true);
}

bool QuorumHandle::run_one() {
  std::lock_guard serial(dispatch_mutex_);
  Pending p;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || pending_.empty()) {
      if (!closed_) set_readable_locked(false);
      return false;
    }
    p = std::move(pending_.front());
    pending_.pop_front();
    if (pending_.empty()) set_readable_locked(false);
  }
  run_callback(p);
  return true;
}

std::shared_ptr<const QuorumView> QuorumHandle::take_view() {
  std::lock_guard lock(mutex_);
  if (closed_ || pending_.empty()) {
    if (!closed_) set_readable_locked(false);
    return nullptr;
  }
  std::shared_ptr<const QuorumView> view = std::move(pending_.front().view);
  pending_.pop_front();
  if (pending_.empty()) set_readable_locked(false);
  return view;
}

void QuorumHandle::run_callback(const Pending& p) {
  const QuorumView& v = *p.view;
  const RingEvent& r = v.ring;
  const auto n = static_cast<uint32_t>(r.nodes.size());
  const quorum_ring_id id{r.representative, r.seq};
  if (model_ == QUORUM_MODEL_V0) {
    if (v0_.quorum_notify_fn == nullptr) return;
    std::vector<uint32_t> nodes = r.nodes;  // the callback's list is not const
    v0_.quorum_notify_fn(handle, v.quorate ? 1 : 0, r.seq, n, nodes.data());
    return;
  }
  if (!p.nodelist) {
    if (v1_.quorum_notify_fn != nullptr)
      v1_.quorum_notify_fn(handle, v.quorate ? 1 : 0, id, n, r.nodes.data());
    return;
  }
  if (v1_.nodelist_notify_fn == nullptr) return;
  v1_.nodelist_notify_fn(handle, id, n, r.nodes.data(), static_cast<uint32_t>(v.joined.size()),
                         v.joined.data(), static_cast<uint32_t>(v.left.size()), v.left.data());
}

// Waits until the eventfd is readable; false once the handle is finalized.
bool QuorumHandle::wait_readable() {
  for (;;) {
    if (closed()) return false;
    pollfd p{event_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, -1);
    if (n > 0) return !closed();
    if (n < 0 && errno != EINTR) return false;
  }
}

cs_error_t QuorumHandle::dispatch(cs_dispatch_flags_t mode) {
  switch (mode) {
    case CS_DISPATCH_ONE_NONBLOCKING:
      return run_one() ? CS_OK : CS_ERR_TRY_AGAIN;
    case CS_DISPATCH_ALL:
      while (run_one()) {
      }
      return CS_OK;
    case CS_DISPATCH_ONE:
      while (!run_one()) {
        if (!wait_readable()) return CS_OK;
      }
      return CS_OK;
    case CS_DISPATCH_BLOCKING:
      for (;;) {
        while (run_one()) {
        }
        if (!wait_readable()) return CS_OK;
      }
  }
  return CS_ERR_INVALID_PARAM;
}

QuorumHandles& QuorumHandles::instance() {
  // Never destroyed: handles may be used from atexit handlers and threads
  // that outlive main's statics.
  static QuorumHandles* table = new QuorumHandles();  // NOLINT: intentionally leaked
  return *table;
}

}  // namespace ringcast::client
