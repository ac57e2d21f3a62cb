// IpAddress: literal IPv4/IPv6 addresses through inet_pton/inet_ntop.
#include <arpa/inet.h>

#include <cstring>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

// ::ffff:a.b.c.d
bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // The longest IPv6 text form is 45 bytes; anything longer is not an address.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string terminated(text);  // inet_pton wants a C string
  IpAddress address;
  if (inet_pton(AF_INET, terminated.c_str(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
  if (is_v4_mapped(address.bytes)) {
    std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
    std::memset(address.bytes.data() + 4, 0, 12);
    return address;
  }
  address.family = Family::v6;
  return address;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress address;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  const int af = family == Family::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), text, sizeof text) == nullptr) return "?";
  return text;
}

}  // namespace ringcast::config
