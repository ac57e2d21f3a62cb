// The epoch keeper (membership::EpochKeeper): a joining process asks it to
// keep its first ring's epoch, in a block, before naming that ring, and does
// not start when it cannot. The restart scenario it exists for is in
// member_test.cpp (RestartedRepresentativeNeverReusesARingId).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "membership/membership_driver.hpp"

namespace ringcast::membership {
namespace {

struct OneNode {
  OneNode() : ep(&world.add_endpoint(100)) {
    ring.log_bytes = 1u << 20;
    ring.max_message_bytes = 4096;
    config.nodes = {100, 103};
    auto d = MembershipDriver::create(*ep, ring, config);
    EXPECT_TRUE(d.ok()) << d.error().message();
    if (d.ok()) driver = std::move(*d);
  }
  fabric::sim::SimWorld world{1};
  fabric::sim::SimEndpoint* ep;
  ring::RingConfig ring;
  MembershipConfig config;
  std::unique_ptr<MembershipDriver> driver;
  std::vector<fabric::Link*> none{nullptr, nullptr};
};

TEST(EpochKeeper, AJoiningProcessKeepsItsFirstEpochBeforeNamingIt) {
  OneNode n;
  ASSERT_TRUE(n.driver);
  std::vector<std::uint64_t> asked;
  n.driver->keep_epochs_with([&](std::uint64_t through) {
    asked.push_back(through);
    return true;
  });
  const std::uint64_t floor = epoch_floor(1, (std::uint64_t{3} << 32) + 7);
  EXPECT_EQ(floor, (std::uint64_t{3} << 32) + 7) << "the kept bound, above incarnation 1's range";
  ASSERT_TRUE(n.driver->start_joining(n.none, floor).ok());
  EXPECT_EQ(n.driver->membership().ring_id().epoch, floor + 1);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], floor + 1 + kEpochsKeptAhead);
}

TEST(EpochKeeper, AProcessWhoseFirstEpochCannotBeKeptDoesNotStart) {
  OneNode n;
  ASSERT_TRUE(n.driver);
  n.driver->keep_epochs_with([](std::uint64_t) { return false; });
  const Status s = n.driver->start_joining(n.none, std::uint64_t{1} << 32);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::system);
  EXPECT_FALSE(n.driver->started());
}

}  // namespace
}  // namespace ringcast::membership
