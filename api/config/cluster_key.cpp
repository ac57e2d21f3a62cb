#include "config/cluster_key.hpp"

#include <string.h>  // explicit_bzero

namespace ringcast::config {

ClusterKey::ClusterKey(ClusterKey&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

ClusterKey& ClusterKey::operator=(const ClusterKey& other) {
  if (this != &other) {
    wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

ClusterKey& ClusterKey::operator=(ClusterKey&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

ClusterKey::~ClusterKey() {
  wipe();
}

std::string ClusterKey::describe() const {
  if (bytes_.empty()) return "no key";
  return std::to_string(bytes_.size()) + "-byte key";
}

bool operator==(const ClusterKey& a, const ClusterKey& b) noexcept {
  if (a.bytes_.size() != b.bytes_.size()) return false;
  unsigned difference = 0;
  for (std::size_t i = 0; i < a.bytes_.size(); ++i) {
    difference |= std::to_integer<unsigned>(a.bytes_[i] ^ b.bytes_[i]);
  }
  return difference == 0;
}

// explicit_bzero is not optimised away even though the memory dies next.
void ClusterKey::wipe() noexcept {
  if (!bytes_.empty()) explicit_bzero(bytes_.data(), bytes_.size());
  bytes_.clear();
}

}  // namespace ringcast::config
