#include "client/handle_registry.hpp"

#include <random>

namespace ringcast::client {

std::uint64_t random_first_handle() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) | 1;
}

}  // namespace ringcast::client
