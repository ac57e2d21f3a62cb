// The C API header as C++ sees it: every value, layout and prototype that
// corosync programs depend on, checked at compile time against what corosync
// 3.x's corotypes.h and cpg.h declare (layouts as on x86-64), plus the parts
// that already run: cs_strerror(), the swab macros and cs_timestamp_get().
#include <corosync/cpg.h>
#include <corosync/swab.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <type_traits>

namespace {

// ---- numeric values ----
static_assert(CS_OK == 1 && CS_ERR_LIBRARY == 2 && CS_ERR_VERSION == 3 && CS_ERR_INIT == 4);
static_assert(CS_ERR_TIMEOUT == 5 && CS_ERR_TRY_AGAIN == 6 && CS_ERR_INVALID_PARAM == 7);
static_assert(CS_ERR_NO_MEMORY == 8 && CS_ERR_BAD_HANDLE == 9 && CS_ERR_BUSY == 10);
static_assert(CS_ERR_ACCESS == 11 && CS_ERR_NOT_EXIST == 12 && CS_ERR_NAME_TOO_LONG == 13);
static_assert(CS_ERR_EXIST == 14 && CS_ERR_NO_SPACE == 15 && CS_ERR_INTERRUPT == 16);
static_assert(CS_ERR_NAME_NOT_FOUND == 17 && CS_ERR_NO_RESOURCES == 18);
static_assert(CS_ERR_NOT_SUPPORTED == 19 && CS_ERR_BAD_OPERATION == 20);
static_assert(CS_ERR_FAILED_OPERATION == 21 && CS_ERR_MESSAGE_ERROR == 22);
static_assert(CS_ERR_QUEUE_FULL == 23 && CS_ERR_QUEUE_NOT_AVAILABLE == 24);
static_assert(CS_ERR_BAD_FLAGS == 25 && CS_ERR_TOO_BIG == 26 && CS_ERR_NO_SECTIONS == 27);
static_assert(CS_ERR_CONTEXT_NOT_FOUND == 28 && CS_ERR_TOO_MANY_GROUPS == 30);
static_assert(CS_ERR_SECURITY == 100);
static_assert(sizeof(cs_error_t) == 4);

static_assert(CS_DISPATCH_ONE == 1 && CS_DISPATCH_ALL == 2 && CS_DISPATCH_BLOCKING == 3 &&
              CS_DISPATCH_ONE_NONBLOCKING == 4);
static_assert(CS_TRACK_CURRENT == 1 && CS_TRACK_CHANGES == 2 && CS_TRACK_CHANGES_ONLY == 4);
static_assert(CS_FALSE == 0 && CS_TRUE == 1 && CS_MAX_NAME_LENGTH == 256);
static_assert(CS_TIME_END == 0x7FFFFFFFFFFFFFFFLL && CS_IPC_TIMEOUT_MS == -1);

static_assert(CPG_TYPE_UNORDERED == 0 && CPG_TYPE_FIFO == 1 && CPG_TYPE_AGREED == 2 &&
              CPG_TYPE_SAFE == 3);
static_assert(CPG_FLOW_CONTROL_DISABLED == 0 && CPG_FLOW_CONTROL_ENABLED == 1);
static_assert(CPG_REASON_JOIN == 1 && CPG_REASON_LEAVE == 2 && CPG_REASON_NODEDOWN == 3 &&
              CPG_REASON_NODEUP == 4 && CPG_REASON_PROCDOWN == 5);
static_assert(CPG_ITERATION_NAME_ONLY == 1 && CPG_ITERATION_ONE_GROUP == 2 &&
              CPG_ITERATION_ALL == 3);
static_assert(CPG_MODEL_V1 == 1 && CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF == 0x01);
static_assert(CPG_MAX_NAME_LENGTH == 128 && CPG_MEMBERS_MAX == 128);

// ---- types and layouts (x86-64) ----
static_assert(std::is_same_v<cpg_handle_t, uint64_t>);
static_assert(std::is_same_v<cpg_iteration_handle_t, uint64_t>);
static_assert(std::is_same_v<cs_time_t, int64_t>);

static_assert(sizeof(cs_name_t) == 258 && offsetof(cs_name_t, value) == 2);
static_assert(sizeof(cs_version_t) == 3);
static_assert(sizeof(cpg_address) == 12 && offsetof(cpg_address, nodeid) == 0 &&
              offsetof(cpg_address, pid) == 4 && offsetof(cpg_address, reason) == 8);
static_assert(sizeof(cpg_name) == 132 && offsetof(cpg_name, value) == 4);
static_assert(std::is_same_v<decltype(cpg_name::length), uint32_t>);
static_assert(sizeof(cpg_iteration_description_t) == 140 &&
              offsetof(cpg_iteration_description_t, nodeid) == 132 &&
              offsetof(cpg_iteration_description_t, pid) == 136);
static_assert(sizeof(cpg_ring_id) == 16 && offsetof(cpg_ring_id, seq) == 8);
static_assert(sizeof(cpg_callbacks_t) == 16 && offsetof(cpg_callbacks_t, cpg_confchg_fn) == 8);
static_assert(sizeof(cpg_model_data_t) == 4);
static_assert(sizeof(cpg_model_v1_data_t) == 40 &&
              offsetof(cpg_model_v1_data_t, cpg_deliver_fn) == 8 &&
              offsetof(cpg_model_v1_data_t, cpg_confchg_fn) == 16 &&
              offsetof(cpg_model_v1_data_t, cpg_totem_confchg_fn) == 24 &&
              offsetof(cpg_model_v1_data_t, flags) == 32);
static_assert(std::is_same_v<decltype(cpg_model_v1_data_t::flags), unsigned int>);

// ---- callback signatures (msg of the deliver callback is non-const) ----
static_assert(std::is_same_v<cpg_deliver_fn_t, void (*)(cpg_handle_t, const cpg_name*, uint32_t,
                                                        uint32_t, void*, size_t)>);
static_assert(std::is_same_v<cpg_confchg_fn_t,
                             void (*)(cpg_handle_t, const cpg_name*, const cpg_address*, size_t,
                                      const cpg_address*, size_t, const cpg_address*, size_t)>);
static_assert(std::is_same_v<cpg_totem_confchg_fn_t,
                             void (*)(cpg_handle_t, cpg_ring_id, uint32_t, const uint32_t*)>);

// ---- prototypes (decltype does not odr-use: nothing needs to be linked) ----
template <class F, class G>
constexpr bool same_signature = std::is_same_v<F, G>;

static_assert(
    same_signature<decltype(&cpg_initialize), cs_error_t (*)(cpg_handle_t*, cpg_callbacks_t*)>);
static_assert(same_signature<decltype(&cpg_model_initialize),
                             cs_error_t (*)(cpg_handle_t*, cpg_model_t, cpg_model_data_t*, void*)>);
static_assert(same_signature<decltype(&cpg_finalize), cs_error_t (*)(cpg_handle_t)>);
static_assert(same_signature<decltype(&cpg_fd_get), cs_error_t (*)(cpg_handle_t, int*)>);
static_assert(
    same_signature<decltype(&cpg_max_atomic_msgsize_get), cs_error_t (*)(cpg_handle_t, uint32_t*)>);
static_assert(same_signature<decltype(&cpg_context_get), cs_error_t (*)(cpg_handle_t, void**)>);
static_assert(same_signature<decltype(&cpg_context_set), cs_error_t (*)(cpg_handle_t, void*)>);
static_assert(
    same_signature<decltype(&cpg_dispatch), cs_error_t (*)(cpg_handle_t, cs_dispatch_flags_t)>);
static_assert(same_signature<decltype(&cpg_join), cs_error_t (*)(cpg_handle_t, const cpg_name*)>);
static_assert(same_signature<decltype(&cpg_leave), cs_error_t (*)(cpg_handle_t, const cpg_name*)>);
static_assert(
    same_signature<decltype(&cpg_mcast_joined),
                   cs_error_t (*)(cpg_handle_t, cpg_guarantee_t, const iovec*, unsigned int)>);
static_assert(same_signature<decltype(&cpg_membership_get),
                             cs_error_t (*)(cpg_handle_t, cpg_name*, cpg_address*, int*)>);
static_assert(
    same_signature<decltype(&cpg_local_get), cs_error_t (*)(cpg_handle_t, unsigned int*)>);
static_assert(same_signature<decltype(&cpg_flow_control_state_get),
                             cs_error_t (*)(cpg_handle_t, cpg_flow_control_state_t*)>);
static_assert(
    same_signature<decltype(&cpg_zcb_alloc), cs_error_t (*)(cpg_handle_t, size_t, void**)>);
static_assert(same_signature<decltype(&cpg_zcb_free), cs_error_t (*)(cpg_handle_t, void*)>);
static_assert(same_signature<decltype(&cpg_zcb_mcast_joined),
                             cs_error_t (*)(cpg_handle_t, cpg_guarantee_t, void*, size_t)>);
static_assert(same_signature<decltype(&cpg_iteration_initialize),
                             cs_error_t (*)(cpg_handle_t, cpg_iteration_type_t, const cpg_name*,
                                            cpg_iteration_handle_t*)>);
static_assert(same_signature<decltype(&cpg_iteration_next),
                             cs_error_t (*)(cpg_iteration_handle_t, cpg_iteration_description_t*)>);
static_assert(
    same_signature<decltype(&cpg_iteration_finalize), cs_error_t (*)(cpg_iteration_handle_t)>);
static_assert(same_signature<decltype(&cs_strerror), const char* (*)(cs_error_t)>);

constexpr int kErrorValues[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30, 100};

TEST(CsStrerror, DescribesEveryCodeDistinctly) {
  std::set<std::string> seen;
  for (int value : kErrorValues) {
    const char* text = cs_strerror(static_cast<cs_error_t>(value));
    ASSERT_NE(text, nullptr) << value;
    EXPECT_STRNE(text, "Unknown error") << value;
    EXPECT_TRUE(seen.insert(text).second) << "duplicate description for " << value << ": " << text;
  }
  EXPECT_STREQ(cs_strerror(CS_OK), "Success");
  EXPECT_STREQ(cs_strerror(CS_ERR_TRY_AGAIN), "Try again");
}

TEST(CsStrerror, NamesUnknownValuesWithoutFailing) {
  // Within the enum's range (0..127); the values beyond it, which only C
  // can pass, are c_enum_args.c's.
  for (int value : {0, 29, 31, 99, 101, 127}) {
    EXPECT_STREQ(cs_strerror(static_cast<cs_error_t>(value)), "Unknown error") << value;
  }
}

TEST(PrintFormats, SpellNodeAndRingIdsAsCorosyncDoes) {
  char text[64];
  std::snprintf(text, sizeof text, "node " CS_PRI_NODE_ID, uint32_t{7});
  EXPECT_STREQ(text, "node 7");
  std::snprintf(text, sizeof text, CS_PRI_NODE_ID_PADDED, uint32_t{4294967295u});
  EXPECT_STREQ(text, "4294967295");
  const cpg_ring_id ring{0xa, 0x10};
  std::snprintf(text, sizeof text, CS_PRI_RING_ID, ring.nodeid, ring.seq);
  EXPECT_STREQ(text, "a.10");
  std::snprintf(text, sizeof text, CS_PRI_RING_ID_SEQ, ring.seq);
  EXPECT_STREQ(text, "10");
  static_assert(CPG_REASON_UNDEFINED == 0);
}

TEST(Swab, ReversesBytesOfEachWidth) {
  EXPECT_EQ(swab16(0x1234), 0x3412);
  EXPECT_EQ(swab32(0x12345678u), 0x78563412u);
  EXPECT_EQ(swab64(0x0123456789abcdefull), 0xefcdab8967452301ull);
  static_assert(std::is_same_v<decltype(swab16(1)), uint16_t>);
  static_assert(std::is_same_v<decltype(swab32(1)), uint32_t>);
  static_assert(std::is_same_v<decltype(swab64(1)), uint64_t>);
}

TEST(Swab, EvaluatesItsArgumentOnce) {
  uint32_t calls = 0;
  auto next = [&calls] { return ++calls; };
  EXPECT_EQ(swab32(next()), 0x01000000u);
  EXPECT_EQ(calls, 1u);
}

TEST(Swab, ConvertsADeliveredMessageInPlace) {
  // What the non-const msg of cpg_deliver_fn_t is for.
  unsigned char bytes[4] = {0x00, 0x00, 0x01, 0x02};  // 0x0102 in big-endian
  uint32_t value;
  std::memcpy(&value, bytes, sizeof value);
  EXPECT_EQ(swab32(value), 0x0102u);
}

TEST(CsTimestamp, IsMonotonicNanoseconds) {
  uint64_t first = cs_timestamp_get();
  uint64_t second = cs_timestamp_get();
  EXPECT_GT(first, 0u);
  EXPECT_GE(second, first);
}

}  // namespace
