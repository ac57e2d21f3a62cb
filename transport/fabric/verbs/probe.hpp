// A raw connect request, for tests and diagnostics: what a peer that does
// not follow the handshake can send a listener. One CONNECT_REQUEST with the
// given private data, claiming QP number `claimed_qpn` (no QP is created, so
// nothing can be written either way), and the answer: the accept's or the
// reject's private data. The connection is dropped right after.
//
// The RDMA tests replay recorded proofs and send forged ones with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace ringcast::fabric::verbs {

struct ProbeAnswer {
  bool accepted = false;                // else rejected
  std::vector<std::byte> private_data;  // as rdma_cm delivered it (padded)
  std::uint32_t peer_qpn = 0;           // accepted: the listener's QP number
  int status = 0;                       // rejected: the CM's reject reason
};

// Errc::unreachable (no route, nobody answering as a listener would),
// Errc::timeout, Errc::system.
Result<ProbeAnswer> probe_listener(std::string_view local_ip, std::string_view remote_ip,
                                   std::uint16_t port, std::span<const std::byte> request,
                                   std::uint32_t claimed_qpn, std::uint64_t timeout_ns);

}  // namespace ringcast::fabric::verbs
