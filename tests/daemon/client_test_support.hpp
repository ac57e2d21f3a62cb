// What the client server's tests share: connecting raw clients to a sim
// daemon, and joins and sends retried while the ring asks to try again.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "raw_client.hpp"
#include "ringcast/cpg.h"
#include "sim_daemons.hpp"

namespace ringcast::daemon_test {

inline std::unique_ptr<RawClient> connect(SimDaemons& d, std::size_t i) {
  auto c = RawClient::connect(d.path(i));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return c.ok() ? std::move(*c) : nullptr;
}

// Retries while the ring syncs (CS_ERR_TRY_AGAIN), bounded.
inline std::uint32_t join(RawClient& c, std::uint64_t handle, const std::string& group) {
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t e = c.join(handle, group);
    if (e != CS_ERR_TRY_AGAIN) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return CS_ERR_TRY_AGAIN;
}

inline bool has_members(const RawClient& c, std::size_t n) {
  for (const Got& g : c.confchgs())
    if (g.members.size() == n) return true;
  return false;
}

inline bool saw_procdown(const RawClient& c, std::uint32_t node) {
  for (const Got& g : c.confchgs())
    for (const ipc::ConfchgEntry& e : g.left)
      if (e.reason == CPG_REASON_PROCDOWN && e.process.node == node) return true;
  return false;
}

// Sends while CS_ERR_TRY_AGAIN (the ring's flow control), reading meanwhile.
inline std::uint32_t send(RawClient& c, std::uint64_t handle, const std::string& text) {
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t id = c.mcast(handle, text);
    if (!c.read_until([&] { return c.reply_to(id).has_value(); })) return 0xffffffffu;
    const std::uint32_t e = c.reply_to(id)->error;
    if (e != CS_ERR_TRY_AGAIN) return e;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return CS_ERR_TRY_AGAIN;
}

// A client that joined `group` and sees its own message come back.
inline ::testing::AssertionResult still_served(RawClient& c, std::uint64_t handle,
                                               const std::string& text) {
  if (send(c, handle, text) != CS_OK) return ::testing::AssertionFailure() << "send failed";
  if (!c.read_until([&] {
        const auto m = c.messages();
        return !m.empty() && m.back() == text;
      }))
    return ::testing::AssertionFailure() << "own message not delivered";
  return ::testing::AssertionSuccess();
}

}  // namespace ringcast::daemon_test
