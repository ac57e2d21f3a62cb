// One client's connection to the daemon, set up over its unix socket:
//   1. the client sends hello (its version and pid) as one message;
//   2. the daemon checks the version (a mismatch: welcome with the daemon's
//      version and CS_ERR_VERSION, then the daemon closes), creates the
//      channel and sends welcome with the channel's descriptors attached.
// Descriptors, in order: request ring, event ring, request doorbell (the
// daemon sleeps on it), event doorbell (the client sleeps on it), then the
// zcb segment when zcb_segment_bytes > 0, then the receive log when
// log_bytes > 0. Every segment is created and sealed by the daemon
// (shared_segment.hpp); the client checks seals and sizes before mapping.
//
// The socket must be SOCK_SEQPACKET: a message and its descriptors arrive
// together, and a message is never cut or merged.
//
// Hello and welcome keep their type and version (and welcome its error) at
// the same offsets in every protocol version, so each side can name the
// other's version before it decodes anything else.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "base/result.hpp"
#include "ipc/byte_ring.hpp"
#include "ipc/doorbell.hpp"
#include "ipc/messages.hpp"
#include "ipc/shared_segment.hpp"

namespace ringcast::ipc {

// CS_ERR_VERSION of <corosync/corotypes.h>, the welcome's error on a mismatch.
inline constexpr std::uint32_t kWelcomeVersionError = 3;

struct ChannelSizes {
  std::uint32_t max_frame_bytes = 64 << 10;
  std::uint64_t request_ring_bytes = 1 << 20;  // capacities: powers of two
  std::uint64_t event_ring_bytes = 1 << 20;
  std::uint64_t zcb_segment_bytes = 0;  // a multiple of the page size; 0: none
};

// The daemon's side of one client.
struct DaemonChannel {
  ChannelSizes sizes;
  SharedSegment request_segment, event_segment, zcb_segment;
  std::optional<Doorbell> request_bell, event_bell;
  std::optional<RingConsumer> requests;
  std::optional<RingProducer> events;
};

// The client's side.
struct ClientChannel {
  Welcome welcome;
  Mapping request_segment, event_segment, zcb_segment, log;
  std::optional<Doorbell> request_bell, event_bell;
  std::optional<RingProducer> requests;
  std::optional<RingConsumer> events;
};

// ---- the daemon ----
// The client's hello; Errc::refused naming both versions on a mismatch
// (after answering it with a welcome that says so). It blocks in recv: call
// it once the socket is readable, so a client that sends nothing holds up
// no one. Descriptors a client attaches are discarded, never taken.
Result<Hello> receive_hello(int socket_fd);
Result<DaemonChannel> create_channel(const ChannelSizes& sizes);
// welcome's sizes are filled from the channel; log_fd < 0: no log.
Status send_welcome(int socket_fd, const DaemonChannel& channel, Welcome welcome, int log_fd,
                    std::uint64_t log_bytes);

// ---- the client ----
Status send_hello(int socket_fd, pid_t pid);
// Errc::refused with the daemon's reason (a version mismatch names both).
Result<ClientChannel> receive_welcome(int socket_fd);

}  // namespace ringcast::ipc
