#include "fabric/verbs/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace ringcast::fabric::verbs {

Result<SocketAddress> parse_socket_address(std::string_view ip, std::uint16_t port) {
  SocketAddress out;
  const std::string text(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.text = text + ":" + std::to_string(port);
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.text = "[" + text + "]:" + std::to_string(port);
    return out;
  }
  return make_error(Errc::invalid_argument, "parse address",
                    "'" + text + "' is not a numeric IPv4 or IPv6 address");
}

std::string address_text(const sockaddr* address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (address == nullptr) return "?";
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, buffer, sizeof buffer);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, buffer, sizeof buffer);
  } else {
    return "?";
  }
  return buffer;
}

}  // namespace ringcast::fabric::verbs
