// The verbs data path on a real device (rxe under ci/softroce-run): two
// processes, a link through rdma_cm, one-sided writes checked byte by byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "support/scenario.hpp"

namespace ringcast::test {
namespace {

using fabric::CompletionType;
using fabric::Segment;
using fabric::WriteOp;

void expect_passed(const PairReport& report) {
  EXPECT_EQ(report.server, "") << "server side";
  EXPECT_EQ(report.client, "") << "client side";
}

std::string check_pattern(const std::byte* data, std::size_t size, std::uint64_t tag) {
  for (std::size_t j = 0; j < size; ++j) {
    if (data[j] != pattern_byte(tag, j)) {
      return "byte " + std::to_string(j) + " of " + std::to_string(size) + " differs";
    }
  }
  return "";
}

void fill_pattern(std::byte* data, std::size_t size, std::uint64_t tag) {
  for (std::size_t j = 0; j < size; ++j)
    data[j] = pattern_byte(tag, j);
}

WriteOp write_of(const fabric::MemoryRegion& source, std::uint64_t offset, std::uint32_t length,
                 std::uint64_t remote_offset, std::uint64_t wr_id) {
  WriteOp op;
  op.wr_id = wr_id;
  op.segments[0] = Segment{&source, offset, length};
  op.segment_count = 1;
  op.remote_offset = remote_offset;
  return op;
}

// RDMA WRITE (no immediate) of 1 B, the granted inline size, 4 KiB and 1 MiB,
// each followed on the same link by a zero-length WRITE WITH IMMEDIATE that
// tells the server the write has landed (RC keeps them in order).
TEST(VerbsWrite, PayloadsOfEverySizeLandIntact) {
  RINGCAST_REQUIRE_RDMA(env);
  constexpr std::size_t kRegion = 2u << 20;
  auto server = [&](Channel& ch) -> std::string {
    ServerSide s;
    if (auto f = start_server(env, ch, region_plan(kRegion), s); !f.empty()) return f;
    Poller poller(*s.ep);
    for (int round = 0; round < 4; ++round) {
      auto c = poller.await(CompletionType::received_imm, 20000);
      REQUIRE(c.has_value(), "no immediate in round " + std::to_string(round));
      REQUIRE(c->peer == kClientNode && c->byte_len == 0, describe(*c));
      const std::size_t size = c->imm;
      REQUIRE(size < kRegion, describe(*c));
      const std::byte* data = s.region->data();
      if (auto f = check_pattern(data, size, size); !f.empty())
        return failure(__FILE__, __LINE__, "bytes", f);
      REQUIRE(data[size] == std::byte{0}, "write of " + std::to_string(size) + " ran over");
      REQUIRE(ch.send("ok " + std::to_string(size)), "client gone");
    }
    return "";
  };
  auto client = [&](Channel& ch) -> std::string {
    ClientSide c;
    if (auto f = start_client(env, ch, kRegion, c); !f.empty()) return f;
    const std::uint32_t inline_bytes = c.link->max_inline_bytes();
    REQUIRE(inline_bytes >= 1 && inline_bytes < 4096,
            "granted inline " + std::to_string(inline_bytes));
    std::fprintf(stderr, "granted max_inline_data: %u\n", inline_bytes);
    Poller poller(*c.ep);
    for (std::uint32_t size : {1u, inline_bytes, 4096u, 1u << 20}) {
      fill_pattern(c.source->data(), size, size);
      WriteOp data = write_of(*c.source, 0, size, 0, size);
      data.signaled = true;
      WriteOp landed;
      landed.wr_id = 1u << 30;
      landed.with_imm = true;
      landed.imm = size;
      const WriteOp chain[] = {data, landed};
      REQUIRE_OK(c.link->post(chain));
      auto done = poller.await(CompletionType::write_done, 20000);
      REQUIRE(done && done->wr_id == size, done ? describe(*done) : "no write_done");
      if (auto f = expect_line(ch, "ok " + std::to_string(size)); !f.empty()) return f;
    }
    return "";
  };
  expect_passed(run_pair(server, client));
}

// WRITE WITH IMMEDIATE from two segments: the immediate arrives in host order
// with the byte count, the data lands; the server sleeps in wait() meanwhile
// (and wait() times out when nothing comes).
TEST(VerbsWrite, ImmediateArrivesWithItsDataAndWakesAWaiter) {
  RINGCAST_REQUIRE_RDMA(env);
  constexpr std::uint32_t kImm = 0xDEADBEEF;
  constexpr std::uint64_t kAt = 8192;
  auto server = [&](Channel& ch) -> std::string {
    ServerSide s;
    if (auto f = start_server(env, ch, region_plan(16384), s); !f.empty()) return f;
    const auto t0 = std::chrono::steady_clock::now();
    auto idle = s.ep->wait(50'000'000);
    const auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE(!idle.ok() && idle.error().code == Errc::timeout, "wait on an idle endpoint");
    REQUIRE(waited >= std::chrono::milliseconds(40) && waited < std::chrono::seconds(5),
            "wait(50 ms) took " + std::to_string(waited.count()) + " ns");
    REQUIRE(ch.send("go"), "client gone");
    std::array<Completion, 4> out;
    std::size_t n = 0;
    for (int i = 0; i < 100 && n == 0; ++i) {  // wake-ups may be spurious
      REQUIRE_OK(s.ep->wait(20'000'000'000));
      n = s.ep->poll(out);
    }
    REQUIRE(n == 1 && out[0].type == CompletionType::received_imm,
            n == 0 ? "nothing" : describe(out[0]));
    REQUIRE(out[0].imm == kImm && out[0].byte_len == 4096 && out[0].peer == kClientNode,
            describe(out[0]));
    if (auto f = check_pattern(s.region->data() + kAt, 4096, 77); !f.empty())
      return failure(__FILE__, __LINE__, "bytes", f);
    REQUIRE(ch.send("done"), "client gone");
    return "";
  };
  auto client = [&](Channel& ch) -> std::string {
    ClientSide c;
    if (auto f = start_client(env, ch, 65536, c); !f.empty()) return f;
    // The two halves come from distant places of the source region.
    fill_pattern(c.source->data(), 4096, 77);
    std::memmove(c.source->data() + 32768, c.source->data() + 2048, 2048);
    WriteOp op = write_of(*c.source, 0, 2048, kAt, 5);
    op.segments[1] = Segment{c.source.get(), 32768, 2048};
    op.segment_count = 2;
    op.with_imm = true;
    op.imm = kImm;
    op.signaled = true;
    if (auto f = expect_line(ch, "go"); !f.empty()) return f;
    REQUIRE_OK(c.link->post({&op, 1}));
    Poller poller(*c.ep);
    auto done = poller.await(CompletionType::write_done, 20000);
    REQUIRE(done && done->wr_id == 5, done ? describe(*done) : "no write_done");
    return expect_line(ch, "done");
  };
  expect_passed(run_pair(server, client));
}

// 1,000 writes with immediates, posted as 20 chains of 50 (one doorbell
// each), every other one signaled: the server sees them in order with their
// content, the client gets exactly the completions it asked for, in order.
TEST(VerbsWrite, AThousandChainedWritesCompleteInOrder) {
  RINGCAST_REQUIRE_RDMA(env);
  constexpr std::uint32_t kWrites = 1000;
  constexpr std::uint32_t kChain = 50;
  constexpr std::uint32_t kSlot = 64;
  auto server = [&](Channel& ch) -> std::string {
    ServerSide s;
    if (auto f = start_server(env, ch, region_plan(kWrites * kSlot), s); !f.empty()) return f;
    Poller poller(*s.ep);
    for (std::uint32_t i = 0; i < kWrites; ++i) {
      auto c = poller.await(CompletionType::received_imm, 20000);
      REQUIRE(c.has_value(), "immediate " + std::to_string(i) + " never came");
      REQUIRE(c->imm == i && c->byte_len == kSlot,
              "expected imm " + std::to_string(i) + ", got " + describe(*c));
      const std::byte* slot = s.region->data() + std::size_t{i} * kSlot;
      if (auto f = check_pattern(slot, kSlot, i); !f.empty())
        return failure(__FILE__, __LINE__, "slot", f);
    }
    REQUIRE(ch.send("done"), "client gone");
    // Stay connected until the client has checked its side.
    return expect_line(ch, "bye");
  };
  auto client = [&](Channel& ch) -> std::string {
    ClientSide c;
    if (auto f = start_client(env, ch, kWrites * kSlot, c); !f.empty()) return f;
    for (std::uint32_t i = 0; i < kWrites; ++i)
      fill_pattern(c.source->data() + i * kSlot, kSlot, i);
    Poller poller(*c.ep);
    std::vector<Completion> seen;
    std::vector<WriteOp> chain(kChain);
    for (std::uint32_t first = 0; first < kWrites; first += kChain) {
      for (std::uint32_t k = 0; k < kChain; ++k) {
        const std::uint32_t i = first + k;
        chain[k] = write_of(*c.source, i * kSlot, kSlot, i * kSlot, i);
        chain[k].with_imm = true;
        chain[k].imm = i;
        chain[k].signaled = i % 2 == 0;
      }
      // The send queue (256) holds five chains; wait for room when full.
      for (int tries = 0;; ++tries) {
        auto posted = c.link->post(chain);
        if (posted.ok()) break;
        REQUIRE(posted.error().code == Errc::try_again && tries < 100000, posted.error().message());
        if (auto got = poller.next(10)) seen.push_back(*got);
      }
    }
    while (seen.size() < kWrites / 2) {
      auto got = poller.next(20000);
      REQUIRE(got.has_value(), "only " + std::to_string(seen.size()) + " completions");
      seen.push_back(*got);
    }
    for (std::size_t k = 0; k < seen.size(); ++k) {
      REQUIRE(seen[k].type == CompletionType::write_done && seen[k].wr_id == 2 * k,
              "completion " + std::to_string(k) + ": " + describe(seen[k]));
    }
    auto extra = poller.next(100);
    REQUIRE(!extra.has_value(), "a completion nobody asked for: " + describe(*extra));
    if (auto f = expect_line(ch, "done"); !f.empty()) return f;
    REQUIRE(ch.send("bye"), "server gone");
    return "";
  };
  expect_passed(run_pair(server, client));
}

}  // namespace
}  // namespace ringcast::test
