#include "fabric/verbs/link.hpp"

#include <arpa/inet.h>

#include "base/log.hpp"
#include "fabric/verbs/socket_address.hpp"

namespace ringcast::fabric::verbs {
namespace {

// The largest message an RC QP may carry (InfiniBand: 2^31 bytes).
constexpr std::uint64_t kMaxMessageBytes = std::uint64_t{1} << 31;

}  // namespace

VerbsLink::VerbsLink(VerbsEndpoint::Impl& endpoint, CmIdHandle id, const ConnectInfo& peer,
                     std::uint32_t sq_depth, std::uint32_t max_inline)
    : endpoint_(endpoint),
      id_(std::move(id)),
      peer_(peer),
      sq_(sq_depth),
      max_inline_(max_inline),
      description_("link to node " + std::to_string(peer.node) + " at " +
                   address_text(rdma_get_peer_addr(id_.get()))),
      wrs_(sq_.max_chain()),
      sges_(sq_.max_chain() * kMaxSegments) {
  RC_ASSERT(id_->qp != nullptr);
  id_->context = this;  // rdma_cm events of this id find their link
  endpoint_.attach(*this, id_->qp->qp_num, sq_.depth());
}

VerbsLink::~VerbsLink() {
  endpoint_.detach(*this, sq_.depth());
  // Tell the peer now rather than let it find out by a timeout.
  if (!disconnected_) rdma_disconnect(id_.get());
}

Status VerbsLink::check(const WriteOp& op, std::size_t index) const {
  const auto where = [&] {
    return "write " + std::to_string(index) + " (wr_id " + std::to_string(op.wr_id) + ") on " +
           description_ + ": ";
  };
  if (op.segment_count > kMaxSegments) {
    return make_error(Errc::invalid_argument, "post", where() + "too many segments");
  }
  std::uint64_t length = 0;
  for (std::size_t s = 0; s < op.segment_count; ++s) {
    const Segment& seg = op.segments[s];
    if (seg.region == nullptr || seg.offset > seg.region->size() ||
        seg.length > seg.region->size() - seg.offset) {
      return make_error(Errc::invalid_argument, "post",
                        where() + "segment " + std::to_string(s) + " is outside its region");
    }
    length += seg.length;
  }
  if (length > kMaxMessageBytes) {
    return make_error(Errc::invalid_argument, "post", where() + "longer than 2 GiB");
  }
  if (op.remote_region >= peer_.region_count) {
    return make_error(Errc::invalid_argument, "post",
                      where() + "the peer has no region " + std::to_string(op.remote_region));
  }
  const RemoteRegion& region = peer_.regions[op.remote_region];
  if (!region.contains(op.remote_offset, length)) {
    return make_error(Errc::invalid_argument, "post",
                      where() + std::to_string(length) + " bytes at offset " +
                          std::to_string(op.remote_offset) + " do not fit the peer's region " +
                          std::to_string(op.remote_region) + " of " +
                          std::to_string(region.length) + " bytes");
  }
  return {};
}

void VerbsLink::fill(const WriteOp& op, SendQueueAccounting::Posted slot, ibv_send_wr& wr,
                     ibv_sge* sges) const noexcept {
  wr = ibv_send_wr{};
  wr.wr_id = slot.seq;
  std::uint32_t length = 0;
  int used = 0;
  for (std::size_t s = 0; s < op.segment_count; ++s) {
    const Segment& seg = op.segments[s];
    // An SGE of length 0 means 2 GiB to some providers: leave empty ones out.
    if (seg.length == 0) continue;
    sges[used++] = {reinterpret_cast<std::uint64_t>(seg.region->data() + seg.offset), seg.length,
                    seg.region->lkey()};
    length += seg.length;
  }
  wr.sg_list = sges;
  wr.num_sge = used;
  wr.opcode = op.with_imm ? IBV_WR_RDMA_WRITE_WITH_IMM : IBV_WR_RDMA_WRITE;
  if (op.with_imm) wr.imm_data = htonl(op.imm);  // big-endian on the wire
  if (slot.signal) wr.send_flags |= IBV_SEND_SIGNALED;
  if (length > 0 && length <= max_inline_) wr.send_flags |= IBV_SEND_INLINE;
  const RemoteRegion& region = peer_.regions[op.remote_region];
  wr.wr.rdma.remote_addr = region.addr + op.remote_offset;
  wr.wr.rdma.rkey = region.rkey;
}

Status VerbsLink::post(std::span<const WriteOp> chain) {
  if (failed_) return make_error(Errc::link_failed, "post", description_ + " has failed");
  if (chain.empty()) return {};
  if (chain.size() > sq_.max_chain()) {
    return make_error(Errc::invalid_argument, "post",
                      "chain of " + std::to_string(chain.size()) + " writes; at most " +
                          std::to_string(sq_.max_chain()) + " (half the send queue) per post");
  }
  if (chain.size() > sq_.free_slots()) return make_error(Errc::try_again, "post");
  // Every write is checked before any is posted: a chain goes whole or not.
  for (std::size_t i = 0; i < chain.size(); ++i)
    RC_TRY(check(chain[i], i));
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto slot = sq_.push(chain[i].wr_id, chain[i].signaled);
    fill(chain[i], slot, wrs_[i], &sges_[i * kMaxSegments]);
    wrs_[i].next = i + 1 < chain.size() ? &wrs_[i + 1] : nullptr;
  }
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(id_->qp, wrs_.data(), &bad)) {
    // The QP refused work: it is in error or we broke its limits. Either way
    // its accounting no longer matches, so the link is done.
    fail();
    return system_error("ibv_post_send", rc, description_ + ": link marked failed");
  }
  return {};
}

bool VerbsLink::on_send_completion(const ibv_wc& wc, Completion& out) noexcept {
  const auto retired = sq_.complete(wc.wr_id);
  if (!retired) return false;
  if (wc.status == IBV_WC_SUCCESS) {
    if (!retired->caller_signaled) return false;
    out = Completion{};
    out.type = CompletionType::write_done;
    out.peer = peer_.node;
    out.wr_id = retired->wr_id;
    return true;
  }
  if (!failed_) {
    log_line(description_ + ": write failed: " + ibv_wc_status_str(wc.status) + " (status " +
             std::to_string(wc.status) + ", vendor error " + std::to_string(wc.vendor_err) +
             ", wr_id " + std::to_string(retired->wr_id) + ")");
    fail();
  }
  out = Completion{};
  out.type = CompletionType::write_failed;
  out.peer = peer_.node;
  out.wr_id = retired->wr_id;
  out.status = wc.status;
  out.status_text = ibv_wc_status_str(wc.status);
  return true;
}

bool VerbsLink::on_down(const char* why, Completion& out) noexcept {
  fail();
  if (down_reported_) return false;
  down_reported_ = true;
  out = Completion{};
  out.type = CompletionType::link_down;
  out.peer = peer_.node;
  out.status_text = why;
  return true;
}

void VerbsLink::fail() noexcept {
  failed_ = true;
  if (!disconnected_) {
    // Moves the QP to error (flushing what is queued) and tells the peer.
    rdma_disconnect(id_.get());
    disconnected_ = true;
  }
}

}  // namespace ringcast::fabric::verbs
