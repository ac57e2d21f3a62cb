// The ring over verbs (rxe under ci/softroce-run): two member processes, one
// RingDriver each, the same code the simulator runs. Each member sends a few
// thousand messages of mixed sizes and guarantees; both must deliver the same
// sequence (a running hash of seq, sender and payload) with intact payloads.
// The multi-process runs with 3 and 5 members are the benchmark's.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "ring/driver.hpp"
#include "support/scenario.hpp"

namespace ringcast::test {
namespace {

using ring::Delivery;
using ring::Guarantee;
using ring::OutgoingMessage;
using ring::RingDriver;

constexpr std::uint32_t kPerMember = 5000;
constexpr std::uint32_t kMaxBytes = 64 << 10;

ring::RingConfig config() {
  ring::RingConfig c;
  c.log_bytes = 4u << 20;
  c.max_message_bytes = kMaxBytes;
  c.send_buffer_bytes = 1u << 20;
  return c;
}

std::uint32_t pick_size(std::mt19937_64& rng) {
  const auto x = rng() % 100;
  if (x < 70) return 1 + rng() % 64;
  if (x < 95) return 65 + rng() % 4096;
  return 4097 + rng() % (kMaxBytes - 4096);
}

void fill(std::byte* data, std::size_t size, std::uint64_t tag) {
  for (std::size_t j = 0; j < size; ++j)
    data[j] = pattern_byte(tag, j);
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  return (h ^ v) * 0x100000001b3ull;
}

std::string state_of(const RingDriver& driver) {
  const auto& st = driver.state();
  const auto& c = st.counters();
  const auto& log = st.log();
  char line[512];
  std::snprintf(
      line, sizeof line,
      "token=%d idle=%d received=%llu delivered=%llu released=%llu safe=%llu queue=%u "
      "outbox=%zu deadline=%llu tokens in/out/dropped=%llu/%llu/%llu records dropped=%llu "
      "imm dropped=%llu wakes=%llu/%llu visits=%llu",
      st.holds_token(), st.holding_idle(), static_cast<unsigned long long>(log.received_up_to()),
      static_cast<unsigned long long>(log.delivered_seq()),
      static_cast<unsigned long long>(log.released_seq()),
      static_cast<unsigned long long>(st.safe_up_to()), st.send_queue().size(),
      st.outbox().total_queued(), static_cast<unsigned long long>(driver.next_deadline_ns()),
      static_cast<unsigned long long>(c.tokens_received),
      static_cast<unsigned long long>(c.tokens_passed),
      static_cast<unsigned long long>(c.tokens_dropped),
      static_cast<unsigned long long>(log.counters().records_dropped),
      static_cast<unsigned long long>(c.imm_dropped), static_cast<unsigned long long>(c.wakes_sent),
      static_cast<unsigned long long>(c.wakes_received), static_cast<unsigned long long>(c.visits));
  return line;
}

// One member: submits its messages as the queue takes them, delivers and
// releases everything, sleeps in wait() when idle, then trades hashes.
std::string run_member(fabric::verbs::VerbsEndpoint& ep, RingDriver& driver,
                       std::unique_ptr<fabric::Link> link, bool first, Channel& channel) {
  const ring::RingMembership membership{
      {kServerNode, 1}, {kServerNode, kClientNode}, first ? 0u : 1u};
  std::vector<fabric::Link*> links{nullptr, nullptr};
  links[first ? 1 : 0] = link.get();
  REQUIRE_OK(driver.start(membership, links));
  std::mt19937_64 rng(first ? 1 : 2);
  std::vector<std::byte> buffer(kMaxBytes);
  std::uint32_t sent = 0;
  std::uint64_t delivered = 0, hash = 0xcbf29ce484222325ull;
  std::uint32_t next_from[2] = {0, 0};
  const std::uint64_t started_ns = ep.now_ns();
  const std::uint64_t give_up = started_ns + 60'000'000'000ull;
  auto step = [&]() -> std::string {
    bool worked = driver.progress();
    while (sent < kPerMember) {
      const std::uint32_t size = pick_size(rng);
      fill(buffer.data(), size, sent * 2 + (first ? 0 : 1));
      OutgoingMessage m;
      m.payload = std::span(buffer.data(), size);
      m.guarantee = static_cast<Guarantee>(sent % 4);
      m.group = sent;
      Status s = driver.submit(m);
      if (!s.ok() && s.error().code == Errc::try_again) break;
      REQUIRE_OK(s);
      ++sent;
      worked = true;
    }
    while (auto d = driver.next_delivery()) {
      const std::uint32_t from = d->sender == kServerNode ? 0 : 1;
      REQUIRE(d->group == next_from[from]++, "per-sender order, seq " + std::to_string(d->seq));
      std::vector<std::byte> expected(d->payload.size());
      fill(expected.data(), expected.size(), std::uint64_t{d->group} * 2 + from);
      REQUIRE(std::memcmp(expected.data(), d->payload.data(), expected.size()) == 0,
              "payload of seq " + std::to_string(d->seq));
      hash = mix(mix(mix(hash, d->seq), d->sender), expected.size());
      ++delivered;
      REQUIRE_OK(driver.release_through_seq(d->seq));
      worked = true;
    }
    REQUIRE(!driver.state().failed(), driver.state().failure().message() + ", delivered " +
                                          std::to_string(delivered) + ": " + state_of(driver));
    REQUIRE(ep.now_ns() < give_up, "not done after 60 s: delivered " + std::to_string(delivered) +
                                       ", sent " + std::to_string(sent) + ": " + state_of(driver));
    const std::uint64_t now = ep.now_ns(), deadline = driver.next_deadline_ns();
    if (!worked && deadline > now)
      (void)ep.wait(std::min<std::uint64_t>(deadline - now, 1'000'000));
    return "";
  };
  while (delivered < 2 * kPerMember) {
    if (auto f = step(); !f.empty()) return f;
  }
  const double seconds = static_cast<double>(ep.now_ns() - started_ns) / 1e9;
  REQUIRE(channel.send("done " + std::to_string(hash)), "peer gone");
  for (;;) {  // keep the ring going until the peer is done too
    if (auto f = step(); !f.empty()) return f;
    bool ok = false;
    const std::string line = channel.receive(5, &ok);  // under 1 ms would not read at all
    if (!ok) continue;
    REQUIRE(line == "done " + std::to_string(hash),
            "order differs: mine " + std::to_string(hash) + ", peer " + line);
    const auto& c = driver.state().counters();
    std::fprintf(
        stderr, "member %d: %llu delivered in %.2f s, %llu tokens passed, %llu holds, %llu wakes\n",
        first ? 0 : 1, static_cast<unsigned long long>(delivered), seconds,
        static_cast<unsigned long long>(c.tokens_passed),
        static_cast<unsigned long long>(c.token_holds),
        static_cast<unsigned long long>(c.wakes_sent));
    return "";
  }
}

TEST(RingVerbs, TwoMembersDeliverTheSameSequence) {
  RINGCAST_REQUIRE_RDMA(env);
  auto server = [&](Channel& ch) -> std::string {
    auto ep =
        fabric::verbs::VerbsEndpoint::open(endpoint_options(env, kServerNode, env.server_addr()));
    REQUIRE_OK(ep);
    auto driver = RingDriver::create(**ep, config());
    REQUIRE_OK(driver);
    fabric::verbs::LinkOptions options;
    options.ours = (*driver)->connect_info(0);
    auto listener = (*ep)->listen(env.server_addr(), 0, options);
    REQUIRE_OK(listener);
    REQUIRE(ch.send("port " + std::to_string((*listener)->port())), "client gone");
    auto link = (*listener)->accept(std::uint64_t{kSetupTimeoutMs} * 1'000'000u);
    REQUIRE_OK(link);
    return run_member(**ep, **driver, std::move(*link), true, ch);
  };
  auto client = [&](Channel& ch) -> std::string {
    auto ep =
        fabric::verbs::VerbsEndpoint::open(endpoint_options(env, kClientNode, env.client_addr()));
    REQUIRE_OK(ep);
    auto driver = RingDriver::create(**ep, config());
    REQUIRE_OK(driver);
    bool ok = false;
    const std::string line = ch.receive(kSetupTimeoutMs, &ok);
    REQUIRE(ok && line.rfind("port ", 0) == 0, "no port: '" + line + "'");
    fabric::verbs::LinkOptions options;
    options.ours = (*driver)->connect_info(0);
    auto link = (*ep)->connect(env.client_addr(), env.server_addr(),
                               static_cast<std::uint16_t>(std::stoi(line.substr(5))), options);
    REQUIRE_OK(link);
    return run_member(**ep, **driver, std::move(*link), false, ch);
  };
  const PairReport report = run_pair(server, client, 300);
  EXPECT_EQ(report.server, "") << "member 0";
  EXPECT_EQ(report.client, "") << "member 1";
}

}  // namespace
}  // namespace ringcast::test
