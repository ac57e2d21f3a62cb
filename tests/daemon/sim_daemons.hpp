// Daemons over a simulated cluster: each member's client::Node, as
// ringcastd runs it, and a ClientServer on a socket in a scratch directory,
// so the tests' raw clients talk to the daemon's real sockets and rings
// while the ring runs over the simulated fabric.
#pragma once

#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/node.hpp"
#include "daemon/client_server.hpp"
#include "daemon/shared_log.hpp"
#include "support/sim_cluster.hpp"

namespace ringcast::daemon_test {

struct SimDaemonOptions {
  std::size_t members = 2;
  daemon::ServerOptions server;
  // Runs on each node before it is attached (limits, eviction).
  std::function<void(client::Node&)> prepare;
  client::EvictionLimits eviction;
  // Each daemon's receive log a sealed memfd its clients map read-only
  // (deliveries by reference from deliver_copy_below bytes on), as ringcastd's.
  bool share_log = false;
  std::uint32_t deliver_copy_below = 256;
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
    for (std::size_t i = 0; o.share_log && i < o.members; ++i) {
      auto log = daemon::create_shared_log(static_cast<std::uint32_t>(i + 1), c.ring.log_bytes);
      if (!log) throw std::runtime_error(log.error().message());
      logs_.push_back(std::move(*log));
      c.log_memory.push_back(logs_.back().memory());
    }
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
      if (o.share_log) logs_[i].share_with(so, o.deliver_copy_below);
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

  // For programs of this process in client mode: a cluster file naming the
  // members (10.0.0.1, ...) and the daemons' run directory, in
  // RINGCAST_CONFIG, and RINGCAST_MODE=daemon. Each program then picks its
  // daemon with RINGCAST_NODE_ID.
  void use_for_programs() {
    const std::string file = dir_ + "/ringcast.conf";
    std::ofstream out(file);
    out << "nodelist {\n";
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      out << " node {\n  nodeid: " << cluster_->node(i) << "\n  address: 10.0.0." << i + 1
          << "\n }\n";
    out << "}\nauth {\n allow_unauthenticated: yes\n}\nsystem {\n run_dir: " << dir_ << "\n}\n";
    ::setenv("RINGCAST_CONFIG", file.c_str(), 1);
    ::setenv("RINGCAST_MODE", "daemon", 1);
  }

 private:
  std::vector<daemon::SharedLog> logs_;  // outlive the cluster: its NICs write there
  std::unique_ptr<runtime::SimCluster> cluster_;
  std::string dir_;
  std::vector<std::shared_ptr<client::Node>> nodes_;
  std::vector<std::unique_ptr<daemon::ClientServer>> servers_;
};

}  // namespace ringcast::daemon_test
