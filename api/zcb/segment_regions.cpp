#include "zcb/segment_regions.hpp"

#include <algorithm>
#include <string>

#include "base/assert.hpp"

namespace ringcast::zcb {

// A range of the segment, registered: it looks to the pool and the fabric as
// the registration it wraps (same address, size and key) and gives its range
// back once deregistered.
class CarvedRegion final : public fabric::MemoryRegion {
 public:
  CarvedRegion(std::unique_ptr<fabric::MemoryRegion> inner, std::shared_ptr<SegmentRegions> owner,
               std::size_t offset)
      : inner_(std::move(inner)), owner_(std::move(owner)), offset_(offset) {
    data_ = inner_->data();
    size_ = inner_->size();
    lkey_ = inner_->lkey();
    access_ = inner_->access();
  }
  ~CarvedRegion() override {
    const std::size_t bytes = size_;
    inner_.reset();  // deregistered before the range can be carved again
    owner_->give_back(offset_, bytes);
  }

 private:
  std::unique_ptr<fabric::MemoryRegion> inner_;
  std::shared_ptr<SegmentRegions> owner_;
  std::size_t offset_;
};

bool RegisteredBudget::take(std::uint64_t bytes) noexcept {
  std::uint64_t now = used.load(std::memory_order_relaxed);
  do {
    if (bytes > limit - std::min(now, limit)) return false;
  } while (!used.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  return true;
}

std::shared_ptr<SegmentRegions> SegmentRegions::create(std::span<std::byte> memory,
                                                       RegisterRange register_range,
                                                       std::shared_ptr<const void> keep_alive,
                                                       std::shared_ptr<RegisteredBudget> budget) {
  return std::make_shared<SegmentRegions>(Key{}, memory, std::move(register_range),
                                          std::move(keep_alive), std::move(budget));
}

SegmentRegions::SegmentRegions(Key, std::span<std::byte> memory, RegisterRange register_range,
                               std::shared_ptr<const void> keep_alive,
                               std::shared_ptr<RegisteredBudget> budget)
    : memory_(memory),
      register_range_(std::move(register_range)),
      keep_alive_(std::move(keep_alive)),
      budget_(std::move(budget)) {
  RC_ASSERT(reinterpret_cast<std::uintptr_t>(memory.data()) % kPageBytes == 0);
  const std::size_t whole = memory.size() / kPageBytes * kPageBytes;
  if (whole > 0) free_.emplace(0, whole);
}

Result<std::unique_ptr<fabric::MemoryRegion>> SegmentRegions::carve(std::size_t bytes) {
  const std::size_t want =
      (std::max<std::size_t>(bytes, 1) + kPageBytes - 1) / kPageBytes * kPageBytes;
  std::size_t offset = 0;
  if (budget_ && !budget_->take(want))
    return make_error(Errc::try_again, "zcb segment",
                      std::to_string(want) + " more bytes registered would pass the limit of " +
                          std::to_string(budget_->limit) + " for all clients");
  {
    std::lock_guard lock(mutex_);
    auto it = free_.begin();
    while (it != free_.end() && it->second < want)
      ++it;
    if (it == free_.end()) {
      if (budget_) budget_->give(want);
      return make_error(Errc::try_again, "zcb segment",
                        "no free range of " + std::to_string(want) + " bytes in " +
                            std::to_string(memory_.size()) + " (" + std::to_string(carved_) +
                            " in use)");
    }
    offset = it->first;
    const std::size_t left = it->second - want;
    free_.erase(it);
    if (left > 0) free_.emplace(offset + want, left);
    carved_ += want;
  }
  auto inner = register_range_(memory_.subspan(offset, want));
  if (!inner) {
    give_back(offset, want);
    return inner.error();
  }
  return std::unique_ptr<fabric::MemoryRegion>(
      std::make_unique<CarvedRegion>(std::move(*inner), shared_from_this(), offset));
}

AllocateRegion SegmentRegions::allocator() {
  return [self = shared_from_this()](std::size_t bytes) { return self->carve(bytes); };
}

std::size_t SegmentRegions::carved_bytes() const {
  std::lock_guard lock(mutex_);
  return carved_;
}

std::optional<std::size_t> SegmentRegions::offset_of(const void* p) const noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto base = reinterpret_cast<std::uintptr_t>(memory_.data());
  if (a < base || a - base >= memory_.size()) return std::nullopt;
  return a - base;
}

void SegmentRegions::give_back(std::size_t offset, std::size_t bytes) noexcept {
  std::lock_guard lock(mutex_);
  RC_ASSERT(carved_ >= bytes);
  carved_ -= bytes;
  if (budget_) budget_->give(bytes);
  auto [it, inserted] = free_.emplace(offset, bytes);
  RC_ASSERT(inserted);
  if (auto next = std::next(it); next != free_.end() && it->first + it->second == next->first) {
    it->second += next->second;
    free_.erase(next);
  }
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      free_.erase(it);
    }
  }
}

}  // namespace ringcast::zcb
