// A MemoryRegion over plain heap memory, for unit tests of the ring core that
// need registered-looking memory without a fabric.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>

#include "fabric/fabric.hpp"

namespace ringcast::ring::testing {

class HeapRegion final : public fabric::MemoryRegion {
 public:
  explicit HeapRegion(std::size_t bytes, fabric::Access access = fabric::Access::local_only)
      : storage_(new std::byte[bytes]) {
    std::memset(storage_.get(), 0, bytes);
    data_ = storage_.get();
    size_ = bytes;
    access_ = access;
    lkey_ = 1;
    rkey_ = 2;
  }

 private:
  std::unique_ptr<std::byte[]> storage_;
};

}  // namespace ringcast::ring::testing
