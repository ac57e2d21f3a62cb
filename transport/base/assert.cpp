#include "base/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace ringcast {

void assert_fail(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "ringcast: assertion failed: %s (%s:%d)\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ringcast
