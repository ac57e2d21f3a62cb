// Registered memory of the verbs backend: caller memory, or page-aligned
// memory this backend maps (and NUMA-binds) itself.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "fabric/verbs/handles.hpp"

namespace ringcast::fabric::verbs {

class NumaPlacement;

// An anonymous private mapping, unmapped on destruction.
class Mapping {
 public:
  static Result<Mapping> create(std::size_t bytes);
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&&) = delete;
  Mapping(const Mapping&) = delete;
  ~Mapping();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  Mapping(std::byte* data, std::size_t size) noexcept : data_(data), size_(size) {}
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

class VerbsMemoryRegion final : public MemoryRegion {
 public:
  // Registers `memory` (which the caller keeps alive) on `pd`.
  static Result<std::unique_ptr<MemoryRegion>> register_memory(ibv_pd* pd,
                                                               std::span<std::byte> memory,
                                                               Access access);
  // Maps `bytes` rounded up to whole pages, binds them with `numa`, registers
  // the first `bytes`. Zero-filled.
  static Result<std::unique_ptr<MemoryRegion>> allocate(ibv_pd* pd, const NumaPlacement& numa,
                                                        std::size_t bytes, Access access);

  // Only the two factories above can make the key.
  class Key {
    friend class VerbsMemoryRegion;
    Key() = default;
  };
  VerbsMemoryRegion(Key, std::unique_ptr<Mapping> mapping, MrHandle mr, std::size_t bytes,
                    Access access) noexcept;

 private:
  // Declared first so that it is released last, after the registration.
  std::unique_ptr<Mapping> mapping_;
  MrHandle mr_;
};

}  // namespace ringcast::fabric::verbs
