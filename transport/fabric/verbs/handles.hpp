// RAII owners of verbs and rdma_cm objects. Internal to fabric/verbs: this
// header includes the verbs headers, so no public header may include it.
//
// Each owner releases exactly one object; a failing release (e.g. EBUSY when a
// dependent object still exists) is a bug in the destruction order and is
// logged, never ignored silently.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <cerrno>
#include <memory>

namespace ringcast::fabric::verbs {

void report_release_failure(const char* call, int rc) noexcept;

struct PdRelease {
  void operator()(ibv_pd* pd) const noexcept {
    if (int rc = ibv_dealloc_pd(pd)) report_release_failure("ibv_dealloc_pd", rc);
  }
};
struct CompChannelRelease {
  void operator()(ibv_comp_channel* ch) const noexcept {
    if (int rc = ibv_destroy_comp_channel(ch))
      report_release_failure("ibv_destroy_comp_channel", rc);
  }
};
struct CqRelease {
  void operator()(ibv_cq* cq) const noexcept {
    if (int rc = ibv_destroy_cq(cq)) report_release_failure("ibv_destroy_cq", rc);
  }
};
struct SrqRelease {
  void operator()(ibv_srq* srq) const noexcept {
    if (int rc = ibv_destroy_srq(srq)) report_release_failure("ibv_destroy_srq", rc);
  }
};
struct MrRelease {
  void operator()(ibv_mr* mr) const noexcept {
    if (int rc = ibv_dereg_mr(mr)) report_release_failure("ibv_dereg_mr", rc);
  }
};
struct EventChannelRelease {
  void operator()(rdma_event_channel* ch) const noexcept { rdma_destroy_event_channel(ch); }
};
// A cm_id together with the QP rdma_create_qp attached to it: the QP goes
// first, then the id (whose events must all have been acked by then).
struct CmIdRelease {
  void operator()(rdma_cm_id* id) const noexcept {
    if (id->qp) rdma_destroy_qp(id);
    if (rdma_destroy_id(id)) report_release_failure("rdma_destroy_id", errno);
  }
};
// rdma_cm's device list: holding it keeps rdma_cm's device contexts open (the
// list holds a reference on each), and only those contexts can carry QPs that
// rdma_cm connects (rdma_create_qp wants pd->context == cm_id->verbs).
struct DeviceListRelease {
  void operator()(ibv_context** list) const noexcept { rdma_free_devices(list); }
};

using PdHandle = std::unique_ptr<ibv_pd, PdRelease>;
using CompChannelHandle = std::unique_ptr<ibv_comp_channel, CompChannelRelease>;
using CqHandle = std::unique_ptr<ibv_cq, CqRelease>;
using SrqHandle = std::unique_ptr<ibv_srq, SrqRelease>;
using MrHandle = std::unique_ptr<ibv_mr, MrRelease>;
using EventChannelHandle = std::unique_ptr<rdma_event_channel, EventChannelRelease>;
using CmIdHandle = std::unique_ptr<rdma_cm_id, CmIdRelease>;
using DeviceListHandle = std::unique_ptr<ibv_context*, DeviceListRelease>;

// A cm event, acked when the owner goes away (rdma_destroy_id waits for
// every event of its id to be acked).
struct CmEventRelease {
  void operator()(rdma_cm_event* event) const noexcept { rdma_ack_cm_event(event); }
};
using CmEventHandle = std::unique_ptr<rdma_cm_event, CmEventRelease>;

}  // namespace ringcast::fabric::verbs
