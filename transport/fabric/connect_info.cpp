#include "fabric/connect_info.hpp"

#include <string>

#include "base/crc32c.hpp"
#include "base/wire.hpp"

namespace ringcast::fabric {
namespace {

constexpr std::size_t kRegionsAt = 16;
constexpr std::size_t kRegionBytes = 16;
constexpr std::size_t kCrcAt = kRegionsAt + kMaxConnectRegions * kRegionBytes;
static_assert(kCrcAt + 4 == kConnectInfoBytes);

Error malformed(std::string what) {
  return make_error(Errc::protocol, "connect private data", std::move(what));
}

}  // namespace

ConnectInfoBytes encode(const ConnectInfo& info) noexcept {
  RC_ASSERT(info.region_count <= kMaxConnectRegions);
  ConnectInfoBytes out{};
  std::byte* p = out.data();
  wire::put<std::uint16_t>(p + 0, ConnectInfo::kMagic);
  wire::put<std::uint16_t>(p + 2, info.version);
  wire::put<std::uint32_t>(p + 4, info.node);
  wire::put<std::uint32_t>(p + 8, info.incarnation);
  wire::put<std::uint16_t>(p + 12, info.flags);
  wire::put<std::uint8_t>(p + 14, info.region_count);
  for (std::size_t i = 0; i < info.region_count; ++i) {
    std::byte* r = p + kRegionsAt + i * kRegionBytes;
    wire::put<std::uint64_t>(r + 0, info.regions[i].addr);
    wire::put<std::uint32_t>(r + 8, info.regions[i].length);
    wire::put<std::uint32_t>(r + 12, info.regions[i].rkey);
  }
  wire::put<std::uint32_t>(p + kCrcAt, crc32c({p, kCrcAt}));
  return out;
}

Result<ConnectInfo> decode_connect_info(std::span<const std::byte> bytes) {
  // rdma_cm may hand us more bytes than were sent (zero padding), never fewer.
  if (bytes.size() < kConnectInfoBytes) {
    return malformed("too short: " + std::to_string(bytes.size()) + " bytes, need " +
                     std::to_string(kConnectInfoBytes));
  }
  const std::byte* p = bytes.data();
  if (wire::get<std::uint16_t>(p) != ConnectInfo::kMagic) return malformed("bad magic");
  if (wire::get<std::uint32_t>(p + kCrcAt) != crc32c({p, kCrcAt})) return malformed("bad checksum");
  ConnectInfo info;
  info.version = wire::get<std::uint16_t>(p + 2);
  if (info.version != ConnectInfo::kVersion) {
    return make_error(Errc::refused, "connect private data",
                      "protocol version " + std::to_string(info.version) + ", this side speaks " +
                          std::to_string(ConnectInfo::kVersion));
  }
  info.node = wire::get<std::uint32_t>(p + 4);
  info.incarnation = wire::get<std::uint32_t>(p + 8);
  info.flags = wire::get<std::uint16_t>(p + 12);
  info.region_count = wire::get<std::uint8_t>(p + 14);
  if (info.region_count > kMaxConnectRegions || wire::get<std::uint8_t>(p + 15) != 0) {
    return malformed("region count " + std::to_string(info.region_count));
  }
  for (std::size_t i = 0; i < info.region_count; ++i) {
    const std::byte* r = p + kRegionsAt + i * kRegionBytes;
    RemoteRegion& region = info.regions[i];
    region.addr = wire::get<std::uint64_t>(r + 0);
    region.length = wire::get<std::uint32_t>(r + 8);
    region.rkey = wire::get<std::uint32_t>(r + 12);
    if (region.addr + region.length < region.addr) return malformed("region wraps around");
  }
  return info;
}

}  // namespace ringcast::fabric
