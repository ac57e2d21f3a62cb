// NUMA placement of registered memory: regions go on the NUMA node(s) the
// NIC is attached to, found with hwloc's verbs helpers (the device's local
// cpus, then the nodes of those cpus). On a machine with one node, or when
// the NIC is local to every node, nothing is bound: there is nothing to gain.
#pragma once

#include <hwloc.h>

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.hpp"

struct ibv_device;

namespace ringcast::fabric::verbs {

class NumaPlacement {
 public:
  // Never fails: without topology information memory is simply not bound,
  // and description() says why.
  static NumaPlacement discover(ibv_device* device);

  bool binds() const noexcept { return nodeset_ != nullptr; }
  // Binds [addr, addr + bytes) to the NIC's node(s) before it is touched.
  Status bind(void* addr, std::size_t bytes) const;
  // One line for the log: where the NIC is and what is done about it.
  const std::string& description() const noexcept { return description_; }

 private:
  struct TopologyRelease {
    void operator()(hwloc_topology_t topology) const noexcept { hwloc_topology_destroy(topology); }
  };
  struct BitmapRelease {
    void operator()(hwloc_bitmap_t bitmap) const noexcept { hwloc_bitmap_free(bitmap); }
  };
  using Topology = std::unique_ptr<hwloc_topology, TopologyRelease>;
  using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapRelease>;

  Topology topology_;
  Bitmap nodeset_;  // null: do not bind
  std::string description_;
};

}  // namespace ringcast::fabric::verbs
