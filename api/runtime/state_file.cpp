#include "runtime/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string_view>

#include "base/unique_fd.hpp"

namespace ringcast::runtime::state_file {
namespace {

constexpr std::size_t kMaxFileBytes = 32;  // "18446744073709551615\n" and some slack

std::optional<std::uint64_t> parse(std::string_view text) {
  if (text.size() < 2 || text.back() != '\n') return std::nullopt;
  text.remove_suffix(1);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

}  // namespace

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

ReadNumber read_number(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return {errno, std::nullopt};
  std::array<char, kMaxFileBytes + 1> buffer{};
  const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n < 0) return {errno, std::nullopt};
  if (static_cast<std::size_t>(n) > kMaxFileBytes) return {0, std::nullopt};
  return {0, parse(std::string_view(buffer.data(), static_cast<std::size_t>(n)))};
}

int write_number(const std::string& dir, const std::string& path, std::uint64_t value) {
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

}  // namespace ringcast::runtime::state_file
