#include "fabric/auth/messages.hpp"

#include <algorithm>
#include <string>

#include "base/crc32c.hpp"
#include "base/wire.hpp"

namespace ringcast::fabric::auth {
namespace {

Error malformed(const char* what, std::string detail) {
  return make_error(Errc::protocol, std::string(what) + " message", std::move(detail));
}

// Header, kind and length of a message of `size` bytes.
Status check_frame(std::span<const std::byte> bytes, SetupKind kind, std::size_t size) {
  auto found = peek_setup_kind(bytes);
  if (!found) return found.error();
  const char* name = setup_kind_name(kind);
  if (*found != kind) {
    return malformed(name, std::string("a ") + setup_kind_name(*found) + " message instead");
  }
  if (bytes.size() < size) {
    return malformed(name, "too short: " + std::to_string(bytes.size()) + " bytes, need " +
                               std::to_string(size));
  }
  return {};
}

Status check_crc(const std::byte* p, std::size_t crc_at, const char* name) {
  if (wire::get<std::uint32_t>(p + crc_at) != crc32c({p, crc_at})) {
    return malformed(name, "bad checksum");
  }
  return {};
}

template <std::size_t N>
void copy_out(const std::byte* from, std::array<std::byte, N>& to) {
  std::copy_n(from, N, to.begin());
}

}  // namespace

HelloBytes encode(const Hello& m) noexcept {
  HelloBytes out{};
  std::byte* p = out.data();
  put_setup_header(p, SetupKind::hello);
  wire::put<std::uint32_t>(p + 4, m.node);
  wire::put<std::uint32_t>(p + 8, m.incarnation);
  wire::put<std::uint16_t>(p + 12, m.flags);
  std::copy(m.nonce.begin(), m.nonce.end(), p + 16);
  wire::put<std::uint32_t>(p + 32, crc32c({p, 32}));
  return out;
}

ChallengeBytes encode(const Challenge& m) noexcept {
  ChallengeBytes out{};
  std::byte* p = out.data();
  put_setup_header(p, SetupKind::challenge);
  wire::put<std::uint32_t>(p + 4, m.node);
  wire::put<std::uint32_t>(p + 8, m.incarnation);
  wire::put<std::uint16_t>(p + 12, m.ticket);
  std::copy(m.nonce.begin(), m.nonce.end(), p + 16);
  set_tag(out, m.tag);
  return out;
}

ProofBytes encode(const Proof& m) noexcept {
  ProofBytes out{};
  std::byte* p = out.data();
  put_setup_header(p, SetupKind::proof);
  wire::put<std::uint16_t>(p + 4, m.ticket);
  put_regions(p + 6, m.regions);
  set_tag(out, m.tag);
  return out;
}

AcceptBytes encode(const Accept& m) noexcept {
  AcceptBytes out{};
  std::byte* p = out.data();
  put_setup_header(p, SetupKind::accept);
  wire::put<std::uint32_t>(p + 4, m.info.node);
  wire::put<std::uint32_t>(p + 8, m.info.incarnation);
  wire::put<std::uint16_t>(p + 12, m.info.flags);
  put_regions(p + 14, m.info);
  set_tag(out, m.tag);
  return out;
}

ComplaintBytes encode(const Complaint& m) noexcept {
  ComplaintBytes out{};
  std::byte* p = out.data();
  put_setup_header(p, SetupKind::complaint);
  wire::put<std::uint16_t>(p + 4, m.ticket);
  std::copy(m.nonce.begin(), m.nonce.end(), p + 8);
  wire::put<std::uint32_t>(p + 24, crc32c({p, 24}));
  return out;
}

Result<Hello> decode_hello(std::span<const std::byte> bytes) {
  RC_TRY(check_frame(bytes, SetupKind::hello, kHelloBytes));
  const std::byte* p = bytes.data();
  RC_TRY(check_crc(p, 32, "hello"));
  if (wire::get<std::uint16_t>(p + 14) != 0) return malformed("hello", "reserved bytes not zero");
  Hello m;
  m.node = wire::get<std::uint32_t>(p + 4);
  m.incarnation = wire::get<std::uint32_t>(p + 8);
  m.flags = wire::get<std::uint16_t>(p + 12);
  std::copy_n(p + 16, kNonceBytes, m.nonce.begin());
  return m;
}

Result<Challenge> decode_challenge(std::span<const std::byte> bytes) {
  RC_TRY(check_frame(bytes, SetupKind::challenge, kChallengeBytes));
  const std::byte* p = bytes.data();
  if (wire::get<std::uint16_t>(p + 14) != 0) {
    return malformed("challenge", "reserved bytes not zero");
  }
  Challenge m;
  m.node = wire::get<std::uint32_t>(p + 4);
  m.incarnation = wire::get<std::uint32_t>(p + 8);
  m.ticket = wire::get<std::uint16_t>(p + 12);
  std::copy_n(p + 16, kNonceBytes, m.nonce.begin());
  copy_out(p + 32, m.tag);
  return m;
}

Result<Proof> decode_proof(std::span<const std::byte> bytes) {
  RC_TRY(check_frame(bytes, SetupKind::proof, kProofBytes));
  const std::byte* p = bytes.data();
  Proof m;
  m.ticket = wire::get<std::uint16_t>(p + 4);
  if (auto regions = get_regions(p + 6, m.regions); !regions) {
    return malformed("proof", regions.error().detail);
  }
  copy_out(p + 40, m.tag);
  return m;
}

Result<Accept> decode_accept(std::span<const std::byte> bytes) {
  RC_TRY(check_frame(bytes, SetupKind::accept, kAcceptBytes));
  const std::byte* p = bytes.data();
  Accept m;
  m.info.node = wire::get<std::uint32_t>(p + 4);
  m.info.incarnation = wire::get<std::uint32_t>(p + 8);
  m.info.flags = wire::get<std::uint16_t>(p + 12);
  if (auto regions = get_regions(p + 14, m.info); !regions) {
    return malformed("accept", regions.error().detail);
  }
  copy_out(p + 48, m.tag);
  return m;
}

Result<Complaint> decode_complaint(std::span<const std::byte> bytes) {
  RC_TRY(check_frame(bytes, SetupKind::complaint, kComplaintBytes));
  const std::byte* p = bytes.data();
  RC_TRY(check_crc(p, 24, "complaint"));
  if (wire::get<std::uint16_t>(p + 6) != 0) {
    return malformed("complaint", "reserved bytes not zero");
  }
  Complaint m;
  m.ticket = wire::get<std::uint16_t>(p + 4);
  copy_out(p + 8, m.nonce);
  return m;
}

}  // namespace ringcast::fabric::auth
