#include "runtime/link_keeper.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "base/log.hpp"
#include "base/thread_name.hpp"
#include "fabric/auth/handshake.hpp"
#include "runtime/open_transport.hpp"

namespace ringcast::runtime {
namespace {

// Start-up: a lower member not listening yet is tried again this soon.
constexpr std::uint64_t kGatherRetryNs = 100'000'000;
// Start-up: the shortest set-up a dial is given, even at the window's end.
constexpr std::uint64_t kGatherDialFloorNs = 1'000'000'000;
// One accept wait at most: bounds how late a re-dial or stop() comes.
constexpr std::uint64_t kAcceptWaitNs = 100'000'000;

}  // namespace

LinkKeeper::LinkKeeper(fabric::verbs::VerbsEndpoint& ep, LinkPlan plan, KeeperTimes times)
    : ep_(ep),
      plan_(std::move(plan)),
      times_(times),
      incarnations_(plan_.members.size(), 0),
      inbox_(plan_.members.size()) {
  plan_.context = "member";
  plan_.on_peer = [this](const fabric::ConnectInfo& peer, std::size_t index) { note(peer, index); };
}

LinkKeeper::~LinkKeeper() {
  stop();
  for (auto& link : inbox_)
    destroy(std::move(link));
}

// The peer's incarnation, for the start-up decision (MembershipNode: a fresh
// cluster or a running one).
void LinkKeeper::note(const fabric::ConnectInfo& peer, std::size_t index) {
  std::lock_guard lock(seen_mutex_);
  incarnations_[index] = peer.incarnation;
  linked_ever_ = true;
}

void LinkKeeper::note_failure(const Error& e) {
  if (e.code != Errc::refused) return;
  const std::string text = e.message();
  if (!fabric::auth::is_key_mismatch(text)) return;
  std::lock_guard lock(seen_mutex_);
  ++key_refusals_;
  last_key_refusal_ = text;
}

std::optional<Error> LinkKeeper::wrong_key() const {
  std::lock_guard lock(seen_mutex_);
  if (linked_ever_ || key_refusals_ == 0) return std::nullopt;
  return make_error(Errc::refused, std::string(kWrongClusterKeyCall),
                    "no member accepted this node's cluster key (" + std::to_string(key_refusals_) +
                        " set-ups refused, no link): check auth.key_file against the other "
                        "nodes'; last: " +
                        last_key_refusal_);
}

std::uint32_t LinkKeeper::incarnation_of(std::size_t index) const {
  std::lock_guard lock(seen_mutex_);
  return index < incarnations_.size() ? incarnations_[index] : 0;
}

Result<std::unique_ptr<LinkKeeper>> LinkKeeper::listen(fabric::verbs::VerbsEndpoint& ep,
                                                       LinkPlan plan, KeeperTimes times) {
  if (plan.key.empty()) warn_once_without_key();
  std::unique_ptr<LinkKeeper> k(new LinkKeeper(ep, std::move(plan), times));
  auto listener = listen_for_links(ep, k->plan_);
  RC_TRY(listener);
  k->listener_ = std::move(*listener);
  LinkKeeper* self = k.get();
  k->acceptor_ = std::thread([self] {
    name_this_thread("rc-accept");
    self->run_acceptor();
  });
  return k;
}

// One attempt: nullptr when the member does not answer (not listening, no
// route, refused: the listener there logs why).
std::unique_ptr<fabric::Link> LinkKeeper::dial(std::size_t index, std::uint64_t timeout_ns) {
  auto link = dial_member(ep_, plan_, index, std::max<std::uint64_t>(timeout_ns, 1'000'000));
  if (link.ok()) return std::move(*link);
  note_failure(link.error());
  const Errc code = link.error().code;
  if (code != Errc::unreachable && code != Errc::timeout) {
    const std::string member = describe(plan_.members[index]);
    std::lock_guard lock(dial_log_mutex_);
    dial_log_.log(LogLevel::info, member, "connecting to " + member + ": " + link.error().message(),
                  ep_.now_ns());
  }
  return nullptr;
}

// Waits up to wait_ns for a request; one that came gets the whole set-up
// timeout (Listener::accept's bounds both, and a short wait must not cut a
// set-up short: the peer would be left with a link that dies at once).
LinkKeeper::Arrival LinkKeeper::accept_one(std::uint64_t wait_ns) {
  pollfd p{listener_->fd(), POLLIN, 0};
  if (!listener_->pending() && ::poll(&p, 1, static_cast<int>(wait_ns / 1'000'000)) <= 0) {
    return {};
  }
  auto link = listener_->accept(times_.dial_timeout_ns);
  // timeout: nobody came; refused: the listener logged why.
  if (!link.ok()) note_failure(link.error());
  if (!link.ok() || !*link) return {};
  const std::size_t i = index_of(plan_.members, (*link)->peer());
  if (i >= plan_.members.size() || i <= plan_.my_index) {  // the check admits none such
    destroy(std::move(*link));
    return {};
  }
  return {i, std::move(*link)};
}

void LinkKeeper::destroy(std::unique_ptr<fabric::Link> link) {
  if (!link) return;
  if (!plan_.endpoint_lock) return link.reset();
  auto lock = plan_.endpoint_lock();
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
  for (std::uint64_t now = ep_.now_ns(); now < deadline_ns; now = ep_.now_ns()) {
    for (std::size_t i = 0; i < plan_.my_index; ++i) {
      if (links[i] || next_dial_ns[i] > now) continue;
      // At least kGatherDialFloorNs even near the deadline: a dial cut short
      // leaves the peer a request (or a link) that dies at once. A dead host
      // (no answer to ARP) still costs the window at most that much more.
      const std::uint64_t left_ns = deadline_ns > now ? deadline_ns - now : 0;
      links[i] = dial(i, std::min(times_.dial_timeout_ns, std::max(left_ns, kGatherDialFloorNs)));
      next_dial_ns[i] = ep_.now_ns() + kGatherRetryNs;
    }
    Links arrived(n);
    {
      std::unique_lock lock(inbox_mutex_);
      inbox_changed_.wait_for(lock, std::chrono::milliseconds(complete() ? 0 : 20));
      arrived.swap(inbox_);
      inbox_.resize(n);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!arrived[i]) continue;
      destroy(std::move(links[i]));  // a retry whose first attempt also landed
      links[i] = std::move(arrived[i]);
    }
    if (complete()) break;
  }
  return links;
}

