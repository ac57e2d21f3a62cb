#include "fabric/connect_info.hpp"

#include <algorithm>
#include <string>

#include "base/crc32c.hpp"
#include "base/wire.hpp"

namespace ringcast::fabric {
namespace {

constexpr std::size_t kNodeAt = 4;
constexpr std::size_t kRegionBlockAt = 14;
constexpr std::size_t kCrcAt = kRegionBlockAt + kRegionBlockBytes;
static_assert(kCrcAt + 4 == kConnectInfoBytes);

Error malformed(std::string what) {
  return make_error(Errc::protocol, "connect private data", std::move(what));
}

bool all_zero(const std::byte* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

const char* setup_kind_name(SetupKind kind) noexcept {
  switch (kind) {
    case SetupKind::open:
      return "open";
    case SetupKind::hello:
      return "hello";
    case SetupKind::challenge:
      return "challenge";
    case SetupKind::proof:
      return "proof";
    case SetupKind::accept:
      return "accept";
    case SetupKind::complaint:
      return "complaint";
  }
  return "?";
}

void put_setup_header(std::byte* at, SetupKind kind) noexcept {
  wire::put<std::uint16_t>(at + 0, kSetupMagic);
  wire::put<std::uint8_t>(at + 2, kSetupVersion);
  wire::put<std::uint8_t>(at + 3, static_cast<std::uint8_t>(kind));
}

Result<SetupKind> peek_setup_kind(std::span<const std::byte> bytes) {
  if (bytes.size() < kSetupHeaderBytes) {
    return malformed("too short: " + std::to_string(bytes.size()) + " bytes");
  }
  if (wire::get<std::uint16_t>(bytes.data()) != kSetupMagic) return malformed("bad magic");
  const unsigned version = wire::get<std::uint8_t>(bytes.data() + 2);
  if (version != kSetupVersion) {
    return make_error(Errc::refused, "connect private data",
                      "protocol version " + std::to_string(version) + ", this side speaks " +
                          std::to_string(kSetupVersion));
  }
  const unsigned kind = wire::get<std::uint8_t>(bytes.data() + 3);
  if (kind < static_cast<unsigned>(SetupKind::open) ||
      kind > static_cast<unsigned>(SetupKind::complaint)) {
    return malformed("unknown message kind " + std::to_string(kind));
  }
  return static_cast<SetupKind>(kind);
}

void put_regions(std::byte* at, const ConnectInfo& info) noexcept {
  RC_ASSERT(info.region_count <= kMaxConnectRegions);
  std::fill_n(at, kRegionBlockBytes, std::byte{0});
  wire::put<std::uint8_t>(at, info.region_count);
  for (std::size_t i = 0; i < info.region_count; ++i) {
    std::byte* r = at + 2 + i * kRegionBytes;
    wire::put<std::uint64_t>(r + 0, info.regions[i].addr);
    wire::put<std::uint32_t>(r + 8, info.regions[i].length);
    wire::put<std::uint32_t>(r + 12, info.regions[i].rkey);
  }
}

Status get_regions(const std::byte* at, ConnectInfo& info) {
  const std::uint8_t count = wire::get<std::uint8_t>(at);
  if (count > kMaxConnectRegions || wire::get<std::uint8_t>(at + 1) != 0) {
    return malformed("region count " + std::to_string(count));
  }
  info.region_count = count;
  info.regions = {};
  for (std::size_t i = 0; i < count; ++i) {
    const std::byte* r = at + 2 + i * kRegionBytes;
    RemoteRegion& region = info.regions[i];
    region.addr = wire::get<std::uint64_t>(r + 0);
    region.length = wire::get<std::uint32_t>(r + 8);
    region.rkey = wire::get<std::uint32_t>(r + 12);
    if (region.addr + region.length < region.addr) return malformed("region wraps around");
  }
  // Unused slots are zero, so that every valid message has one encoding.
  const std::size_t used = 2 + count * kRegionBytes;
  if (!all_zero(at + used, kRegionBlockBytes - used)) return malformed("bytes after the regions");
  return {};
}

ConnectInfoBytes encode(const ConnectInfo& info) noexcept {
  ConnectInfoBytes out{};
  std::byte* p = out.data();
  put_setup_header(p, SetupKind::open);
  wire::put<std::uint8_t>(p + 2, info.version);  // tests encode other versions
  wire::put<std::uint32_t>(p + kNodeAt, info.node);
  wire::put<std::uint32_t>(p + 8, info.incarnation);
  wire::put<std::uint16_t>(p + 12, info.flags);
  put_regions(p + kRegionBlockAt, info);
  wire::put<std::uint32_t>(p + kCrcAt, crc32c({p, kCrcAt}));
  return out;
}

Result<ConnectInfo> decode_connect_info(std::span<const std::byte> bytes) {
  // rdma_cm may hand us more bytes than were sent (zero padding), never fewer.
  auto kind = peek_setup_kind(bytes);
  if (!kind) return kind.error();
  if (*kind != SetupKind::open) {
    return malformed(std::string("a ") + setup_kind_name(*kind) + " message, expected open");
  }
  if (bytes.size() < kConnectInfoBytes) {
    return malformed("too short: " + std::to_string(bytes.size()) + " bytes, need " +
                     std::to_string(kConnectInfoBytes));
  }
  const std::byte* p = bytes.data();
  if (wire::get<std::uint32_t>(p + kCrcAt) != crc32c({p, kCrcAt})) return malformed("bad checksum");
  ConnectInfo info;
  info.node = wire::get<std::uint32_t>(p + kNodeAt);
  info.incarnation = wire::get<std::uint32_t>(p + 8);
  info.flags = wire::get<std::uint16_t>(p + 12);
  RC_TRY(get_regions(p + kRegionBlockAt, info));
  return info;
}

}  // namespace ringcast::fabric
