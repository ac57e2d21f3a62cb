#include "support/stream_member.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "config/cluster_config.hpp"
#include "runtime/membership_node.hpp"
#include "runtime/status_line.hpp"
#include "support/line_pipe.hpp"

namespace ringcast::test {
namespace {

constexpr std::uint32_t kEndMarker = 0xE11D;  // group of a member's last message

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// What the event callback keeps (the progress thread, or a submitting
// thread running a round: always under the driver lock).
struct Stream {
  int report_fd = -1;
  std::FILE* hashes = nullptr;  // plan.view_hash_path's file, or none
  std::uint64_t count = 0;
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a 64 offset basis
  std::vector<fabric::NodeId> regular;          // the current regular configuration
  std::set<fabric::NodeId> ended;               // end markers since it began
  // When each sender's latest message was delivered here: a conf's "d=" says,
  // per member that left, how long before the change that was (its silence:
  // on a stream, the time from its death to the change, in this host's clock).
  std::vector<std::pair<fabric::NodeId, std::uint64_t>> last_delivery_ns;
  bool final_reported = false;
  std::atomic<bool> changed{false};  // for the main thread: report the counters

  void mix(std::span<const std::byte> bytes) {
    for (std::byte b : bytes) {
      hash ^= static_cast<std::uint8_t>(b);
      hash *= 1099511628211ull;
    }
  }
  void note_delivery(fabric::NodeId sender) {
    const std::uint64_t now = steady_ns();
    for (auto& [node, at] : last_delivery_ns)
      if (node == sender) {
        at = now;
        return;
      }
    last_delivery_ns.emplace_back(sender, now);
  }
  void on_change(const runtime::TransportConfiguration& c) {
    char seg[64];
    std::snprintf(seg, sizeof seg, "%llu:%016llx", static_cast<unsigned long long>(count),
                  static_cast<unsigned long long>(hash));
    write_line(report_fd, "conf " + std::to_string(steady_ns()) + (c.transitional ? " T " : " R ") +
                              std::to_string(c.ring.representative) + "." +
                              std::to_string(c.ring.epoch) + " m=" + node_list(c.members) +
                              " l=" + node_list(c.left) + " j=" + node_list(c.joined) +
                              " seg=" + seg + " d=" + silences(c.left));
    count = 0;
    hash = 1469598103934665603ull;
    if (hashes != nullptr) {
      std::fprintf(hashes, "view members=%s ring=%u.%llu/%s\n", node_list(c.members).c_str(),
                   c.ring.representative, static_cast<unsigned long long>(c.ring.epoch),
                   c.transitional ? "T" : "R");
    }
    if (!c.transitional) regular = c.members;
    ended.clear();
    final_reported = false;
    changed = true;
  }
  // "3:212,4:-": ms since each node's latest delivery here ("-": none yet).
  std::string silences(const std::vector<fabric::NodeId>& left) const {
    const std::uint64_t now = steady_ns();
    std::string s;
    for (auto n : left) {
      std::string ms = "-";
      for (const auto& [node, at] : last_delivery_ns)
        if (node == n) ms = std::to_string((now - at) / 1'000'000);
      s += (s.empty() ? "" : ",") + std::to_string(n) + ":" + ms;
    }
    return s.empty() ? "-" : s;
  }
  void on_message(const runtime::TransportMessage& d) {
    note_delivery(d.sender);
    ++count;
    mix(d.payload);
    if (hashes != nullptr) std::fprintf(hashes, "%016llx\n", static_cast<unsigned long long>(hash));
    if (d.group != kEndMarker) return;
    ended.insert(d.sender);
    if (final_reported || ended.size() < regular.size()) return;
    for (auto n : regular)
      if (!ended.count(n)) return;
    final_reported = true;
    char line[64];
    std::snprintf(line, sizeof line, "final %llu:%016llx", static_cast<unsigned long long>(count),
                  static_cast<unsigned long long>(hash));
    write_line(report_fd, line);
  }
};

runtime::MemberNodeOptions options_for(const StreamMemberPlan& plan, Stream& stream) {
  runtime::MemberNodeOptions o = member_node_options(plan);
  o.on_events = [&stream](runtime::EventSource& events) {
    while (auto e = events.next_event()) {
      if (e->change != nullptr) {
        stream.on_change(*e->change);
      } else {
        stream.on_message(e->message);
      }
      (void)events.release_through(e->index);
    }
  };
  return o;
}

// Membership's counters, after a configuration change (why it came).
void report_counters(runtime::MembershipNode& node, int fd) {
  const auto c =
      node.with_driver([](membership::MembershipDriver& d) { return d.membership().counters(); });
  write_line(fd, "counters link_failures=" + std::to_string(c.link_failures) + " token_losses=" +
                     std::to_string(c.token_losses) + " gathers=" + std::to_string(c.gathers) +
                     " consensus_timeouts=" + std::to_string(c.consensus_timeouts) +
                     " control_dropped=" + std::to_string(c.control_dropped) + " (" +
                     membership::membership_message_fault_name(c.last_control_fault) + ")");
}

// Submits until accepted (the queue is full at times) or the deadline.
bool submit_patiently(runtime::MembershipNode& node, const ring::OutgoingMessage& m,
                      std::uint64_t deadline_ns) {
  for (;;) {
    Status s = node.submit(m);
    if (s.ok()) return true;
    if (s.error().code != Errc::try_again || steady_ns() > deadline_ns) return false;
    ::usleep(1000);
  }
}

// The next command, waiting up to timeout_ms; "" when none; "exit" on EOF.
std::string next_command(int fd, std::string& buffer, int timeout_ms) {
  std::string line;
  const LineWait got = wait_line(fd, buffer, timeout_ms, line);
  return got == LineWait::closed ? "exit" : got == LineWait::line ? line : "";
}

}  // namespace

// The view hash file, fully buffered (1 MiB: a write every ~60,000
// deliveries, on the progress thread); closed at exit.
struct HashFile {
  std::FILE* f = nullptr;
  std::vector<char> buffer = std::vector<char>(1u << 20);
  explicit HashFile(const std::string& path) {
    if (path.empty()) return;
    f = std::fopen(path.c_str(), "w");
    if (f != nullptr) std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  }
  ~HashFile() {
    if (f != nullptr) std::fclose(f);
  }
  HashFile(const HashFile&) = delete;
  HashFile& operator=(const HashFile&) = delete;
};

int stream_member_main(const StreamMemberPlan& plan, int command_fd, int report_fd) {
  HashFile hashes(plan.view_hash_path);
  if (!plan.view_hash_path.empty() && hashes.f == nullptr) {
    write_line(report_fd, "error cannot write " + plan.view_hash_path);
    return 1;
  }
  Stream stream;
  stream.report_fd = report_fd;
  stream.hashes = hashes.f;
  auto node = runtime::MembershipNode::start(options_for(plan, stream));
  if (!node.ok()) {
    write_line(report_fd, "error start: " + node.error().message());
    return 1;
  }
  std::array<std::byte, 64> payload{};
  std::memcpy(payload.data(), &plan.me, sizeof plan.me);
  const std::uint32_t incarnation = (*node)->incarnation();
  std::memcpy(payload.data() + 4, &incarnation, sizeof incarnation);
  std::string buffer;
  bool streaming = true;
  for (std::uint64_t counter = 1;; ++counter) {
    const std::string command =
        next_command(command_fd, buffer, static_cast<int>(plan.send_interval_ns / 1'000'000));
    if (command == "exit") break;
    if (stream.changed.exchange(false)) report_counters(**node, report_fd);
    if (command == "stop" && streaming) {
      streaming = false;
      ring::OutgoingMessage end;
      end.payload = payload;
      end.group = kEndMarker;
      if (!submit_patiently(**node, end, steady_ns() + 30'000'000'000ull)) {
        write_line(report_fd, "error: the end marker was not accepted");
      }
    }
    if (!streaming) continue;
    std::memcpy(payload.data() + 8, &counter, sizeof counter);
    ring::OutgoingMessage m;
    m.payload = payload;
    (void)(*node)->submit(m);  // try_again: this one is skipped, the stream goes on
  }
  write_line(report_fd, "status " + runtime::status_line((*node)->status()));
  (*node)->stop();
  return 0;
}

std::string node_list(const std::vector<fabric::NodeId>& nodes) {
  std::string s;
  for (auto n : nodes)
    s += (s.empty() ? "" : ",") + std::to_string(n);
  return s.empty() ? "-" : s;
}

StreamMemberPlan plan_for(const std::vector<runtime::MemberAddress>& members, std::size_t index,
                          const std::string& device, int gid_index) {
  StreamMemberPlan plan;
  plan.members = members;
  plan.me = members[index].node;
  plan.device = device;
  plan.gid_index = gid_index;
  return plan;
}

runtime::MemberNodeOptions member_node_options(const StreamMemberPlan& plan) {
  // The cluster file's defaults (api/config/cluster_config.hpp), as a process node has them.
  constexpr config::Totem kDefaults{};
  runtime::MemberNodeOptions o;
  o.members = plan.members;
  o.me = plan.me;
  o.device = plan.device;
  o.gid_index = plan.gid_index;
  o.ring.log_bytes = 1u << 20;
  o.ring.max_message_bytes = 4096;
  o.membership.token_timeout_ns = std::uint64_t{kDefaults.token_timeout_ms} * 1'000'000;
  o.membership.consensus_timeout_ns = std::uint64_t{kDefaults.consensus_timeout_ms} * 1'000'000;
  o.membership.join_interval_ns = std::uint64_t{kDefaults.join_timeout_ms} * 1'000'000;
  if (plan.keyed) {
    std::array<std::byte, 32> secret{};
    for (std::size_t i = 0; i < secret.size(); ++i)
      secret[i] = static_cast<std::byte>(plan.key_seed ^ i);
    o.key = *fabric::auth::AuthKey::derive(secret);
  }
  return o;
}

}  // namespace ringcast::test
