#include "daemon/stop_signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace ringcast::daemon {

Result<UniqueFd> stop_signal_fd() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigset_t blocked = stop;
  sigaddset(&blocked, SIGHUP);
  if (::pthread_sigmask(SIG_BLOCK, &blocked, nullptr) != 0)
    return system_error("pthread_sigmask", errno);
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd fd(::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK));
  if (fd.get() < 0) return system_error("signalfd", errno);
  return fd;
}

int read_stop_signal(int fd) {
  signalfd_siginfo info{};
  if (::read(fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

const char* signal_name(int signal) {
  if (signal == SIGTERM) return "SIGTERM";
  if (signal == SIGINT) return "SIGINT";
  return "a signal";
}

}  // namespace ringcast::daemon
