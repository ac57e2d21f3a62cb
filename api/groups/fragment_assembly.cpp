#include "groups/fragment_assembly.hpp"

#include <cstring>

#include "base/assert.hpp"

namespace ringcast::groups {

Result<std::optional<AssembledMessage>, FragmentError> FragmentAssembler::add(
    GroupMember sender, std::span<const std::byte> payload) {
  ++counters_.fragments;
  auto fragment = decode_fragment(payload, max_total_bytes_);
  if (!fragment) {
    ++counters_.fragments_refused;
    return fragment.error();
  }
  const Fragment& f = *fragment;
  const Key key{sender.node, sender.pid};
  auto it = partial_.find(key);
  if (f.header.offset == 0) {
    if (it != partial_.end()) abandon(it);
    start(sender, f);
    it = partial_.find(key);
  } else {
    const bool continues = it != partial_.end() &&
                           it->second.first.message_id == f.header.message_id &&
                           it->second.first.group == f.header.group &&
                           it->second.first.total_bytes == f.header.total_bytes &&
                           it->second.bytes->size() == f.header.offset;
    if (!continues) {
      ++counters_.fragments_orphaned;
      if (it != partial_.end()) abandon(it);
      return std::optional<AssembledMessage>();
    }
    it->second.bytes->insert(it->second.bytes->end(), f.slice.begin(), f.slice.end());
    counters_.bytes_copied += f.slice.size();
  }
  Partial& p = it->second;
  RC_ASSERT(p.bytes->size() <= p.first.total_bytes);
  if (p.bytes->size() < p.first.total_bytes) return std::optional<AssembledMessage>();
  AssembledMessage done{sender, p.first.group, p.first.message_id, std::move(p.bytes)};
  partial_.erase(it);
  ++counters_.messages_assembled;
  return std::optional<AssembledMessage>(std::move(done));
}

void FragmentAssembler::start(GroupMember sender, const Fragment& f) {
  bound_node(sender.node);
  Partial p;
  p.first = f.header;
  p.started = ++starts_;
  p.bytes = std::make_shared<std::vector<std::byte>>();
  // Reserved, not touched: the pages of a large message are committed as its
  // fragments arrive.
  p.bytes->reserve(f.header.total_bytes);
  p.bytes->assign(f.slice.begin(), f.slice.end());
  counters_.bytes_copied += f.slice.size();
  partial_.emplace(Key{sender.node, sender.pid}, std::move(p));
}

// Makes room for one more message of `node`.
void FragmentAssembler::bound_node(std::uint32_t node) {
  std::size_t count = 0;
  auto oldest = partial_.end();
  for (auto it = partial_.lower_bound(Key{node, 0});
       it != partial_.end() && it->first.first == node; ++it) {
    ++count;
    if (oldest == partial_.end() || it->second.started < oldest->second.started) oldest = it;
  }
  if (count >= kMaxMessagesPerNode) abandon(oldest);
}

void FragmentAssembler::abandon(Map::iterator it) {
  RC_ASSERT(it != partial_.end());
  abandoned_.push_back({{it->first.first, it->first.second}, it->second.first.message_id});
  ++counters_.messages_abandoned;
  partial_.erase(it);
}

void FragmentAssembler::drop_member(GroupMember sender) {
  auto it = partial_.find(Key{sender.node, sender.pid});
  if (it != partial_.end()) abandon(it);
}

void FragmentAssembler::drop_node(std::uint32_t node) {
  auto it = partial_.lower_bound(Key{node, 0});
  while (it != partial_.end() && it->first.first == node) {
    auto next = std::next(it);
    abandon(it);
    it = next;
  }
}

void FragmentAssembler::drop_all() {
  while (!partial_.empty())
    abandon(partial_.begin());
}

std::vector<AbandonedMessage> FragmentAssembler::take_abandoned() {
  return std::exchange(abandoned_, {});
}

}  // namespace ringcast::groups
