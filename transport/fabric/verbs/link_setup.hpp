// What both ends of a connection do alike: create the QP on the endpoint's
// resources, fill the connection parameters, vet the peer's ConnectInfo, and
// carry a refusal's reason in the reject message.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "base/result.hpp"
#include "fabric/connect_info.hpp"
#include "fabric/verbs/endpoint_impl.hpp"

namespace ringcast::fabric::verbs {

// Creates the RC QP on `id` (PD, CQ and SRQ of the endpoint), asking for
// options.max_inline_bytes and settling for what the provider grants.
// Returns the granted max_inline_data.
Result<std::uint32_t> create_link_qp(VerbsEndpoint::Impl& endpoint, rdma_cm_id* id,
                                     const LinkOptions& options, const std::string& where);

// options.endpoint_lock taken (or nothing, without one).
inline std::unique_lock<std::mutex> lock_endpoint(const LinkOptions& options) {
  return options.endpoint_lock ? options.endpoint_lock() : std::unique_lock<std::mutex>();
}

// Connection parameters carrying `data` as private data (it must outlive
// the call that uses them). Only one-sided writes: no RDMA reads or atomics,
// so no responder resources.
rdma_conn_param connection_parameters(std::span<const std::byte> data) noexcept;

// Runs the caller's check on the peer's ConnectInfo (the handshake decoded
// it). A failure comes back as Errc::refused whose detail is the reason.
Status run_check(const ConnectInfo& peer, const PeerCheck& check);

// A refusal travels as reject private data: a tag and the reason in words,
// cut to what a reject can carry on InfiniBand/RoCE (148 bytes).
struct Refusal {
  std::array<std::byte, 148> bytes{};
  std::uint8_t length = 0;
};
Refusal encode_refusal(const std::string& reason) noexcept;
// The longest reason decode_refusal returns.
inline constexpr std::size_t kMaxRefusalTextBytes = 160;
// The reason, when `data` is a ringcast refusal. The peer chose it, so it
// comes escaped and bounded (base/log.hpp peer_text): it goes into errors
// and log lines as it is.
std::optional<std::string> decode_refusal(std::span<const std::byte> data);

// Why the other side's connection manager rejected us, for a status that is
// not a ringcast refusal ("invalid service ID" when nobody listens).
std::string reject_status_text(int status);

}  // namespace ringcast::fabric::verbs
