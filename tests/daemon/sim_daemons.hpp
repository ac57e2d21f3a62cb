// Daemons over a simulated cluster: each member's client::Node, as
// ringcastd runs it, and a ClientServer on a socket in a scratch directory,
// so the tests' raw clients talk to the daemon's real sockets and rings
// while the ring runs over the simulated fabric.
#pragma once

#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/node.hpp"
#include "daemon/client_server.hpp"
#include "support/sim_cluster.hpp"

namespace ringcast::daemon_test {

struct SimDaemonOptions {
  std::size_t members = 2;
  daemon::ServerOptions server;
  // Runs on each node before it is attached (limits, eviction).
  std::function<void(client::Node&)> prepare;
  client::EvictionLimits eviction;
  // The ring's send queue (a small one makes sends meet CS_ERR_TRY_AGAIN).
  std::uint32_t send_queue_messages = 256;
};

class SimDaemons {
 public:
  explicit SimDaemons(SimDaemonOptions o) {
    runtime::SimClusterOptions c;
    c.members = o.members;
    c.ring.log_bytes = 1u << 20;
    c.ring.max_message_bytes = 64u << 10;
    c.ring.send_buffer_bytes = 256u << 10;
    c.ring.send_queue_messages = o.send_queue_messages;
    c.ring.token_hold_ns = 2'000'000;
    c.membership.token_timeout_ns = 80'000'000;
    c.membership.join_interval_ns = 5'000'000;
    c.membership.consensus_timeout_ns = 100'000'000;
    auto started = runtime::SimCluster::start(c);
    if (!started) throw std::runtime_error(started.error().message());
    cluster_ = std::move(*started);
    char dir[] = "/tmp/ringcastd-serve-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = dir;
    for (std::size_t i = 0; i < o.members; ++i) {
      auto node = client::Node::create();
      if (o.prepare) o.prepare(*node);
      node->attach(cluster_->attach(i, node->round_callback()));
      node->set_eviction_limits(o.eviction);
      daemon::ServerOptions so = o.server;
      so.socket_path = daemon::client_socket_path(dir_, cluster_->node(i));
      auto server = daemon::ClientServer::start(node, so);
      if (!server) throw std::runtime_error(server.error().message());
      nodes_.push_back(std::move(node));
      servers_.push_back(std::move(*server));
    }
  }
  ~SimDaemons() {
    for (auto& s : servers_)
      s->stop();
    servers_.clear();
    nodes_.clear();
    cluster_->stop();
    std::system(("rm -rf " + dir_).c_str());
  }

  client::Node& node(std::size_t i) { return *nodes_[i]; }
  const std::shared_ptr<client::Node>& node_ptr(std::size_t i) { return nodes_[i]; }
  daemon::ClientServer& server(std::size_t i) { return *servers_[i]; }
  const std::string& path(std::size_t i) { return servers_[i]->path(); }
  runtime::SimCluster& cluster() { return *cluster_; }

 private:
  std::unique_ptr<runtime::SimCluster> cluster_;
  std::string dir_;
  std::vector<std::shared_ptr<client::Node>> nodes_;
  std::vector<std::unique_ptr<daemon::ClientServer>> servers_;
};

}  // namespace ringcast::daemon_test
