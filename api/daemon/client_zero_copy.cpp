// A client's zero-copy requests (zcb_alloc, zcb_free, zcb_mcast): buffers in
// its zcb segment (client::SegmentPool), sent by the NIC from the client's
// own pages. A zcb_mcast is answered as cpg_zcb_mcast_joined returns in
// embedded mode: at once when the bytes were copied (below the copy
// crossover), else once the NIC read the buffer, so the client may write
// into it again when the reply comes. The reply's value says how many bytes
// the NIC read in place (the library's counters).
#include <sys/eventfd.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "daemon/client_sessions.hpp"
#include "daemon/server_log.hpp"

namespace ringcast::daemon {

cpg::Status ClientSessions::enable_zero_copy(ipc::Mapping segment, ipc::QuotaLedger& ledger,
                                             ServerLog& log) {
  auto z = std::make_unique<ZeroCopy>();
  z->done = std::make_shared<UniqueFd>(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (z->done->get() < 0) return cpg::Status(CS_ERR_NO_RESOURCES, "eventfd failed");
  auto mapping = std::make_shared<ipc::Mapping>(std::move(segment));
  const std::span<std::byte> bytes = mapping->bytes();
  auto on_done = [fd = z->done] {
    const std::uint64_t one = 1;
    (void)!::write(fd->get(), &one, sizeof one);
  };
  auto pool = client::SegmentPool::create(node_, bytes, std::move(mapping), std::move(on_done));
  if (!pool) return pool.status();
  z->segment_bytes = bytes.size();
  z->pool = std::move(*pool);
  z->ledger = &ledger;
  z->log = &log;
  zcb_ = std::move(z);
  return {};
}

void ClientSessions::zcb_refuse(std::optional<std::uint64_t> request_id, const cpg::Status& why,
                                const char* what) {
  counters_.zcb_refused.fetch_add(1, std::memory_order_relaxed);
  zcb_->log->line(LogLevel::warning, "zcb",
                  "client pid " + std::to_string(pid_) + " " + what + ": " + why.message());
  if (request_id) reply(*request_id, why.code());
}

void ClientSessions::zcb_alloc(std::uint64_t request_id, const ipc::ZcbAlloc& m) {
  if (!zcb_) return reply(request_id, CS_ERR_NOT_SUPPORTED);
  if (find(m.handle) == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  const ipc::QuotaLedger& ledger = *zcb_->ledger;
  if (m.bytes > ledger.quota().max_zcb_bytes - ledger.zcb_bytes()) {  // before registering it
    return zcb_refuse(
        request_id,
        cpg::Status(CS_ERR_NO_MEMORY, std::to_string(m.bytes) + " bytes asked, " +
                                          std::to_string(ledger.zcb_bytes()) + " held, at most " +
                                          std::to_string(ledger.quota().max_zcb_bytes)),
        "zcb_alloc beyond its quota");
  }
  auto b = zcb_->pool->alloc(m.bytes);
  if (!b) return reply(request_id, b.status().code());
  if (auto charged = zcb_->ledger->charge_zcb(b->capacity); !charged) {
    (void)zcb_->pool->free(b->offset);
    return zcb_refuse(request_id, cpg::Status(CS_ERR_NO_MEMORY, charged.error().message),
                      "zcb_alloc beyond its quota");
  }
  reply(request_id, CS_OK, b->offset);
}

// Not answered: the library checked the buffer against its own list of live
// ones, so a refusal here is a library that does not follow the protocol,
// logged and counted but not answered.
void ClientSessions::zcb_free(const ipc::ZcbFree& m) {
  if (!zcb_ || find(m.handle) == nullptr) return refuse_unanswered_free(m);
  auto freed = zcb_->pool->free(m.offset);
  if (!freed) return zcb_refuse(std::nullopt, freed.status(), "zcb_free");
  zcb_->ledger->refund_zcb(*freed);
}

void ClientSessions::refuse_unanswered_free(const ipc::ZcbFree& m) {
  counters_.zcb_refused.fetch_add(1, std::memory_order_relaxed);
  log_unanswered_refusal(
      "zcb_free", m.handle,
      std::string("zcb_free refused (") + (zcb_ ? "no such handle" : "no zcb segment") + ")");
}

void ClientSessions::zcb_mcast(std::uint64_t request_id, const ipc::ZcbMcast& m) {
  if (!zcb_) return reply(request_id, CS_ERR_NOT_SUPPORTED);
  Handle* h = find(m.handle);
  if (h == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  const auto guarantee = static_cast<cpg::Guarantee>(m.guarantee);
  // In fragments it may wait for log space that only the deliveries this
  // connection writes can free: not on the connection's thread.
  if (m.length > node_->max_message_bytes())
    return start_large_zero_copy_send(request_id, *h, guarantee, m);
  end_zero_copy_send(request_id, m, zcb_->pool->send(*h->session, guarantee, m.offset, m.length));
}

void ClientSessions::end_zero_copy_send(std::uint64_t request_id, const ipc::ZcbMcast& m,
                                        const cpg::Result<bool>& in_place) {
  if (!in_place) {
    if (in_place.status().code() == CS_ERR_INVALID_PARAM)
      return zcb_refuse(request_id, in_place.status(), "zcb_mcast");
    return reply(request_id, in_place.status().code());
  }
  if (!*in_place) return reply(request_id, CS_OK, 0);
  zcb_->pending.push_back({request_id, m.offset, m.length});
  (void)finish_zero_copy_sends();  // the NIC may have read it already
}

bool ClientSessions::finish_zero_copy_sends() {
  if (!zcb_ || zcb_->pending.empty()) return false;
  std::uint64_t rings = 0;
  (void)!::read(zcb_->done->get(), &rings, sizeof rings);
  const std::size_t before = zcb_->pending.size();
  std::erase_if(zcb_->pending, [&](const ZeroCopy::Pending& p) {
    if (zcb_->pool->in_flight(p.offset)) return false;
    reply(p.request_id, CS_OK, p.length);
    return true;
  });
  return zcb_->pending.size() != before;
}

}  // namespace ringcast::daemon
