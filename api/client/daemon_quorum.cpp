// Client mode's side of the quorum C API (docs/api.md, "Embedded and client
// mode"): each handle a connection to the node's ringcastd, as a CPG
// handle is, answered from the daemon's quorum tracker.
#include "client/daemon_quorum.hpp"

#include <memory>
#include <mutex>

#include "client/daemon_handles.hpp"

namespace ringcast::client::daemon_quorum {

namespace {

std::shared_ptr<DaemonConnection> find(quorum_handle_t handle) {
  return DaemonHandles::quorum().find(handle);
}

// quorum_context_* are the only calls that touch the context: one lock for
// all handles, as embedded mode has.
std::mutex& context_mutex() {
  static std::mutex* m = new std::mutex();  // NOLINT: intentionally leaked
  return *m;
}

// The model argument alone picks the layout, as in corosync.
DaemonQuorumCallbacks callbacks_of(quorum_model_t model, const quorum_model_data_t* data) {
  DaemonQuorumCallbacks cb;
  cb.model = model;
  if (data != nullptr && model == QUORUM_MODEL_V0)
    cb.v0 = reinterpret_cast<const quorum_model_v0_data_t*>(data)->quorum_notify_fn;
  if (data != nullptr && model == QUORUM_MODEL_V1) {
    const auto* v1 = reinterpret_cast<const quorum_model_v1_data_t*>(data);
    cb.v1 = v1->quorum_notify_fn;
    cb.nodelist = v1->nodelist_notify_fn;
  }
  return cb;
}

}  // namespace

cs_error_t open(const DaemonAddress& address, quorum_model_t model,
                const quorum_model_data_t* model_data, void* context, quorum_handle_t* handle) {
  auto c = DaemonConnection::open_quorum(address, callbacks_of(model, model_data));
  if (!c) return c.status().code();
  (*c)->context = context;
  *handle = DaemonHandles::quorum().add(*c);
  return CS_OK;
}

cs_error_t finalize(quorum_handle_t handle) {
  auto c = DaemonHandles::quorum().remove(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  return c->finalize();
}

cs_error_t fd_get(quorum_handle_t handle, int* fd) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (fd == nullptr) return CS_ERR_INVALID_PARAM;
  *fd = c->fd();
  return CS_OK;
}

cs_error_t dispatch(quorum_handle_t handle, cs_dispatch_flags_t mode) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  return c->dispatch(mode);
}

cs_error_t getquorate(quorum_handle_t handle, int* quorate) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (quorate == nullptr) return CS_ERR_INVALID_PARAM;
  return c->getquorate(*quorate);
}

cs_error_t trackstart(quorum_handle_t handle, unsigned int flags) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  return c->track(flags);
}

cs_error_t trackstop(quorum_handle_t handle) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  return c->untrack();
}

cs_error_t context_set(quorum_handle_t handle, const void* context) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  std::lock_guard lock(context_mutex());
  c->context = const_cast<void*>(context);
  return CS_OK;
}

cs_error_t context_get(quorum_handle_t handle, const void** context) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (context == nullptr) return CS_ERR_INVALID_PARAM;
  std::lock_guard lock(context_mutex());
  *context = c->context;
  return CS_OK;
}

}  // namespace ringcast::client::daemon_quorum
