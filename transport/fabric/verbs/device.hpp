// The RDMA device an endpoint uses: chosen by name ("rxe0", "mlx5_0") or by a
// local IP address (rdma_cm finds the device and port that serve it), with
// its port checked ACTIVE and, for RoCE, an optional GID index validated.
//
// The context is rdma_cm's own (see DeviceListRelease in handles.hpp): a QP
// that rdma_cm connects must live on it.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "fabric/verbs/handles.hpp"

namespace ringcast::fabric::verbs {

struct EndpointOptions;

// The device and port that serve a local IP address, as rdma_cm sees them
// (a throw-away cm_id is bound to it). The context stays valid while any
// rdma_get_devices() list is held.
struct AddressOwner {
  ibv_context* context = nullptr;
  std::uint8_t port = 0;
};
Result<AddressOwner> device_of_address(const std::string& ip);

class Device {
 public:
  static Result<Device> open(const EndpointOptions& options);

  ibv_context* context() const noexcept { return context_; }
  const std::string& name() const noexcept { return name_; }
  std::uint8_t port() const noexcept { return port_; }
  const ibv_device_attr& attributes() const noexcept { return attributes_; }
  // The IPv4 address of the selected GID (RoCE, IPv4-mapped), else "".
  const std::string& gid_address() const noexcept { return gid_address_; }
  // "rxe0 port 1 (Ethernet, ACTIVE, mtu 1024)"
  std::string describe() const;

 private:
  Device() = default;
  Status check_port(std::uint8_t port);
  Status select_gid(int gid_index);

  DeviceListHandle devices_;
  ibv_context* context_ = nullptr;
  std::string name_;
  std::uint8_t port_ = 1;
  ibv_device_attr attributes_{};
  ibv_port_attr port_attributes_{};
  std::string gid_address_;
};

}  // namespace ringcast::fabric::verbs
