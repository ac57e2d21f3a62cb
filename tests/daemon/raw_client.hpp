// A client of ringcastd's socket driven by hand, as the library does it
// (ipc's client functions: send_hello, receive_welcome, the rings), so the
// daemon's tests choose every frame: honest ones, and hostile ones.
//
// Events are decoded as they are read and kept, payloads copied; a delivery
// in parts is put together as the library does.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "ipc/channel.hpp"
#include "ipc/frame_codec.hpp"
#include "ipc/messages.hpp"

namespace ringcast::daemon_test {

struct Got {
  ipc::MessageType type = ipc::MessageType::reply;
  std::uint64_t request_id = 0;
  std::uint64_t handle = 0;
  std::uint32_t error = 0;
  std::uint64_t value = 0;  // deliver_ref: its delivery id
  std::string group;
  ipc::ProcessId sender;
  std::string payload;
  std::vector<ipc::ProcessId> members;          // reply_members, confchg, quorum_notify (pid 0)
  std::vector<ipc::ConfchgEntry> left, joined;  // confchg
  std::uint64_t ring_seq = 0;                   // totem_confchg, quorum_notify (value: quorate)
  ipc::McastAck ack;                            // mcast_ack
};

// Connects and says hello; the welcome's refusal as an error.
Result<UniqueFd> connect_to(const std::string& path);

class RawClient {
 public:
  static Result<std::unique_ptr<RawClient>> connect(const std::string& path);

  const ipc::Welcome& welcome() const { return channel_.welcome; }
  ipc::ClientChannel& channel() { return channel_; }
  int socket() const { return socket_.get(); }

  // Pushes one frame (retried while the ring is full, up to 10 s).
  bool push(std::span<const std::byte> frame);
  bool send(ipc::RequestBody body, std::uint64_t request_id);
  // Sends and waits for the answer (other events are kept meanwhile).
  std::optional<Got> call(ipc::RequestBody body,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // A message of any size: parts, then the mcast; returns its request id.
  std::uint64_t mcast(std::uint64_t handle, std::string_view payload, std::uint32_t guarantee = 2,
                      bool credited = false);
  // The mcast_acks read so far.
  std::vector<ipc::McastAck> acks() const;

  // Reads what the ring holds now, or waits up to `wait` for more.
  void read(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Reads until pred() or the timeout; returns pred().
  bool read_until(const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::optional<Got> reply_to(std::uint64_t request_id) const;

  std::vector<Got> events;                    // in ring order, parts put together
  std::vector<std::string> messages() const;  // delivered payloads, in order
  std::vector<Got> confchgs() const;
  bool decode_failed = false;

  // The daemon hung the socket up (it dropped this client, or stopped).
  bool hung_up(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) const;
  void close_socket() { socket_.reset(); }
  std::uint64_t next_id() { return next_id_++; }

  ipc::Initialize initialize_body() const { return {}; }
  // initialize; the daemon's handle, or 0.
  std::uint64_t initialize();
  std::uint32_t join(std::uint64_t handle, const std::string& group);

 private:
  RawClient(UniqueFd socket, ipc::ClientChannel channel)
      : socket_(std::move(socket)), channel_(std::move(channel)) {}
  void take(const std::vector<std::byte>& frame);

  UniqueFd socket_;
  ipc::ClientChannel channel_;
  std::vector<std::byte> frame_;
  std::string parts_;
  std::uint64_t next_id_ = 1;
};

}  // namespace ringcast::daemon_test
