#include "runtime/link_keeper.hpp"

#include <algorithm>
#include <string>

#include "fabric/verbs/log.hpp"
#include "runtime/mesh_connect.hpp"

namespace ringcast::runtime {
namespace {

// Start-up: a lower member not listening yet is tried again this soon.
constexpr std::uint64_t kGatherRetryNs = 100'000'000;
// One accept wait at most: bounds how late a re-dial or stop() comes.
constexpr std::uint64_t kAcceptWaitNs = 100'000'000;

std::string describe(const MemberAddress& m) {
  return "node " + std::to_string(m.node) + " at " + m.ip + ":" + std::to_string(m.port);
}

}  // namespace

LinkKeeper::LinkKeeper(fabric::verbs::VerbsEndpoint& ep, KeeperPlan plan)
    : ep_(ep), plan_(std::move(plan)), incarnations_(plan_.members.size(), 0) {}

LinkKeeper::~LinkKeeper() {
  stop();
}

fabric::verbs::LinkOptions LinkKeeper::link_options(fabric::verbs::PeerCheck check) const {
  fabric::verbs::LinkOptions o;
  o.ours = plan_.ours;
  o.key = plan_.key;
  o.check = std::move(check);
  o.endpoint_lock = plan_.endpoint_lock;
  return o;
}

std::size_t LinkKeeper::index_of(fabric::NodeId node) const {
  for (std::size_t i = 0; i < plan_.members.size(); ++i)
    if (plan_.members[i].node == node) return i;
  return plan_.members.size();
}

// Regions that fit this ring; the peer's incarnation noted for the start-up
// decision (MemberNode: a fresh cluster or a running one).
Status LinkKeeper::check_and_note(const fabric::ConnectInfo& peer, std::size_t index) {
  RC_TRY(check_peer_regions(peer, plan_.ring));
  std::lock_guard lock(seen_mutex_);
  incarnations_[index] = peer.incarnation;
  return {};
}

std::uint32_t LinkKeeper::incarnation_of(std::size_t index) const {
  std::lock_guard lock(seen_mutex_);
  return index < incarnations_.size() ? incarnations_[index] : 0;
}

Result<std::unique_ptr<LinkKeeper>> LinkKeeper::listen(fabric::verbs::VerbsEndpoint& ep,
                                                       KeeperPlan plan) {
  if (plan.key.empty()) warn_once_without_key();
  std::unique_ptr<LinkKeeper> k(new LinkKeeper(ep, std::move(plan)));
  LinkKeeper* self = k.get();
  // Admits members above me only: those below are dialled by me.
  auto check = [self](const fabric::ConnectInfo& peer) -> Status {
    const std::size_t i = self->index_of(peer.node);
    if (i >= self->plan_.members.size() || i <= self->plan_.my_index) {
      return make_error(Errc::refused, "member accept",
                        "node " + std::to_string(peer.node) +
                            " is not a member with a higher id (those connect to me)");
    }
    return self->check_and_note(peer, i);
  };
  const MemberAddress& mine = k->plan_.members[k->plan_.my_index];
  auto listener = ep.listen(mine.ip, mine.port, k->link_options(check));
  if (!listener.ok()) {
    Error e = listener.error();
    e.detail = "listening as " + describe(mine) + ": " + e.detail;
    return e;
  }
  k->listener_ = std::move(*listener);
  return k;
}

// One attempt: nullptr when the member does not answer (not listening, no
// route, refused: the listener there logs why).
std::unique_ptr<fabric::Link> LinkKeeper::dial(std::size_t index, std::uint64_t timeout_ns) {
  const MemberAddress& m = plan_.members[index];
  auto check = [this, index, expected = m.node](const fabric::ConnectInfo& peer) -> Status {
    if (peer.node != expected) {
      return make_error(Errc::refused, "member connect",
                        "answered by node " + std::to_string(peer.node) + ", expected " +
                            std::to_string(expected));
    }
    return check_and_note(peer, index);
  };
  auto options = link_options(check);
  options.timeout_ns = std::max<std::uint64_t>(timeout_ns, 1'000'000);
  auto link = ep_.connect("", m.ip, m.port, options);
  if (link.ok()) return std::move(*link);
  const Errc code = link.error().code;
  if (code != Errc::unreachable && code != Errc::timeout) {
    fabric::verbs::log_line("connecting to " + describe(m) + ": " + link.error().message());
  }
  return nullptr;
}

LinkKeeper::Arrival LinkKeeper::accept_one(std::uint64_t timeout_ns) {
  auto link = listener_->accept(timeout_ns);
  // timeout: nobody came; refused: the listener logged why.
  if (!link.ok() || !*link) return {};
  const std::size_t i = index_of((*link)->peer());
  if (i >= plan_.members.size() || i <= plan_.my_index) {  // the check admits none such
    destroy(std::move(*link));
    return {};
  }
  return {i, std::move(*link)};
}

void LinkKeeper::destroy(std::unique_ptr<fabric::Link> link) {
  if (!link) return;
  if (plan_.endpoint_lock == nullptr) return link.reset();
  std::lock_guard lock(*plan_.endpoint_lock);
  link.reset();
}

LinkKeeper::Links LinkKeeper::gather(std::uint64_t deadline_ns) {
  const std::size_t n = plan_.members.size();
  Links links(n);
  std::vector<std::uint64_t> next_dial_ns(n, 0);
  const auto complete = [&] {
    for (std::size_t i = 0; i < n; ++i)
      if (i != plan_.my_index && !links[i]) return false;
    return true;
  };
  for (std::uint64_t now = ep_.now_ns(); now < deadline_ns && !complete(); now = ep_.now_ns()) {
    for (std::size_t i = 0; i < plan_.my_index; ++i) {
      if (links[i] || next_dial_ns[i] > now) continue;
      links[i] = dial(i, std::min(plan_.dial_timeout_ns, deadline_ns - now));
      next_dial_ns[i] = ep_.now_ns() + kGatherRetryNs;
    }
    now = ep_.now_ns();
    if (now >= deadline_ns) break;
    Arrival a = accept_one(std::min(kAcceptWaitNs / 2, deadline_ns - now));
    if (!a.link) continue;
    destroy(std::move(links[a.index]));  // a retry whose first attempt also landed
    links[a.index] = std::move(a.link);
  }
  return links;
}

void LinkKeeper::start(HandOver hand_over, Missing missing) {
  hand_over_ = std::move(hand_over);
  missing_ = std::move(missing);
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void LinkKeeper::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
}

void LinkKeeper::run() {
  std::uint64_t next_redial_ns = 0;
  while (!stop_.load()) {
    std::uint64_t now = ep_.now_ns();
    if (now >= next_redial_ns) {
      for (std::size_t i = 0; i < plan_.my_index && !stop_.load(); ++i) {
        if (!missing_(i)) continue;
        if (auto link = dial(i, plan_.dial_timeout_ns)) hand_over_(i, std::move(link));
      }
      now = ep_.now_ns();
      next_redial_ns = now + plan_.redial_interval_ns;
    }
    const std::uint64_t wait = std::min(kAcceptWaitNs, next_redial_ns - now);
    Arrival a = accept_one(std::max<std::uint64_t>(wait, 1'000'000));
    if (a.link) hand_over_(a.index, std::move(a.link));
  }
}

}  // namespace ringcast::runtime
