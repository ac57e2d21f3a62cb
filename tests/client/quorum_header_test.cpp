// <corosync/quorum.h> as C++ sees it: the values, layouts (x86-64) and
// prototypes of corosync 3.1's quorum.h, checked at compile time, so that a
// program written for corosync's quorum API builds and behaves unchanged.
#include <corosync/quorum.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

namespace {

static_assert(QUORUM_MODEL_V0 == 0 && QUORUM_MODEL_V1 == 1);
static_assert(QUORUM_FREE == 0 && QUORUM_SET == 1);
static_assert(sizeof(quorum_model_t) == 4);
static_assert(std::is_same_v<quorum_handle_t, uint64_t>);

static_assert(sizeof(quorum_ring_id) == 16 && offsetof(quorum_ring_id, nodeid) == 0 &&
              offsetof(quorum_ring_id, seq) == 8);
static_assert(sizeof(quorum_callbacks_t) == 8);
static_assert(sizeof(quorum_model_data_t) == 4);
static_assert(sizeof(quorum_model_v0_data_t) == 16 &&
              offsetof(quorum_model_v0_data_t, quorum_notify_fn) == 8);
static_assert(sizeof(quorum_model_v1_data_t) == 24 &&
              offsetof(quorum_model_v1_data_t, quorum_notify_fn) == 8 &&
              offsetof(quorum_model_v1_data_t, nodelist_notify_fn) == 16);

// ---- callbacks and prototypes (decltype does not odr-use) ----
static_assert(std::is_same_v<quorum_notification_fn_t,
                             void (*)(quorum_handle_t, uint32_t, uint64_t, uint32_t, uint32_t*)>);
static_assert(
    std::is_same_v<quorum_v1_quorum_notification_fn_t,
                   void (*)(quorum_handle_t, uint32_t, quorum_ring_id, uint32_t, const uint32_t*)>);
static_assert(std::is_same_v<quorum_v1_nodelist_notification_fn_t,
                             void (*)(quorum_handle_t, quorum_ring_id, uint32_t, const uint32_t*,
                                      uint32_t, const uint32_t*, uint32_t, const uint32_t*)>);
static_assert(std::is_same_v<decltype(&quorum_initialize),
                             cs_error_t (*)(quorum_handle_t*, quorum_callbacks_t*, uint32_t*)>);
static_assert(std::is_same_v<decltype(&quorum_model_initialize),
                             cs_error_t (*)(quorum_handle_t*, quorum_model_t, quorum_model_data_t*,
                                            uint32_t*, void*)>);
static_assert(std::is_same_v<decltype(&quorum_finalize), cs_error_t (*)(quorum_handle_t)>);
static_assert(std::is_same_v<decltype(&quorum_fd_get), cs_error_t (*)(quorum_handle_t, int*)>);
static_assert(std::is_same_v<decltype(&quorum_dispatch),
                             cs_error_t (*)(quorum_handle_t, cs_dispatch_flags_t)>);
static_assert(std::is_same_v<decltype(&quorum_getquorate), cs_error_t (*)(quorum_handle_t, int*)>);
static_assert(
    std::is_same_v<decltype(&quorum_trackstart), cs_error_t (*)(quorum_handle_t, unsigned int)>);
static_assert(std::is_same_v<decltype(&quorum_trackstop), cs_error_t (*)(quorum_handle_t)>);
static_assert(
    std::is_same_v<decltype(&quorum_context_set), cs_error_t (*)(quorum_handle_t, const void*)>);
static_assert(
    std::is_same_v<decltype(&quorum_context_get), cs_error_t (*)(quorum_handle_t, const void**)>);

// Positional initialisers, as corosync programs write them.
void notify(quorum_handle_t, uint32_t, uint64_t, uint32_t, uint32_t*) {}
void notify_v1(quorum_handle_t, uint32_t, quorum_ring_id, uint32_t, const uint32_t*) {}
void nodelist(quorum_handle_t, quorum_ring_id, uint32_t, const uint32_t*, uint32_t, const uint32_t*,
              uint32_t, const uint32_t*) {}

TEST(QuorumHeader, ModelDataTakesPositionalInitialisers) {
  const quorum_callbacks_t v0 = {notify};
  const quorum_model_v1_data_t v1 = {QUORUM_MODEL_V1, notify_v1, nodelist};
  EXPECT_EQ(v0.quorum_notify_fn, &notify);
  EXPECT_EQ(v1.nodelist_notify_fn, &nodelist);
  const auto* header = reinterpret_cast<const quorum_model_data_t*>(&v1);
  EXPECT_EQ(header->model, QUORUM_MODEL_V1);
}

}  // namespace
