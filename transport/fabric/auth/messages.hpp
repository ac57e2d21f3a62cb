// The messages of the authenticated handshake, carried as rdma_cm private
// data (header and budgets: fabric/connect_info.hpp). All little-endian.
//
//   hello      connect request (36 bytes)      connector -> listener
//      0 header   4 u32 node   8 u32 incarnation   12 u16 flags   14 u16 reserved (0)
//     16 nonce[16]   32 u32 crc32c of bytes 0..31
//   challenge  reject (48 bytes)               listener -> connector
//      0 header   4 u32 node   8 u32 incarnation   12 u16 ticket   14 u16 reserved (0)
//     16 nonce[16]   32 tag[16]
//   proof      connect request (56 bytes, the whole budget)
//      0 header   4 u16 ticket   6 region block (34)   40 tag[16]
//   accept     accept (64 bytes)               listener -> connector
//      0 header   4 u32 node   8 u32 incarnation   12 u16 flags   14 region block (34)
//     48 tag[16]
//   complaint  connect request (28 bytes)      connector -> listener
//      0 header   4 u16 ticket   6 u16 reserved (0)   8 the challenge's nonce[16]
//     24 u32 crc32c of bytes 0..23
//
// A message ends in a tag (challenge, proof, accept: the MAC checks it) or a
// crc32c (hello, complaint: nothing secret to check yet). What each tag
// covers is in transcript.hpp. A complaint cannot carry a tag (the two sides
// share no key); it echoes the listener's nonce instead, which only the peer
// the challenge went to has seen, so nobody else can spend that challenge. rdma_cm may pad what
// arrives with zeros; decoders read their length and ignore the rest.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/connect_info.hpp"

namespace ringcast::fabric::auth {

inline constexpr std::size_t kHelloBytes = 36;
inline constexpr std::size_t kChallengeBytes = 48;
inline constexpr std::size_t kProofBytes = 56;
inline constexpr std::size_t kAcceptBytes = 64;
inline constexpr std::size_t kComplaintBytes = 28;
inline constexpr std::size_t kChallengeNonceAt = 16;  // where a challenge carries its nonce
static_assert(kHelloBytes <= kPrivateDataBudget && kProofBytes <= kPrivateDataBudget &&
              kComplaintBytes <= kPrivateDataBudget);
static_assert(kChallengeBytes <= kRejectDataBudget);
static_assert(kAcceptBytes <= kAcceptDataBudget);

using HelloBytes = std::array<std::byte, kHelloBytes>;
using ChallengeBytes = std::array<std::byte, kChallengeBytes>;
using ProofBytes = std::array<std::byte, kProofBytes>;
using AcceptBytes = std::array<std::byte, kAcceptBytes>;
using ComplaintBytes = std::array<std::byte, kComplaintBytes>;

struct Hello {
  NodeId node = 0;
  std::uint32_t incarnation = 0;
  std::uint16_t flags = 0;
  Nonce nonce{};
  friend bool operator==(const Hello&, const Hello&) = default;
};

struct Challenge {
  NodeId node = 0;
  std::uint32_t incarnation = 0;
  std::uint16_t ticket = 0;
  Nonce nonce{};
  Tag tag{};
  friend bool operator==(const Challenge&, const Challenge&) = default;
};

struct Proof {
  std::uint16_t ticket = 0;
  ConnectInfo regions;  // only region_count and regions travel
  Tag tag{};
};

struct Accept {
  ConnectInfo info;  // node, incarnation, flags, regions
  Tag tag{};
};

struct Complaint {
  std::uint16_t ticket = 0;
  Nonce nonce{};  // the challenge's, echoed
  friend bool operator==(const Complaint&, const Complaint&) = default;
};

// The tag of a tagged message is its last kTagBytes; what precedes it is the
// part its own tag covers.
template <std::size_t N>
std::span<const std::byte> untagged(const std::array<std::byte, N>& bytes) noexcept {
  static_assert(N > kTagBytes);
  return std::span(bytes).first(N - kTagBytes);
}
template <std::size_t N>
void set_tag(std::array<std::byte, N>& bytes, const Tag& tag) noexcept {
  std::copy(tag.begin(), tag.end(), bytes.end() - kTagBytes);
}

HelloBytes encode(const Hello& m) noexcept;
ChallengeBytes encode(const Challenge& m) noexcept;
ProofBytes encode(const Proof& m) noexcept;
AcceptBytes encode(const Accept& m) noexcept;
ComplaintBytes encode(const Complaint& m) noexcept;

// Each checks the header (version: Errc::refused), the kind, the length, the
// reserved bytes, the crc or the region block (Errc::protocol); never the
// tag, which needs the transcript.
Result<Hello> decode_hello(std::span<const std::byte> bytes);
Result<Challenge> decode_challenge(std::span<const std::byte> bytes);
Result<Proof> decode_proof(std::span<const std::byte> bytes);
Result<Accept> decode_accept(std::span<const std::byte> bytes);
Result<Complaint> decode_complaint(std::span<const std::byte> bytes);

}  // namespace ringcast::fabric::auth
