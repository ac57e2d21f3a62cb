// The enum arguments of the C API. A C caller may pass any int where a
// prototype names an enum (cpg_dispatch(h, 9)), but in C++ reading a value
// outside the enum's range as that enum is undefined behaviour: clang's
// -fsanitize=enum stops there and an optimizer may assume it never happens.
// So each such argument is read as the integer the caller passed, checked
// against the values the call accepts, and only then used as the enum.
#pragma once

#include <cstring>
#include <initializer_list>
#include <optional>
#include <type_traits>

#include "ringcast/corotypes.h"

namespace ringcast::client {

// The integer a C caller passed as `arg`, copied as bytes: never loaded as
// the enum, whose range need not hold it.
template <typename Enum>
std::underlying_type_t<Enum> raw_c_enum(const Enum& arg) {
  static_assert(std::is_enum_v<Enum>);
  std::underlying_type_t<Enum> raw;
  static_assert(sizeof raw == sizeof arg);
  std::memcpy(&raw, &arg, sizeof raw);
  return raw;
}

// `arg` if the caller passed one of `accepted`, nothing otherwise.
template <typename Enum>
std::optional<Enum> checked_c_enum(const Enum& arg, std::initializer_list<Enum> accepted) {
  const std::underlying_type_t<Enum> raw = raw_c_enum(arg);
  for (const Enum value : accepted)
    if (static_cast<std::underlying_type_t<Enum>>(value) == raw) return value;
  return std::nullopt;
}

// The dispatch flags of cpg_dispatch() and quorum_dispatch().
inline std::optional<cs_dispatch_flags_t> checked_dispatch_flags(const cs_dispatch_flags_t& arg) {
  return checked_c_enum(
      arg, {CS_DISPATCH_ONE, CS_DISPATCH_ALL, CS_DISPATCH_BLOCKING, CS_DISPATCH_ONE_NONBLOCKING});
}

}  // namespace ringcast::client
