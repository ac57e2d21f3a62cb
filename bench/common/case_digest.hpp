// One member's order digest of one benchmark case: every record delivered
// in the case, mixed in delivery order, its payload read whole or sampled as
// the case's plan says (MemberPlan::full_payload_check).
//
// A member's progress thread delivers as soon as records land, and the other
// members start sending as soon as they have read the case: its first
// records can reach a member before that member read the case itself. Those
// are kept, both checksums taken, and mixed in when the plan arrives, ahead
// of anything delivered after them; hashing them with whatever mode was set
// before made the digests of identical deliveries differ (the benchmark's
// intermittent ORDER MISMATCH at 64 KiB).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/assert.hpp"
#include "order_digest.hpp"

namespace ringcast::bench {

class CaseDigest {
 public:
  // The case's plan is known: how its payloads are read.
  void set_mode(bool full_payload_check) {
    full_ = full_payload_check;
    for (const Early& e : early_) {
      if (*full_ || e.size <= 2 * OrderDigest::kSampledBytes) {
        digest_.add_crc(e.seq, e.sender, e.crc);
      } else {
        digest_.add_samples(e.seq, e.sender, e.size, e.samples);
      }
    }
    early_.clear();
  }

  // Returns the sampled checksums it mixed or, before the plan, would mix
  // (zeros when it reads the whole payload).
  OrderDigest::Samples add(std::uint64_t seq, std::uint32_t sender,
                           std::span<const std::byte> payload) {
    const bool small = payload.size() <= 2 * OrderDigest::kSampledBytes;
    if (!full_) {
      const OrderDigest::Samples s =
          small ? OrderDigest::Samples{} : OrderDigest::samples_of(payload);
      early_.push_back({seq, sender, payload.size(), crc32c(payload), s});
      return s;
    }
    if (*full_ || small) {
      digest_.add(seq, sender, payload);
      return {};
    }
    const OrderDigest::Samples s = OrderDigest::samples_of(payload);
    digest_.add_samples(seq, sender, payload.size(), s);
    return s;
  }

  // The next case starts from nothing, its plan not known yet.
  void reset() noexcept {
    digest_ = OrderDigest{};
    full_.reset();
    early_.clear();
  }

  // Only once the plan is known.
  std::uint64_t hash() const noexcept {
    RC_ASSERT(full_.has_value());
    return digest_.hash();
  }
  // Records taken, mixed or still waiting for the plan.
  std::uint64_t count() const noexcept { return digest_.count() + early_.size(); }

 private:
  struct Early {
    std::uint64_t seq = 0;
    std::uint32_t sender = 0;
    std::uint64_t size = 0;
    std::uint32_t crc = 0;  // of the whole payload
    OrderDigest::Samples samples;
  };

  std::optional<bool> full_;
  OrderDigest digest_;
  std::vector<Early> early_;
};

}  // namespace ringcast::bench
