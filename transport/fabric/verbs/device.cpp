#include "fabric/verbs/device.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "fabric/verbs/endpoint.hpp"
#include "fabric/verbs/socket_address.hpp"

namespace ringcast::fabric::verbs {
namespace {

std::string device_names(ibv_context** list) {
  std::string names;
  for (ibv_context** c = list; *c != nullptr; ++c) {
    if (!names.empty()) names += ", ";
    names += ibv_get_device_name((*c)->device);
  }
  return names.empty() ? "none" : names;
}

ibv_context* find_context(ibv_context** list, const std::string& name, ibv_context* exact) {
  for (ibv_context** c = list; *c != nullptr; ++c) {
    if (exact != nullptr ? *c == exact : name == ibv_get_device_name((*c)->device)) return *c;
  }
  return nullptr;
}

}  // namespace

Result<AddressOwner> device_of_address(const std::string& ip) {
  auto address = parse_socket_address(ip, 0);
  if (!address) return address.error();
  rdma_cm_id* raw = nullptr;
  if (rdma_create_id(nullptr, &raw, nullptr, RDMA_PS_TCP) != 0) {
    return system_error("rdma_create_id", errno, "probing which device serves " + ip);
  }
  CmIdHandle id(raw);
  if (rdma_bind_addr(id.get(), address->get()) != 0) {
    const int err = errno;
    if (err == EADDRNOTAVAIL || err == ENODEV) {
      return Error{Errc::not_found, err, "rdma_bind_addr", ip + " is not an address of this host"};
    }
    return system_error("rdma_bind_addr", err, "binding " + ip);
  }
  if (id->verbs == nullptr) {
    return make_error(Errc::not_found, "rdma_bind_addr", ip + " is not served by an RDMA device");
  }
  return AddressOwner{id->verbs, id->port_num};
}

Result<Device> Device::open(const EndpointOptions& options) {
  if (options.device.empty() && options.local_ip.empty()) {
    return make_error(Errc::invalid_argument, "open device",
                      "name a device (e.g. rxe0, mlx5_0) or a local IP address");
  }
  Device device;
  int count = 0;
  device.devices_.reset(rdma_get_devices(&count));
  if (!device.devices_ || count == 0) {
    return Error{Errc::not_found, errno, "rdma_get_devices", "no RDMA device on this host"};
  }
  AddressOwner owner;
  if (!options.local_ip.empty()) {
    auto found = device_of_address(options.local_ip);
    if (!found) return found.error();
    owner = *found;
  }
  device.context_ = find_context(device.devices_.get(), options.device, owner.context);
  if (device.context_ == nullptr) {
    const std::string wanted =
        options.device.empty() ? "serving " + options.local_ip : "named '" + options.device + "'";
    return make_error(
        Errc::not_found, "open device",
        "no RDMA device " + wanted + " (have: " + device_names(device.devices_.get()) + ")");
  }
  device.name_ = ibv_get_device_name(device.context_->device);
  if (!options.device.empty() && device.name_ != options.device) {
    return make_error(
        Errc::invalid_argument, "open device",
        options.local_ip + " is served by " + device.name_ + ", not " + options.device);
  }
  if (int rc = ibv_query_device(device.context_, &device.attributes_)) {
    return system_error("ibv_query_device", rc, device.name_);
  }
  const std::uint8_t port = options.port != 0 ? options.port : (owner.port != 0 ? owner.port : 1);
  RC_TRY(device.check_port(port));
  RC_TRY(device.select_gid(options.gid_index));
  return device;
}

Status Device::check_port(std::uint8_t port) {
  if (port < 1 || port > attributes_.phys_port_cnt) {
    return make_error(Errc::not_found, "open device",
                      name_ + " has no port " + std::to_string(port) + " (ports 1.." +
                          std::to_string(attributes_.phys_port_cnt) + ")");
  }
  port_ = port;
  if (int rc = ibv_query_port(context_, port_, &port_attributes_)) {
    return system_error("ibv_query_port", rc, name_ + " port " + std::to_string(port_));
  }
  if (port_attributes_.state != IBV_PORT_ACTIVE) {
    return make_error(Errc::port_down, "ibv_query_port",
                      name_ + " port " + std::to_string(port_) + " is " +
                          ibv_port_state_str(port_attributes_.state) + ", not ACTIVE");
  }
  return {};
}

Status Device::select_gid(int gid_index) {
  if (gid_index < 0) return {};
  const std::string where = name_ + " port " + std::to_string(port_);
  if (gid_index >= port_attributes_.gid_tbl_len) {
    return make_error(Errc::not_found, "ibv_query_gid",
                      where + " has no GID index " + std::to_string(gid_index) + " (table of " +
                          std::to_string(port_attributes_.gid_tbl_len) + ")");
  }
  ibv_gid gid{};
  if (ibv_query_gid(context_, port_, gid_index, &gid) != 0) {
    return system_error("ibv_query_gid", errno, where + " GID index " + std::to_string(gid_index));
  }
  static constexpr std::uint8_t kZero[16] = {};
  if (std::memcmp(gid.raw, kZero, sizeof kZero) == 0) {
    return make_error(Errc::not_found, "ibv_query_gid",
                      where + " GID index " + std::to_string(gid_index) + " is empty");
  }
  // An IPv4-mapped GID (::ffff:a.b.c.d) names the address rdma_cm binds to.
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(gid.raw, kMapped, sizeof kMapped) == 0) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, gid.raw + 12, text, sizeof text);
    gid_address_ = text;
  }
  return {};
}

std::string Device::describe() const {
  const char* layer =
      port_attributes_.link_layer == IBV_LINK_LAYER_ETHERNET ? "Ethernet" : "InfiniBand";
  return name_ + " port " + std::to_string(port_) + " (" + layer + ", " +
         ibv_port_state_str(port_attributes_.state) + ", mtu " +
         std::to_string(128 << port_attributes_.active_mtu) + ")";
}

}  // namespace ringcast::fabric::verbs
