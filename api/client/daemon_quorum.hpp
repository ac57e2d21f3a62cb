// The quorum C API's calls on a client-mode handle (is_daemon_handle):
// quorum.cpp sends each call here after the checks both modes share.
#pragma once

#include "client/client_mode.hpp"
#include "ringcast/quorum.h"

namespace ringcast::client::daemon_quorum {

cs_error_t open(const DaemonAddress& address, quorum_model_t model,
                const quorum_model_data_t* model_data, void* context, quorum_handle_t* handle);
cs_error_t finalize(quorum_handle_t handle);
cs_error_t fd_get(quorum_handle_t handle, int* fd);
cs_error_t dispatch(quorum_handle_t handle, cs_dispatch_flags_t mode);
cs_error_t getquorate(quorum_handle_t handle, int* quorate);
cs_error_t trackstart(quorum_handle_t handle, unsigned int flags);
cs_error_t trackstop(quorum_handle_t handle);
cs_error_t context_set(quorum_handle_t handle, const void* context);
cs_error_t context_get(quorum_handle_t handle, const void** context);

}  // namespace ringcast::client::daemon_quorum
