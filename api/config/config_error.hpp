// Errors of the configuration layer: what is wrong, and where. Every problem
// found in a cluster file names the file, the line (1-based) and, where it is
// known, the column, so that an operator can go straight to it:
//
//   ringcast.conf:12:5: nodeid 3 appears twice (first at line 8)
//
// Parsed<T> carries a value or a ConfigError, like base's Result<T> carries a
// value or an Error; to_error() converts for callers that speak Result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.hpp"
#include "base/result.hpp"

namespace ringcast::config {

struct ConfigError {
  std::string file;          // the path as given, e.g. "/etc/ringcast/ringcast.conf"
  std::uint32_t line = 0;    // 1-based; 0 when the problem is about the file as a whole
  std::uint32_t column = 0;  // 1-based byte column; 0 when not known
  std::string what;          // never contains key material
  int sys_errno = 0;         // set when an OS call failed (open, read, getifaddrs)

  // "file:line:column: what", "file:line: what" or "file: what", plus the
  // errno's text when there is one.
  std::string message() const;
  // Errc::invalid_argument (or Errc::system with sys_errno), call = location.
  Error to_error() const;
};

// Builds an error at a place of a file.
ConfigError error_at(std::string_view file, std::uint32_t line, std::uint32_t column,
                     std::string what);

// Text from the file, made safe to show in a message: in single quotes, cut
// after 40 bytes ("..."), bytes that are not printable ASCII shown as '?'.
std::string quoted(std::string_view text);

// Nothing, or the first problem found.
using Problem = std::optional<ConfigError>;

// A parsed value, or the first problem found, with its file and line.
template <class T>
using Parsed = Result<T, ConfigError>;

}  // namespace ringcast::config
