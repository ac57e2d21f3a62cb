#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/log_space.hpp"
#include "ring/receive_log.hpp"

namespace ringcast::ring {
namespace {

constexpr RingId kRing{1, 1};
constexpr std::uint64_t kLogBytes = 64 * 32;  // 32 alignment units: wraps quickly

// Plays the senders: places records in the global log as the token holders
// would (same positions, skipping to the next lap when a record would
// straddle the end) and writes them into the member's memory like a remote
// write. The test decides when each batch's imm "arrives".
class Writer {
 public:
  explicit Writer(std::span<std::byte> memory) : memory_(memory) {}

  struct Batch {
    std::uint64_t first_seq, last_seq, last_offset;
  };

  Batch write_batch(const std::vector<std::string>& payloads, Guarantee g = Guarantee::agreed) {
    Batch b{seq_ + 1, 0, 0};
    std::uint32_t index = 0;
    for (const auto& p : payloads) {
      RecordHeader h = header(p.size(), ++index, g);
      write(h, p);
      b.last_offset = h.position % kLogBytes;
    }
    b.last_seq = seq_;
    return b;
  }

  RecordHeader header(std::size_t payload, std::uint32_t index, Guarantee g) {
    const std::uint64_t span = record_span_bytes(payload);
    RecordHeader h;
    h.ring = kRing;
    h.seq = ++seq_;
    h.position = place_position(next_, span, kLogBytes);
    h.sender = 3;
    h.payload_bytes = static_cast<std::uint32_t>(payload);
    h.batch_index = index;
    h.guarantee = g;
    next_ = h.position + span;
    return h;
  }

  void write(RecordHeader h, const std::string& payload) {
    const std::uint64_t offset = h.position % kLogBytes;
    h.payload_crc = crc32c(std::as_bytes(std::span(payload)));
    encode_record_header(h, memory_.subspan(offset).first<kRecordHeaderBytes>());
    std::memcpy(memory_.data() + offset + kRecordHeaderBytes, payload.data(), payload.size());
  }

  std::uint64_t next_position() const { return next_; }

 private:
  std::span<std::byte> memory_;
  std::uint64_t seq_ = 0;
  std::uint64_t next_ = 0;
};

class ReceiveLogTest : public ::testing::Test {
 protected:
  ReceiveLogTest()
      : memory_(kLogBytes), log_(memory_, {kRing, kLogBytes, 1024}), writer_(memory_) {}

  std::string text(const Delivery& d) {
    return {reinterpret_cast<const char*>(d.payload.data()), d.payload.size()};
  }
  // Delivers everything deliverable and releases it; returns the payloads.
  std::vector<std::string> drain(std::uint64_t safe_up_to = UINT64_MAX) {
    std::vector<std::string> out;
    while (auto d = log_.next_delivery(safe_up_to)) {
      out.push_back(text(*d));
      EXPECT_TRUE(log_.release_through_seq(d->seq).ok());
    }
    return out;
  }

