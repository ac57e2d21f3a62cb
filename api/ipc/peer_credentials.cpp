#include "ipc/peer_credentials.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace ringcast::ipc {

Result<PeerCredentials> peer_credentials(int socket_fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return system_error("getsockopt(SO_PEERCRED)", errno, "a client's credentials");
  if (len != sizeof cred)
    return make_error(Errc::system, "getsockopt(SO_PEERCRED)", "short credentials");
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

Status check_access(const PeerCredentials& peer, const AccessPolicy& policy) {
  if (peer.uid == 0) return {};
  if (std::find(policy.uids.begin(), policy.uids.end(), peer.uid) != policy.uids.end()) return {};
  if (std::find(policy.gids.begin(), policy.gids.end(), peer.gid) != policy.gids.end()) return {};
  return make_error(Errc::refused, "check_access",
                    "process " + std::to_string(peer.pid) + " (uid " + std::to_string(peer.uid) +
                        ", gid " + std::to_string(peer.gid) +
                        ") is not allowed: add its user or group to the cluster file");
}

}  // namespace ringcast::ipc
