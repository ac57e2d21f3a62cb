// A handle's zero-copy buffers: the node's pool hands them out and records
// which handle asked, so that cpg_finalize takes back what the application
// still held (as corosync's finalize does) and a process that finalizes or
// exits with buffers allocated leaves nothing behind.
#include "client/node.hpp"
#include "client/session.hpp"

namespace ringcast::client {

cpg::Result<void*> Session::zcb_alloc(std::size_t bytes) {
  std::lock_guard lock(zcb_mutex_);
  if (zcb_closed_) return cpg::Status(CS_ERR_BAD_HANDLE, "the handle is finalized");
  return node_->zcb_alloc(bytes, id);
}

// Buffers with sends in flight are freed once the NIC has read them (the
// pool defers the free); the memory may then serve another handle, so a
// pointer kept past cpg_finalize must not be used.
void Session::free_buffers() {
  std::lock_guard lock(zcb_mutex_);
  zcb_closed_ = true;
  node_->zcb_free_owned(id);
}

}  // namespace ringcast::client
