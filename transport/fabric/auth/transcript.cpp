#include "fabric/auth/transcript.hpp"

#include <algorithm>

#include "base/wire.hpp"

namespace ringcast::fabric::auth {
namespace {

std::span<const std::byte> text(std::string_view s) noexcept {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace

Transcript::Transcript(std::string_view label) noexcept {
  RC_ASSERT(label.size() <= 255);
  add(text(kTranscriptContext));
  const std::byte length{static_cast<unsigned char>(label.size())};
  add(std::span(&length, 1));
  add(text(label));
}

Transcript& Transcript::add(std::span<const std::byte> bytes) noexcept {
  // The handshake's messages are fixed-size: overflowing is a bug here.
  RC_ASSERT(bytes.size() <= kCapacity - size_);
  std::copy(bytes.begin(), bytes.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(size_));
  size_ += bytes.size();
  return *this;
}

Transcript& Transcript::add_u32(std::uint32_t value) noexcept {
  std::array<std::byte, 4> le;
  wire::put<std::uint32_t>(le.data(), value);
  return add(le);
}

// Each tag covers its own message only up to the tag (untagged()).
Result<Tag> challenge_tag(const AuthKey& key, const HelloBytes& hello,
                          const ChallengeBytes& challenge) {
  Transcript t("listener challenge");
  t.add(hello).add(untagged(challenge));
  return key.mac(t.bytes());
}

Result<Tag> proof_tag(const AuthKey& key, const HelloBytes& hello, const ChallengeBytes& challenge,
                      const ProofBytes& proof, std::uint32_t connector_qpn) {
  Transcript t("connector proof");
  t.add(hello).add(challenge).add(untagged(proof)).add_u32(connector_qpn);
  return key.mac(t.bytes());
}

Result<Tag> accept_tag(const AuthKey& key, const HelloBytes& hello, const ChallengeBytes& challenge,
                       const ProofBytes& proof, const AcceptBytes& accept,
                       std::uint32_t connector_qpn, std::uint32_t listener_qpn) {
  Transcript t("listener accept");
  t.add(hello).add(challenge).add(proof).add(untagged(accept));
  t.add_u32(connector_qpn).add_u32(listener_qpn);
  return key.mac(t.bytes());
}

}  // namespace ringcast::fabric::auth
