#include "runtime/incarnation.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <string_view>

#include "base/unique_fd.hpp"

namespace ringcast::runtime {
namespace {

constexpr std::size_t kMaxFileBytes = 32;  // "4294967295\n" and some slack

// mkdir -p, mode 0700 for what it creates.
int make_dirs(const std::string& dir) {
  for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string part = dir.substr(0, slash);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    if (slash == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

struct ReadResult {
  int err = 0;                        // of open/read; ENOENT: no file yet
  std::optional<std::uint32_t> last;  // nullopt with err 0: corrupt
};

// One decimal number and a newline, nothing else.
std::optional<std::uint32_t> parse(std::string_view text) {
  if (text.size() < 2 || text.back() != '\n') return std::nullopt;
  text.remove_suffix(1);
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

ReadResult read_last(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return {errno, std::nullopt};
  std::array<char, kMaxFileBytes + 1> buffer{};
  const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n < 0) return {errno, std::nullopt};
  if (static_cast<std::size_t>(n) > kMaxFileBytes) return {0, std::nullopt};
  return {0, parse(std::string_view(buffer.data(), static_cast<std::size_t>(n)))};
}

// Write a temporary file, fsync it, rename it over the file, fsync the
// directory: the file holds the old number or the new one, never a part.
int write_atomically(const std::string& dir, const std::string& path, std::uint32_t value) {
  const std::string tmp = path + ".tmp";
  const std::string text = std::to_string(value) + "\n";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return errno;
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return errno != 0 ? errno : EIO;
    if (::fsync(fd.get()) != 0) return errno;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return err;
  }
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0 || ::fsync(d.get()) != 0) return errno;
  return 0;
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
  if (int err = make_dirs(dir); err != 0) return unusable(required, clock_only, "mkdir", err, dir);
  const std::string path = dir + "/incarnation." + std::to_string(node);
  const ReadResult read = read_last(path);
  if (read.err != 0 && read.err != ENOENT)
    return unusable(required, clock_only, "open", read.err, path);
  TakenIncarnation t;
  if (read.err == 0 && !read.last) {
    t.warning = path + " is corrupt (not one decimal number); the incarnation comes from the " +
                "clock and the file is rewritten";
  }
  const std::optional<std::uint32_t> next = next_incarnation(read.last, clock_units);
  if (!next) {
    return make_error(Errc::too_big, "incarnation",
                      path +
                          " holds the largest incarnation; remove it only when every peer "
                          "has restarted since");
  }
  t.incarnation = *next;
  if (int err = write_atomically(dir, path, t.incarnation); err != 0) {
    Result<TakenIncarnation> r = unusable(required, t.incarnation, "write", err, path);
    if (r.ok() && !t.warning.empty()) r->warning = t.warning + "; " + r->warning;
    return r;
  }
  return t;
}

}  // namespace ringcast::runtime
