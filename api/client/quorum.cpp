// The quorum C API (ringcast/quorum.h, <corosync/quorum.h>): each call finds
// its handle, checks the arguments C lets be wrong (NULL pointers, models,
// dispatch flags) and asks the node's QuorumTracker: the process's own node
// in embedded mode, the node's ringcastd in client mode (daemon_quorum.cpp;
// the mode chosen as for cpg_initialize, client_mode.hpp). The answers are
// the codes corosync's library gives for the same calls.
#include "ringcast/quorum.h"

#include <mutex>

#include "client/c_enum_args.hpp"
#include "client/client_mode.hpp"
#include "client/daemon_handles.hpp"
#include "client/daemon_quorum.hpp"
#include "client/node.hpp"
#include "client/quorum_handle.hpp"

using ringcast::client::checked_c_enum;
using ringcast::client::checked_dispatch_flags;
using ringcast::client::is_daemon_handle;
using ringcast::client::Node;
namespace daemon_quorum = ringcast::client::daemon_quorum;
using ringcast::client::QuorumHandle;
using ringcast::client::QuorumHandles;

extern "C" {

cs_error_t quorum_initialize(quorum_handle_t* handle, quorum_callbacks_t* callbacks,
                             uint32_t* quorum_type) {
  quorum_model_v0_data_t v0{};
  v0.model = QUORUM_MODEL_V0;
  if (callbacks != nullptr) v0.quorum_notify_fn = callbacks->quorum_notify_fn;
  return quorum_model_initialize(handle, QUORUM_MODEL_V0,
                                 reinterpret_cast<quorum_model_data_t*>(&v0), quorum_type, nullptr);
}

cs_error_t quorum_model_initialize(quorum_handle_t* handle, quorum_model_t model,
                                   quorum_model_data_t* model_data, uint32_t* quorum_type,
                                   void* context) {
  const auto checked = checked_c_enum(model, {QUORUM_MODEL_V0, QUORUM_MODEL_V1});
  if (!checked || handle == nullptr) return CS_ERR_INVALID_PARAM;
  auto mode = ringcast::client::choose_mode();
  if (!mode) return mode.status().code();
  if (*mode) {
    const cs_error_t e = daemon_quorum::open(**mode, *checked, model_data, context, handle);
    if (e == CS_OK && quorum_type != nullptr) *quorum_type = QUORUM_SET;
    return e;
  }
  auto node = Node::current();
  if (!node) return node.status().code();
  auto [error, h] = QuorumHandle::open(*node, *checked, model_data);
  if (error != CS_OK) return error;
  h->context = context;
  *handle = QuorumHandles::instance().add(std::move(h));
  // Votes always decide (the `quorum` section's defaults when it is absent).
  if (quorum_type != nullptr) *quorum_type = QUORUM_SET;
  return CS_OK;
}

cs_error_t quorum_finalize(quorum_handle_t handle) {
  if (is_daemon_handle(handle)) return daemon_quorum::finalize(handle);
  auto h = QuorumHandles::instance().remove(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  h->close();
  return CS_OK;
}

cs_error_t quorum_fd_get(quorum_handle_t handle, int* fd) {
  if (is_daemon_handle(handle)) return daemon_quorum::fd_get(handle, fd);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  if (fd == nullptr) return CS_ERR_INVALID_PARAM;
  *fd = h->fd();
  return CS_OK;
}

cs_error_t quorum_dispatch(quorum_handle_t handle, cs_dispatch_flags_t dispatch_types) {
  const auto mode = checked_dispatch_flags(dispatch_types);
  if (!mode) return CS_ERR_INVALID_PARAM;
  if (is_daemon_handle(handle)) return daemon_quorum::dispatch(handle, *mode);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  return h->dispatch(*mode);
}

cs_error_t quorum_getquorate(quorum_handle_t handle, int* quorate) {
  if (is_daemon_handle(handle)) return daemon_quorum::getquorate(handle, quorate);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  if (quorate == nullptr) return CS_ERR_INVALID_PARAM;
  *quorate = h->quorate() ? 1 : 0;
  return CS_OK;
}

cs_error_t quorum_trackstart(quorum_handle_t handle, unsigned int flags) {
  if (is_daemon_handle(handle)) return daemon_quorum::trackstart(handle, flags);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  return h->track(flags);
}

// CS_OK also when the handle was not tracking, as corosync answers.
cs_error_t quorum_trackstop(quorum_handle_t handle) {
  if (is_daemon_handle(handle)) return daemon_quorum::trackstop(handle);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  h->untrack();
  return CS_OK;
}

cs_error_t quorum_context_set(quorum_handle_t handle, const void* context) {
  if (is_daemon_handle(handle)) return daemon_quorum::context_set(handle, context);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  std::lock_guard lock(QuorumHandles::instance().context_mutex());
  h->context = context;
  return CS_OK;
}

cs_error_t quorum_context_get(quorum_handle_t handle, const void** context) {
  if (is_daemon_handle(handle)) return daemon_quorum::context_get(handle, context);
  auto h = QuorumHandles::instance().find(handle);
  if (!h) return CS_ERR_BAD_HANDLE;
  if (context == nullptr) return CS_ERR_INVALID_PARAM;
  std::lock_guard lock(QuorumHandles::instance().context_mutex());
  *context = h->context;
  return CS_OK;
}

}  // extern "C"
