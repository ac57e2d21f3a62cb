// SimCluster: N ring members over the simulated fabric, as RingTransports.
//
// One thread runs the SimWorld and every member's MembershipDriver (the ring and
// its membership protocol), keeping virtual
// time level with the real clock (it never runs ahead of it, so a 100 ms
// token hold lasts 100 ms and an idle cluster sleeps). Each member is
// exposed through attach() as a RingTransport, so the CPG runtime of several
// "processes" runs in one test binary, over the same MembershipDriver code that
// the process's node runs over verbs. Test infrastructure: not part of libringcast.so.
//
// Faults, for tests of configuration changes (all seeded by the world, so a
// seed replays): crash(i) kills member i's "process" (its endpoint stops;
// its transport fails every call with Errc::link_failed from then on; the
// others see its links fail after SimConfig::link_timeout_ns); restart(i)
// starts a new incarnation of it (a new MembershipDriver in a ring of its own,
// start_joining, with links to the running members that saw its old links
// fail, as a runtime's start-up gathers them; attach() then serves it) that
// merge detection brings in; partition(side) cuts side from the rest and heal() lifts it. Like a
// runtime, the cluster reconnects every pair of running members whose link
// both ends saw fail (every 1 ms of virtual time) and hands the new link to
// both drivers (add_link).
//
// Locking: one mutex guards the world and every driver. The round callbacks
// run on the cluster's thread with it held, as RingNode's do on its
// progress thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "fabric/sim/sim_config.hpp"
#include "membership/membership_config.hpp"
#include "ring/ring_config.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::fabric::sim {
class SimWorld;
class SimEndpoint;
}  // namespace ringcast::fabric::sim

namespace ringcast::membership {
class MembershipDriver;
}  // namespace ringcast::membership

namespace ringcast::runtime {

struct SimClusterOptions {
  std::size_t members = 3;
  std::uint64_t seed = 1;
  ring::RingConfig ring;
  fabric::sim::SimConfig sim;
  membership::MembershipConfig membership;  // nodes: filled in by start()
  fabric::NodeId first_node = 1;            // members get first_node, first_node + 1, ...
  // Per member: empty, or its receive log's memory (ring.log_bytes), as a
  // daemon gives its own (MemberNodeOptions::log_memory).
  std::vector<std::span<std::byte>> log_memory;
};

class SimCluster {
 public:
  static Result<std::unique_ptr<SimCluster>> start(const SimClusterOptions& options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // Member i's transport; on_round runs after each of its rounds. The
  // cluster must outlive it. At most one live transport per member and
  // incarnation: after restart(i), attach(i) again for the new process.
  std::unique_ptr<RingTransport> attach(std::size_t member, RoundCallback on_round);
  std::size_t size() const noexcept { return members_.size(); }
  fabric::NodeId node(std::size_t member) const noexcept;

  // --- Faults.
  void crash(std::size_t member);
  // Errc::invalid_argument unless the member is crashed.
  Status restart(std::size_t member);
  // Cuts every link between `side` and the other members (both ways); new
  // connections across fail until heal().
  void partition(std::span<const std::size_t> side);
  void heal();
  bool crashed(std::size_t member) const;
  // The members of the ring member i installed last (empty when crashed).
  std::vector<fabric::NodeId> ring_members(std::size_t member) const;
  // "operational ring 3/8589934594 members 3 links 0x4 (pairs down 1)": for
  // reading a failed test.
  std::string describe(std::size_t member) const;

  // Stops the thread; idempotent. The transports then stop making progress.
  void stop();
  // While paused the thread runs nothing (no event, round or visit: virtual
  // time stands still), and the transports' calls still work (a submit
  // queues): for tests that show a call returned without the ring's help.
  // resume() catches virtual time up with the real clock.
  void pause();
  void resume();

 private:
  struct Member;
  class Transport;
  explicit SimCluster(const SimClusterOptions& options);
  Status set_up();
  void run();
  bool run_due(std::uint64_t target_ns);
  std::uint64_t next_due_ns() const;
  std::uint64_t real_elapsed_ns() const;
  void poke(std::size_t member);
  void reconnect();
  void reconnect_pair(std::size_t i, std::size_t j);
  std::vector<fabric::Link*> link_restarted(std::size_t member);
  Status make_driver(Member& m);

  SimClusterOptions options_;
  std::unique_ptr<fabric::sim::SimWorld> world_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<std::vector<fabric::Link*>> links_;  // [i][j]: i's end of its link to j
  std::vector<std::unique_ptr<membership::MembershipDriver>> graveyard_;  // crashed processes
  std::size_t pairs_down_ = 0;  // running pairs without a link both ends use
  std::uint64_t next_reconnect_ns_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool paused_ = false;
  std::uint64_t start_real_ns_ = 0;
  std::thread thread_;
};

}  // namespace ringcast::runtime
