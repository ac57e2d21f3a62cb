#include "config/config_error.hpp"

#include <cstring>

namespace ringcast::config {

std::string ConfigError::message() const {
  std::string out = file;
  if (line != 0) out += ":" + std::to_string(line);
  if (line != 0 && column != 0) out += ":" + std::to_string(column);
  if (!out.empty()) out += ": ";
  out += what;
  if (sys_errno != 0) {
    out += ": ";
    out += std::strerror(sys_errno);
  }
  return out;
}

Error ConfigError::to_error() const {
  std::string where = file;
  if (line != 0) where += ":" + std::to_string(line);
  if (line != 0 && column != 0) where += ":" + std::to_string(column);
  if (sys_errno != 0) return system_error(where, sys_errno, what);
  return make_error(Errc::invalid_argument, where, what);
}

ConfigError error_at(std::string_view file, std::uint32_t line, std::uint32_t column,
                     std::string what) {
  return ConfigError{std::string(file), line, column, std::move(what), 0};
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kShownBytes = 40;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kShownBytes; ++i) {
    const char c = text[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > kShownBytes) out += "...";
  out += "'";
  return out;
}

}  // namespace ringcast::config
