// The verbs backend's failure paths on a real device: each must end in a
// clear error value (or a reported completion) and a process that goes on.
#include <gtest/gtest.h>

#include <chrono>

#include "support/scenario.hpp"

namespace ringcast::test {
namespace {

using fabric::CompletionType;
using fabric::Segment;
using fabric::WriteOp;
using fabric::verbs::EndpointOptions;
using fabric::verbs::LinkOptions;
using fabric::verbs::VerbsEndpoint;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(VerbsSetup, UnknownDevicePortGidOrAddressIsAClearError) {
  RINGCAST_REQUIRE_RDMA(env);
  auto body = [&](Channel&) -> std::string {
    EndpointOptions bad_device = endpoint_options(env, 1, "");
    bad_device.device = "nosuchdev0";
    auto a = VerbsEndpoint::open(bad_device);
    REQUIRE(!a.ok() && a.error().code == Errc::not_found, "device nosuchdev0 opened");
    REQUIRE(
        contains(a.error().message(), "nosuchdev0") && contains(a.error().message(), env.device),
        a.error().message());

    EndpointOptions bad_port = endpoint_options(env, 1, "");
    bad_port.port = 9;
    auto b = VerbsEndpoint::open(bad_port);
    REQUIRE(!b.ok() && b.error().code == Errc::not_found, "port 9 opened");
    REQUIRE(contains(b.error().message(), "no port 9"), b.error().message());

    EndpointOptions bad_gid = endpoint_options(env, 1, "");
    bad_gid.gid_index = 100000;
    auto c = VerbsEndpoint::open(bad_gid);
    REQUIRE(!c.ok() && c.error().code == Errc::not_found, "GID 100000 accepted");
    REQUIRE(contains(c.error().message(), "GID index 100000"), c.error().message());

    // 192.0.2.0/24 is TEST-NET-1: never an address of this host.
    EndpointOptions bad_ip = endpoint_options(env, 1, "192.0.2.77");
    bad_ip.device.clear();
    auto d = VerbsEndpoint::open(bad_ip);
    REQUIRE(!d.ok() && d.error().code == Errc::not_found, "192.0.2.77 accepted");
    REQUIRE(contains(d.error().message(), "192.0.2.77"), d.error().message());

    // By address alone, the device is found through rdma_cm.
    EndpointOptions by_ip = endpoint_options(env, 1, env.server_addr());
    by_ip.device.clear();
    auto e = VerbsEndpoint::open(by_ip);
    REQUIRE_OK(e);
    REQUIRE((*e)->device_name() == env.device, (*e)->device_name());
    return "";
  };
  EXPECT_EQ(run_one(body), "");
}

TEST(VerbsSetup, ConnectingWhereNobodyListensFailsClearlyAndQuickly) {
  RINGCAST_REQUIRE_RDMA(env);
  auto body = [&](Channel&) -> std::string {
    auto ep = VerbsEndpoint::open(endpoint_options(env, 2, env.client_addr()));
    REQUIRE_OK(ep);
    // A port that was free a moment ago: listen on port 0, note it, close.
    std::uint16_t port = 0;
    {
      auto listener = (*ep)->listen(env.server_addr(), 0, LinkOptions{});
      REQUIRE_OK(listener);
      port = (*listener)->port();
    }
    LinkOptions options;
    options.ours.node = 2;
    options.timeout_ns = 10'000'000'000;
    const auto t0 = std::chrono::steady_clock::now();
    auto link = (*ep)->connect(env.client_addr(), env.server_addr(), port, options);
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(!link.ok(), "connected to nobody");
    const std::string message = link.error().message();
    std::fprintf(stderr, "no listener: %s (%lld ms)\n", message.c_str(),
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    REQUIRE(link.error().code == Errc::unreachable || link.error().code == Errc::refused, message);
    REQUIRE(contains(message, env.server_addr() + ":" + std::to_string(port)), message);
    REQUIRE(took < std::chrono::seconds(11), "took too long: " + message);
    return "";
  };
  EXPECT_EQ(run_one(body), "");
}

// A peer speaking another protocol version is refused by the acceptor, and
// both sides say why; so is one whose regions fail the acceptor's check.
TEST(VerbsSetup, MismatchedPeersAreRefusedWithTheReasonOnBothSides) {
  RINGCAST_REQUIRE_RDMA(env);
  auto server = [&](Channel& ch) -> std::string {
    ServerSide s;
    ServerPlan plan;
    plan.accept = false;
    plan.check = [](const fabric::ConnectInfo& peer) -> Status {
      if (peer.region_count != 1 || peer.regions[0].length < 65536) {
        return make_error(Errc::refused, "check", "region too small for a receive log");
      }
      return {};
    };
    if (auto f = start_server(env, ch, plan, s); !f.empty()) return f;
    for (const char* reason : {"protocol version 3", "region too small"}) {
      auto link = s.listener->accept(20'000'000'000);
      REQUIRE(!link.ok() && link.error().code == Errc::refused,
              link.ok() ? "accepted" : link.error().message());
      REQUIRE(contains(link.error().message(), reason), link.error().message());
      REQUIRE(ch.send("refused"), "client gone");
    }
    return "";
  };
  auto client = [&](Channel& ch) -> std::string {
    auto ep = VerbsEndpoint::open(endpoint_options(env, kClientNode, env.client_addr()));
    REQUIRE_OK(ep);
    bool ok = false;
    const std::string line = ch.receive(kSetupTimeoutMs, &ok);
    REQUIRE(ok, "no port");
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
    LinkOptions future;
    future.ours.node = kClientNode;
    future.ours.version = fabric::ConnectInfo::kVersion + 1;
    LinkOptions small;
    small.ours = connect_info(kClientNode, {0x10000, 4096, 1});
    for (auto* options : {&future, &small}) {
      const char* reason = options == &future ? "protocol version 3" : "region too small";
      auto link = (*ep)->connect(env.client_addr(), env.server_addr(), port, *options);
      REQUIRE(!link.ok() && link.error().code == Errc::refused,
              link.ok() ? "connected" : link.error().message());
      REQUIRE(contains(link.error().message(), reason), link.error().message());
      if (auto f = expect_line(ch, "refused"); !f.empty()) return f;
    }
    return "";
  };
  auto report = run_pair(server, client);
  EXPECT_EQ(report.server, "");
  EXPECT_EQ(report.client, "");
}

// The server advertises more than it registered, so the client's bounds
// check passes and the NIC's does not: the write fails remotely, the failure
// is reported with its status and wr_id, the link refuses further posts, the
// server hears the link go down, and a new link works.
TEST(VerbsFault, WriteOutsideTheRemoteRegionIsReportedAndSurvived) {
  RINGCAST_REQUIRE_RDMA(env);
  auto server = [&](Channel& ch) -> std::string {
    ServerSide s;
    ServerPlan plan = region_plan(4096);
    plan.advertised_bytes = 1u << 20;
    if (auto f = start_server(env, ch, plan, s); !f.empty()) return f;
    Poller poller(*s.ep);
    auto down = poller.await(CompletionType::link_down, 20000);
    REQUIRE(down && down->peer == kClientNode, "the server never saw the link go down");
    s.link.reset();
    auto again = s.listener->accept(20'000'000'000);
    REQUIRE_OK(again);
    auto landed = poller.await(CompletionType::received_imm, 20000);
    REQUIRE(landed && landed->imm == 42, landed ? describe(*landed) : "no write on the new link");
    REQUIRE(ch.send("done"), "client gone");
    return "";
  };
  auto client = [&](Channel& ch) -> std::string {
    ClientSide c;
    if (auto f = start_client(env, ch, 65536, c); !f.empty()) return f;
    WriteOp beyond_advert;
    beyond_advert.segments[0] = Segment{c.source.get(), 0, 4096};
    beyond_advert.segment_count = 1;
    beyond_advert.remote_offset = (1u << 20) - 100;
    auto refused = c.link->post({&beyond_advert, 1});
    REQUIRE(!refused.ok() && refused.error().code == Errc::invalid_argument,
            "a write past the advertised region was posted");

    WriteOp beyond_real = beyond_advert;
    beyond_real.wr_id = 77;
    beyond_real.remote_offset = 8192;  // inside the advert, outside the MR
    beyond_real.with_imm = true;
    beyond_real.signaled = true;
    REQUIRE_OK(c.link->post({&beyond_real, 1}));
    Poller poller(*c.ep);
    auto failed = poller.await(CompletionType::write_failed, 20000);
    REQUIRE(failed.has_value(), "no write_failed completion");
    std::fprintf(stderr, "out of bounds: %s\n", describe(*failed).c_str());
    REQUIRE(failed->wr_id == 77 && contains(failed->status_text, "remote access error"),
            describe(*failed));
    REQUIRE(c.link->failed(), "link not marked failed");
    auto after = c.link->post({&beyond_real, 1});
    REQUIRE(!after.ok() && after.error().code == Errc::link_failed, "posted on a failed link");
    c.link.reset();

    // The endpoint lives on: a new link to the same server works.
    LinkOptions options;
    options.ours.node = kClientNode;
    options.timeout_ns = std::uint64_t{kSetupTimeoutMs} * 1'000'000u;
    auto link = c.ep->connect(env.client_addr(), env.server_addr(), c.port, options);
    REQUIRE_OK(link);
    WriteOp hello;
    hello.with_imm = true;
    hello.imm = 42;
    REQUIRE_OK((*link)->post({&hello, 1}));
    return expect_line(ch, "done");
  };
  auto report = run_pair(server, client);
  EXPECT_EQ(report.server, "");
  EXPECT_EQ(report.client, "");
}

}  // namespace
}  // namespace ringcast::test