  std::vector<std::byte> memory_;
  ReceiveLog log_;
  Writer writer_;
};

TEST_F(ReceiveLogTest, DeliversALandedBatchInPlaceAndInOrder) {
  auto b = writer_.write_batch({"one", "two", "three"});
  EXPECT_FALSE(log_.next_delivery(UINT64_MAX)) << "nothing before the imm";
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  EXPECT_EQ(log_.received_up_to(), 3u);
  auto d = log_.next_delivery(UINT64_MAX);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->seq, 1u);
  EXPECT_EQ(d->sender, 3u);
  EXPECT_EQ(text(*d), "one");
  EXPECT_EQ(d->payload.data(), memory_.data() + kRecordHeaderBytes) << "in place, no copy";
  EXPECT_EQ(drain(), (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(log_.counters().records_delivered, 3u);
}

TEST_F(ReceiveLogTest, BatchesLandingOutOfOrderWaitForTheGap) {
  auto a = writer_.write_batch({"a1", "a2"});
  auto b = writer_.write_batch({"b1"});
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  EXPECT_EQ(log_.received_up_to(), 0u);
  EXPECT_TRUE(drain().empty());
  ASSERT_EQ(log_.on_batch_landed(a.last_offset), RecordFault::none);
  EXPECT_EQ(log_.received_up_to(), 3u);
  EXPECT_EQ(drain(), (std::vector<std::string>{"a1", "a2", "b1"}));
}

TEST_F(ReceiveLogTest, SafeRecordsWaitForTheSafeBoundAndBlockWhatFollows) {
  auto a = writer_.write_batch({"agreed"});
  auto s = writer_.write_batch({"safe"}, Guarantee::safe);
  auto c = writer_.write_batch({"after"});
  for (auto* b : {&a, &s, &c})
    ASSERT_EQ(log_.on_batch_landed(b->last_offset), RecordFault::none);
  EXPECT_EQ(drain(/*safe_up_to=*/1), (std::vector<std::string>{"agreed"}));
  EXPECT_TRUE(drain(1).empty()) << "the SAFE record blocks the AGREED one after it";
  EXPECT_EQ(drain(2), (std::vector<std::string>{"safe", "after"}));
}

TEST_F(ReceiveLogTest, WrapsAroundSkippingTheTailThatDoesNotFit) {
  // Each 400-byte payload takes 512 bytes: 4 per 2048-byte lap exactly; a
  // 100-byte payload (192) then forces a skip.
  const std::string big(400, 'x');
  std::vector<std::string> expected;
  for (int lap = 0; lap < 6; ++lap) {
    auto b = writer_.write_batch({big, std::string(100, char('a' + lap)), big});
    ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none) << "lap " << lap;
    auto got = drain();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[1], std::string(100, char('a' + lap)));
  }
  EXPECT_GT(writer_.next_position(), 3 * kLogBytes);
  EXPECT_EQ(log_.released_position(), writer_.next_position());
  EXPECT_EQ(log_.counters().records_dropped, 0u);
}

TEST_F(ReceiveLogTest, ReleaseAccountingFollowsTheApplication) {
  auto b = writer_.write_batch({"a", "b", "c"});
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  auto d1 = log_.next_delivery(UINT64_MAX);
  auto d2 = log_.next_delivery(UINT64_MAX);
  ASSERT_TRUE(d1 && d2);
  EXPECT_EQ(log_.released_position(), 0u) << "delivered is not released";
  EXPECT_FALSE(log_.release_through_seq(3).ok()) << "seq 3 not delivered yet";
  ASSERT_TRUE(log_.release_through_seq(2).ok());
  EXPECT_EQ(log_.released_seq(), 2u);
  EXPECT_EQ(log_.released_position(), 2 * 128u);
  EXPECT_TRUE(log_.release_through_seq(1).ok()) << "releasing again is harmless";
  EXPECT_EQ(log_.released_position(), 2 * 128u);
}

TEST_F(ReceiveLogTest, OwnRecordsArePlacedAndMarked) {
  RecordHeader h = writer_.header(5, 1, Guarantee::agreed);
  const std::string payload = "hello";
  log_.place_own(h, std::as_bytes(std::span(payload)));
  log_.mark_landed(h.seq, h.seq);
  EXPECT_EQ(drain(), (std::vector<std::string>{"hello"}));
}

TEST_F(ReceiveLogTest, AnImmPointingAtGarbageIsDroppedAndCounted) {
  EXPECT_EQ(log_.on_batch_landed(0), RecordFault::bad_magic);  // zeroed memory
  EXPECT_EQ(log_.on_batch_landed(kLogBytes), RecordFault::truncated);
  EXPECT_EQ(log_.on_batch_landed(1u << 29), RecordFault::truncated);
  EXPECT_EQ(log_.counters().records_dropped, 3u);
  EXPECT_EQ(log_.received_up_to(), 0u);
}

TEST_F(ReceiveLogTest, ADuplicateBatchIsDropped) {
  auto b = writer_.write_batch({"x", "y"});
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  EXPECT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::duplicate);
  auto c = writer_.write_batch({"z"});
  auto d = writer_.write_batch({"w"});
  ASSERT_EQ(log_.on_batch_landed(d.last_offset), RecordFault::none);
  EXPECT_EQ(log_.on_batch_landed(d.last_offset), RecordFault::duplicate);
  ASSERT_EQ(log_.on_batch_landed(c.last_offset), RecordFault::none);
  EXPECT_EQ(drain().size(), 4u);
}

