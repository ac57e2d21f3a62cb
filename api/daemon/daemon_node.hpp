// The daemon's client::Node: the node's ring member as the CPG layer sees
// it, set up from the cluster file as a process's node is in embedded mode
// (api/client/process_node.cpp: quorum rules, the zero-copy limit, the
// largest message, the copy crossover, the eviction limits), its transport
// opened with the node's round callback. Its sessions are the clients'
// handles (client_server.hpp).
#pragma once

#include <memory>
#include <span>

#include "base/result.hpp"
#include "client/node.hpp"
#include "config/cluster_config.hpp"

namespace ringcast::daemon {

// The transport's error when it cannot open (open_transport logged why).
// log_memory: empty, or the receive log's memory (totem.log_size_bytes),
// which must outlive the node (runtime::MemberNodeOptions::log_memory).
Result<std::shared_ptr<client::Node>> start_node(const config::LocalConfig& local,
                                                 std::span<std::byte> log_memory = {});

}  // namespace ringcast::daemon
