#include "runtime/mesh_connect.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "fabric/verbs/log.hpp"
#include "ring/ring_state.hpp"
#include "ring/token.hpp"

namespace ringcast::runtime {
namespace {

constexpr std::uint64_t kRetryPauseNs = 100'000'000;
constexpr std::uint64_t kAttemptTimeoutNs = 10'000'000'000;

std::string describe(const MemberAddress& m) {
  return "node " + std::to_string(m.node) + " at " + m.ip + ":" + std::to_string(m.port);
}

Error about(const MemberAddress& m, const Error& e, const std::string& what) {
  Error out = e;
  out.detail = what + " " + describe(m) + ": " + e.detail;
  return out;
}

// One member below me: retries while it is not listening yet (unreachable)
// or did not answer in time, until the deadline.
Result<std::unique_ptr<fabric::Link>> connect_one(fabric::verbs::VerbsEndpoint& ep,
                                                  const MeshPlan& plan, const MemberAddress& m) {
  fabric::verbs::LinkOptions options;
  options.ours = plan.ours;
  options.key = plan.key;
  const ring::RingConfig ring = plan.ring;
  const fabric::NodeId expected = m.node;
  options.check = [ring, expected](const fabric::ConnectInfo& peer) -> Status {
    if (peer.node != expected) {
      return make_error(Errc::refused, "mesh connect",
                        "answered by node " + std::to_string(peer.node) + ", expected " +
                            std::to_string(expected));
    }
    return check_peer_regions(peer, ring);
  };
  for (;;) {
    const std::uint64_t now = ep.now_ns();
    if (now >= plan.deadline_ns) {
      return make_error(Errc::timeout, "mesh connect", "no answer from " + describe(m));
    }
    options.timeout_ns = std::min(kAttemptTimeoutNs, plan.deadline_ns - now);
    auto link = ep.connect("", m.ip, m.port, options);
    if (link.ok()) return link;
    const Errc code = link.error().code;
    if (code != Errc::unreachable && code != Errc::timeout) {
      return about(m, link.error(), "connecting to");
    }
    if (ep.now_ns() + kRetryPauseNs >= plan.deadline_ns) {
      return about(m, link.error(), "gave up connecting to");
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(kRetryPauseNs));
  }
}

std::string missing_above(const MeshPlan& plan,
                          const std::vector<std::unique_ptr<fabric::Link>>& links) {
  std::string names;
  for (std::size_t i = plan.my_index + 1; i < plan.members->size(); ++i) {
    if (!links[i]) names += (names.empty() ? "" : ", ") + describe((*plan.members)[i]);
  }
  return names;
}

std::size_t index_of(const std::vector<MemberAddress>& members, fabric::NodeId node) {
  for (std::size_t i = 0; i < members.size(); ++i)
    if (members[i].node == node) return i;
  return members.size();
}

// Every member above me, in whatever order their requests come.
Status accept_higher(fabric::verbs::VerbsEndpoint& ep, fabric::verbs::Listener& listener,
                     const MeshPlan& plan, std::vector<std::unique_ptr<fabric::Link>>& links) {
  std::string last_refusal;
  while (!missing_above(plan, links).empty()) {
    const std::uint64_t now = ep.now_ns();
    if (now >= plan.deadline_ns) {
      return make_error(Errc::timeout, "mesh accept",
                        "no connection from " + missing_above(plan, links) +
                            (last_refusal.empty() ? "" : "; last refused: " + last_refusal));
    }
    auto link = listener.accept(plan.deadline_ns - now);
    if (!link.ok()) {
      if (link.error().code == Errc::refused) {
        last_refusal = link.error().message();
        continue;
      }
      if (link.error().code == Errc::timeout) continue;
      return link.error();
    }
    const std::size_t i = index_of(*plan.members, (*link)->peer());
    if (i >= links.size() || i <= plan.my_index || links[i]) {
      // The listener's check admits only members above me; a second link from
      // the same one (a retry whose first attempt also landed) replaces nothing.
      last_refusal = "duplicate or unexpected link from node " + std::to_string((*link)->peer());
      continue;
    }
    links[i] = std::move(*link);
  }
  return {};
}

}  // namespace

void warn_once_without_key() {
  static std::once_flag once;
  std::call_once(once, [] {
    fabric::verbs::log_line(
        "warning: no cluster key: links are not authenticated, any process that reaches a "
        "member's port can join (set auth.key_file in the cluster file)");
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

Result<std::vector<std::unique_ptr<fabric::Link>>> connect_mesh(fabric::verbs::VerbsEndpoint& ep,
                                                                fabric::verbs::Listener& listener,
                                                                const MeshPlan& plan) {
  const auto& members = *plan.members;
  if (plan.key.empty()) warn_once_without_key();
  std::vector<std::unique_ptr<fabric::Link>> links(members.size());
  for (std::size_t i = 0; i < plan.my_index; ++i) {
    auto link = connect_one(ep, plan, members[i]);
    RC_TRY(link);
    links[i] = std::move(*link);
  }
  RC_TRY(accept_higher(ep, listener, plan, links));
  return links;
}

}  // namespace ringcast::runtime
