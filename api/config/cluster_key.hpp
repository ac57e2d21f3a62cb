// The cluster key: a shared secret every member must prove it holds when it
// connects (fabric/auth's handshake). It is never printed, logged or put into an error
// message: this type has no stream operator and no to_string, only its size.
// Its bytes are wiped when it is destroyed.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace ringcast::config {

class ClusterKey {
 public:
  static constexpr std::size_t kMinBytes = 16;    // 128 bits
  static constexpr std::size_t kMaxBytes = 4096;  // as large as a key file may be

  ClusterKey() = default;
  explicit ClusterKey(std::vector<std::byte> bytes) : bytes_(std::move(bytes)) {}
  ClusterKey(const ClusterKey& other) = default;
  ClusterKey(ClusterKey&& other) noexcept;
  ClusterKey& operator=(const ClusterKey& other);
  ClusterKey& operator=(ClusterKey&& other) noexcept;
  ~ClusterKey();

  bool empty() const noexcept { return bytes_.empty(); }
  std::size_t size_bytes() const noexcept { return bytes_.size(); }
  // For the authentication code only (HMAC keying); never for display.
  std::span<const std::byte> secret_bytes() const noexcept { return bytes_; }
  // "no key" or "32-byte key": safe to log.
  std::string describe() const;

  // Constant-time comparison of the bytes (lengths may leak).
  friend bool operator==(const ClusterKey& a, const ClusterKey& b) noexcept;

 private:
  void wipe() noexcept;
  std::vector<std::byte> bytes_;
};

}  // namespace ringcast::config
