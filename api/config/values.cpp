#include "config/values.hpp"

#include <limits>
#include <string>

namespace ringcast::config {
namespace {

std::string key_of(const Entry& entry) {
  return std::string(entry.key);
}

ConfigError at_value(const Entry& entry, std::string_view file, std::string what) {
  return error_at(file, entry.line, entry.value_column, key_of(entry) + ": " + std::move(what));
}

// 1, 1024, 1024^2 or 1024^3 for "", k, m, g (either case); 0 for anything else.
std::uint64_t suffix_multiplier(std::string_view suffix) {
  if (suffix.empty()) return 1;
  if (suffix.size() != 1) return 0;
  switch (suffix[0]) {
    case 'k':
    case 'K':
      return std::uint64_t{1} << 10;
    case 'm':
    case 'M':
      return std::uint64_t{1} << 20;
    case 'g':
    case 'G':
      return std::uint64_t{1} << 30;
    default:
      return 0;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Parsed<std::uint64_t> parse_number(const Entry& entry, std::string_view file, NumberRange range) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::string_view text = entry.value;
  std::size_t digits = 0;
  std::uint64_t value = 0;
  bool overflow = false;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text[digits] - '0');
    overflow = overflow || value > (kMax - digit) / 10;
    if (!overflow) value = value * 10 + digit;
    ++digits;
  }
  const std::uint64_t multiplier =
      range.size_suffix ? suffix_multiplier(text.substr(digits)) : (digits == text.size() ? 1 : 0);
  if (digits == 0 || multiplier == 0) {
    return at_value(
        entry, file,
        quoted(text) + (range.size_suffix ? " is not a size (digits, optionally then k, m or g)"
                                          : " is not a number (decimal digits only)"));
  }
  overflow = overflow || value > kMax / multiplier;
  if (!overflow) value *= multiplier;
  if (overflow || value < range.min || value > range.max) {
    return at_value(entry, file,
                    quoted(text) + " is out of range (" + std::to_string(range.min) + " to " +
                        std::to_string(range.max) + ")");
  }
  return value;
}

Parsed<IpAddress> parse_address(const Entry& entry, std::string_view file) {
  if (entry.value.find('%') != std::string_view::npos) {
    return at_value(entry, file,
                    quoted(entry.value) +
                        ": zone indexes are not supported; use an address "
                        "that is unique on the host");
  }
  std::optional<IpAddress> address = IpAddress::parse(entry.value);
  if (!address) {
    return at_value(entry, file,
                    quoted(entry.value) +
                        " is not an IPv4 or IPv6 address (host names are not "
                        "resolved)");
  }
  return *address;
}

Parsed<std::vector<std::byte>> parse_hex_key(const Entry& entry, std::string_view file) {
  const std::string_view text = entry.value;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (hex_digit(text[i]) < 0) {
      return at_value(entry, file,
                      "not hexadecimal (character " + std::to_string(i + 1) +
                          " is not a hex digit); the key is not shown");
    }
  }
  if (text.size() % 2 != 0) {
    return at_value(entry, file,
                    "an odd number of hex digits (" + std::to_string(text.size()) + ")");
  }
  const std::size_t bytes = text.size() / 2;
  if (bytes < ClusterKey::kMinBytes || bytes > ClusterKey::kMaxBytes) {
    return at_value(entry, file,
                    std::to_string(bytes) + " bytes; a key has " +
                        std::to_string(ClusterKey::kMinBytes) + " to " +
                        std::to_string(ClusterKey::kMaxBytes) + " bytes (" +
                        std::to_string(2 * ClusterKey::kMinBytes) + " or more hex digits)");
  }
  std::vector<std::byte> key(bytes);
  for (std::size_t i = 0; i < bytes; ++i) {
    key[i] = static_cast<std::byte>(hex_digit(text[2 * i]) * 16 + hex_digit(text[2 * i + 1]));
  }
  return key;
}

Problem check_device_name(const Entry& entry, std::string_view file) {
  constexpr std::size_t kMaxDeviceNameBytes = 63;  // IBV_SYSFS_NAME_MAX - 1
  const std::string_view name = entry.value;
  bool ok = !name.empty() && name.size() <= kMaxDeviceNameBytes;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  }
  if (ok) return std::nullopt;
  return at_value(entry, file,
                  quoted(name) + " is not a device name (1 to 63 letters, digits, '_', '-', '.')");
}

}  // namespace ringcast::config
