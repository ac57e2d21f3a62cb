#include "ipc/messages.hpp"

#include <algorithm>
#include <cstring>

namespace ringcast::ipc {

// A variant's alternatives are in type order, so its index is the type.
static_assert(std::variant_size_v<RequestBody> == kLastRequest - kFirstRequest + 1);
static_assert(std::variant_size_v<EventBody> == kLastEvent - kFirstEvent + 1);

const char* message_type_name(MessageType type) noexcept {
  static constexpr const char* kRequests[] = {"hello",
                                              "initialize",
                                              "finalize",
                                              "join",
                                              "leave",
                                              "mcast",
                                              "zcb_mcast",
                                              "zcb_alloc",
                                              "zcb_free",
                                              "membership_get",
                                              "local_get",
                                              "iteration",
                                              "release",
                                              "mcast_part",
                                              "quorum_initialize",
                                              "quorum_finalize",
                                              "quorum_getquorate",
                                              "quorum_trackstart",
                                              "quorum_trackstop",
                                              "mcast_credited"};
  static constexpr const char* kEvents[] = {"welcome",         "reply",          "reply_members",
                                            "reply_iteration", "deliver_inline", "deliver_ref",
                                            "confchg",         "totem_confchg",  "deliver_part",
                                            "quorum_notify",   "mcast_ack"};
  const auto n = static_cast<std::uint32_t>(type);
  if (n >= kFirstRequest && n <= kLastRequest) return kRequests[n - kFirstRequest];
  if (n >= kFirstEvent && n <= kLastEvent) return kEvents[n - kFirstEvent];
  return "unknown";
}

GroupName GroupName::of(std::string_view name) noexcept {
  GroupName out;
  out.length = static_cast<std::uint32_t>(std::min(name.size(), kMaxGroupNameBytes));
  std::memcpy(out.value.data(), name.data(), out.length);
  return out;
}

MessageType type_of(const RequestBody& body) noexcept {
  return static_cast<MessageType>(kFirstRequest + body.index());
}

MessageType type_of(const EventBody& body) noexcept {
  return static_cast<MessageType>(kFirstEvent + body.index());
}

}  // namespace ringcast::ipc
