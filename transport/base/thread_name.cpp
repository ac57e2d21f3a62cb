#include "base/thread_name.hpp"

#include <sys/prctl.h>

namespace ringcast {

void name_this_thread(const char* name) noexcept {
  // Longer names are cut by the kernel; a failure leaves the old name.
  (void)::prctl(PR_SET_NAME, name, 0, 0, 0);
}

}  // namespace ringcast
