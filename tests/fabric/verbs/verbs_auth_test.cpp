// Cluster-key authentication over rdma_cm on a real device (rxe under
// ci/softroce-run): links between holders of the same key work; a wrong key,
// a missing key, a forged proof and a replayed proof are refused, each with
// its reason on both sides and in the refusing side's log; a ring of three
// keyed members delivers, and a member with the wrong key stops at start.
// The handshake's logic itself is unit-tested (tests/fabric/auth/auth_*_test.cpp).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/crc32c.hpp"
#include "base/log.hpp"
#include "fabric/auth/handshake.hpp"
#include "fabric/verbs/probe.hpp"
#include "runtime/ring_node.hpp"
#include "support/rdma_harness.hpp"

namespace ringcast::test {
namespace {

using fabric::Access;
using fabric::auth::AuthKey;
using fabric::verbs::LinkOptions;
using fabric::verbs::Listener;
using fabric::verbs::VerbsEndpoint;

constexpr fabric::NodeId kServer = 1;
constexpr fabric::NodeId kClient = 2;
constexpr std::uint64_t kSetupNs = 20'000'000'000;

AuthKey key_of(unsigned char seed) {
  std::array<std::byte, 32> cluster_key;
  for (std::size_t i = 0; i < cluster_key.size(); ++i)
    cluster_key[i] = std::byte{static_cast<unsigned char>(seed * 7 + i)};
  return *AuthKey::derive(cluster_key);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// The verbs log of this (child) process, kept for checks.
std::vector<std::string>& log_lines() {
  static std::vector<std::string> lines;
  return lines;
}
void keep_line(std::string_view line) {
  log_lines().emplace_back(line);
}
bool logged(std::string_view a, std::string_view b) {
  return std::any_of(log_lines().begin(), log_lines().end(),
                     [&](const std::string& l) { return contains(l, a) && contains(l, b); });
}

LinkOptions options_for(fabric::NodeId node, const fabric::RemoteRegion& region, AuthKey key) {
  LinkOptions o;
  o.ours = connect_info(node, region);
  o.key = std::move(key);
  o.timeout_ns = kSetupNs;
  return o;
}

struct Server {
  std::unique_ptr<VerbsEndpoint> ep;
  std::unique_ptr<fabric::MemoryRegion> region;
  std::unique_ptr<Listener> keyed;  // key_of(1)
  std::unique_ptr<Listener> open;   // no key
};

// Listens twice (keyed and open) and tells the client "ports K O".
std::string start_server(const RdmaEnv& env, Channel& ch, Server& s) {
  set_log_sink(&keep_line);
  auto ep = VerbsEndpoint::open(endpoint_options(env, kServer, env.server_addr()));
  REQUIRE_OK(ep);
  s.ep = std::move(*ep);
  auto region = s.ep->allocate(4096, Access::remote_write);
  REQUIRE_OK(region);
  s.region = std::move(*region);
  auto keyed =
      s.ep->listen(env.server_addr(), 0, options_for(kServer, s.region->remote(), key_of(1)));
  REQUIRE_OK(keyed);
  s.keyed = std::move(*keyed);
  auto open = s.ep->listen(env.server_addr(), 0, options_for(kServer, s.region->remote(), {}));
  REQUIRE_OK(open);
  s.open = std::move(*open);
  REQUIRE(
      ch.send("ports " + std::to_string(s.keyed->port()) + " " + std::to_string(s.open->port())),
      "client gone");
  return "";
}

struct Ports {
  std::uint16_t keyed = 0;
  std::uint16_t open = 0;
};

std::string receive_ports(Channel& ch, Ports& ports) {
  bool ok = false;
  const std::string line = ch.receive(30000, &ok);
  unsigned k = 0;
  unsigned o = 0;
  REQUIRE(ok && std::sscanf(line.c_str(), "ports %u %u", &k, &o) == 2, "got '" + line + "'");
  ports = {static_cast<std::uint16_t>(k), static_cast<std::uint16_t>(o)};
  return "";
}

// accept() on `l` must refuse, naming `reason` and the client's address.
std::string expect_refusal(Listener& l, const RdmaEnv& env, std::string_view reason) {
  auto link = l.accept(kSetupNs);
  REQUIRE(!link.ok() && link.error().code == Errc::refused,
          link.ok() ? "accepted" : link.error().message());
  REQUIRE(contains(link.error().message(), reason), link.error().message());
  REQUIRE(contains(link.error().message(), env.client_addr()), link.error().message());
  REQUIRE(logged(reason, env.client_addr()), "no log line for: " + std::string(reason));
  return "";
}

double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---- links: same key, wrong key, no key ----

TEST(VerbsAuth, SameKeyLinksCarryWritesAndCostOneMoreRoundTrip) {
  RINGCAST_REQUIRE_RDMA(env);
  constexpr int kRounds = 5;
  auto server = [&](Channel& ch) -> std::string {
    Server s;
    if (auto f = start_server(env, ch, s); !f.empty()) return f;
    auto first = s.keyed->accept(kSetupNs);
    REQUIRE_OK(first);
    REQUIRE((*first)->peer() == kClient, "peer " + std::to_string((*first)->peer()));
    Poller poller(*s.ep);
    auto imm = poller.await(fabric::CompletionType::received_imm, 20000);
    REQUIRE(imm.has_value() && imm->imm == 77, "no write with immediate over the keyed link");
    REQUIRE(s.region->data()[63] == std::byte{0x5a}, "the write did not land");
    for (int i = 0; i < kRounds; ++i) {
      REQUIRE_OK(s.keyed->accept(kSetupNs));
      REQUIRE_OK(s.open->accept(kSetupNs));
    }
    return "";
  };
  auto client = [&](Channel& ch) -> std::string {
    auto ep = VerbsEndpoint::open(endpoint_options(env, kClient, env.client_addr()));
    REQUIRE_OK(ep);
    auto source = (*ep)->allocate(4096, Access::local_only);
    REQUIRE_OK(source);
    auto mine = (*ep)->allocate(4096, Access::remote_write);
    REQUIRE_OK(mine);
    Ports ports;
    if (auto f = receive_ports(ch, ports); !f.empty()) return f;
    const LinkOptions keyed = options_for(kClient, (*mine)->remote(), key_of(1));
    auto link = (*ep)->connect(env.client_addr(), env.server_addr(), ports.keyed, keyed);
    REQUIRE_OK(link);
    REQUIRE((*link)->peer_regions().size() == 1 && (*link)->peer_regions()[0].length == 4096,
            "the server's region did not come through");
    std::fill_n((*source)->data(), 64, std::byte{0x5a});
    fabric::WriteOp op;
    op.segments[0] = {source->get(), 0, 64};
    op.segment_count = 1;
    op.with_imm = true;
    op.imm = 77;
    op.signaled = true;
    REQUIRE_OK((*link)->post(std::span(&op, 1)));
    REQUIRE(Poller(**ep).await(fabric::CompletionType::write_done, 20000).has_value(), "no done");
    const LinkOptions open = options_for(kClient, (*mine)->remote(), {});
    std::vector<double> keyed_ms;
    std::vector<double> open_ms;
    for (int i = 0; i < kRounds; ++i) {
      for (auto* runs : {&keyed_ms, &open_ms}) {
        const bool with_key = runs == &keyed_ms;
        const auto t0 = std::chrono::steady_clock::now();
        auto l = (*ep)->connect(env.client_addr(), env.server_addr(),
                                with_key ? ports.keyed : ports.open, with_key ? keyed : open);
        REQUIRE_OK(l);
        runs->push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    }
    std::printf("link set-up on %s: keyed median %.2f ms, open median %.2f ms (%d each)\n",
                env.device.c_str(), median_ms(keyed_ms), median_ms(open_ms), kRounds);
    return "";
  };
  auto report = run_pair(server, client);
  EXPECT_EQ(report.server, "");
  EXPECT_EQ(report.client, "");
}

TEST(VerbsAuth, AWrongOrMissingKeyIsRefusedWithItsReasonOnBothSides) {
  RINGCAST_REQUIRE_RDMA(env);
  namespace auth = fabric::auth;
  auto server = [&](Channel& ch) -> std::string {
    Server s;
    if (auto f = start_server(env, ch, s); !f.empty()) return f;
    if (auto f = expect_refusal(*s.keyed, env, auth::kKeysDiffer); !f.empty()) return f;
    REQUIRE(logged("refused node 2 at " + env.client_addr(), auth::kKeysDiffer), "no node id");
    if (auto f = expect_refusal(*s.keyed, env, auth::kPeerHasNoKey); !f.empty()) return f;
    return expect_refusal(*s.open, env, auth::kListenerHasNoKey);
  };
  auto client = [&](Channel& ch) -> std::string {
    set_log_sink(&keep_line);
    auto ep = VerbsEndpoint::open(endpoint_options(env, kClient, env.client_addr()));
    REQUIRE_OK(ep);
    auto mine = (*ep)->allocate(4096, Access::remote_write);
    REQUIRE_OK(mine);
    Ports ports;
    if (auto f = receive_ports(ch, ports); !f.empty()) return f;
    struct Case {
      std::uint16_t port;
      AuthKey key;
      std::string_view reason;
    };
    const Case cases[] = {
        {ports.keyed, key_of(2), "different cluster keys"},
        {ports.keyed, AuthKey{}, auth::kPeerHasNoKey},
        {ports.open, key_of(1), auth::kListenerHasNoKey},
    };
    for (const Case& c : cases) {
      const auto t0 = std::chrono::steady_clock::now();
      auto link = (*ep)->connect(env.client_addr(), env.server_addr(), c.port,
                                 options_for(kClient, (*mine)->remote(), c.key));
      REQUIRE(!link.ok() && link.error().code == Errc::refused,
              link.ok() ? "connected" : link.error().message());
      REQUIRE(contains(link.error().message(), c.reason), link.error().message());
      REQUIRE(contains(link.error().message(), env.server_addr()), link.error().message());
      REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5), "slow refusal");
    }
    // This side refused the listener's proof in the first case: logged too.
    REQUIRE(logged("refused " + env.server_addr(), "different cluster keys"), "no client log");
    return "";
  };
  auto report = run_pair(server, client);
  EXPECT_EQ(report.server, "");
  EXPECT_EQ(report.client, "");
}

// ---- proofs replayed or forged, sent raw ----

std::string text_of(const std::vector<std::byte>& data) {
  std::string s(reinterpret_cast<const char*>(data.data()), data.size());
  return s.substr(0, s.find('\0'));
}

using fabric::verbs::probe_listener;

// One probe; REQUIRE-style failure text, or "" with *answer filled.
std::string probe(const RdmaEnv& env, std::uint16_t port, std::span<const std::byte> request,
                  std::uint32_t qpn, fabric::verbs::ProbeAnswer* answer) {
  auto a = probe_listener(env.client_addr(), env.server_addr(), port, request, qpn, kSetupNs);
  REQUIRE_OK(a);
  *answer = std::move(*a);
  return "";
}

TEST(VerbsAuth, ARecordedProofReplayedAndAForgedProofAreRefused) {
  RINGCAST_REQUIRE_RDMA(env);
  namespace auth = fabric::auth;
  auto server = [&](Channel& ch) -> std::string {
    Server s;
    if (auto f = start_server(env, ch, s); !f.empty()) return f;
    // The genuine proof is admitted; the prober then drops the connection.
    auto dropped = s.keyed->accept(kSetupNs);
    REQUIRE(!dropped.ok() && dropped.error().code == Errc::link_failed,
            dropped.ok() ? "established without a QP?" : dropped.error().message());
    if (auto f = expect_refusal(*s.keyed, env, auth::kStaleChallenge); !f.empty()) return f;
    return expect_refusal(*s.keyed, env, auth::kBadProof);
  };
  auto client = [&](Channel& ch) -> std::string {
    Ports ports;
    if (auto f = receive_ports(ch, ports); !f.empty()) return f;
    const fabric::ConnectInfo me = connect_info(kClient, {0x100000, 4096, 9});
    auth::ConnectorHandshake hs(key_of(1), me);
    fabric::verbs::ProbeAnswer a;
    const auth::SetupMessage hello = *hs.start();
    if (auto f = probe(env, ports.keyed, hello.span(), 0xbeef1, &a); !f.empty()) return f;
    REQUIRE(!a.accepted, "a hello was accepted");
    REQUIRE_OK(hs.on_challenge(a.private_data));
    const auth::SetupMessage proof = *hs.proof(0xbeef2);
    if (auto f = probe(env, ports.keyed, proof.span(), 0xbeef2, &a); !f.empty()) return f;
    REQUIRE(a.accepted, "the genuine proof was refused: " + text_of(a.private_data));
    // rdma_cm reported the QP numbers the tags bind: the accept verifies.
    REQUIRE_OK(hs.on_accept(a.private_data, a.peer_qpn));
    // Replayed, as an eavesdropper would. (Not from the same claimed QP
    // number: the CM itself refuses that as a stale connection for a while.)
    if (auto f = probe(env, ports.keyed, proof.span(), 0xbeef5, &a); !f.empty()) return f;
    REQUIRE(!a.accepted && contains(text_of(a.private_data), auth::kStaleChallenge),
            "replay answered: " + text_of(a.private_data));
    // Forged: a fresh challenge answered without the key.
    auth::ConnectorHandshake other(key_of(1), me);
    if (auto f = probe(env, ports.keyed, other.start()->span(), 0xbeef3, &a); !f.empty()) return f;
    auth::Proof forged;
    forged.ticket = auth::decode_challenge(a.private_data)->ticket;
    forged.regions = me;
    forged.tag.fill(std::byte{0x42});
    const auth::ProofBytes bytes = auth::encode(forged);
    if (auto f = probe(env, ports.keyed, bytes, 0xbeef4, &a); !f.empty()) return f;
    REQUIRE(!a.accepted && contains(text_of(a.private_data), auth::kBadProof),
            "forgery answered: " + text_of(a.private_data));
    return "";
  };
  auto report = run_pair(server, client);
  EXPECT_EQ(report.server, "");
  EXPECT_EQ(report.client, "");
}

// ---- RingNode: a keyed ring, and a member with the wrong key ----

// Shared with the forked members (MAP_SHARED): each one's delivery hash, and
// how many have delivered everything (none leaves before all have).
struct Shared {
  std::atomic<std::uint64_t> hash[3];
  std::atomic<int> done;
};

Shared* map_shared() {
  void* p =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : new (p) Shared{};
}

runtime::RingNodeOptions node_options(const RdmaEnv& env, std::size_t members,
                                      std::uint16_t base_port, fabric::NodeId me, AuthKey key) {
  runtime::RingNodeOptions o;
  for (std::size_t i = 0; i < members; ++i) {
    o.members.push_back({static_cast<fabric::NodeId>(i + 1), env.addrs[i],
                         static_cast<std::uint16_t>(base_port + i)});
  }
  o.me = me;
  o.device = env.device;
  o.gid_index = env.gid_index;
  o.ring.log_bytes = 1u << 20;
  o.ring.max_message_bytes = 4096;
  o.ring.send_buffer_bytes = 256u << 10;
  o.ring.token_hold_ns = 1'000'000;
  o.key = std::move(key);
  return o;
}

// Sends `messages`, delivers members x messages, records the hash of what
// it delivered, in which order.
std::string ring_member(const runtime::RingNodeOptions& o, int messages, Shared& shared) {
  const auto t0 = std::chrono::steady_clock::now();
  auto node = runtime::RingNode::start(o);
  REQUIRE_OK(node);
  std::printf(
      "node %u: RingNode::start took %.0f ms (%s)\n", o.me,
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
      o.key.empty() ? "no key" : "keyed");
  const std::size_t total = o.members.size() * static_cast<std::size_t>(messages);
  std::size_t sent = 0;
  std::size_t delivered = 0;
  std::uint64_t hash = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (delivered < total && std::chrono::steady_clock::now() < deadline) {
    if (sent < static_cast<std::size_t>(messages)) {
      std::array<std::byte, 64> payload{};
      payload[0] = std::byte{static_cast<unsigned char>(o.me)};
      std::memcpy(payload.data() + 8, &sent, sizeof sent);
      ring::OutgoingMessage m;
      m.payload = payload;
      auto s = (*node)->submit(m);
      if (s.ok()) ++sent;
      REQUIRE(s.ok() || s.error().code == Errc::try_again, s.error().message());
    }
    std::uint64_t last = 0;
    while (auto d = (*node)->next_delivery()) {
      hash = hash * 1099511628211ull ^ (d->seq * 31 + d->sender) ^ crc32c(d->payload);
      last = d->seq;
      ++delivered;
    }
    if (last != 0) REQUIRE_OK((*node)->release_through(last));
    if (last == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  REQUIRE(delivered == total, std::to_string(delivered) + " of " + std::to_string(total));
  shared.hash[o.me - 1] = hash;
  shared.done.fetch_add(1);
  while (shared.done.load() < static_cast<int>(o.members.size()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "";
}

// A child's report (what it wrote before exiting) and its end; killed when
// the deadline passes first.
std::string collect(pid_t pid, int from, std::chrono::steady_clock::time_point deadline) {
  std::string report;
  char buffer[512];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd fd{from, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
      kill(pid, SIGKILL);
      report += "[timed out and was killed]";
      break;
    }
    const ssize_t n = read(from, buffer, sizeof buffer);
    if (n <= 0) break;
    report.append(buffer, static_cast<std::size_t>(n));
  }
  close(from);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && report.empty()) return "[died of signal]";
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && report.empty()) return "[failed]";
  return report;
}

// Runs bodies[i] in forked children at once (all forked from this thread:
// forking while other threads run can leave a child stuck on a lock, ASan's
// among them). Their reports, in order; "" from each that passed.
std::vector<std::string> run_all(const std::vector<Body>& bodies, int timeout_s) {
  struct Kid {
    pid_t pid = -1;
    int from = -1;
  };
  std::vector<Kid> kids;
  for (const Body& body : bodies) {
    int fds[2];
    if (pipe(fds) != 0) break;
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Channel unused(-1);
      const std::string report = body(unused);
      if (!report.empty() && write(fds[1], report.data(), report.size()) < 0) _exit(2);
      std::fflush(nullptr);
      _exit(report.empty() ? 0 : 1);
    }
    close(fds[1]);
    kids.push_back({pid, fds[0]});
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::vector<std::string> reports(bodies.size(), "[not started]");
  for (std::size_t i = 0; i < kids.size(); ++i)
    reports[i] = collect(kids[i].pid, kids[i].from, deadline);
  return reports;
}

std::string missing_addresses(const RdmaEnv& env, std::size_t members) {
  if (env.addrs.size() >= members) return "";
  return std::to_string(members) + " members need as many addresses on " + env.device + ", found " +
         std::to_string(env.addrs.size()) + " (RINGCAST_RDMA_ADDRS)";
}

#define RINGCAST_REQUIRE_ADDRESSES(env, members)                  \
  if (auto why = missing_addresses(env, members); !why.empty()) { \
    if (softroce_required()) FAIL() << why;                       \
    GTEST_SKIP() << "skipped: " << why;                           \
  }

TEST(VerbsAuth, AKeyedRingOfThreeDeliversTheSameSequence) {
  RINGCAST_REQUIRE_RDMA(env);
  RINGCAST_REQUIRE_ADDRESSES(env, 3);
  Shared* shared = map_shared();
  ASSERT_NE(shared, nullptr);
  std::vector<Body> bodies;
  for (fabric::NodeId me = 1; me <= 3; ++me) {
    bodies.push_back([&, me](Channel&) {
      return ring_member(node_options(env, 3, 17450, me, key_of(1)), 300, *shared);
    });
  }
  const auto reports = run_all(bodies, 150);
  for (std::size_t i = 0; i < reports.size(); ++i)
    EXPECT_EQ(reports[i], "") << "node " << i + 1;
  EXPECT_NE(shared->hash[0].load(), 0u);
  EXPECT_EQ(shared->hash[1].load(), shared->hash[0].load());
  EXPECT_EQ(shared->hash[2].load(), shared->hash[0].load());
  munmap(shared, sizeof(Shared));
}

TEST(VerbsAuth, AMemberWithTheWrongKeyFailsToStartAndIsNamedOnBothSides) {
  RINGCAST_REQUIRE_RDMA(env);
  RINGCAST_REQUIRE_ADDRESSES(env, 2);
  auto member = [&](fabric::NodeId me, unsigned char key) {
    return [&env, me, key](Channel&) -> std::string {
      set_log_sink(&keep_line);
      auto o = node_options(env, 2, 17460, me, key_of(key));
      // Node 1 waits out its set-up time for a node 2 with the right key.
      // Node 2 must stop on the refusal, long before its own time is up.
      o.connect_timeout_ns = me == 1 ? 8'000'000'000 : 40'000'000'000;
      const auto t0 = std::chrono::steady_clock::now();
      auto node = runtime::RingNode::start(o);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      REQUIRE(!node.ok(), "started with the wrong key");
      const std::string m = node.error().message();
      const std::string other = me == 1 ? "node 2" : "node 1";
      REQUIRE(contains(m, other) && contains(m, "different cluster keys"), m);
      REQUIRE(me == 1 || (node.error().code == Errc::refused && s < 30.0),
              "took " + std::to_string(s) + " s: " + m);
      std::printf("node %u refused after %.2f s: %s\n", me, s, m.c_str());
      return std::string();
    };
  };
  const auto reports = run_all({member(1, 1), member(2, 2)}, 60);
  EXPECT_EQ(reports[0], "") << "node 1";
  EXPECT_EQ(reports[1], "") << "node 2";
}

}  // namespace
}  // namespace ringcast::test
