#include "runtime/incarnation.hpp"

#include <cerrno>
#include <cstring>
#include <limits>

#include "runtime/state_file.hpp"

namespace ringcast::runtime {
namespace {

// The incarnation in its file: a number that fits 32 bits (else corrupt).
std::optional<std::uint32_t> read_last(const std::string& path, int* err) {
  const state_file::ReadNumber read = state_file::read_number(path);
  *err = read.err;
  if (!read.value || *read.value > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*read.value);
}

// What a failure of `call` on `what` means: an error when the directory was
// configured, the clock's number with a warning when it was the default.
Result<TakenIncarnation> unusable(bool required, std::uint32_t fallback, const char* call, int err,
                                  const std::string& what) {
  if (required)
    return system_error(call, err, what + " (system.state_dir: the incarnation must be kept)");
  TakenIncarnation t;
  t.incarnation = fallback;
  t.warning = std::string(call) + " " + what + ": " + std::strerror(err) +
              "; the incarnation comes from the clock alone (it may not grow across restarts "
              "if the clock steps back; set system.state_dir to a writable directory)";
  return t;
}

}  // namespace

Result<TakenIncarnation> take_incarnation(const std::string& dir, std::uint32_t node,
                                          std::uint32_t clock_units, bool required) {
  const std::uint32_t clock_only = clock_units != 0 ? clock_units : 1;
  if (dir.empty()) return unusable(required, clock_only, "mkdir", ENOENT, "(no state directory)");
  if (int err = state_file::make_dirs(dir); err != 0)
    return unusable(required, clock_only, "mkdir", err, dir);
  const std::string path = dir + "/incarnation." + std::to_string(node);
  int read_err = 0;
  const std::optional<std::uint32_t> last = read_last(path, &read_err);
  if (read_err != 0 && read_err != ENOENT)
    return unusable(required, clock_only, "open", read_err, path);
  TakenIncarnation t;
  if (read_err == 0 && !last) {
    t.warning = path + " is corrupt (not one decimal number); the incarnation comes from the " +
                "clock and the file is rewritten";
  }
  const std::optional<std::uint32_t> next = next_incarnation(last, clock_units);
  if (!next) {
    return make_error(Errc::too_big, "incarnation",
                      path +
                          " holds the largest incarnation; remove it only when every peer "
                          "has restarted since");
  }
  t.incarnation = *next;
  if (int err = state_file::write_number(dir, path, t.incarnation); err != 0) {
    Result<TakenIncarnation> r = unusable(required, t.incarnation, "write", err, path);
    if (r.ok() && !t.warning.empty()) r->warning = t.warning + "; " + r->warning;
    return r;
  }
  return t;
}

}  // namespace ringcast::runtime
