// Errors are values: every fallible call returns Result<T> (or Status), and the
// Error inside names the call that failed, the errno it left and, in words,
// what the caller should know. Nothing in transport/ throws across a layer
// boundary.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "base/assert.hpp"

namespace ringcast {

enum class Errc : std::uint8_t {
  system,            // an OS, verbs or rdma_cm call failed; sys_errno says why
  invalid_argument,  // the caller passed something unusable
  not_found,         // no such device, address, region or peer
  port_down,         // the device port is not ACTIVE
  refused,           // the peer refused the connection (version, size, key)
  unreachable,       // address or route resolution failed, nobody listens
  timeout,           // a bounded wait ran out
  try_again,         // a bounded queue is full; retry later
  too_big,           // larger than the configured or granted maximum
  protocol,          // remote input failed validation
  link_failed,       // the reliable connection broke
  closed,            // the object was shut down
};

const char* errc_name(Errc code) noexcept;

struct Error {
  Errc code = Errc::system;
  int sys_errno = 0;   // 0 when no OS error is involved
  std::string call;    // the failed operation, e.g. "ibv_reg_mr"
  std::string detail;  // what was being done, e.g. "region of 4096 bytes"

  // "ibv_reg_mr: Cannot allocate memory (errno 12): region of 4096 bytes"
  std::string message() const;
};

Error make_error(Errc code, std::string call, std::string detail = {});
// Builds a system error from an errno value (pass errno right after the call).
Error system_error(std::string call, int err, std::string detail = {});

// A value or the error that prevented it. E is Error everywhere in
// transport/; a layer with richer errors (the config parser's ConfigError,
// which knows file and line) uses its own E.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    RC_ASSERT(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    RC_ASSERT(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    RC_ASSERT(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    RC_ASSERT(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const E& error() const {
    RC_ASSERT(failed_);
    return error_;
  }

 private:
  E error_{};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace ringcast

// Propagates a failed Status/Result from the enclosing function.
#define RC_TRY(expr)                                         \
  do {                                                       \
    auto&& rc_try_result_ = (expr);                          \
    if (!rc_try_result_.ok()) return rc_try_result_.error(); \
  } while (0)
