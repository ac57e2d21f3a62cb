#include "fabric/verbs/handles.hpp"

#include <cstring>
#include <string>

#include "base/log.hpp"

namespace ringcast::fabric::verbs {

void report_release_failure(const char* call, int rc) noexcept {
  // Some calls return an errno, others -1 with errno set.
  const int err = rc > 0 ? rc : errno;
  std::string line = std::string(call) + " failed: " + std::strerror(err) + " (a resource leaked)";
  log_line(line);
}

}  // namespace ringcast::fabric::verbs
