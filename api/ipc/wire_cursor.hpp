// Little-endian field writers and readers for the frame codec. The reader is
// bounded: a read past the end fails and leaves the cursor failed, so a
// decoder checks once per message that every field it took was there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/wire.hpp"
#include "ipc/messages.hpp"

namespace ringcast::ipc {

class FieldWriter {
 public:
  explicit FieldWriter(std::vector<std::byte>& out) : out_(out) {}
  template <class T>
  FieldWriter& put(T value) {
    const std::size_t at = out_.size();
    out_.resize(at + sizeof(T));
    wire::put<T>(out_.data() + at, value);
    return *this;
  }
  FieldWriter& u32(std::uint32_t v) { return put(v); }
  FieldWriter& u64(std::uint64_t v) { return put(v); }
  // u32 length, then the 128 bytes of the name (zeros past the length).
  FieldWriter& group(const GroupName& name);

 private:
  std::vector<std::byte>& out_;
};

class FieldReader {
 public:
  explicit FieldReader(std::span<const std::byte> in) : in_(in) {}
  template <class T>
  T get() noexcept {
    if (failed_ || in_.size() - at_ < sizeof(T)) {
      failed_ = true;
      return T{};
    }
    const T value = wire::get<T>(in_.data() + at_);
    at_ += sizeof(T);
    return value;
  }
  std::uint32_t u32() noexcept { return get<std::uint32_t>(); }
  std::uint64_t u64() noexcept { return get<std::uint64_t>(); }
  // The raw length and bytes; the decoder checks the length.
  GroupName group() noexcept;
  std::span<const std::byte> bytes(std::size_t n) noexcept;

  bool failed() const noexcept { return failed_; }
  std::size_t left() const noexcept { return failed_ ? 0 : in_.size() - at_; }

 private:
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

inline constexpr std::size_t kGroupNameWireBytes = 4 + kMaxGroupNameBytes;

}  // namespace ringcast::ipc
