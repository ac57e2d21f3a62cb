#include "ipc/wire_cursor.hpp"

#include <algorithm>
#include <cstring>

namespace ringcast::ipc {

FieldWriter& FieldWriter::group(const GroupName& name) {
  u32(name.length);
  const std::size_t at = out_.size();
  out_.resize(at + kMaxGroupNameBytes);
  const std::size_t n = std::min<std::size_t>(name.length, kMaxGroupNameBytes);
  std::memcpy(out_.data() + at, name.value.data(), n);
  return *this;
}

GroupName FieldReader::group() noexcept {
  GroupName name;
  name.length = u32();
  const auto raw = bytes(kMaxGroupNameBytes);
  if (!failed_) std::memcpy(name.value.data(), raw.data(), kMaxGroupNameBytes);
  return name;
}

std::span<const std::byte> FieldReader::bytes(std::size_t n) noexcept {
  if (failed_ || in_.size() - at_ < n) {
    failed_ = true;
    return {};
  }
  const auto out = in_.subspan(at_, n);
  at_ += n;
  return out;
}

}  // namespace ringcast::ipc
