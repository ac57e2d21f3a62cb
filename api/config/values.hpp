// Values of entries: numbers with ranges, sizes with suffixes, addresses,
// hexadecimal keys, device names. Each failure names the key and the place of
// the value; a key's value is shown only when it is not secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "config/cluster_config.hpp"
#include "config/tree.hpp"

namespace ringcast::config {

struct NumberRange {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  bool size_suffix = false;  // accept k, m, g (binary: 1024, 1024^2, 1024^3)
};

// A decimal number, optionally with a size suffix, within range.
Parsed<std::uint64_t> parse_number(const Entry& entry, std::string_view file, NumberRange range);

// A literal IPv4 or IPv6 address.
Parsed<IpAddress> parse_address(const Entry& entry, std::string_view file);

// An even number of hex digits, ClusterKey::kMinBytes..kMaxBytes bytes once
// decoded. The value is never shown in a message.
Parsed<std::vector<std::byte>> parse_hex_key(const Entry& entry, std::string_view file);

// An RDMA device name as ibv_get_device_name() reports it: 1 to 63 bytes of
// letters, digits, '_', '-' and '.'.
Problem check_device_name(const Entry& entry, std::string_view file);

}  // namespace ringcast::config
