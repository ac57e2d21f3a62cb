// FragmentAssembler: the messages larger than the ring's atomic size put back
// together from their fragments (groups/fragment.hpp), alike at every member:
// each decision below depends only on the total order of the records and on
// the configuration, never on timing, so every member delivers such a
// message or none does.
//
// Rules. A sender (node, pid) has at most one message in progress; its
// fragments come in order (the ring keeps a sender's records in order).
// - A fragment at offset 0 starts a message, giving up the sender's message
//   in progress if any (its sender started another: it gave up on that one).
// - A fragment that continues the message in progress (same id, group and
//   total; offset = bytes so far) is appended; the last one completes it.
// - Any other fragment is an orphan: counted and dropped, and the message in
//   progress, if any, given up.
// - The node layer gives messages up when their sender can no longer finish
//   them (drop_member, drop_node) and at a configuration that brings nodes
//   in (drop_all): the new members lack the earlier fragments.
// - At most kMaxMessagesPerNode messages of one node in progress; a start
//   beyond that gives up the node's oldest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "groups/fragment.hpp"
#include "groups/group_table.hpp"

namespace ringcast::groups {

inline constexpr std::size_t kMaxMessagesPerNode = 16;

struct AssembledMessage {
  GroupMember sender;
  std::uint32_t group = 0;  // the data group's key
  std::uint64_t message_id = 0;
  std::shared_ptr<std::vector<std::byte>> bytes;  // the whole message
};

// A message given up before its last fragment.
struct AbandonedMessage {
  GroupMember sender;
  std::uint64_t message_id = 0;
};

struct FragmentCounters {
  std::uint64_t fragments = 0;           // fragment records taken
  std::uint64_t fragments_refused = 0;   // malformed (FragmentFault)
  std::uint64_t fragments_orphaned = 0;  // not the continuation of anything
  std::uint64_t messages_assembled = 0;
  std::uint64_t messages_abandoned = 0;
  std::uint64_t bytes_copied = 0;  // from the log into assembled messages
};

class FragmentAssembler {
 public:
  explicit FragmentAssembler(std::uint64_t max_total_bytes) : max_total_bytes_(max_total_bytes) {}

  // One fragment record of `sender`, in the total order. The whole message
  // when this was its last fragment; a refused payload's error otherwise
  // (nothing else to report for a partial or an orphan).
  Result<std::optional<AssembledMessage>, FragmentError> add(GroupMember sender,
                                                             std::span<const std::byte> payload);

  void drop_member(GroupMember sender);
  void drop_node(std::uint32_t node);
  void drop_all();

  // The messages given up since the last call, in the order they were.
  std::vector<AbandonedMessage> take_abandoned();
  std::size_t in_progress() const noexcept { return partial_.size(); }
  const FragmentCounters& counters() const noexcept { return counters_; }

 private:
  struct Partial {
    FragmentHeader first;       // message id, group, total
    std::uint64_t started = 0;  // order of starts, for the per-node bound
    std::shared_ptr<std::vector<std::byte>> bytes;
  };
  using Key = std::pair<std::uint32_t, std::uint32_t>;  // node, pid
  using Map = std::map<Key, Partial>;

  void abandon(Map::iterator it);
  void start(GroupMember sender, const Fragment& f);
  void bound_node(std::uint32_t node);

  std::uint64_t max_total_bytes_;
  Map partial_;
  std::uint64_t starts_ = 0;
  std::vector<AbandonedMessage> abandoned_;
  FragmentCounters counters_;
};

}  // namespace ringcast::groups
