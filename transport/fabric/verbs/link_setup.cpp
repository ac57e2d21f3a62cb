#include "fabric/verbs/link_setup.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "base/log.hpp"

namespace ringcast::fabric::verbs {
namespace {

constexpr std::string_view kRefusalTag = "ringcast-refused:";

Status check_device(const VerbsEndpoint::Impl& endpoint, const rdma_cm_id* id,
                    const std::string& where) {
  if (id->verbs == endpoint.device.context()) return {};
  const std::string other = id->verbs != nullptr ? ibv_get_device_name(id->verbs->device) : "?";
  return make_error(
      Errc::invalid_argument, "set up link",
      where + " goes through device " + other + ", this endpoint uses " + endpoint.device.name());
}

}  // namespace

Result<std::uint32_t> create_link_qp(VerbsEndpoint::Impl& endpoint, rdma_cm_id* id,
                                     const LinkOptions& options, const std::string& where) {
  if (options.sq_depth < 2) {
    return make_error(Errc::invalid_argument, "set up link", "sq_depth must be at least 2");
  }
  RC_TRY(check_device(endpoint, id, where));
  RC_TRY(endpoint.can_attach(options.sq_depth));
  ibv_qp_init_attr attr{};
  attr.send_cq = endpoint.cq.get();
  attr.recv_cq = endpoint.cq.get();
  attr.srq = endpoint.srq.get();
  attr.qp_type = IBV_QPT_RC;
  attr.sq_sig_all = 0;  // selective signaling
  attr.cap.max_send_wr = options.sq_depth;
  attr.cap.max_send_sge = kMaxSegments;
  // Providers refuse more inline data than they support: halve until one
  // agrees (bounded: log2 of the request, then 0).
  std::uint32_t inline_bytes = options.max_inline_bytes;
  for (;;) {
    attr.cap.max_inline_data = inline_bytes;
    if (rdma_create_qp(id, endpoint.pd.get(), &attr) == 0) break;
    const int err = errno;
    if (err != EINVAL || inline_bytes == 0) {
      return system_error("rdma_create_qp", err,
                          where + ": RC QP with " + std::to_string(options.sq_depth) +
                              " send entries on " + endpoint.device.name());
    }
    inline_bytes /= 2;
  }
  ibv_qp_attr granted{};
  ibv_qp_init_attr init{};
  if (ibv_query_qp(id->qp, &granted, IBV_QP_CAP, &init) == 0) {
    return granted.cap.max_inline_data;
  }
  return attr.cap.max_inline_data;  // what rdma_create_qp wrote back
}

rdma_conn_param connection_parameters(std::span<const std::byte> data) noexcept {
  RC_ASSERT(data.size() <= kAcceptDataBudget);
  rdma_conn_param param{};
  param.private_data = data.data();
  param.private_data_len = static_cast<std::uint8_t>(data.size());
  param.responder_resources = 0;
  param.initiator_depth = 0;
  param.retry_count = 7;
  // 7 = retry forever when the peer's SRQ is momentarily empty: receives are
  // re-posted by its next poll, a lost immediate would be worse.
  param.rnr_retry_count = 7;
  return param;
}

Status run_check(const ConnectInfo& peer, const PeerCheck& check) {
  if (!check) return {};
  if (auto verdict = check(peer); !verdict) {
    const Error& e = verdict.error();
    return make_error(Errc::refused, "connect private data",
                      e.detail.empty() ? e.message() : e.detail);
  }
  return {};
}

Refusal encode_refusal(const std::string& reason) noexcept {
  Refusal out;
  std::string text = std::string(kRefusalTag) + reason;
  out.length = static_cast<std::uint8_t>(std::min(text.size(), out.bytes.size()));
  std::memcpy(out.bytes.data(), text.data(), out.length);
  return out;
}

std::optional<std::string> decode_refusal(std::span<const std::byte> data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (!text.starts_with(kRefusalTag)) return std::nullopt;
  std::string_view reason = text.substr(kRefusalTag.size());
  reason = reason.substr(0, reason.find('\0'));  // rdma_cm pads with zeros
  return peer_text(reason, kMaxRefusalTextBytes);
}

std::string reject_status_text(int status) {
  // InfiniBand CM reject reasons (IBTA 12.6.7.2); RoCE uses the same.
  switch (status) {
    case 8:
      return "nobody listens there (reject reason 8: invalid service ID)";
    case 28:
      return "refused by the peer application (reject reason 28)";
    case -ECONNREFUSED:
      return "connection refused";
    default:
      return "reject reason " + std::to_string(status);
  }
}

}  // namespace ringcast::fabric::verbs
