// Who is at the other end of a unix socket (SO_PEERCRED: the credentials the
// peer had when it connected, given by the kernel, not by the peer), and
// whether the cluster file lets that user or group use the daemon. Root is
// always let in, as corosync's uidgid directives do. The group checked is
// the peer's primary group (what SO_PEERCRED reports).
#pragma once

#include <sys/types.h>

#include <vector>

#include "base/result.hpp"

namespace ringcast::ipc {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<PeerCredentials> peer_credentials(int socket_fd);

struct AccessPolicy {
  std::vector<uid_t> uids;  // users let in besides root
  std::vector<gid_t> gids;  // primary groups let in
};

// Errc::refused naming the pid, uid and gid when neither the user nor the
// group is allowed.
Status check_access(const PeerCredentials& peer, const AccessPolicy& policy);

}  // namespace ringcast::ipc
