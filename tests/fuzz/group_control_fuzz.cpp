// Fuzzes the group layer's input from peers: control payloads and the table
// they change. The input is a stream of records, each
//   u8 sender (node = low 2 bits + 1, pid = high bits + 1), u8 length, bytes
// (the length is cut to what is left). Each payload goes through
// decode_group_message and GroupTable::apply_record, and then as a data record
// through route(). Besides not crashing (ASan + UBSan), the promises checked:
//   - decode accepts exactly the canonical encoding: re-encoding a decoded
//     message gives back the same bytes;
//   - a view change agrees with the table afterwards, an ignored record
//     changes no group;
//   - route() answers only for a member of a group with that key.
// The table's own invariants (RC_ASSERT) are checked after every change.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/assert.hpp"
#include "groups/group_table.hpp"

namespace ringcast::groups {
namespace {

void check_decode(std::span<const std::byte> payload) {
  auto message = decode_group_message(payload);
  if (!message) {
    for (char c : message.error().message())
      RC_ASSERT(c >= 0x20 && c < 0x7f);
    return;
  }
  std::array<std::byte, kMaxGroupMessageBytes> again{};
  const std::size_t n = encode_group_message(*message, again);
  RC_ASSERT(n == payload.size());
  RC_ASSERT(std::memcmp(again.data(), payload.data(), n) == 0);
}

void check_apply(GroupTable& table, std::span<const std::byte> payload, GroupMember sender) {
  const std::size_t groups_before = table.group_count();
  auto change = table.apply_record(payload, sender);
  if (!change) {
    RC_ASSERT(table.group_count() == groups_before);
    return;
  }
  const Group* g = table.find(change->name);
  if (change->members.empty()) {
    RC_ASSERT(g == nullptr);
  } else {
    RC_ASSERT(g != nullptr && g->members == change->members && g->key == change->key);
  }
  // One member in or out, or (an announce of a member) none: a reordering.
  RC_ASSERT(change->left.size() + change->joined.size() <= 1);
  if (change->left.empty() && change->joined.empty()) RC_ASSERT(g != nullptr);
}

void check_route(GroupTable& table, std::uint32_t key, GroupMember sender) {
  const Group* g = table.route(key, sender);
  if (g == nullptr) return;
  RC_ASSERT(g->key == key);
  RC_ASSERT(std::find(g->members.begin(), g->members.end(), sender) != g->members.end());
}

}  // namespace
}  // namespace ringcast::groups

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::groups;
  const auto input = std::as_bytes(std::span(data, size));
  check_decode(input);
  GroupTable table(GroupLimits{.max_groups = 8, .max_members = 4});
  for (std::size_t at = 0; at + 2 <= input.size();) {
    const auto selector = static_cast<std::uint8_t>(input[at]);
    const GroupMember sender{1u + (selector & 3u), 1u + (selector >> 2)};
    const std::size_t length =
        std::min<std::size_t>(static_cast<std::uint8_t>(input[at + 1]), input.size() - at - 2);
    const auto payload = input.subspan(at + 2, length);
    check_decode(payload);
    check_apply(table, payload, sender);
    const std::uint32_t key =
        group_key(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
    check_route(table, key, sender);
    if (payload.size() > kGroupMessageHeaderBytes) {
      const auto name = payload.subspan(kGroupMessageHeaderBytes);
      check_route(table, group_key({reinterpret_cast<const char*>(name.data()), name.size()}),
                  sender);
    }
    if ((selector & 0xF0u) == 0xF0u) {
      const NodeId gone[] = {1u + (selector & 3u)};
      (void)table.remove_nodes(gone);
    }
    at += 2 + length;
  }
  return 0;
}
