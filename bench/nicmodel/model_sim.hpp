// A simulated ring whose members pay the cost model's CPU time for each round
// (SimWorld::hold_posts / release_posts): N members over one SimWorld, the
// real MembershipDriver on each, in virtual time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "cost_model.hpp"
#include "fabric/sim/sim_world.hpp"
#include "membership/membership_driver.hpp"

namespace ringcast::nicmodel {

// What a member's round saw: each message delivered, at the time the CPU
// finished the round and, when posts block the CPU, its posts (when an
// application would see it).
struct Delivered {
  std::size_t member = 0;
  fabric::NodeId sender = 0;
  std::span<const std::byte> payload;
  std::uint64_t at_ns = 0;
};

class ModelSim {
 public:
  ModelSim(std::size_t members, std::uint32_t max_message_bytes, const CostModel& model);

  // Called at the start of a member's round (it may submit) and for each
  // message the round delivered.
  std::function<void(std::size_t member)> on_round_start;
  std::function<void(const Delivered&)> on_deliver;

  Status submit(std::size_t member, const ring::OutgoingMessage& m);
  // Runs the next instant: the fabric's events, then each due member's round.
  // False when nothing is left to run.
  bool step();
  void poke(std::size_t member) { members_[member].poked = true; }
  std::uint64_t now_ns() const noexcept { return world_.now_ns(); }
  std::size_t size() const noexcept { return members_.size(); }
  // Token visits and records delivered, summed over the members: what the
  // CPU model charged for.
  std::uint64_t visits() const noexcept { return visits_; }
  std::uint64_t records() const noexcept { return records_; }

 private:
  struct Member {
    fabric::sim::SimEndpoint* endpoint = nullptr;
    std::unique_ptr<membership::MembershipDriver> driver;
    std::uint64_t busy_until_ns = 0;
    std::uint64_t last_round_ns = ring::kNever;
    bool poked = true;
  };
  void connect_all();
  std::uint64_t due_ns(const Member& m) const;
  void round(std::size_t i);
  std::uint64_t drain(std::size_t i, const StatusSnapshot& before);

  CostModel model_;
  fabric::sim::SimWorld world_;
  std::vector<Member> members_;
  std::vector<Delivered> deliveries_;
  std::uint64_t visits_ = 0;
  std::uint64_t records_ = 0;
};

}  // namespace ringcast::nicmodel
