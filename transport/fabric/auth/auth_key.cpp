#include "fabric/auth/auth_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>  // explicit_bzero
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace ringcast::fabric::auth {
namespace {

constexpr std::string_view kDeriveLabel = "ringcast-auth-v1 link key";

// One HMAC-SHA256; false when libcrypto fails (it has no reason to).
bool hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data,
                 std::array<unsigned char, 32>& out) {
  unsigned int length = 0;
  const unsigned char* done =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  return done != nullptr && length == out.size();
}

}  // namespace

Result<AuthKey> AuthKey::derive(std::span<const std::byte> cluster_key) {
  if (cluster_key.empty()) return AuthKey{};
  if (cluster_key.size() < kMinClusterKeyBytes) {
    return make_error(Errc::invalid_argument, "cluster key",
                      std::to_string(cluster_key.size()) + " bytes, at least " +
                          std::to_string(kMinClusterKeyBytes) + " needed");
  }
  std::array<unsigned char, 32> digest{};
  const auto label = std::as_bytes(std::span(kDeriveLabel.data(), kDeriveLabel.size()));
  if (!hmac_sha256(cluster_key, label, digest)) {
    return make_error(Errc::system, "HMAC", "deriving the link key (libcrypto failed)");
  }
  static_assert(sizeof digest == kLinkKeyBytes);
  AuthKey key;
  std::memcpy(key.bytes_.data(), digest.data(), digest.size());
  key.present_ = true;
  explicit_bzero(digest.data(), digest.size());
  return key;
}

AuthKey::~AuthKey() {
  explicit_bzero(bytes_.data(), bytes_.size());
}

Result<Tag> AuthKey::mac(std::span<const std::byte> data) const {
  RC_ASSERT(present_);
  std::array<unsigned char, 32> digest{};
  if (!hmac_sha256(bytes_, data, digest)) {
    return make_error(Errc::system, "HMAC", "computing a set-up tag (libcrypto failed)");
  }
  Tag tag;
  std::memcpy(tag.data(), digest.data(), tag.size());
  return tag;
}

bool tags_equal(const Tag& a, const Tag& b) noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Nonce> random_nonce() {
  Nonce nonce;
  for (;;) {
    // Up to 256 bytes never come back short once the pool is initialised.
    const ssize_t n = getrandom(nonce.data(), nonce.size(), 0);
    if (n == static_cast<ssize_t>(nonce.size())) return nonce;
    if (n < 0 && errno == EINTR) continue;
    return system_error("getrandom", n < 0 ? errno : EIO, "a set-up nonce");
  }
}

}  // namespace ringcast::fabric::auth