TEST_F(ReceiveLogTest, AHeaderAtTheWrongOffsetOrBeyondTheWindowIsDropped) {
  // A valid header whose position does not match the offset it was found at.
  RecordHeader h = writer_.header(1, 1, Guarantee::agreed);
  h.position += kLogBytes;  // same offset, next lap: beyond this member's space
  writer_.write(h, "q");
  EXPECT_EQ(log_.on_batch_landed(0), RecordFault::wrong_position);
  h.position = 64;  // offset 64, but written at 0
  writer_.write(RecordHeader{h}, "q");
  std::memcpy(memory_.data(), memory_.data() + 64, 64);
  EXPECT_EQ(log_.on_batch_landed(0), RecordFault::wrong_position);
  // A seq further ahead than the log could hold.
  RecordHeader far = h;
  far.position = 0;
  far.seq = 1000;
  writer_.write(far, "q");
  EXPECT_EQ(log_.on_batch_landed(0), RecordFault::wrong_seq);
  EXPECT_EQ(log_.counters().records_dropped, 3u);
}

// A checksummed header whose position plus span wraps past 2^64 must not
// pass the space rule as a small position would.
TEST_F(ReceiveLogTest, AHeaderWhosePositionWrapsTheU64RangeIsDropped) {
  auto b = writer_.write_batch({"first"});
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  RecordHeader h = writer_.header(0, 1, Guarantee::agreed);
  h.position = UINT64_MAX - 63;  // the log's last 64 bytes; + span wraps to 0
  writer_.write(h, "");
  EXPECT_NE(log_.on_batch_landed(kLogBytes - 64), RecordFault::none);
  EXPECT_EQ(log_.received_up_to(), 1u);
  EXPECT_EQ(log_.counters().records_dropped, 1u);
}

TEST(LogSpace, TheSpaceRuleDoesNotWrap) {
  constexpr std::uint64_t kLog = 1u << 20;
  EXPECT_FALSE(fits_space(UINT64_MAX - 63, 128, 0, 64, kLog));
  EXPECT_FALSE(fits_space(UINT64_MAX - 63, 64, UINT64_MAX - kLog, UINT64_MAX - 63, kLog));
  EXPECT_FALSE(fits_space(kMaxLogPosition, 64, kMaxLogPosition, kMaxLogPosition, kLog));
  EXPECT_TRUE(fits_space(kMaxLogPosition - 64, 64, kMaxLogPosition - kLog, kMaxLogPosition, kLog));
}

TEST_F(ReceiveLogTest, ARecordCorruptedBeforeDeliveryStopsDeliveryNeverDeliversIt) {
  auto b = writer_.write_batch({"good", "evil", "later"});
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  memory_[128 + 20] ^= std::byte{1};  // seq 2's header, after the imm trusted seq 3's
  EXPECT_EQ(drain(), (std::vector<std::string>{"good"}));
  EXPECT_TRUE(log_.stuck());
  EXPECT_EQ(log_.counters().records_dropped, 1u);
  EXPECT_EQ(log_.counters().last_fault, RecordFault::bad_checksum);
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(log_.counters().records_dropped, 1u) << "counted once";
}

TEST_F(ReceiveLogTest, ACorruptedPayloadIsNeverReceivedAndTheLogSaysWhatItWants) {
  auto b = writer_.write_batch({"one", "two"});
  memory_[kRecordHeaderBytes + 1] ^= std::byte{0x40};  // "one" -> "o.e"
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none) << "its last header checks";
  EXPECT_EQ(log_.received_up_to(), 0u) << "received means checked";
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(log_.counters().stalls, 1u);
  EXPECT_EQ(log_.counters().records_dropped, 1u);
  EXPECT_EQ(log_.counters().last_fault, RecordFault::bad_payload);
  EXPECT_EQ(log_.wanted().seq, 1u);
  EXPECT_EQ(log_.wanted().position, 0u);
  // Another member writes the record again (here: the bytes are fixed).
  memory_[kRecordHeaderBytes + 1] ^= std::byte{0x40};
  EXPECT_EQ(log_.accept_repair(2), 2u);
  EXPECT_EQ(log_.received_up_to(), 2u);
  EXPECT_EQ(drain(), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(log_.counters().records_repaired, 2u);
  EXPECT_EQ(log_.counters().stalls, 1u);
}

