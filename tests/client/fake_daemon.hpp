// A stand-in for ringcastd in a thread of the test: it listens on
// <run_dir>/ringcastd-<node>.sock, greets each client with api/ipc's daemon
// functions, and answers its requests as the protocol says (docs/protocol.md
// "Client and daemon frames"). A group here is the one client alone: a
// join's confchg lists it, an mcast comes back to it as a delivery (parts
// when larger than a frame) before the mcast's reply. Its quorum service
// says quorate, the one node its member (quorum_state), the state of a
// trackstart before the reply. Tests replace the
// answer to any request (on_request) to inject what a real daemon would
// rarely do: garbage, a hang-up, a reply with deliveries around it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.hpp"
#include "ipc/channel.hpp"
#include "ipc/frame_codec.hpp"

namespace ringcast::testing {

inline constexpr std::uint64_t kFakeRemoteHandle = 0x5eed;

// One connected client, as the fake daemon's handler sees it.
struct FakeClient {
  UniqueFd socket;
  ipc::DaemonChannel channel;
  std::uint32_t pid = 0;
  std::uint32_t node = 0;
  std::vector<std::byte> parts;  // mcast_part bytes so far
  bool finished = false;         // stop serving it (finalize, or the test hung up)
  // The credit granted after initialize (0: none, as an older daemon);
  // each credited mcast is delivered back and acknowledged at once.
  std::uint32_t credit_messages = 0;
  std::uint64_t credit_bytes = 0;
  // An ack of one credited mcast (its request id and bytes) with this
  // connection's window.
  ipc::McastAck ack_of(std::uint64_t request_id, std::uint64_t bytes) const;

  // Pushes an event, waiting while the ring is full.
  void send(const ipc::Event& event);
  void send_raw(std::span<const std::byte> frame);
  void hang_up();  // closes the socket and stops serving it
};

// The fake's quorum state: quorate, ring (node, 8), the one node.
ipc::QuorumNotify quorum_state(const FakeClient& client);

class FakeDaemon {
 public:
  // The default answer to a request (the protocol's, as described above).
  static void answer(FakeClient& client, const ipc::Request& request);

  FakeDaemon(std::string run_dir, std::uint32_t node, ipc::ChannelSizes sizes = {});
  ~FakeDaemon();
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  // Set before the first client connects.
  std::function<void(FakeClient&, const ipc::Request&)> on_request = answer;
  // A welcome of another protocol version instead of the channel.
  bool speak_version_plus_one = false;
  // A welcome of this version with this error and no descriptors (0: none).
  std::uint32_t refuse_with = 0;
  std::uint64_t atomic_message_bytes = 1 << 20;
  std::uint64_t largest_message_bytes = 4 << 20;
  // Not 0: a receive log of this many bytes (a page multiple), sealed
  // read-only and passed at every welcome; its bytes are 'a' + offset % 26.
  std::size_t log_bytes = 0;
  // The credit each client is granted (FakeClient::credit_messages).
  std::uint32_t credit_messages = 0;
  std::uint64_t credit_bytes = 1 << 20;

  std::uint64_t requests_of(ipc::MessageType type) const;
  std::uint32_t clients() const { return clients_.load(); }
  // Of the clients served so far: the daemon's doorbell writes to them (a
  // system call each, made because the client announced a sleep), and the
  // sleeps the daemon announced (each allows the client one write).
  std::uint64_t event_doorbell_writes() const { return event_writes_.load(); }
  std::uint64_t request_sleeps_announced() const { return request_announced_.load(); }
  // Stops serving and removes the socket (a daemon that died).
  void stop();

 private:
  void run();
  void serve(UniqueFd socket);
  bool greet(FakeClient& client);

  std::string path_;
  std::uint32_t node_;
  ipc::ChannelSizes sizes_;
  ipc::SharedSegment log_;  // made at the first welcome (the daemon's thread)
  UniqueFd listener_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint32_t> clients_{0};
  std::atomic<std::uint64_t> event_writes_{0}, request_announced_{0};
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(80, 0);
  std::thread thread_;
};

// A scratch run_dir and cluster file (node 1 on 127.0.0.1, the file's
// system.run_dir there), with RINGCAST_CONFIG, RINGCAST_NODE_ID and
// RINGCAST_MODE=daemon set for this process; removed and unset at the end.
class DaemonEnvironment {
 public:
  // extra_sections: whole sections after the nodelist (a totem section).
  explicit DaemonEnvironment(const char* mode = "daemon", const std::string& extra_system = "",
                             const std::string& extra_sections = "");
  ~DaemonEnvironment();
  const std::string& run_dir() const { return run_dir_; }
  const std::string& config() const { return config_; }

 private:
  std::string dir_, run_dir_, config_;
};

}  // namespace ringcast::testing
