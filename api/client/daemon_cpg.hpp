// The C API's calls on a client-mode handle (is_daemon_handle): cpg.cpp
// sends each call here after the checks both modes share. An enum argument
// arrives checked (cpg_checks.hpp): nothing if the caller's value is none the
// call accepts, refused here after the handle as in embedded mode.
#pragma once

#include <sys/uio.h>

#include <optional>

#include "client/client_mode.hpp"
#include "client/daemon_connection.hpp"
#include "ringcast/cpg.h"

namespace ringcast::client::daemon_cpg {

cs_error_t open(const DaemonAddress& address, const DaemonCallbacks& callbacks, void* context,
                cpg_handle_t* handle);
cs_error_t finalize(cpg_handle_t handle);
cs_error_t fd_get(cpg_handle_t handle, int* fd);
cs_error_t max_atomic_msgsize_get(cpg_handle_t handle, uint32_t* size);
cs_error_t context_get(cpg_handle_t handle, void** context);
cs_error_t context_set(cpg_handle_t handle, void* context);
cs_error_t dispatch(cpg_handle_t handle, std::optional<cs_dispatch_flags_t> mode);
cs_error_t join(cpg_handle_t handle, const struct cpg_name* group);
cs_error_t leave(cpg_handle_t handle, const struct cpg_name* group);
cs_error_t mcast_joined(cpg_handle_t handle, std::optional<cpg_guarantee_t> guarantee,
                        const struct iovec* iovec, unsigned int iov_len);
cs_error_t membership_get(cpg_handle_t handle, struct cpg_name* group,
                          struct cpg_address* member_list, int* member_list_entries);
cs_error_t local_get(cpg_handle_t handle, unsigned int* local_nodeid);
cs_error_t flow_control_state_get(cpg_handle_t handle, cpg_flow_control_state_t* state);
cs_error_t zcb_alloc(cpg_handle_t handle, size_t size, void** buffer);
cs_error_t zcb_free(cpg_handle_t handle, void* buffer);
cs_error_t zcb_mcast_joined(cpg_handle_t handle, std::optional<cpg_guarantee_t> guarantee,
                            void* msg, size_t msg_len);
cs_error_t iteration_initialize(cpg_handle_t handle, std::optional<cpg_iteration_type_t> type,
                                const struct cpg_name* group, cpg_iteration_handle_t* iteration);

}  // namespace ringcast::client::daemon_cpg
