#include "daemon/node_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace ringcast::daemon {

namespace {

Status make_parent(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return {};
  const std::string dir = path.substr(0, slash);
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return {};
  return system_error("mkdir", errno, "run directory " + dir);
}

// The pid the holder wrote, for the message ("" when unreadable).
std::string holder_pid(int fd) {
  std::array<char, 16> text{};
  const ssize_t n = ::pread(fd, text.data(), text.size() - 1, 0);
  if (n <= 0) return "";
  std::string pid(text.data(), static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
    pid.pop_back();
  return pid;
}

Status write_pid(int fd) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0) return system_error("ftruncate", errno);
  if (::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return system_error("pwrite", errno);
  return {};
}

}  // namespace

std::string lock_path(const std::string& run_dir, std::uint32_t node) {
  return run_dir + "/ringcastd-" + std::to_string(node) + ".lock";
}

Result<UniqueFd> take_node_lock(const std::string& path) {
  RC_TRY(make_parent(path));
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return system_error("open", errno, "lock file " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return system_error("flock", errno, "lock file " + path);
    const std::string pid = holder_pid(fd.get());
    return make_error(Errc::try_again, "flock",
                      "another ringcastd runs this node" +
                          (pid.empty() ? "" : " (pid " + pid + ")") + ": it holds " + path);
  }
  RC_TRY(write_pid(fd.get()));
  return fd;
}

}  // namespace ringcast::daemon
