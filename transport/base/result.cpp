#include "base/result.hpp"

#include <cstring>

namespace ringcast {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::system:
      return "system";
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::not_found:
      return "not found";
    case Errc::port_down:
      return "port down";
    case Errc::refused:
      return "refused";
    case Errc::unreachable:
      return "unreachable";
    case Errc::timeout:
      return "timeout";
    case Errc::try_again:
      return "try again";
    case Errc::too_big:
      return "too big";
    case Errc::protocol:
      return "protocol violation";
    case Errc::link_failed:
      return "link failed";
    case Errc::closed:
      return "closed";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string out = call.empty() ? std::string(errc_name(code)) : call;
  if (sys_errno != 0) {
    out += ": ";
    out += std::strerror(sys_errno);
    out += " (errno " + std::to_string(sys_errno) + ")";
  } else if (!call.empty()) {
    out += ": ";
    out += errc_name(code);
  }
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

Error make_error(Errc code, std::string call, std::string detail) {
  return Error{code, 0, std::move(call), std::move(detail)};
}

Error system_error(std::string call, int err, std::string detail) {
  return Error{Errc::system, err, std::move(call), std::move(detail)};
}

}  // namespace ringcast
