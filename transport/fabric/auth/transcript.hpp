// What each tag of the handshake covers: a context string, the tag's own
// label, every message exchanged before it (whole, as sent), the part of its
// own message before the tag, and the QP numbers known by then:
//
//   challenge  C, "listener challenge", hello, challenge[0..32)
//   proof      C, "connector proof",    hello, challenge, proof[0..40), connector QPN
//   accept     C, "listener accept",    hello, challenge, proof, accept[0..48),
//              connector QPN, listener QPN
//
// C = "ringcast-auth-v1"; labels travel with a length byte. So a tag cannot
// be replayed as another kind of tag (labels), in another handshake (both
// nonces), or on another connection (the QP numbers rdma_cm reports for the
// peer must be the ones the tag names).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/auth/messages.hpp"

namespace ringcast::fabric::auth {

inline constexpr std::string_view kTranscriptContext = "ringcast-auth-v1";

// The bytes a tag covers, in a fixed buffer (set-up only, no allocation).
class Transcript {
 public:
  static constexpr std::size_t kCapacity = 320;

  explicit Transcript(std::string_view label) noexcept;
  Transcript& add(std::span<const std::byte> bytes) noexcept;
  Transcript& add_u32(std::uint32_t value) noexcept;
  std::span<const std::byte> bytes() const noexcept { return {buffer_.data(), size_}; }

 private:
  std::array<std::byte, kCapacity> buffer_{};
  std::size_t size_ = 0;
};

Result<Tag> challenge_tag(const AuthKey& key, const HelloBytes& hello,
                          const ChallengeBytes& challenge);
Result<Tag> proof_tag(const AuthKey& key, const HelloBytes& hello, const ChallengeBytes& challenge,
                      const ProofBytes& proof, std::uint32_t connector_qpn);
Result<Tag> accept_tag(const AuthKey& key, const HelloBytes& hello, const ChallengeBytes& challenge,
                       const ProofBytes& proof, const AcceptBytes& accept,
                       std::uint32_t connector_qpn, std::uint32_t listener_qpn);

}  // namespace ringcast::fabric::auth