// Found by tests/fuzz/receive_log_fuzz: records written by a recovery
// source whose payload fails its checksum used to abort the member (an
// assertion that every recovered seq was received). Now the seqs before it
// are received and the recovery is refused, so the commit times out.
TEST_F(ReceiveLogTest, ARecoveredRecordWithABadPayloadIsRefusedNotFatal) {
  writer_.write_batch({"one", "two"});
  const std::uint64_t second = record_span_bytes(3);
  memory_[second + kRecordHeaderBytes] ^= std::byte{0x01};  // "two" -> "uwo"
  EXPECT_FALSE(log_.mark_recovered(2));
  EXPECT_EQ(log_.received_up_to(), 1u);
  EXPECT_EQ(drain(), (std::vector<std::string>{"one"}));
}

TEST_F(ReceiveLogTest, ARepairThatDoesNotCheckChangesNothing) {
  auto b = writer_.write_batch({"one", "two"});
  memory_[kRecordHeaderBytes] ^= std::byte{1};
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  EXPECT_EQ(log_.accept_repair(2), 0u);
  EXPECT_EQ(log_.received_up_to(), 0u);
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(log_.counters().stalls, 1u) << "one stall, counted once";
}

TEST_F(ReceiveLogTest, ABatchWhoseLastHeaderFailsIsWantedFromItsFirstSeq) {
  auto a = writer_.write_batch({"a"});
  auto b = writer_.write_batch({"b1", "b2"});
  ASSERT_EQ(log_.on_batch_landed(a.last_offset), RecordFault::none);
  EXPECT_EQ(drain(), (std::vector<std::string>{"a"}));
  memory_[b.last_offset + 20] ^= std::byte{2};
  EXPECT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::bad_checksum);
  EXPECT_EQ(log_.wanted().seq, 2u);
  EXPECT_EQ(log_.wanted().position, 128u);
  memory_[b.last_offset + 20] ^= std::byte{2};
  EXPECT_EQ(log_.accept_repair(2), 2u);
  EXPECT_EQ(drain(), (std::vector<std::string>{"b1", "b2"}));
}

// The holder's side: the run of records that check from a seq, one write.
TEST_F(ReceiveLogTest, FindRunCoversTheRecordsThatCheckAndStopsAtTheLap) {
  auto b = writer_.write_batch({"one", "two", "three"});
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  auto run = log_.find_run(1, 0, 64, 1u << 20);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->offset, 0u);
  EXPECT_EQ(run->records, 3u);
  EXPECT_EQ(run->bytes, 3 * 128u);
  run = log_.find_run(2, 128, 1, 1u << 20);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->records, 1u);
  EXPECT_FALSE(log_.find_run(4, 384, 64, 1u << 20)) << "not landed here";
  EXPECT_FALSE(log_.find_run(2, 0, 64, 1u << 20)) << "not there";
  memory_[128 + kRecordHeaderBytes] ^= std::byte{1};
  EXPECT_FALSE(log_.find_run(2, 128, 64, 1u << 20)) << "its own copy does not check";
  run = log_.find_run(1, 0, 64, 1u << 20);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->records, 1u) << "stops before the record that does not check";
}

TEST_F(ReceiveLogTest, ASlowBatchLandingAfterARepairIsNotADuplicate) {
  auto a = writer_.write_batch({"a1", "a2"});
  auto b = writer_.write_batch({"b1"});
  // a's batch is late; a repair wrote its first record (the bytes are there).
  EXPECT_EQ(log_.accept_repair(1), 1u);
  EXPECT_EQ(log_.received_up_to(), 1u);
  ASSERT_EQ(log_.on_batch_landed(a.last_offset), RecordFault::none);
  ASSERT_EQ(log_.on_batch_landed(b.last_offset), RecordFault::none);
  EXPECT_EQ(drain(), (std::vector<std::string>{"a1", "a2", "b1"}));
  EXPECT_EQ(log_.counters().records_dropped, 0u);
}

}  // namespace
}  // namespace ringcast::ring
