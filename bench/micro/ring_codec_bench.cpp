// Micro-benchmarks of what every token visit and every record costs the CPU:
// token encode / decode (with its validation), the flow-control arithmetic of
// a visit, and record header encode / validate.
//
//   build/bench/micro/ring_codec_bench [--benchmark_filter=Token]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/crc32c.hpp"
#include "ring/flow_control.hpp"
#include "ring/record.hpp"
#include "ring/token.hpp"

namespace ringcast::ring {
namespace {

constexpr RingId kRing{1, 7};

// A token as it looks in the middle of a busy run: every member has received
// and released a little behind the head.
Token busy_token(std::size_t members) {
  Token t;
  t.ring = kRing;
  t.token_seq = 1000;
  t.highest_seq = 50'000;
  t.next_position = 50'000 * 128;
  t.fcc = 40;
  t.backlog = 100;
  t.member_count = static_cast<std::uint16_t>(members);
  for (std::size_t i = 0; i < members; ++i)
    t.members[i] = {t.highest_seq - i, t.next_position - 4096 * (i + 1)};
  return t;
}

void BM_TokenEncode(benchmark::State& state) {
  const Token t = busy_token(static_cast<std::size_t>(state.range(0)));
  std::array<std::byte, kTokenSlotBytes> out{};
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = encode_token(t, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TokenEncode)->Arg(2)->Arg(3)->Arg(5)->Arg(16)->Arg(64);

// decode_token validates everything (checksum, ranges) before filling the
// token, so this is the receiver's whole per-token check.
void BM_TokenDecode(benchmark::State& state) {
  const auto members = static_cast<std::size_t>(state.range(0));
  std::array<std::byte, kTokenSlotBytes> wire{};
  const std::size_t bytes = encode_token(busy_token(members), wire);
  const TokenLimits limits{kRing, members};
  Token out;
  for (auto _ : state) {
    const TokenFault fault = decode_token({wire.data(), bytes}, limits, &out);
    benchmark::DoNotOptimize(fault);
    if (fault != TokenFault::none) state.SkipWithError("token refused");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_TokenDecode)->Arg(2)->Arg(3)->Arg(5)->Arg(16)->Arg(64);

// The token work of one visit without the I/O: decode and validate what
// arrived, run flow control, update this member's progress, encode the token
// for the successor.
void BM_TokenVisit(benchmark::State& state) {
  const auto members = static_cast<std::size_t>(state.range(0));
  std::array<std::byte, kTokenSlotBytes> in{};
  std::array<std::byte, kTokenSlotBytes> out{};
  const std::size_t bytes = encode_token(busy_token(members), in);
  const TokenLimits limits{kRing, members};
  FlowControl flow(64, 256);
  Token t;
  std::uint32_t my_backlog = 10;
  for (auto _ : state) {
    if (decode_token({in.data(), bytes}, limits, &t) != TokenFault::none) {
      state.SkipWithError("token refused");
      break;
    }
    const std::uint32_t sent = flow.allowed(t.fcc, t.backlog, my_backlog);
    flow.record_visit(&t.fcc, &t.backlog, sent, my_backlog - std::min(sent, my_backlog));
    t.members[0].received_up_to = t.highest_seq;
    ++t.token_seq;
    benchmark::DoNotOptimize(encode_token(t, out));
    my_backlog = my_backlog % 50 + 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TokenVisit)->Arg(2)->Arg(3)->Arg(5)->Arg(16)->Arg(64);

RecordHeader sample_header() {
  RecordHeader h;
  h.ring = kRing;
  h.seq = 123'456;
  h.position = 123'456 * 128;
  h.sender = 3;
  h.sender_pid = 4242;
  h.group = 9;
  h.payload_bytes = 1000;
  h.batch_index = 5;
  h.guarantee = Guarantee::agreed;
  return h;
}

void BM_RecordHeaderEncode(benchmark::State& state) {
  RecordHeader h = sample_header();
  alignas(64) std::array<std::byte, kRecordHeaderBytes> out{};
  for (auto _ : state) {
    encode_record_header(h, out);
    benchmark::DoNotOptimize(out.data());
    ++h.seq;  // a different header each time, as on a real visit
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRecordHeaderBytes));
}
BENCHMARK(BM_RecordHeaderEncode);

void BM_RecordHeaderValidate(benchmark::State& state) {
  alignas(64) std::array<std::byte, kRecordHeaderBytes> wire{};
  encode_record_header(sample_header(), wire);
  const RecordLimits limits{kRing, 16u << 20, 1u << 20};
  RecordHeader out;
  for (auto _ : state) {
    const RecordFault fault = decode_record_header(wire, limits, &out);
    benchmark::DoNotOptimize(fault);
    if (fault != RecordFault::none) state.SkipWithError("header refused");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRecordHeaderBytes));
}
BENCHMARK(BM_RecordHeaderValidate);

// A damaged header must cost no more than a good one to refuse.
void BM_RecordHeaderRefuse(benchmark::State& state) {
  alignas(64) std::array<std::byte, kRecordHeaderBytes> wire{};
  encode_record_header(sample_header(), wire);
  wire[20] ^= std::byte{0x40};  // a flipped bit in the seq: the checksum fails
  const RecordLimits limits{kRing, 16u << 20, 1u << 20};
  RecordHeader out;
  for (auto _ : state) {
    const RecordFault fault = decode_record_header(wire, limits, &out);
    benchmark::DoNotOptimize(fault);
    if (fault != RecordFault::bad_checksum) state.SkipWithError("damaged header accepted");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RecordHeaderRefuse);

// The payload checksum: what a sender pays per record placed and every
// receiver per record received (docs/protocol.md "Payload checksum"), with
// the CPU's crc32 instruction when it has one (crc32c_hardware) and the
// portable byte-table loop.
void BM_Crc32c(benchmark::State& state) {
  std::vector<std::byte> payload(static_cast<std::size_t>(state.range(0)), std::byte{0x5a});
  std::uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c(payload);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload.size()));
  state.SetLabel(crc32c_hardware() ? "crc32 instruction" : "table");
}
BENCHMARK(BM_Crc32c)->Arg(64)->Arg(1024)->Arg(65536);

void BM_Crc32cPortable(benchmark::State& state) {
  std::vector<std::byte> payload(static_cast<std::size_t>(state.range(0)), std::byte{0x5a});
  std::uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c_portable(payload);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_Crc32cPortable)->Arg(64)->Arg(1024)->Arg(65536);

}  // namespace
}  // namespace ringcast::ring
