// Internal errors (base/result.hpp) as the cs_error_t codes of the CPG API.
#pragma once

#include "base/result.hpp"
#include "ringcast/ringcast.hpp"

namespace ringcast::client {

cs_error_t to_cs_error(Errc code) noexcept;

inline cpg::Status to_status(const ringcast::Status& s) {
  if (s.ok()) return {};
  return cpg::Status(to_cs_error(s.error().code), s.error().message());
}

}  // namespace ringcast::client
