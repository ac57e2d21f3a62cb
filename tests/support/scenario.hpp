// The two roles most RDMA tests start from: a server that listens and
// advertises one remote-writable region, and a client that connects to it.
#pragma once

#include <memory>
#include <string>

#include "fabric/verbs/endpoint.hpp"
#include "support/rdma_harness.hpp"

namespace ringcast::test {

inline constexpr fabric::NodeId kServerNode = 1;
inline constexpr fabric::NodeId kClientNode = 2;
inline constexpr int kSetupTimeoutMs = 20000;

struct ServerSide {
  std::unique_ptr<fabric::verbs::VerbsEndpoint> ep;
  std::unique_ptr<fabric::MemoryRegion> region;
  std::unique_ptr<fabric::verbs::Listener> listener;
  std::unique_ptr<fabric::Link> link;
};

struct ClientSide {
  std::unique_ptr<fabric::verbs::VerbsEndpoint> ep;
  std::unique_ptr<fabric::MemoryRegion> source;
  std::unique_ptr<fabric::Link> link;
  std::uint16_t port = 0;  // the server's
};

struct ServerPlan {
  std::size_t region_bytes = 4096;
  std::uint32_t advertised_bytes = 0;  // 0: the real size; more: a lie for fault tests
  fabric::verbs::PeerCheck check;
  bool accept = true;  // false: only listen (the test accepts itself)
};

inline ServerPlan region_plan(std::size_t region_bytes) {
  ServerPlan plan;
  plan.region_bytes = region_bytes;
  return plan;
}

// Opens the endpoint, allocates and advertises the region, listens on the
// server address, sends "port N" to the client, accepts (if plan.accept).
std::string start_server(const RdmaEnv& env, Channel& channel, const ServerPlan& plan,
                         ServerSide& out);

// Opens the endpoint and a local source region, waits for "port N", connects.
// `ours` overrides the ConnectInfo sent (default: node kClientNode, no region).
std::string start_client(const RdmaEnv& env, Channel& channel, std::size_t source_bytes,
                         ClientSide& out, const fabric::ConnectInfo* ours = nullptr);

// Waits for the line `expected` from the peer.
std::string expect_line(Channel& channel, const std::string& expected, int timeout_ms = 30000);

// Deterministic content for a write of `size` bytes: byte j of write `tag`.
inline std::byte pattern_byte(std::uint64_t tag, std::size_t j) {
  return static_cast<std::byte>((j * 131 + tag * 7 + 1) & 0xff);
}

}  // namespace ringcast::test
