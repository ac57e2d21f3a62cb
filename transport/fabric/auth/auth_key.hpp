// The secret side of connection authentication: the link key every member
// derives from the cluster key, the MAC it keys, nonces.
//
// The cluster key (config: auth.key / auth.key_file, 16 to 4096 bytes) is
// never used directly: each member derives
//   link key = HMAC-SHA256(cluster key, "ringcast-auth-v1 link key")
// a fixed 32-byte key for this one purpose. Tags are HMAC-SHA256 under the
// link key, cut to 128 bits to fit rdma_cm's 56-byte connect request.
// Neither key is ever sent, printed or put into an error message; both are
// wiped when their holder goes away.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"

namespace ringcast::fabric::auth {

inline constexpr std::size_t kMinClusterKeyBytes = 16;  // as the config parser requires
inline constexpr std::size_t kLinkKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 16;
inline constexpr std::size_t kTagBytes = 16;

using Nonce = std::array<std::byte, kNonceBytes>;
using Tag = std::array<std::byte, kTagBytes>;

class AuthKey {
 public:
  // No key: links are not authenticated.
  AuthKey() = default;
  // Errc::invalid_argument for a cluster key shorter than kMinClusterKeyBytes;
  // an empty cluster key gives the empty AuthKey.
  static Result<AuthKey> derive(std::span<const std::byte> cluster_key);

  AuthKey(const AuthKey& other) = default;
  AuthKey& operator=(const AuthKey& other) = default;
  ~AuthKey();

  bool empty() const noexcept { return !present_; }
  // HMAC-SHA256(link key, data), first kTagBytes. The key must not be empty.
  Result<Tag> mac(std::span<const std::byte> data) const;

 private:
  std::array<std::byte, kLinkKeyBytes> bytes_{};
  bool present_ = false;
};

// Constant-time comparison: how much of a tag matched must not leak.
bool tags_equal(const Tag& a, const Tag& b) noexcept;

// kNonceBytes from the kernel's CSPRNG (getrandom).
Result<Nonce> random_nonce();

}  // namespace ringcast::fabric::auth
