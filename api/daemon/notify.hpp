// systemd's readiness protocol (sd_notify(3)), without libsystemd: one
// datagram of "KEY=VALUE" lines to the unix socket named by $NOTIFY_SOCKET
// (a path, or "@name" for the abstract namespace). ringcastd sends READY=1
// once its node is in an operational ring and STOPPING=1 when it leaves.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace ringcast::daemon {

inline constexpr std::string_view kNotifySocketEnv = "NOTIFY_SOCKET";

// Sends state to the socket at `socket` (as $NOTIFY_SOCKET spells it).
// Errc::invalid_argument for a name that is no unix socket address.
Status notify_to(std::string_view socket, std::string_view state);

// notify_to($NOTIFY_SOCKET, state); nothing when it is unset or empty (not
// started by systemd).
Status notify(std::string_view state);

}  // namespace ringcast::daemon
