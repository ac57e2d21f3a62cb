// ringcast_counters_get() over a simulated cluster: the same numbers as the
// node's counters, copies counted for cpg_mcast_joined and not for zero-copy
// sends read from their buffers, size versioning, and its error paths
// (zero-copy sends below the crossover: cpg_zcb_crossover_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "cpg_sim_cluster.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

ringcast_counters read_counters(cpg_handle_t h) {
  ringcast_counters c{};
  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_OK);
  EXPECT_EQ(c.size, sizeof c);
  return c;
}

// The latest view line lists `n` members ("members=[a/0 b/0 c/0]").
bool last_view_has(Recorder& rec, std::size_t n) {
  std::lock_guard lock(rec.mutex);
  if (rec.views.empty()) return false;
  const std::string& v = rec.views.back();
  const std::size_t from = v.find("members=[");
  const std::size_t to = v.find(']', from);
  return std::count(v.begin() + from, v.begin() + to, '/') == static_cast<long>(n);
}

TEST(CpgCounters, MatchTheNodeAndCountCopiesOfCopyingSendsOnly) {
  SimNodes nodes(3);
  nodes.node(0).set_zcb_copy_below(1024);  // the 3000-byte sends below go from their buffer
  Recorder rec[3];
  cpg_handle_t h[3];
  cpg_name g = name_of("counted");
  for (int i = 0; i < 3; ++i) {
    auto use = nodes.use(i);
    h[i] = open_recorded(rec[i], true);
    ASSERT_EQ(cpg_join(h[i], &g), CS_OK);
  }
  const std::vector<cpg_handle_t> all(h, h + 3);
  // Joins arrive in any order: wait until every handle's latest view has 3.
  ASSERT_TRUE(dispatch_until(all, [&] {
    return last_view_has(rec[0], 3) && last_view_has(rec[1], 3) && last_view_has(rec[2], 3);
  })) << ::testing::PrintToString(rec[0].lines);

  const ringcast_counters before = read_counters(h[0]);
  const ringcast_counters other_before = read_counters(h[1]);
  EXPECT_EQ(before.members, 3u);
  EXPECT_EQ(before.ring_representative, nodes.node_id(0));
  EXPECT_EQ(before.reserved0, 0u);
  EXPECT_GE(before.records_delivered, 3u) << "the three joins";

  const std::string text(1000, 't');
  for (int k = 0; k < 5; ++k)
    ASSERT_EQ(send_text_retry(h[0], text, all), CS_OK);
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h[0], 3000, &buf), CS_OK);
  std::memset(buf, 'z', 3000);
  for (int k = 0; k < 4; ++k)
    ASSERT_EQ(cpg_zcb_mcast_joined(h[0], CPG_TYPE_SAFE, buf, 3000), CS_OK);
  ASSERT_TRUE(dispatch_until(all, [&] { return rec[2].messages.size() == 9; }));

  const ringcast_counters after = read_counters(h[0]);
  EXPECT_EQ(after.bytes_copied_on_send - before.bytes_copied_on_send, 5u * 1000u)
      << "copies of cpg_mcast_joined only";
  EXPECT_EQ(after.zero_copy_sends - before.zero_copy_sends, 4u);
  EXPECT_EQ(after.zero_copy_bytes_from_buffer - before.zero_copy_bytes_from_buffer, 4u * 3000u);
  EXPECT_EQ(after.zero_copy_bytes_copied, before.zero_copy_bytes_copied);
  EXPECT_GE(after.records_delivered - before.records_delivered, 9u);
  EXPECT_GT(after.tokens_received, before.tokens_received);
  // The node's own numbers, through the C struct.
  const cpg::Counters direct = nodes.node(0).counters();
  EXPECT_EQ(after.bytes_copied_on_send, direct.bytes_copied_on_send);
  EXPECT_EQ(after.zero_copy_sends, direct.zero_copy_sends);
  EXPECT_EQ(after.zero_copy_bytes_from_buffer, direct.zero_copy_bytes_from_buffer);
  EXPECT_EQ(after.writes_wrong_link, 0u) << "nobody wrote on the wrong link";
  EXPECT_EQ(after.link_replacements_refused, 0u);
  EXPECT_EQ(after.ring_seq, direct.ring_seq);
  // Another node's handle reads that node, which sent nothing meanwhile.
  const ringcast_counters other_after = read_counters(h[1]);
  EXPECT_EQ(other_after.bytes_copied_on_send, other_before.bytes_copied_on_send);
  EXPECT_EQ(other_after.zero_copy_sends, 0u);
  EXPECT_GE(other_after.records_delivered - other_before.records_delivered, 9u);

  EXPECT_EQ(cpg_zcb_free(h[0], buf), CS_OK);
  for (auto x : all)
    cpg_finalize(x);
}

TEST(CpgCounters, AShorterStructGetsWholeFieldsOnly) {
  SimNodes nodes(1);
  auto use = nodes.use(0);
  Recorder rec;
  cpg_handle_t h = open_recorded(rec);
  cpg_name g = name_of("short");
  ASSERT_EQ(cpg_join(h, &g), CS_OK);
  ASSERT_TRUE(dispatch_until(h, [&] { return rec.views.size() == 1; }));

  // An older program's struct: up to `members` (20 bytes), asking with a
  // size that ends inside reserved0; the rest must stay untouched.
  ringcast_counters c;
  std::memset(&c, 0xAB, sizeof c);
  c.size = offsetof(ringcast_counters, reserved0) + 2;
  ASSERT_EQ(ringcast_counters_get(h, &c), CS_OK);
  EXPECT_EQ(c.size, offsetof(ringcast_counters, reserved0));
  EXPECT_EQ(c.members, 1u);
  EXPECT_EQ(c.ring_representative, nodes.node_id(0));
  unsigned char untouched[sizeof c - offsetof(ringcast_counters, reserved0)];
  std::memset(untouched, 0xAB, sizeof untouched);
  EXPECT_EQ(std::memcmp(reinterpret_cast<unsigned char*>(&c) + c.size, untouched, sizeof untouched),
            0);

  // A newer program's longer struct: this library fills what it knows.
  unsigned char longer[sizeof(ringcast_counters) + 16];
  std::memset(longer, 0xCD, sizeof longer);
  const std::uint32_t long_size = sizeof longer;
  std::memcpy(longer, &long_size, sizeof long_size);
  ASSERT_EQ(ringcast_counters_get(h, reinterpret_cast<ringcast_counters*>(longer)), CS_OK);
  std::uint32_t filled = 0;
  std::memcpy(&filled, longer, sizeof filled);
  EXPECT_EQ(filled, sizeof(ringcast_counters));
  EXPECT_EQ(longer[sizeof(ringcast_counters)], 0xCD);
  EXPECT_EQ(longer[sizeof longer - 1], 0xCD);
  cpg_finalize(h);
}

TEST(CpgCounters, ErrorPaths) {
  SimNodes nodes(1);
  auto use = nodes.use(0);
  Recorder rec;
  cpg_handle_t h = open_recorded(rec);
  ringcast_counters c{};
  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(h, nullptr), CS_ERR_INVALID_PARAM);
  c.size = 0;
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_ERR_INVALID_PARAM);
  c.size = 7;  // the size field and a part of the first field
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(c.size, 7u) << "a refused call changes nothing";
  c.size = 8;  // the smallest: size and ring_representative
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_OK);
  EXPECT_EQ(c.size, 8u);
  EXPECT_EQ(c.ring_representative, nodes.node_id(0));

  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(0xdeadbeef, &c), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_ERR_BAD_HANDLE);
}

}  // namespace
}  // namespace ringcast::cpg_test
