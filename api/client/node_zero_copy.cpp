// The zero-copy half of Node: the pool of registered buffers and sends that
// the NIC reads straight from them.
#include <array>
#include <cerrno>
#include <chrono>
#include <thread>

#include "base/assert.hpp"
#include "client/errors.hpp"

#include "client/node.hpp"
#include "config/cluster_config.hpp"
#include "groups/fragment.hpp"
#include "groups/group_message.hpp"

namespace ringcast::client {

namespace {

constexpr std::size_t kLargestClassBytes = std::size_t{1} << 20;

std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 64;
  while (p < n)
    p <<= 1;
  return p;
}

// The limit in whole slabs, at least one: below that nothing could be
// allocated at all (and the kernel's refusal to pin even one slab is then
// reported instead).
std::size_t pool_bound_bytes(std::uint64_t limit_bytes, std::size_t slab_bytes) {
  if (limit_bytes == 0) limit_bytes = config::default_zero_copy_max_bytes();
  const std::uint64_t slabs = std::max<std::uint64_t>(limit_bytes / slab_bytes, 1);
  return static_cast<std::size_t>(slabs * slab_bytes);
}

}  // namespace

void Node::set_zero_copy_limit(std::uint64_t max_bytes, std::string hint) {
  std::lock_guard lock(zcb_mutex_);
  zero_copy_max_bytes_ = max_bytes;
  zero_copy_limit_hint_ = std::move(hint);
}

// Created on first use, so a process that never uses zero copy registers
// nothing for it.
zcb::ZeroCopyPool* Node::pool() {
  if (zcb::ZeroCopyPool* p = pool_ptr_.load(std::memory_order_acquire)) return p;
  std::lock_guard lock(zcb_mutex_);
  if (pool_) return pool_.get();
  zcb::PoolConfig config;
  // Classes up to 1 MiB in 2 MiB slabs; a larger message's buffer gets a
  // region of its own (see zcb/large_buffers.cpp).
  config.max_buffer_bytes = std::min(round_up_pow2(max_message_bytes_), kLargestClassBytes);
  // A buffer may hold the largest message a send accepts (fragmented above
  // the atomic size).
  config.max_alloc_bytes = std::max<std::size_t>(max_fragmented_bytes_, config.max_buffer_bytes);
  config.max_reserved_bytes = pool_bound_bytes(zero_copy_max_bytes_, config.slab_bytes);
  config.limit_hint = zero_copy_limit_hint_;
  config.initial_slabs = 1;
  // The slabs are the transport's registered memory; the node outlives the pool.
  auto p = zcb::ZeroCopyPool::create(transport_->region_allocator(), config);
  if (!p) {
    pool_error_ = to_status(p.error());
    return nullptr;
  }
  pool_ = std::move(*p);
  pool_ptr_.store(pool_.get(), std::memory_order_release);
  return pool_.get();
}

cpg::Result<void*> Node::zcb_alloc(std::size_t bytes, std::uint64_t owner) {
  zcb::ZeroCopyPool* p = pool();
  if (p == nullptr) return pool_error_;
  auto b = p->alloc(bytes);
  if (!b) {
    // The pool is at its bound: corosync's answer to a failed allocation.
    // The kernel refusing to pin another slab (ENOMEM: RLIMIT_MEMLOCK,
    // shared with the ring's own memory) is the same answer.
    if (b.error().code == Errc::try_again ||
        (b.error().code == Errc::system && b.error().sys_errno == ENOMEM))
      return cpg::Status(CS_ERR_NO_MEMORY, b.error().message());
    return to_status(b.error());
  }
  if (owner != 0) {
    std::lock_guard lock(owners_mutex_);
    zcb_owners_.emplace(*b, owner);
  }
  return *b;
}

cpg::Status Node::zcb_free(void* buffer) {
  zcb::ZeroCopyPool* p = pool();
  if (p == nullptr) return cpg::Status(CS_ERR_INVALID_PARAM, "no zero-copy buffer was allocated");
  std::lock_guard lock(owners_mutex_);
  ringcast::Status s = p->free(buffer);
  if (s.ok()) zcb_owners_.erase(buffer);
  return to_status(s);
}

void Node::zcb_free_owned(std::uint64_t owner) {
  zcb::ZeroCopyPool* p = pool_ptr_.load(std::memory_order_acquire);
  if (p == nullptr) return;  // no buffer was ever allocated
  std::lock_guard lock(owners_mutex_);
  std::erase_if(zcb_owners_, [&](const auto& entry) {
    if (entry.second != owner) return false;
    const ringcast::Status s = p->free(entry.first);
    RC_ASSERT(s.ok());  // recorded buffers are live: zcb_free erases what it frees
    return true;
  });
}

// Below the crossover a copy costs less than a write of its own: the copied
// record joins the visit's one write of copied records, and the call need not
// wait for the token. Above the atomic size every fragment is a record of its
// own anyway: its header is copied, its slice read from the buffer.
cpg::Status Node::send_zero_copy(std::uint32_t pid, std::string_view group, Guarantee guarantee,
                                 void* buffer, std::size_t bytes) {
  return send_zero_copy(PoolRef{}, pid, group, guarantee, buffer, bytes);
}

