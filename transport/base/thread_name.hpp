// Names the calling thread (at most 15 characters show), so that top -H,
// ps -L and a debugger tell a node's threads apart: which one is busy.
#pragma once

namespace ringcast {

void name_this_thread(const char* name) noexcept;

}  // namespace ringcast
