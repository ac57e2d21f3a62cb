// The argument checks of the C API that both modes share: what the C types
// allow to be wrong, refused before anything reads it.
#pragma once

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

#include "client/c_enum_args.hpp"
#include "ringcast/cpg.h"

namespace ringcast::client {

// More iovec pieces than this is refused rather than allocated for.
inline constexpr unsigned kMaxPieces = 1024;

// NULL, or a name whose length field is beyond the array.
inline cs_error_t check_name(const cpg_name* group) {
  if (group == nullptr) return CS_ERR_INVALID_PARAM;
  if (group->length > CPG_MAX_NAME_LENGTH) return CS_ERR_NAME_TOO_LONG;
  return CS_OK;
}

inline std::string_view name_view(const cpg_name* group) {
  return {group->value, group->length};
}

// The C struct of a group name, cut at CPG_MAX_NAME_LENGTH.
inline cpg_name to_cpg_name(std::string_view group) {
  cpg_name n{};
  n.length = static_cast<uint32_t>(std::min<std::size_t>(group.size(), CPG_MAX_NAME_LENGTH));
  std::memcpy(n.value, group.data(), n.length);
  return n;
}

// The guarantee of cpg_mcast_joined() and cpg_zcb_mcast_joined().
inline std::optional<cpg_guarantee_t> checked_guarantee(const cpg_guarantee_t& arg) {
  return checked_c_enum(arg, {CPG_TYPE_UNORDERED, CPG_TYPE_FIFO, CPG_TYPE_AGREED, CPG_TYPE_SAFE});
}

// The iteration type of cpg_iteration_initialize().
inline std::optional<cpg_iteration_type_t> checked_iteration_type(const cpg_iteration_type_t& arg) {
  return checked_c_enum(arg, {CPG_ITERATION_NAME_ONLY, CPG_ITERATION_ONE_GROUP, CPG_ITERATION_ALL});
}

// A known type, and a group with CPG_ITERATION_ONE_GROUP and only then.
inline cs_error_t check_iteration(std::optional<cpg_iteration_type_t> type, const cpg_name* group) {
  if (!type) return CS_ERR_INVALID_PARAM;
  const bool one = *type == CPG_ITERATION_ONE_GROUP;
  if (one != (group != nullptr)) return CS_ERR_INVALID_PARAM;
  return one ? check_name(group) : CS_OK;
}

}  // namespace ringcast::client
