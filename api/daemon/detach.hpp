// Without -f, ringcastd forks into the background the classic way, but the
// command that started it still learns how the start went: the parent waits
// for the child's word on a pipe and exits with it, 0 once the node is in
// an operational ring, else the child's exit status (the child has said why
// on the terminal's stderr before it let go of it). Under systemd, -f is
// used instead (Type=notify: READY=1 says the same).
#pragma once

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace ringcast::daemon {

class Detached {
 public:
  // Forks; returns in the child only (the parent exits with the child's
  // word, or 1 when the child ended without one). The child is in a session
  // of its own, in /, with stdin and stdout on /dev/null. Call it before any
  // thread starts.
  static Result<Detached> detach();

  // Tells the parent the start's outcome (once; later calls do nothing),
  // then points stderr at /dev/null: the terminal may be gone.
  void report(int exit_code);

 private:
  explicit Detached(UniqueFd to_parent) : to_parent_(std::move(to_parent)) {}
  UniqueFd to_parent_;
};

}  // namespace ringcast::daemon
