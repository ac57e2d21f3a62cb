#include "fabric/verbs/numa.hpp"

// openfabrics-verbs.h wants verbs.h first.
#include <hwloc/openfabrics-verbs.h>
#include <infiniband/verbs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ringcast::fabric::verbs {
namespace {

std::string bitmap_text(hwloc_const_bitmap_t bitmap) {
  char* text = nullptr;
  if (hwloc_bitmap_list_asprintf(&text, bitmap) < 0 || text == nullptr) return "?";
  std::string out(text);
  std::free(text);
  return out;
}

}  // namespace

NumaPlacement NumaPlacement::discover(ibv_device* device) {
  NumaPlacement placement;
  const std::string name = ibv_get_device_name(device);
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) {
    placement.description_ = name + ": hwloc unavailable, memory not bound";
    return placement;
  }
  placement.topology_.reset(raw);
  if (hwloc_topology_load(raw) != 0) {
    placement.description_ = name + ": hwloc could not load the topology (" + std::strerror(errno) +
                             "), memory not bound";
    return placement;
  }
  const int nodes = hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_NUMANODE);
  Bitmap cpuset(hwloc_bitmap_alloc());
  Bitmap nodeset(hwloc_bitmap_alloc());
  if (!cpuset || !nodeset || hwloc_ibv_get_device_cpuset(raw, device, cpuset.get()) != 0) {
    placement.description_ = name + ": locality unknown, memory not bound";
    return placement;
  }
  hwloc_cpuset_to_nodeset(raw, cpuset.get(), nodeset.get());
  const std::string where = name + " is local to cpus " + bitmap_text(cpuset.get()) +
                            ", NUMA node(s) " + bitmap_text(nodeset.get()) + " of " +
                            std::to_string(nodes);
  if (nodes <= 1) {
    placement.description_ = where + ": one NUMA node, no binding needed";
  } else if (hwloc_bitmap_isequal(nodeset.get(), hwloc_topology_get_topology_nodeset(raw))) {
    placement.description_ = where + ": local to every node, memory not bound";
  } else {
    placement.description_ = where + ": regions bound there";
    placement.nodeset_ = std::move(nodeset);
  }
  return placement;
}

Status NumaPlacement::bind(void* addr, std::size_t bytes) const {
  if (!binds()) return {};
  if (hwloc_set_area_membind(topology_.get(), addr, bytes, nodeset_.get(), HWLOC_MEMBIND_BIND,
                             HWLOC_MEMBIND_BYNODESET) != 0) {
    return system_error("hwloc_set_area_membind", errno,
                        "binding " + std::to_string(bytes) + " bytes near the NIC");
  }
  return {};
}

}  // namespace ringcast::fabric::verbs
