#include "ring/ring_config.hpp"

#include <string>

#include "ring/imm.hpp"
#include "ring/record.hpp"
#include "ring/token.hpp"

namespace ringcast::ring {
namespace {

Error bad(const char* field, const std::string& why) {
  return make_error(Errc::invalid_argument, "RingConfig", std::string(field) + ": " + why);
}

}  // namespace

Status validate(const RingConfig& c) {
  if (c.log_bytes == 0 || c.log_bytes % kRecordAlignBytes != 0) {
    return bad("log_bytes", "must be a positive multiple of 64");
  }
  if (c.log_bytes > kMaxLogBytes || c.log_bytes > UINT32_MAX) {
    return bad("log_bytes", "must be below 4 GiB (a region length is 32 bits)");
  }
  if (record_span_bytes(c.max_message_bytes) > c.log_bytes) {
    return bad("max_message_bytes",
               "a record of this size (plus its 64-byte header) "
               "does not fit the log");
  }
  if (c.send_queue_messages == 0) return bad("send_queue_messages", "must be at least 1");
  if (c.send_buffer_bytes < c.max_message_bytes || c.send_buffer_bytes == 0) {
    return bad("send_buffer_bytes", "must hold at least one message of max_message_bytes");
  }
  if (c.max_messages_per_visit == 0) return bad("max_messages_per_visit", "must be at least 1");
  if (c.window_messages < c.max_messages_per_visit) {
    return bad("window_messages", "must be at least max_messages_per_visit");
  }
  if (c.mailbox_slots < 2) return bad("mailbox_slots", "must be at least 2");
  if (c.mailbox_slots > kMaxMailboxSlots || mailbox_bytes(c.mailbox_slots) > UINT32_MAX) {
    return bad("mailbox_slots", "must be at most " + std::to_string(kMaxMailboxSlots));
  }
  if (c.relay_min_members < 3 || c.relay_min_members > kMaxMembers) {
    return bad("relay_min_members", "must be 3 to " + std::to_string(kMaxMembers));
  }
  if (c.token_staging_slots == 0) return bad("token_staging_slots", "must be at least 1");
  if (c.zero_copy_visits == 0) return bad("zero_copy_visits", "must be at least 1");
  return {};
}

}  // namespace ringcast::ring
