// RingNode: one member of a static ring in this process, over verbs.
//
//   RingNodeOptions o{.members = {{1, "10.0.0.1", 7405}, {2, "10.0.0.2", 7405}}, .me = 2};
//   auto node = RingNode::start(o);   // connects the mesh, starts the ring
//   (*node)->submit(message);         // any thread; Errc::try_again when full
//   deliveries: on_round (progress thread) or next_delivery()/release_through()
//   (*node)->stop();                  // or the destructor
//
// Mesh set-up: every member opens its endpoint on its own address, listens on
// its port, connects to each member with a LOWER node id (retrying while that
// one is not listening yet, within connect_timeout_ns in total) and accepts
// each member with a HIGHER id. Both sides vet the peer's ConnectInfo (the
// node id expected, the ring's region sizes) before a link exists; with a
// cluster key (`key`), each link is first set up by a challenge-response
// that both sides pass only with the same key (fabric/auth/handshake.hpp).
// Then the ring driver starts and a ProgressThread runs it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/fabric.hpp"
#include "ring/driver.hpp"
#include "ring/ring_config.hpp"
#include "runtime/progress_thread.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::fabric::verbs {
class VerbsEndpoint;
class Listener;
}  // namespace ringcast::fabric::verbs

namespace ringcast::runtime {

struct MemberAddress {
  fabric::NodeId node = 0;
  std::string ip;  // IPv4 literal served by an RDMA device
  std::uint16_t port = 0;
};

struct RingNodeOptions {
  std::vector<MemberAddress> members;  // every member, sorted by node id, unique
  fabric::NodeId me = 0;               // one of members
  std::string device;                  // empty: the device serving my ip
  int gid_index = -1;                  // RoCE GID index to check, -1: none
  ring::RingConfig ring;
  ProgressOptions progress;
  // Runs on the progress thread after every round, driver lock held: the
  // place to drain deliveries with the least latency. Either the driver
  // itself (on_round) or RingTransport's event stream (on_events), not both.
  ProgressThread::RoundCallback on_round;
  RoundCallback on_events;
  std::uint64_t connect_timeout_ns = 60'000'000'000;  // the whole mesh set-up
  std::uint32_t incarnation = 1;
  // From the cluster key: AuthKey::derive(config.auth.key.secret_bytes()).
  // Empty: links are not authenticated (logged once as a warning).
  fabric::auth::AuthKey key;
};

// Errc::invalid_argument when the member list is unusable (empty, unsorted,
// duplicate ids, me missing, more than the ring's maximum).
Status validate(const RingNodeOptions& options);
// The member list's part of it (RingNode and MembershipNode); `what` names the
// options in the error.
Status validate_members(const std::vector<MemberAddress>& members, fabric::NodeId me,
                        const char* what);

class RingNode final : public RingTransport {
 public:
  // Blocks until the mesh is connected and the ring runs, or fails with an
  // error naming the peer and its address.
  static Result<std::unique_ptr<RingNode>> start(const RingNodeOptions& options);
  ~RingNode() override;
  RingNode(const RingNode&) = delete;
  RingNode& operator=(const RingNode&) = delete;

  Status submit(const OutgoingTransportMessage& message) override;
  // The same, in the ring's vocabulary (tests and benchmarks of the ring).
  Status submit(const ring::OutgoingMessage& message);
  // For callers that do not drain in on_round. The payload stays valid until
  // release_through() covers its seq.
  std::optional<ring::Delivery> next_delivery();
  Status release_through(std::uint64_t seq) override;
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) override;
  Result<std::unique_ptr<fabric::MemoryRegion>> register_memory(
      std::span<std::byte> memory) override;
  StatusSnapshot status() override;
  SendPathSnapshot send_path() override;
  // Every other member: the mesh is complete, or the node did not start.
  std::vector<std::uint32_t> linked_nodes() override;
  // fn(RingDriver&) under the driver lock, from any thread.
  template <class Fn>
  auto with_driver(Fn&& fn) {
    return progress_->with_driver(std::forward<Fn>(fn));
  }

  // Stops the progress thread; the links and regions go with the object.
  // Idempotent. Peers see the links go down once the object is destroyed.
  void stop() override;

  fabric::NodeId me() const noexcept override { return me_; }
  const ring::RingMembership& membership() const noexcept { return membership_; }
  const ring::RingConfig& ring_config() const noexcept { return driver_->config(); }
  std::size_t max_message_bytes() const noexcept override {
    return driver_->config().max_message_bytes;
  }

  // Only start() builds one.
  struct Parts;
  explicit RingNode(Parts parts);

 private:
  fabric::NodeId me_ = 0;
  ring::RingMembership membership_;
  // Destroyed bottom-up: thread, driver (regions), links, listener, endpoint.
  std::unique_ptr<fabric::verbs::VerbsEndpoint> endpoint_;
  std::unique_ptr<fabric::verbs::Listener> listener_;
  std::vector<std::unique_ptr<fabric::Link>> links_;  // by member index, null at mine
  std::unique_ptr<ring::RingDriver> driver_;
  std::unique_ptr<ProgressThread> progress_;
};

}  // namespace ringcast::runtime