void LinkKeeper::start(HandOver hand_over, Missing missing) {
  Links early;
  {
    std::lock_guard lock(inbox_mutex_);
    hand_over_ = std::move(hand_over);
    missing_ = std::move(missing);
    early.swap(inbox_);
    inbox_.resize(plan_.members.size());
  }
  for (std::size_t i = 0; i < early.size(); ++i)
    if (early[i]) hand_over_(i, std::move(early[i]));
  dialler_ = std::thread([this] {
    name_this_thread("rc-dial");
    run_dialler();
  });
}

void LinkKeeper::stop() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  if (dialler_.joinable()) dialler_.join();
}

// Before start() an arrival waits in the inbox for gather(); after it, it
// goes to the owner. hand_over_ is set once, under the inbox lock.
void LinkKeeper::run_acceptor() {
  while (!stop_.load()) {
    Arrival a = accept_one(kAcceptWaitNs);
    if (!a.link) continue;
    std::unique_lock lock(inbox_mutex_);
    if (hand_over_) {
      lock.unlock();
      hand_over_(a.index, std::move(a.link));
      continue;
    }
    std::unique_ptr<fabric::Link> older = std::move(inbox_[a.index]);
    inbox_[a.index] = std::move(a.link);
    lock.unlock();
    inbox_changed_.notify_all();
    destroy(std::move(older));
  }
}

void LinkKeeper::run_dialler() {
  while (!stop_.load()) {
    for (std::size_t i = 0; i < plan_.my_index && !stop_.load(); ++i) {
      if (!missing_(i)) continue;
      if (auto link = dial(i, times_.dial_timeout_ns)) hand_over_(i, std::move(link));
    }
    // Sleeps in short steps: stop() is not kept waiting.
    const std::uint64_t until = ep_.now_ns() + times_.reconnect_interval_ns;
    while (!stop_.load() && ep_.now_ns() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ringcast::runtime
