#include "daemon/detach.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace ringcast::daemon {

namespace {

// The parent's side: one byte, the child's exit status.
[[noreturn]] void wait_for_word(UniqueFd from_child) {
  unsigned char word = 1;
  ssize_t n = 0;
  do {
    n = ::read(from_child.get(), &word, 1);
  } while (n < 0 && errno == EINTR);
  ::_exit(n == 1 ? word : 1);
}

void to_dev_null(int target) {
  const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  ::dup2(fd, target);
  ::close(fd);
}

}  // namespace

Result<Detached> Detached::detach() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return system_error("fork", errno);
  if (pid > 0) {
    write_end.reset();
    wait_for_word(std::move(read_end));
  }
  read_end.reset();
  ::setsid();
  if (::chdir("/") != 0) return system_error("chdir", errno, "/");
  to_dev_null(STDIN_FILENO);
  to_dev_null(STDOUT_FILENO);
  return Detached(std::move(write_end));
}

void Detached::report(int exit_code) {
  if (to_parent_.get() < 0) return;
  const auto word = static_cast<unsigned char>(exit_code);
  (void)!::write(to_parent_.get(), &word, 1);
  to_parent_.reset();
  to_dev_null(STDERR_FILENO);
}

}  // namespace ringcast::daemon
