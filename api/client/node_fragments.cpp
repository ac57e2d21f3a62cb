// Messages above the ring's atomic size (max_message_bytes): cut into
// fragment records by the sender, put together by every member's
// FragmentAssembler and delivered at the place of their last fragment
// (groups/fragment_assembly.hpp says why every member decides alike).
#include <algorithm>
#include <array>
#include <chrono>
#include <thread>
#include <vector>

#include "base/assert.hpp"
#include "base/log.hpp"
#include "client/errors.hpp"
#include "client/node.hpp"
#include "groups/fragment.hpp"

namespace ringcast::client {

namespace {

// A fragment's slice as spans of the caller's pieces: the transport copies
// them into the log, so the message is copied once on send.
class PieceCursor {
 public:
  explicit PieceCursor(std::span<const std::span<const std::byte>> pieces) : pieces_(pieces) {}

  // The next `bytes` bytes, appended to `out`.
  void take(std::size_t bytes, std::vector<std::span<const std::byte>>& out) {
    while (bytes > 0) {
      RC_ASSERT(piece_ < pieces_.size());
      const std::span<const std::byte> rest = pieces_[piece_].subspan(offset_);
      const std::size_t n = std::min(bytes, rest.size());
      if (n > 0) out.push_back(rest.first(n));
      bytes -= n;
      offset_ += n;
      if (offset_ == pieces_[piece_].size()) {
        ++piece_;
        offset_ = 0;
      }
    }
  }

