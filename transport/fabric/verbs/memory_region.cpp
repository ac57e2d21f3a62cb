#include "fabric/verbs/memory_region.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <string>

#include "base/log.hpp"
#include "fabric/verbs/numa.hpp"

namespace ringcast::fabric::verbs {
namespace {

int access_flags(Access access) {
  // Local write is needed for any registration a peer writes into, and
  // harmless otherwise; remote write only where the protocol wants peers.
  int flags = IBV_ACCESS_LOCAL_WRITE;
  if (access == Access::remote_write) flags |= IBV_ACCESS_REMOTE_WRITE;
  return flags;
}

Status check_size(std::size_t bytes, Access access) {
  if (bytes == 0) return make_error(Errc::invalid_argument, "register memory", "zero bytes");
  // A peer learns a region's length as 32 bits (ConnectInfo, RemoteRegion).
  if (access == Access::remote_write && bytes > std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::too_big, "register memory",
                      std::to_string(bytes) + " bytes: a remote-writable region is at most 4 GiB");
  }
  return {};
}

}  // namespace

Result<Mapping> Mapping::create(std::size_t bytes) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t size = (bytes + page - 1) / page * page;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return system_error("mmap", errno, std::to_string(size) + " bytes");
  return Mapping(static_cast<std::byte*>(p), size);
}

Mapping::Mapping(Mapping&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

Mapping::~Mapping() {
  if (data_ != nullptr) munmap(data_, size_);
}

VerbsMemoryRegion::VerbsMemoryRegion(Key, std::unique_ptr<Mapping> mapping, MrHandle mr,
                                     std::size_t bytes, Access access) noexcept
    : mapping_(std::move(mapping)), mr_(std::move(mr)) {
  data_ = static_cast<std::byte*>(mr_->addr);
  size_ = bytes;
  lkey_ = mr_->lkey;
  rkey_ = mr_->rkey;
  access_ = access;
}

Result<std::unique_ptr<MemoryRegion>> VerbsMemoryRegion::register_memory(
    ibv_pd* pd, std::span<std::byte> memory, Access access) {
  RC_TRY(check_size(memory.size(), access));
  MrHandle mr(ibv_reg_mr(pd, memory.data(), memory.size(), access_flags(access)));
  if (!mr) {
    return system_error("ibv_reg_mr", errno, std::to_string(memory.size()) + " bytes");
  }
  return std::unique_ptr<MemoryRegion>(
      std::make_unique<VerbsMemoryRegion>(Key{}, nullptr, std::move(mr), memory.size(), access));
}

Result<std::unique_ptr<MemoryRegion>> VerbsMemoryRegion::allocate(ibv_pd* pd,
                                                                  const NumaPlacement& numa,
                                                                  std::size_t bytes,
                                                                  Access access) {
  RC_TRY(check_size(bytes, access));
  auto mapping = Mapping::create(bytes);
  if (!mapping) return mapping.error();
  // Binding must precede the first touch, which ibv_reg_mr's pinning is.
  if (auto bound = numa.bind(mapping->data(), mapping->size()); !bound) {
    log_line("memory not NUMA-bound: " + bound.error().message());
  }
  MrHandle mr(ibv_reg_mr(pd, mapping->data(), bytes, access_flags(access)));
  if (!mr) return system_error("ibv_reg_mr", errno, std::to_string(bytes) + " bytes");
  auto owned = std::make_unique<Mapping>(std::move(*mapping));
  return std::unique_ptr<MemoryRegion>(
      std::make_unique<VerbsMemoryRegion>(Key{}, std::move(owned), std::move(mr), bytes, access));
}

}  // namespace ringcast::fabric::verbs
