#include "runtime/link_setup.hpp"

#include <arpa/inet.h>

#include <array>
#include <optional>
#include <string>

#include "base/log.hpp"
#include "ring/ring_state.hpp"
#include "ring/token.hpp"

namespace ringcast::runtime {
namespace {

fabric::verbs::LinkOptions link_options(const LinkPlan& plan, fabric::verbs::PeerCheck check) {
  fabric::verbs::LinkOptions o;
  o.ours = plan.ours;
  o.key = plan.key;
  o.check = std::move(check);
  o.endpoint_lock = plan.endpoint_lock;
  return o;
}

// Regions that fit this ring; the peer told to the plan's owner.
Status accept_peer(const LinkPlan& plan, const fabric::ConnectInfo& peer, std::size_t index) {
  RC_TRY(check_peer_regions(peer, plan.ring));
  if (plan.on_peer) plan.on_peer(peer, index);
  return {};
}

}  // namespace

std::string describe(const MemberAddress& m) {
  return "node " + std::to_string(m.node) + " at " + m.ip + ":" + std::to_string(m.port);
}

std::size_t index_of(const std::vector<MemberAddress>& members, fabric::NodeId node) {
  for (std::size_t i = 0; i < members.size(); ++i)
    if (members[i].node == node) return i;
  return members.size();
}

void warn_once_without_key() {
  static std::once_flag once;
  std::call_once(once, [] {
    log_line(LogLevel::warning,
             "allow_unauthenticated: no cluster key, links are not authenticated: any "
             "process that reaches a member's port can join the ring and read and send its "
             "messages (set auth.key_file in the cluster file)");
  });
}

Status check_peer_regions(const fabric::ConnectInfo& peer, const ring::RingConfig& ring) {
  const auto regions = peer.region_span();
  if (regions.size() < 2) {
    return make_error(Errc::refused, "mesh peer check",
                      "node " + std::to_string(peer.node) + " advertised " +
                          std::to_string(regions.size()) + " regions, the ring needs 2");
  }
  if (regions[ring::kLogRegion].length != ring.log_bytes ||
      regions[ring::kMailboxRegion].length < ring::mailbox_bytes(ring.mailbox_slots)) {
    return make_error(
        Errc::refused, "mesh peer check",
        "node " + std::to_string(peer.node) + " advertised a log of " +
            std::to_string(regions[ring::kLogRegion].length) + " bytes and a mailbox of " +
            std::to_string(regions[ring::kMailboxRegion].length) + "; this ring's config needs " +
            std::to_string(ring.log_bytes) + " and at least " +
            std::to_string(ring::mailbox_bytes(ring.mailbox_slots)));
  }
  return {};
}

Result<std::unique_ptr<fabric::verbs::Listener>> listen_for_links(fabric::verbs::VerbsEndpoint& ep,
                                                                  const LinkPlan& plan) {
  // Admits members above me only: those below are dialled by me.
  auto check = [plan](const fabric::ConnectInfo& peer) -> Status {
    const std::size_t i = index_of(plan.members, peer.node);
    if (i >= plan.members.size() || i <= plan.my_index) {
      return make_error(Errc::refused, std::string(plan.context) + " accept",
                        "node " + std::to_string(peer.node) +
                            " is not a member with a higher id (those connect to me)");
    }
    return accept_peer(plan, peer, i);
  };
  const MemberAddress& mine = plan.members[plan.my_index];
  auto options = link_options(plan, check);
  options.address_check = [plan](const fabric::ConnectInfo& peer, std::string_view from) -> Status {
    const std::size_t i = index_of(plan.members, peer.node);
    if (i >= plan.members.size()) return {};  // `check` refuses it
    return check_peer_address(plan.members[i], from);
  };
  auto listener = ep.listen(mine.ip, mine.port, options);
  if (!listener.ok()) {
    Error e = listener.error();
    e.detail = "listening as " + describe(mine) + ": " + e.detail;
    return e;
  }
  return listener;
}

// Both as binary addresses: "::ffff:10.0.0.2" is 10.0.0.2, and two
// spellings of one IPv6 address are one.
Status check_peer_address(const MemberAddress& member, std::string_view from) {
  const auto binary = [](std::string_view text) {
    std::string t(text);
    if (t.rfind("::ffff:", 0) == 0 && t.find('.') != std::string::npos) t = t.substr(7);
    std::array<unsigned char, 17> out{};  // the family, then the address
    out[0] = 4;
    if (::inet_pton(AF_INET, t.c_str(), out.data() + 1) == 1) return std::optional(out);
    out[0] = 6;
    if (::inet_pton(AF_INET6, t.c_str(), out.data() + 1) == 1) return std::optional(out);
    return std::optional<std::array<unsigned char, 17>>();
  };
  const auto expected = binary(member.ip);
  const auto got = binary(from);
  if (expected && got && *expected == *got) return {};
  return make_error(
      Errc::refused, "member accept",
      "claims to be " + describe(member) + " but connects from " + peer_text(from, 64));
}

Result<std::unique_ptr<fabric::Link>> dial_member(fabric::verbs::VerbsEndpoint& ep,
                                                  const LinkPlan& plan, std::size_t index,
                                                  std::uint64_t timeout_ns) {
  const MemberAddress& m = plan.members[index];
  auto check = [&plan, index, expected = m.node](const fabric::ConnectInfo& peer) -> Status {
    if (peer.node != expected) {
      return make_error(Errc::refused, std::string(plan.context) + " connect",
                        "answered by node " + std::to_string(peer.node) + ", expected " +
                            std::to_string(expected));
    }
    return accept_peer(plan, peer, index);
  };
  auto options = link_options(plan, check);
  options.timeout_ns = timeout_ns;
  return ep.connect("", m.ip, m.port, options);
}

}  // namespace ringcast::runtime