 private:
  std::span<const std::span<const std::byte>> pieces_;
  std::size_t piece_ = 0;
  std::size_t offset_ = 0;
};

// How long a fragment waits for room in the send queue and the log before
// the message is given up (the others stopped releasing).
constexpr auto kFragmentRoomWait = std::chrono::seconds(10);

}  // namespace

void Node::set_max_fragmented_bytes(std::uint64_t bytes) {
  RC_ASSERT(transport_ == nullptr);
  max_fragmented_bytes_ = bytes;
  assembler_ = groups::FragmentAssembler(bytes);
}

cpg::Status Node::send_fragmented(std::uint32_t pid, std::string_view group, Guarantee guarantee,
                                  std::span<const std::span<const std::byte>> pieces,
                                  std::uint64_t total, const ZeroCopySource* zero_copy) {
  RC_ASSERT(total > max_message_bytes_ && total <= max_fragmented_bytes_);
  RC_ASSERT(max_message_bytes_ > groups::kFragmentHeaderBytes);
  const std::uint64_t id = start_own_large_message(pid);
  if (id == 0) return cpg::Status(CS_ERR_TRY_AGAIN, "the node is stopping");
  std::array<std::byte, groups::kFragmentHeaderBytes> header;
  std::vector<std::span<const std::byte>> parts;
  PieceCursor cursor(pieces);
  const std::size_t slice_max = max_message_bytes_ - groups::kFragmentHeaderBytes;
  for (std::uint64_t offset = 0; offset < total;) {
    const std::size_t slice =
        static_cast<std::size_t>(std::min<std::uint64_t>(slice_max, total - offset));
    groups::encode_fragment_header({groups::group_key(group), id, total, offset}, header);
    runtime::OutgoingTransportMessage m;
    if (zero_copy == nullptr) {
      parts.assign(1, std::span<const std::byte>(header));
      cursor.take(slice, parts);
      m.pieces = parts;
    } else {
      m.prefix = header;
    }
    m.group = groups::kFragmentGroup;
    m.sender_pid = pid;
    m.guarantee = to_transport(guarantee);
    const auto give_up = std::chrono::steady_clock::now() + kFragmentRoomWait;
    if (cpg::Status s = zero_copy ? submit_zero_copy_fragment(*zero_copy, m, offset, slice, give_up)
                                  : submit_fragment(m, give_up);
        !s.ok()) {
      // The fragments already out are given up by every member when this
      // process's next large message starts (an orphan otherwise).
      std::lock_guard lock(mutex_);
      end_own_large_message_locked(pid);
      return s;
    }
    offset += slice;
  }
  return wait_own_large_message(pid);
}

// Waits until `pid` has no large message in progress (its fragments must
// not interleave with another's of the same sender) and this node fewer
// than an assembler keeps for one node (more would give the oldest up);
// returns the new message's id, pending (0: the node stops).
std::uint64_t Node::start_own_large_message(std::uint32_t pid) {
  std::unique_lock lock(mutex_);
  large_done_.wait(lock, [&] {
    return stopping_ ||
           (!own_large_.contains(pid) && own_large_.size() < groups::kMaxMessagesPerNode);
  });
  if (stopping_) return 0;
  const std::uint64_t id = next_message_id_++;
  own_large_[pid] = {id, LargeState::pending};
  return id;
}

void Node::end_own_large_message_locked(std::uint32_t pid) {
  own_large_.erase(pid);
  large_done_.notify_all();  // a large send of this pid (or any, at the bound) may start
}

// One fragment, waiting for room; a sync gives the message up (the caller
// sends it again when the sync is over).
cpg::Status Node::submit_fragment(const runtime::OutgoingTransportMessage& m,
                                  std::chrono::steady_clock::time_point give_up) {
  for (;;) {
    {
      std::shared_lock gate(gate_, std::try_to_lock);
      if (!gate.owns_lock() || sync_blocks_data_.load(std::memory_order_acquire))
        return cpg::Status(CS_ERR_TRY_AGAIN, "the ring is merging its groups (sync)");
      cpg::Status s = to_status(transport_->submit(m));
      if (s.code() != CS_ERR_TRY_AGAIN) return s;
    }
    if (std::chrono::steady_clock::now() > give_up)
      return cpg::Status(CS_ERR_TRY_AGAIN, "no room for a large message's fragments for 10 s");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

// Every fragment is out: CS_OK once this node put the message together
// (every member then does), CS_ERR_TRY_AGAIN when it was given up.
cpg::Status Node::wait_own_large_message(std::uint32_t pid) {
  std::unique_lock lock(mutex_);
  // Only this call ends the pid's entry: it stays until then.
  large_done_.wait(lock,
                   [&] { return own_large_.at(pid).state != LargeState::pending || stopping_; });
  const LargeState outcome = own_large_.at(pid).state;
  end_own_large_message_locked(pid);
  if (outcome == LargeState::delivered) {
    ++large_messages_sent_;
    return {};
  }
  return cpg::Status(CS_ERR_TRY_AGAIN,
                     "the ring's configuration changed while the message was in fragments");
}

void Node::on_fragment(const runtime::TransportMessage& d, std::uint64_t index) {
  if (sync_ && from_unannounced_locked(d.sender)) {
    ++sync_skipped_;  // as for a whole message of that node
    return;
  }
  const groups::GroupMember sender{d.sender, d.sender_pid};
  auto added = assembler_.add(sender, d.payload);
  note_abandoned_locked();
  if (!added.ok()) {
    log_line("dropped a fragment from node " + std::to_string(d.sender) + ": " +
             added.error().message());
    return;
  }
  if (!added->has_value()) return;
  groups::AssembledMessage& m = **added;
  own_large_outcome_locked(m.sender, m.message_id, LargeState::delivered);
  std::byte* bytes = m.bytes->data();
  const std::size_t size = m.bytes->size();
  deliver_data_locked(m.sender, m.group, bytes, size, std::move(m.bytes), index, d.payload.size());
}

void Node::note_abandoned_locked() {
  for (const groups::AbandonedMessage& a : assembler_.take_abandoned())
    own_large_outcome_locked(a.sender, a.message_id, LargeState::abandoned);
}

// The message of ours that a sender of this node waits for (a record of an
// earlier process with the same (node, pid) has another id).
void Node::own_large_outcome_locked(groups::GroupMember sender, std::uint64_t id,
                                    LargeState state) {
  if (sender.node != node_id_) return;
  const auto it = own_large_.find(sender.pid);
  if (it == own_large_.end() || it->second.id != id || it->second.state != LargeState::pending)
    return;
  it->second.state = state;
  large_done_.notify_all();
}

}  // namespace ringcast::client
