// The C++ API's Connection in client mode: one client-mode CPG handle (a
// DaemonConnection, reached through the C calls so both APIs behave alike)
// and the C++ callbacks it adapts the C ones to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "client/client_mode.hpp"
#include "ringcast/ringcast.hpp"

namespace ringcast::client {

class DaemonBinding {
 public:
  static cpg::Result<std::shared_ptr<DaemonBinding>> open(const DaemonAddress& address,
                                                          cpg::Callbacks callbacks);
  ~DaemonBinding();
  DaemonBinding(const DaemonBinding&) = delete;
  DaemonBinding& operator=(const DaemonBinding&) = delete;

  cpg::Status close();
  cpg::Status join(std::string_view group);
  cpg::Status leave(std::string_view group);
  cpg::Status send(cpg::Guarantee guarantee, std::span<const std::span<const std::byte>> pieces);
  cpg::Result<void*> zcb_alloc(std::size_t bytes);
  cpg::Status zcb_free(void* buffer);
  cpg::Status zcb_send(cpg::Guarantee guarantee, void* buffer, std::size_t bytes);
  cpg::Status dispatch(cpg::DispatchMode mode);
  int fd() const;
  cpg::Result<std::vector<cpg::Member>> members(std::string_view group) const;
  std::uint32_t local_node() const;
  bool flow_control_enabled() const;
  std::size_t max_message_bytes() const;
  cpg::Counters counters() const;
  cpg_handle_t handle() const noexcept { return handle_; }

 private:
  explicit DaemonBinding(cpg::Callbacks callbacks) : callbacks_(std::move(callbacks)) {}
  static DaemonBinding* of(cpg_handle_t handle);
  static void on_deliver(cpg_handle_t handle, const cpg_name* group, uint32_t node, uint32_t pid,
                         void* message, size_t bytes);
  static void on_confchg(cpg_handle_t handle, const cpg_name* group, const cpg_address* members,
                         size_t member_count, const cpg_address* left, size_t left_count,
                         const cpg_address* joined, size_t joined_count);
  static void on_totem(cpg_handle_t handle, cpg_ring_id ring, uint32_t count,
                       const uint32_t* nodes);

  cpg::Callbacks callbacks_;
  cpg_handle_t handle_ = 0;  // 0 once closed
};

}  // namespace ringcast::client
