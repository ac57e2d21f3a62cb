// RINGCAST_BENCH_TRACE's check that a delivered record's bytes hold still
// while the member reads them: the header and the sampled parts of the
// payload (its first and last OrderDigest::kSampledBytes) are copied before
// the order digest reads them and compared after the trace's full checksum.
// A record that changed in between was handed over before all its bytes had
// settled in the log (or part of it was written again under the reader); each
// such change is kept with where the record sits and how it came, and written
// next to the trace (node<N>-case<K>.changes).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "order_digest.hpp"
#include "ring/driver.hpp"

namespace ringcast::bench {

class PayloadWatch {
 public:
  static constexpr std::size_t kSample = OrderDigest::kSampledBytes;
  static constexpr std::size_t kMaxChanges = 64;
  // Where the header keeps the record's index in its batch (ring/record.hpp).
  static constexpr std::size_t kBatchIndexAt = 48;

  struct Change {
    std::uint64_t seq = 0, position = 0, offset = 0, log_bytes = 0;
    std::uint32_t sender = 0, size = 0, batch_index = 0;
    bool own = false, header_changed = false;
    long first_diff = -1, last_diff = -1;  // payload byte offsets (or -1: header only)
    std::uint64_t old_index = 0, new_index = 0, old_send_ns = 0, new_send_ns = 0;
    std::uint64_t received_up_to = 0, batches_landed = 0, records_landed = 0;
    bool holds_token = false;
  };

  // Before the digest: copies what it will read.
  void before(const ring::Delivery& del) noexcept {
    const std::byte* p = del.payload.data();
    std::memcpy(header_.data(), p - ring::kRecordHeaderBytes, header_.size());
    const std::size_t n = std::min(kSample, del.payload.size());
    std::memcpy(first_.data(), p, n);
    std::memcpy(last_.data(), p + del.payload.size() - n, n);
  }

  // After the digest and the trace: records a change.
  void after(const ring::Delivery& del, ring::RingDriver& d, fabric::NodeId me) {
    const std::byte* p = del.payload.data();
    const std::size_t size = del.payload.size();
    const std::size_t n = std::min(kSample, size);
    const bool header_changed =
        std::memcmp(header_.data(), p - ring::kRecordHeaderBytes, header_.size()) != 0;
    long first = -1, last = -1;
    for (std::size_t i = 0; i < n; ++i)
      note(first_[i] != p[i], static_cast<long>(i), &first, &last);
    for (std::size_t i = 0; i < n; ++i)
      note(last_[i] != p[size - n + i], static_cast<long>(size - n + i), &first, &last);
    if (!header_changed && first < 0) return;
    ++count_;
    if (changes_.size() >= kMaxChanges) return;
    Change c;
    c.seq = del.seq;
    c.position = del.position;
    c.log_bytes = d.state().log().log_bytes();
    c.offset = del.position % c.log_bytes;
    c.sender = del.sender;
    c.size = static_cast<std::uint32_t>(size);
    std::memcpy(&c.batch_index, p - ring::kRecordHeaderBytes + kBatchIndexAt, 4);
    c.own = del.sender == me;
    c.header_changed = header_changed;
    c.first_diff = first;
    c.last_diff = last;
    if (n >= kStampBytes) {
      c.old_send_ns = payload_send_ns(first_);
      c.old_index = payload_index(first_);
      c.new_send_ns = payload_send_ns(del.payload);
      c.new_index = payload_index(del.payload);
    }
    c.received_up_to = d.state().log().received_up_to();
    c.batches_landed = d.state().log().counters().batches_landed;
    c.records_landed = d.state().log().counters().records_landed;
    c.holds_token = d.state().holds_token();
    changes_.push_back(c);
  }

  std::uint64_t count() const noexcept { return count_; }
  void reset() noexcept {
    changes_.clear();
    count_ = 0;
  }
  std::vector<Change> take_changes() { return std::exchange(changes_, {}); }

  static std::string describe(const Change& c) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "seq %llu pos %llu offset %llu (log %llu, ends %llu) sender %u %s size %u "
                  "batch_index %u header_changed %d payload diff [%ld, %ld] index %llu->%llu "
                  "send_ns %llu->%llu received_up_to %llu batches_landed %llu records_landed "
                  "%llu holds_token %d",
                  ull(c.seq), ull(c.position), ull(c.offset), ull(c.log_bytes),
                  ull(c.offset + ring::record_span_bytes(c.size)), c.sender,
                  c.own ? "own" : "remote", c.size, c.batch_index, c.header_changed ? 1 : 0,
                  c.first_diff, c.last_diff, ull(c.old_index), ull(c.new_index), ull(c.old_send_ns),
                  ull(c.new_send_ns), ull(c.received_up_to), ull(c.batches_landed),
                  ull(c.records_landed), c.holds_token ? 1 : 0);
    return line;
  }

 private:
  static unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }
  static void note(bool differs, long at, long* first, long* last) noexcept {
    if (!differs) return;
    if (*first < 0) *first = at;
    *last = at;
  }

  std::array<std::byte, ring::kRecordHeaderBytes> header_{};
  std::array<std::byte, kSample> first_{}, last_{};
  std::vector<Change> changes_;
  std::uint64_t count_ = 0;
};

}  // namespace ringcast::bench
