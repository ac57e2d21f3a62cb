// Invariant checks that stay on in release builds.
//
// An assertion states something the code relies on; when it fails the process
// is in a state nobody reasoned about, so it stops with the location rather
// than corrupt a receive log. Errors that callers can cause (bad handles,
// hostile remote input, failing verbs calls) are never asserted: they are
// returned as values (see result.hpp).
#pragma once

namespace ringcast {

[[noreturn]] void assert_fail(const char* expr, const char* file, int line) noexcept;

}  // namespace ringcast

#define RC_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::ringcast::assert_fail(#cond, __FILE__, __LINE__))

// For checks too costly for the hot path of a release build.
#ifdef NDEBUG
#define RC_DEBUG_ASSERT(cond) static_cast<void>(0)
#else
#define RC_DEBUG_ASSERT(cond) RC_ASSERT(cond)
#endif
