#include "support/ring_oracle.hpp"

#include <cstring>

#include "base/wire.hpp"
#include "fabric/sim/random.hpp"

namespace ringcast::ring::sim_test {

using fabric::sim::SimRandom;

void fill_payload(std::span<std::byte> out, std::uint32_t sender, std::uint32_t counter) {
  std::uint64_t x = (std::uint64_t{sender} << 32) | counter;
  std::size_t i = 0;
  for (; i + 8 <= out.size(); i += 8)
    wire::put<std::uint64_t>(out.data() + i, SimRandom::splitmix64(x));
  const std::uint64_t tail = SimRandom::splitmix64(x);
  for (std::size_t k = 0; i < out.size(); ++i, ++k)
    out[i] = std::byte(tail >> (8 * k));
}

std::uint64_t hash_bytes(std::span<const std::byte> bytes) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    h = (h ^ wire::get<std::uint64_t>(bytes.data() + i)) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < bytes.size(); ++i)
    h = (h ^ std::to_integer<std::uint64_t>(bytes[i])) * 0x100000001b3ull;
  return h;
}

Oracle::Oracle(std::vector<fabric::NodeId> nodes)
    : members_(nodes.size()), nodes_(std::move(nodes)), sent_(members_), views_(members_) {
  for (auto& v : views_)
    v.next_counter.assign(members_, 0);
}

void Oracle::fail(std::string what) {
  if (failure_.empty()) failure_ = std::move(what);
}

void Oracle::on_submitted(std::uint32_t sender, std::uint32_t counter, std::uint32_t bytes,
                          Guarantee guarantee) {
  if (counter != sent_[sender].size()) fail("harness: counters out of order");
  sent_[sender].push_back({bytes, guarantee});
}

bool Oracle::check_content(std::size_t m, const Delivery& d, std::uint32_t counter) {
  const std::string at = "member " + std::to_string(m) + " seq " + std::to_string(d.seq) + ": ";
  if (d.sender_pid >= members_ || d.sender != nodes_[d.sender_pid] ||
      counter >= sent_[d.sender_pid].size()) {
    fail(at + "delivered a message nobody submitted (sender " + std::to_string(d.sender_pid) +
         " counter " + std::to_string(counter) + ")");
    return false;
  }
  const Sent& s = sent_[d.sender_pid][counter];
  if (d.payload.size() != s.bytes || d.guarantee != s.guarantee) {
    fail(at + "size or guarantee differs from what was submitted");
    return false;
  }
  scratch_.resize(s.bytes);
  fill_payload(scratch_, d.sender_pid, counter);
  if (std::memcmp(scratch_.data(), d.payload.data(), s.bytes) != 0) {
    fail(at + "payload differs from what was submitted (" + std::to_string(s.bytes) + " bytes)");
    return false;
  }
  return true;
}

void Oracle::check_safe(std::size_t m, const Delivery& d, std::span<const std::byte> record,
                        std::span<const std::span<const std::byte>> logs, std::uint64_t log_bytes) {
  const std::uint64_t offset = d.position % log_bytes;
  for (std::size_t j = 0; j < logs.size(); ++j) {
    if (std::memcmp(logs[j].data() + offset, record.data(), record.size()) != 0) {
      fail("member " + std::to_string(m) + " delivered SAFE seq " + std::to_string(d.seq) +
           " before member " + std::to_string(j) + " had received it");
      return;
    }
  }
}

void Oracle::on_delivered(std::size_t m, const Delivery& d, std::span<const std::byte> record,
                          std::span<const std::span<const std::byte>> logs, std::uint64_t log_bytes,
                          std::uint64_t now_ns) {
  MemberView& v = views_[m];
  const std::string at = "member " + std::to_string(m) + " at " + std::to_string(now_ns) + " ns: ";
  if (d.seq != v.delivered_seq + 1) {
    fail(at + "delivered seq " + std::to_string(d.seq) + " after " +
         std::to_string(v.delivered_seq));
    return;
  }
  v.delivered_seq = d.seq;
  const std::uint32_t counter = d.group;  // the harness carries the counter in the group id
  if (!check_content(m, d, counter)) return;
  if (d.seq > order_.size()) {
    order_.push_back({d.sender_pid, counter});
  } else if (order_[d.seq - 1].sender != d.sender_pid || order_[d.seq - 1].counter != counter) {
    fail(at + "total order differs at seq " + std::to_string(d.seq));
    return;
  }
  std::uint32_t& expected = v.next_counter[d.sender_pid];
  if (counter != expected) {
    fail(at + "sender " + std::to_string(d.sender_pid) + " message " + std::to_string(counter) +
         (counter < expected ? " duplicated" : " before " + std::to_string(expected)) +
         " (per-sender FIFO)");
    return;
  }
  ++expected;
  if (d.guarantee == Guarantee::safe) check_safe(m, d, record, logs, log_bytes);
  v.held.push_back({d.seq, d.position % log_bytes, record.size(), hash_bytes(record)});
  ++delivered_total_;
}

void Oracle::on_released(std::size_t m, std::uint64_t seq, std::span<const std::byte> log,
                         std::uint64_t log_bytes) {
  MemberView& v = views_[m];
  while (v.held_first < v.held.size() && v.held[v.held_first].seq <= seq) {
    const Held& h = v.held[v.held_first++];
    if (h.offset + h.bytes > log_bytes || hash_bytes(log.subspan(h.offset, h.bytes)) != h.hash) {
      fail("member " + std::to_string(m) + ": record seq " + std::to_string(h.seq) +
           " changed in its log between delivery and release (overwritten before release)");
    }
  }
  if (v.held_first == v.held.size()) {
    v.held.clear();
    v.held_first = 0;
  }
  v.released_seq = seq;
}

bool Oracle::complete() const {
  for (std::size_t m = 0; m < members_; ++m) {
    for (std::size_t s = 0; s < members_; ++s) {
      if (views_[m].next_counter[s] != sent_[s].size()) return false;
    }
    if (views_[m].released_seq != views_[m].delivered_seq) return false;
  }
  return true;
}

void Oracle::finish() {
  if (failed() || complete()) return;
  for (std::size_t m = 0; m < members_; ++m) {
    for (std::size_t s = 0; s < members_; ++s) {
      if (views_[m].next_counter[s] != sent_[s].size()) {
        fail("member " + std::to_string(m) + " delivered " +
             std::to_string(views_[m].next_counter[s]) + " of the " +
             std::to_string(sent_[s].size()) + " messages of sender " + std::to_string(s) +
             (m == s ? " (self-delivery)" : "") + " (lost or stalled)");
        return;
      }
    }
    if (views_[m].released_seq != views_[m].delivered_seq) {
      fail("member " + std::to_string(m) + " never released up to its last delivery");
      return;
    }
  }
}

}  // namespace ringcast::ring::sim_test
