// Which RDMA devices exist, and which local IPv4 addresses they serve.
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <memory>

#include "fabric/verbs/device.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "fabric/verbs/socket_address.hpp"

namespace ringcast::fabric::verbs {
namespace {

struct IfaddrsRelease {
  void operator()(ifaddrs* list) const noexcept { freeifaddrs(list); }
};

}  // namespace

std::vector<std::string> rdma_device_names() {
  std::vector<std::string> names;
  int count = 0;
  ibv_device** list = ibv_get_device_list(&count);
  if (list == nullptr) return names;
  for (int i = 0; i < count; ++i)
    names.emplace_back(ibv_get_device_name(list[i]));
  ibv_free_device_list(list);
  return names;
}

std::vector<std::string> rdma_ipv4_addresses(std::string_view device) {
  std::vector<std::string> out;
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return out;
  std::unique_ptr<ifaddrs, IfaddrsRelease> list(raw);
  // Holding rdma_cm's device list keeps the probed contexts valid meanwhile.
  int count = 0;
  DeviceListHandle devices(rdma_get_devices(&count));
  if (!devices || count == 0) return out;
  for (ifaddrs* a = raw; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    const std::string ip = address_text(a->ifa_addr);
    auto owner = device_of_address(ip);
    if (!owner) continue;
    if (!device.empty() && device != ibv_get_device_name(owner->context->device)) continue;
    out.push_back(ip);
  }
  return out;
}

}  // namespace ringcast::fabric::verbs
