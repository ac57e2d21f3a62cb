#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "runtime/progress_thread.hpp"

namespace ringcast::runtime {
namespace {

using ring::OutgoingMessage;
using ring::RingConfig;
using ring::RingDriver;

// A started ring of one member (node 7) over a simulated endpoint.
std::unique_ptr<RingDriver> solo_ring(fabric::sim::SimWorld& world) {
  fabric::sim::SimEndpoint& ep = world.add_endpoint(7);
  RingConfig config;
  config.log_bytes = 1 << 16;
  config.max_message_bytes = 1024;
  config.send_buffer_bytes = 4096;
  auto driver = RingDriver::create(ep, config);
  EXPECT_TRUE(driver.ok()) << driver.error().message();
  if (!driver.ok()) return nullptr;
  std::vector<fabric::Link*> links{nullptr};
  EXPECT_TRUE((*driver)->start({{7, 1}, {7}, 0}, links).ok());
  return std::move(*driver);
}

// A ring of one over a simulated endpoint: the progress thread runs it, the
// test thread submits through with_driver() and waits for the deliveries the
// round callback collects. With no spin, every idle moment is a sleep, so the
// kicks are what keeps it going.
TEST(ProgressThread, ASleepingThreadIsKickedBySubmitAndDelivers) {
  fabric::sim::SimWorld world(1);
  auto driver = solo_ring(world);
  ASSERT_TRUE(driver && driver->started());

  std::vector<std::string> delivered;  // guarded by the progress thread's lock
  ProgressOptions options;
  options.spin_ns = 0;
  options.max_sleep_ns = 10'000'000'000;  // only a kick can end a sleep in time
  ProgressThread thread(*driver, WaitSource{}, options, [&](RingDriver& d) {
    while (auto m = d.next_delivery()) {
      delivered.emplace_back(reinterpret_cast<const char*>(m->payload.data()), m->payload.size());
      EXPECT_TRUE(d.release_through_seq(m->seq).ok());
    }
  });
  ASSERT_TRUE(thread.start().ok());
  for (int i = 0; i < 20; ++i) {
    const std::string text = "message " + std::to_string(i);
    OutgoingMessage m;
    m.payload = std::as_bytes(std::span(text));
    ASSERT_TRUE(thread.with_driver([&](RingDriver& d) { return d.submit(m); }).ok());
    // Let it go to sleep between submits now and then.
    if (i % 5 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::size_t count = 0;
  while (count < 20 && std::chrono::steady_clock::now() < give_up) {
    count = thread.with_driver_quietly([&](RingDriver&) { return delivered.size(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread.stop();
  ASSERT_EQ(delivered.size(), 20u);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(delivered[i], "message " + std::to_string(i));
  EXPECT_GT(thread.sleeps(), 0u) << "with no spin and nothing to do, it sleeps";
}

// with_driver_round() runs the round in the caller's thread under the lock, so
// a member that can send at once (here a ring of one) has delivered the
// message to itself, on the caller's thread, before the call returns.
TEST(ProgressThread, ARoundInTheCallersThreadDeliversBeforeReturning) {
  fabric::sim::SimWorld world(2);
  auto driver = solo_ring(world);
  ASSERT_TRUE(driver && driver->started());

  std::vector<std::thread::id> delivered_on;  // guarded by the progress thread's lock
  ProgressOptions options;
  options.spin_ns = 0;
  ProgressThread thread(*driver, WaitSource{}, options, [&](RingDriver& d) {
    while (auto m = d.next_delivery()) {
      delivered_on.push_back(std::this_thread::get_id());
      EXPECT_TRUE(d.release_through_seq(m->seq).ok());
    }
  });
  ASSERT_TRUE(thread.start().ok());
  for (std::size_t i = 1; i <= 10; ++i) {
    const std::string text = "now " + std::to_string(i);
    OutgoingMessage m;
    m.payload = std::as_bytes(std::span(text));
    ASSERT_TRUE(thread.with_driver_round([&](RingDriver& d) { return d.submit(m); }).ok());
    const auto seen = thread.with_driver_quietly([&](RingDriver&) { return delivered_on; });
    ASSERT_EQ(seen.size(), i) << "delivered before with_driver_round returned";
    EXPECT_EQ(seen.back(), std::this_thread::get_id());
  }
  thread.stop();
}

}  // namespace
}  // namespace ringcast::runtime
