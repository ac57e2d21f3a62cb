#include "runtime/mesh_connect.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace ringcast::runtime {
namespace {

constexpr std::uint64_t kRetryPauseNs = 100'000'000;
constexpr std::uint64_t kAttemptTimeoutNs = 10'000'000'000;

Error about(const MemberAddress& m, const Error& e, const std::string& what) {
  Error out = e;
  out.detail = what + " " + describe(m) + ": " + e.detail;
  return out;
}

// One member below me: retries while it is not listening yet (unreachable)
// or did not answer in time, until the deadline.
Result<std::unique_ptr<fabric::Link>> connect_one(fabric::verbs::VerbsEndpoint& ep,
                                                  const LinkPlan& plan, std::size_t index,
                                                  std::uint64_t deadline_ns) {
  const MemberAddress& m = plan.members[index];
  for (;;) {
    const std::uint64_t now = ep.now_ns();
    if (now >= deadline_ns) {
      return make_error(Errc::timeout, "mesh connect", "no answer from " + describe(m));
    }
    auto link = dial_member(ep, plan, index, std::min(kAttemptTimeoutNs, deadline_ns - now));
    if (link.ok()) return link;
    const Errc code = link.error().code;
    if (code != Errc::unreachable && code != Errc::timeout) {
      return about(m, link.error(), "connecting to");
    }
    if (ep.now_ns() + kRetryPauseNs >= deadline_ns) {
      return about(m, link.error(), "gave up connecting to");
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(kRetryPauseNs));
  }
}

std::string missing_above(const LinkPlan& plan,
                          const std::vector<std::unique_ptr<fabric::Link>>& links) {
  std::string names;
  for (std::size_t i = plan.my_index + 1; i < plan.members.size(); ++i) {
    if (!links[i]) names += (names.empty() ? "" : ", ") + describe(plan.members[i]);
  }
  return names;
}

// Every member above me, in whatever order their requests come.
Status accept_higher(fabric::verbs::VerbsEndpoint& ep, fabric::verbs::Listener& listener,
                     const LinkPlan& plan, std::uint64_t deadline_ns,
                     std::vector<std::unique_ptr<fabric::Link>>& links) {
  std::string last_refusal;
  while (!missing_above(plan, links).empty()) {
    const std::uint64_t now = ep.now_ns();
    if (now >= deadline_ns) {
      return make_error(Errc::timeout, "mesh accept",
                        "no connection from " + missing_above(plan, links) +
                            (last_refusal.empty() ? "" : "; last refused: " + last_refusal));
    }
    auto link = listener.accept(deadline_ns - now);
    if (!link.ok()) {
      if (link.error().code == Errc::refused) {
        last_refusal = link.error().message();
        continue;
      }
      if (link.error().code == Errc::timeout) continue;
      return link.error();
    }
    const std::size_t i = index_of(plan.members, (*link)->peer());
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

Result<std::vector<std::unique_ptr<fabric::Link>>> connect_mesh(fabric::verbs::VerbsEndpoint& ep,
                                                                fabric::verbs::Listener& listener,
                                                                const LinkPlan& plan,
                                                                std::uint64_t deadline_ns) {
  if (plan.key.empty()) warn_once_without_key();
  std::vector<std::unique_ptr<fabric::Link>> links(plan.members.size());
  for (std::size_t i = 0; i < plan.my_index; ++i) {
    auto link = connect_one(ep, plan, i, deadline_ns);
    RC_TRY(link);
    links[i] = std::move(*link);
  }
  RC_TRY(accept_higher(ep, listener, plan, deadline_ns, links));
  return links;
}

}  // namespace ringcast::runtime
