// IP addresses as rdma_cm takes them (struct sockaddr), parsed from text.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace ringcast::fabric::verbs {

struct SocketAddress {
  sockaddr_storage storage{};
  std::string text;  // "10.99.0.1:7471", for error messages

  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
};

// Numeric IPv4 or IPv6 only (no name lookup: set-up must not hang on DNS).
Result<SocketAddress> parse_socket_address(std::string_view ip, std::uint16_t port);

// "10.99.0.1" (no port) for AF_INET/AF_INET6, "?" otherwise.
std::string address_text(const sockaddr* address);

}  // namespace ringcast::fabric::verbs
