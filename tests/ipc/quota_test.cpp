// The per-client ledger: each quota refuses at its bound with its own code,
// and what is handed back makes room again.
#include <gtest/gtest.h>

#include "ipc/quota.hpp"

namespace ringcast::ipc {
namespace {

TEST(QuotaLedger, RequestsInFlightAreBounded) {
  QuotaLedger ledger(ClientQuota{.max_requests_in_flight = 2});
  EXPECT_TRUE(ledger.admit(MessageType::join).ok());
  EXPECT_TRUE(ledger.admit(MessageType::mcast).ok());
  auto refused = ledger.admit(MessageType::local_get);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, IpcErrc::quota_requests);
  EXPECT_TRUE(ledger.admit(MessageType::release).ok());     // answers nothing: not counted
  EXPECT_TRUE(ledger.admit(MessageType::mcast_part).ok());  // its mcast is answered
  ledger.answered();
  EXPECT_EQ(ledger.requests_in_flight(), 1u);
  EXPECT_TRUE(ledger.admit(MessageType::local_get).ok());
}

TEST(QuotaLedger, ZeroCopyBytesAreBounded) {
  QuotaLedger ledger(ClientQuota{.max_zcb_bytes = 1000});
  EXPECT_TRUE(ledger.charge_zcb(600).ok());
  EXPECT_EQ(ledger.charge_zcb(401).error().code, IpcErrc::quota_zcb_bytes);
  EXPECT_TRUE(ledger.charge_zcb(400).ok());
  ledger.refund_zcb(500);
  EXPECT_EQ(ledger.zcb_bytes(), 500u);
  ledger.refund_zcb(10'000);  // a refund never goes below zero
  EXPECT_EQ(ledger.zcb_bytes(), 0u);
}

TEST(QuotaLedger, WakeUpsPerSecondAreBounded) {
  QuotaLedger ledger(ClientQuota{.max_wakeups_per_second = 3});
  const std::uint64_t t0 = 5'000'000'000;
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(ledger.charge_wakeup(t0 + i).ok());
  EXPECT_EQ(ledger.charge_wakeup(t0 + 10).error().code, IpcErrc::quota_wakeups);
  EXPECT_TRUE(ledger.charge_wakeup(t0 + 1'000'000'000).ok());  // a new second
  // Rings that piled up while the consumer did not run count one by one.
  EXPECT_TRUE(ledger.charge_wakeup(t0 + 1'000'000'001, 100).ok());
  EXPECT_EQ(ledger.charge_wakeup(t0 + 1'000'000'002).error().code, IpcErrc::quota_wakeups);
}

TEST(QuotaLedger, UnreleasedDeliveriesAreBounded) {
  QuotaLedger ledger(ClientQuota{.max_unreleased_bytes = 100});
  EXPECT_TRUE(ledger.charge_delivery(100).ok());
  EXPECT_EQ(ledger.charge_delivery(1).error().code, IpcErrc::quota_unreleased);
  ledger.release_delivery(50);
  EXPECT_TRUE(ledger.charge_delivery(50).ok());
}

TEST(QuotaLedger, DecoderLimitsFollowTheQuotaAndTheSegment) {
  const auto limits = request_limits(ClientQuota{.max_zcb_bytes = 1 << 20}, 1 << 22, 65536);
  EXPECT_EQ(limits.zcb_segment_bytes, 1u << 22);
  EXPECT_EQ(limits.max_zcb_alloc_bytes, 1u << 20);
  EXPECT_EQ(limits.max_message_bytes, 65536u);
  EXPECT_EQ(request_limits(ClientQuota{}, 4096, 1).max_zcb_alloc_bytes, 4096u);
}

}  // namespace
}  // namespace ringcast::ipc