cpg::Status Node::send_zero_copy(const PoolRef& from, std::uint32_t pid, std::string_view group,
                                 Guarantee guarantee, void* buffer, std::size_t bytes) {
  zcb::ZeroCopyPool* p = from.number == 0 ? pool() : from.pool;
  if (p == nullptr) return cpg::Status(CS_ERR_INVALID_PARAM, "not a zero-copy buffer");
  const PoolRef ref{p, from.number};
  if (bytes > max_fragmented_bytes_)
    return cpg::Status(CS_ERR_TOO_BIG, "above totem.max_fragmented_message_bytes");
  if (bytes > max_message_bytes_)
    return send_zero_copy_fragmented(ref, pid, group, guarantee, buffer, bytes);
  if (zcb_copies(bytes)) return send_zero_copy_copied(*p, pid, group, guarantee, buffer, bytes);
  // As in send(): not while our announce goes out or the sync lasts.
  std::shared_lock gate(gate_, std::try_to_lock);
  if (!gate.owns_lock() || sync_blocks_data_.load(std::memory_order_acquire))
    return cpg::Status(CS_ERR_TRY_AGAIN, "the ring is merging its groups (sync)");
  auto segment = p->segment(buffer, bytes);
  if (!segment) return to_status(segment.error());
  auto token = p->begin_send(buffer);
  if (!token) return to_status(token.error());
  runtime::OutgoingTransportMessage m;
  m.zero_copy = *segment;
  m.group = groups::group_key(group);
  m.sender_pid = pid;
  m.guarantee = to_transport(guarantee);
  m.tag = ring_tag(ref.number, *token);
  ringcast::Status s = transport_->submit(m);
  if (!s.ok()) {
    (void)p->end_send(*token);
    return to_status(s);
  }
  std::lock_guard lock(mutex_);
  ++zero_copy_sends_;
  zero_copy_bytes_from_buffer_ += bytes;
  return {};
}

cpg::Status Node::send_zero_copy_copied(zcb::ZeroCopyPool& pool, std::uint32_t pid,
                                        std::string_view group, Guarantee guarantee, void* buffer,
                                        std::size_t bytes) {
  // The same checks as a zero-copy send: a live buffer of this process that
  // holds the bytes.
  if (auto segment = pool.segment(buffer, bytes); !segment) return to_status(segment.error());
  const std::array<std::span<const std::byte>, 1> whole = {
      std::span<const std::byte>(static_cast<const std::byte*>(buffer), bytes)};
  cpg::Status s = send(pid, group, guarantee, whole);
  if (!s.ok()) return s;
  std::lock_guard lock(mutex_);
  ++zero_copy_sends_;
  zero_copy_bytes_copied_ += bytes;
  return {};
}

cpg::Status Node::send_zero_copy_fragmented(const PoolRef& pool, std::uint32_t pid,
                                            std::string_view group, Guarantee guarantee,
                                            void* buffer, std::size_t bytes) {
  auto whole = pool.pool->segment(buffer, bytes);
  if (!whole) return to_status(whole.error());
  const ZeroCopySource source{pool.pool, pool.number, buffer, *whole};
  cpg::Status s = send_fragmented(pid, group, guarantee, {}, bytes, &source);
  if (!s.ok()) return s;
  std::lock_guard lock(mutex_);
  ++zero_copy_sends_;
  return {};
}

// The slice's own token keeps the buffer in flight until the NIC read it;
// the header goes as the record's copied prefix.
cpg::Status Node::submit_zero_copy_fragment(const ZeroCopySource& source,
                                            runtime::OutgoingTransportMessage m,
                                            std::uint64_t offset, std::size_t slice,
                                            std::chrono::steady_clock::time_point give_up) {
  static_assert(groups::kFragmentHeaderBytes <= 64);  // the ring's longest prefix
  Result<std::uint64_t> token = source.pool->begin_send(source.buffer);
  // Past the pool's bound on sends in flight: the oldest fragments end soon.
  while (!token && token.error().code == Errc::try_again &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    token = source.pool->begin_send(source.buffer);
  }
  if (!token) return to_status(token.error());
  m.zero_copy = {source.whole.region, source.whole.offset + offset,
                 static_cast<std::uint32_t>(slice)};
  m.tag = ring_tag(source.pool_number, *token);
  if (cpg::Status s = submit_fragment(m, give_up); !s.ok()) {
    (void)source.pool->end_send(*token);
    return s;
  }
  std::lock_guard lock(mutex_);
  zero_copy_bytes_from_buffer_ += slice;
  return {};
}

bool Node::zcb_in_flight(const void* buffer) {
  zcb::ZeroCopyPool* p = pool();
  return p != nullptr && p->in_flight(buffer);
}

cpg::Status Node::zcb_wait(const void* buffer) {
  zcb::ZeroCopyPool* p = pool();
  if (p == nullptr) return {};
  std::unique_lock lock(mutex_);
  // end_send happens in on_round under mutex_, then notifies; the timeout
  // only bounds a wait on a ring that stopped turning.
  while (p->in_flight(buffer)) {
    if (zero_copy_done_.wait_for(lock, std::chrono::seconds(30)) == std::cv_status::timeout &&
        p->in_flight(buffer)) {
      return cpg::Status(CS_ERR_TIMEOUT, "the NIC did not finish reading the buffer in 30 s");
    }
  }
  return {};
}

}  // namespace ringcast::client
