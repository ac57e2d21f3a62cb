#include "support/scenario.hpp"

namespace ringcast::test {

using fabric::Access;
using fabric::verbs::LinkOptions;
using fabric::verbs::VerbsEndpoint;

std::string start_server(const RdmaEnv& env, Channel& channel, const ServerPlan& plan,
                         ServerSide& out) {
  auto ep = VerbsEndpoint::open(endpoint_options(env, kServerNode, env.server_addr()));
  REQUIRE_OK(ep);
  out.ep = std::move(*ep);
  auto region = out.ep->allocate(plan.region_bytes, Access::remote_write);
  REQUIRE_OK(region);
  out.region = std::move(*region);
  fabric::RemoteRegion advertised = out.region->remote();
  if (plan.advertised_bytes != 0) advertised.length = plan.advertised_bytes;
  LinkOptions options;
  options.ours = connect_info(kServerNode, advertised);
  options.check = plan.check;
  options.timeout_ns = std::uint64_t{kSetupTimeoutMs} * 1'000'000u;
  auto listener = out.ep->listen(env.server_addr(), 0, options);
  REQUIRE_OK(listener);
  out.listener = std::move(*listener);
  REQUIRE(channel.send("port " + std::to_string(out.listener->port())), "client gone");
  if (!plan.accept) return "";
  auto link = out.listener->accept(std::uint64_t{kSetupTimeoutMs} * 1'000'000u);
  REQUIRE_OK(link);
  out.link = std::move(*link);
  REQUIRE(out.link->peer() == kClientNode, "peer node " + std::to_string(out.link->peer()));
  return "";
}

std::string start_client(const RdmaEnv& env, Channel& channel, std::size_t source_bytes,
                         ClientSide& out, const fabric::ConnectInfo* ours) {
  auto ep = VerbsEndpoint::open(endpoint_options(env, kClientNode, env.client_addr()));
  REQUIRE_OK(ep);
  out.ep = std::move(*ep);
  auto source = out.ep->allocate(source_bytes, Access::local_only);
  REQUIRE_OK(source);
  out.source = std::move(*source);
  bool ok = false;
  const std::string line = channel.receive(kSetupTimeoutMs, &ok);
  REQUIRE(ok && line.rfind("port ", 0) == 0, "no port from the server: '" + line + "'");
  const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
  out.port = port;
  LinkOptions options;
  if (ours != nullptr) {
    options.ours = *ours;
  } else {
    options.ours.node = kClientNode;
  }
  options.timeout_ns = std::uint64_t{kSetupTimeoutMs} * 1'000'000u;
  auto link = out.ep->connect(env.client_addr(), env.server_addr(), port, options);
  REQUIRE_OK(link);
  out.link = std::move(*link);
  REQUIRE(out.link->peer() == kServerNode, "peer node " + std::to_string(out.link->peer()));
  return "";
}

std::string expect_line(Channel& channel, const std::string& expected, int timeout_ms) {
  bool ok = false;
  const std::string line = channel.receive(timeout_ms, &ok);
  REQUIRE(ok && line == expected, "expected '" + expected + "', got '" + line + "'");
  return "";
}

}  // namespace ringcast::test
