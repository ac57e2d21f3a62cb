#include "runtime/membership_node.hpp"

#include <ctime>
#include <string>

#include "base/log.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "runtime/driver_events.hpp"
#include "runtime/link_keeper.hpp"

namespace ringcast::runtime {
namespace {

constexpr std::int64_t kIncarnationEpochS = 1'704'067'200;  // 2024-01-01T00:00:00Z
constexpr std::uint64_t kIncarnationUnitNs = 100'000'000;   // 100 ms

std::string node_text(fabric::NodeId node) {
  return "node " + std::to_string(node);
}

}  // namespace

std::uint32_t clock_incarnation() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const std::int64_t s = ts.tv_sec > kIncarnationEpochS ? ts.tv_sec - kIncarnationEpochS : 0;
  const std::uint64_t units = static_cast<std::uint64_t>(s) * 10 +
                              static_cast<std::uint64_t>(ts.tv_nsec) / kIncarnationUnitNs;
  const auto incarnation = static_cast<std::uint32_t>(units);
  return incarnation != 0 ? incarnation : 1;  // never 0 ("none seen")
}

Status validate(const MemberNodeOptions& o) {
  RC_TRY(validate_members(o.members, o.me, "MemberNodeOptions"));
  if (!o.on_events) {
    return make_error(Errc::invalid_argument, "MemberNodeOptions",
                      "on_events is required (it drains the event stream)");
  }
  if (o.reconnect_interval_ns == 0 || o.dial_timeout_ns == 0) {
    return make_error(Errc::invalid_argument, "MemberNodeOptions",
                      "reconnect_interval_ns and dial_timeout_ns must not be 0");
  }
  membership::MembershipConfig m = o.membership;
  m.nodes.clear();
  for (const auto& a : o.members)
    m.nodes.push_back(a.node);
  RC_TRY(ring::validate(o.ring));
  return membership::validate(m, o.ring);
}

MembershipNode::MembershipNode(Passkey, const MemberNodeOptions& o)
    : me_(o.me),
      ring_(o.ring),
      incarnation_(o.incarnation != 0 ? o.incarnation : clock_incarnation()),
      startup_window_ns_(o.startup_window_ns) {
  for (std::size_t i = 0; i < o.members.size(); ++i) {
    nodes_.push_back(o.members[i].node);
    if (o.members[i].node == o.me) my_index_ = i;
  }
  peers_.resize(o.members.size());
  replacement_ = LinkReplacement(o.members.size());
}

Result<std::unique_ptr<MembershipNode>> MembershipNode::start(const MemberNodeOptions& options) {
  RC_TRY(validate(options));
  auto node = std::make_unique<MembershipNode>(Passkey{}, options);
  RC_TRY(node->open(options));
  RC_TRY(node->begin(options));
  return node;
}

// The endpoint, the driver, the (not yet running) progress thread whose lock
// the keeper's set-up shares, and the listener.
Status MembershipNode::open(const MemberNodeOptions& o) {
  const MemberAddress& mine = o.members[my_index_];
  fabric::verbs::EndpointOptions eo;
  eo.node = o.me;
  eo.device = o.device;
  eo.local_ip = mine.ip;
  eo.gid_index = o.gid_index;
  auto ep = fabric::verbs::VerbsEndpoint::open(eo);
  if (!ep.ok()) {
    Error e = ep.error();
    e.detail = "opening the endpoint of " + node_text(o.me) + " at " + mine.ip + ": " + e.detail;
    return e;
  }
  endpoint_ = std::move(*ep);
  membership::MembershipConfig mc = o.membership;
  mc.nodes.clear();
  for (const auto& a : o.members)
    mc.nodes.push_back(a.node);
  auto driver = membership::MembershipDriver::create(*endpoint_, o.ring, mc, o.log_memory);
  RC_TRY(driver);
  driver_ = std::move(*driver);
  fabric::verbs::VerbsEndpoint* ep_raw = endpoint_.get();
  driver_->set_disconnect([ep_raw](fabric::Link& link) { ep_raw->disconnect(link); });

  WaitSource wait{[ep_raw] { return ep_raw->prepare_wait(); }, ep_raw->wait_fd()};
  // The adapter lives in the callback, which lives as long as the thread.
  auto events = std::make_shared<MembershipEvents>(*driver_);
  auto on_round = [this, events, fn = o.on_events](membership::MembershipDriver& d) {
    fn(*events);
    if (any_waiting_) adopt_waiting(d);
    if (d.live_links() != logged_links_) log_link_changes(d.live_links());
  };
  progress_ = std::make_unique<MemberProgressThread>(*driver_, std::move(wait), o.progress,
                                                     std::move(on_round));

  LinkPlan plan;
  plan.members = o.members;
  plan.my_index = my_index_;
  plan.ours = driver_->connect_info(incarnation_);
  plan.ring = o.ring;
  plan.key = o.key;
  plan.endpoint_lock = [p = progress_.get()] { return p->lock_from_outside(); };
  auto keeper =
      LinkKeeper::listen(*endpoint_, std::move(plan), {o.reconnect_interval_ns, o.dial_timeout_ns});
  RC_TRY(keeper);
  keeper_ = std::move(*keeper);
  return {};
}

// Every other member linked, each started within the window of this process:
// a cluster starting together. Anyone older runs a ring already.
bool MembershipNode::fresh_cluster(const LinkKeeper& keeper, bool every_link) const {
  if (!every_link) return false;
  const std::uint64_t window_units = startup_window_ns_ / 100'000'000 + 1;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (i == my_index_) continue;
    const std::uint32_t theirs = keeper.incarnation_of(i);
    const std::uint32_t gap = theirs > incarnation_ ? theirs - incarnation_ : incarnation_ - theirs;
    if (theirs == 0 || gap > window_units) return false;
  }
  return true;
}

Status MembershipNode::begin(const MemberNodeOptions& o) {
  LinkKeeper::Links links = keeper_->gather(endpoint_->now_ns() + o.startup_window_ns);
  std::vector<fabric::Link*> raw(links.size(), nullptr);
  bool every_link = true;
  std::string reached;
  for (std::size_t i = 0; i < links.size(); ++i) {
    raw[i] = links[i].get();
    if (i == my_index_) continue;
    every_link = every_link && links[i] != nullptr;
    if (links[i]) reached += " " + std::to_string(o.members[i].node);
  }
  // Every member it reached refused its key and none took it: a node with
  // the wrong key stops here, with the reason, instead of running alone.
  // Only at start-up: later, a node that runs a ring keeps it whatever a
  // newcomer's key (the keeper logs those refusals, rate-limited).
  if (auto wrong = keeper_->wrong_key()) return *wrong;
  fresh_ = fresh_cluster(*keeper_, every_link);
  Status started = progress_->with_driver_quietly([&](membership::MembershipDriver& d) {
    for (std::size_t i = 0; i < links.size(); ++i) {
      peers_[i].given = std::move(links[i]);
      peers_[i].given_incarnation = keeper_->incarnation_of(i);
    }
    d.keep_epochs_with(o.keep_epochs);
    if (fresh_) return d.start(raw, o.epochs_kept);
    return d.start_joining(raw, membership::epoch_floor(incarnation_, o.epochs_kept));
  });
  RC_TRY(started);
  logged_links_ = driver_->live_links();
  log_line(node_text(me_) + " (incarnation " + std::to_string(incarnation_) +
           (fresh_ ? ") starts the cluster's first ring with" : ") joins, linked to") +
           (reached.empty() ? " nobody yet" : reached));
  RC_TRY(progress_->start());
  keeper_->start(
      [this](std::size_t i, std::unique_ptr<fabric::Link> link) {
        // On the thread that set the link up, right after: the keeper noted
        // this link's incarnation last (one thread sets up each member's).
        const std::uint32_t incarnation = keeper_->incarnation_of(i);
        progress_->with_driver(
            [&](membership::MembershipDriver& d) { adopt(d, i, std::move(link), incarnation); });
      },
      [this](std::size_t i) { return missing(i); });
  return {};
}

MembershipNode::~MembershipNode() {
  stop();
}

void MembershipNode::stop() {
  if (keeper_) keeper_->stop();
  if (progress_) progress_->stop();
}

// A new link to member `index`. The driver takes it at once when it has no
// live link there; else the peer restarted (or re-dialled) before anything
// failed here: the old link is cut, and the new one waits for the driver to
// see it down (adopt_waiting, after each round).
void MembershipNode::adopt(membership::MembershipDriver& d, std::size_t index,
                           std::unique_ptr<fabric::Link> link, std::uint32_t incarnation) {
  PeerLinks& p = peers_[index];
  if (!membership::has(d.live_links(), index)) {
    if (Status s = d.add_link(index, link.get()); !s.ok()) {
      log_line(node_text(me_) + ": a new link to " + node_text(link->peer()) +
               " refused: " + s.error().message());
      return;  // `link` goes (the lock is held)
    }
    p.given = std::move(link);  // the old one goes: the driver no longer points at it
    p.given_incarnation = incarnation;
    p.waiting.reset();
    return;
  }
  if (!may_replace(index, incarnation)) return;  // `link` goes (the lock is held)
  if (p.given) endpoint_->disconnect(*p.given);
  p.waiting = std::move(link);
  p.waiting_incarnation = incarnation;
  any_waiting_ = true;
}

// A live link is cut for a new one only within LinkReplacement's bounds.
bool MembershipNode::may_replace(std::size_t index, std::uint32_t incarnation) {
  const std::uint64_t now_ns = endpoint_->now_ns();
  const Replacement r =
      replacement_.decide(index, peers_[index].given_incarnation, incarnation, now_ns);
  if (r == Replacement::allowed) return true;
  ++replacements_refused_;
  const std::string peer = node_text(nodes_[index]);
  replacement_log_.log(LogLevel::warning, peer,
                       node_text(me_) + ": kept the live link to " + peer +
                           ", refused a new one (incarnation " + std::to_string(incarnation) +
                           "): " + replacement_text(r),
                       now_ns);
  return false;
}

void MembershipNode::adopt_waiting(membership::MembershipDriver& d) {
  any_waiting_ = false;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (!peers_[i].waiting) continue;
    if (membership::has(d.live_links(), i)) {
      any_waiting_ = true;
      continue;
    }
    adopt(d, i, std::move(peers_[i].waiting), peers_[i].waiting_incarnation);
  }
}

// Links seen going down or up, for the operator (rare: compared per round).
void MembershipNode::log_link_changes(membership::NodeMask now) {
  std::string down, up;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (i == my_index_ || membership::has(now, i) == membership::has(logged_links_, i)) continue;
    (membership::has(now, i) ? up : down) += " " + std::to_string(nodes_[i]);
  }
  logged_links_ = now;
  log_line(node_text(me_) + ": links" + (down.empty() ? "" : " down to" + down) +
           (up.empty() ? "" : " up to" + up));
}

// A lower member this one has no live link to, and no new link waiting for.
bool MembershipNode::missing(std::size_t index) {
  return progress_->with_driver_quietly([&](membership::MembershipDriver& d) {
    return !membership::has(d.live_links(), index) && !peers_[index].waiting;
  });
}

// The round runs here rather than on the progress thread: when this member
// keeps the token the message goes out, and comes back to us, at once.
Status MembershipNode::submit(const ring::OutgoingMessage& message) {
  return progress_->with_driver_round(
      [&](membership::MembershipDriver& d) { return d.submit(message); });
}

Status MembershipNode::submit(const OutgoingTransportMessage& message) {
  return submit(to_ring(message));
}

// A CPG dispatcher releases after every message: kick the progress thread
// only when the release gave the ring something to do sooner.
Status MembershipNode::release_through(std::uint64_t index) {
  return progress_->with_driver_if_due(
      [index](membership::MembershipDriver& d) { return d.release_through(index); });
}

Result<std::unique_ptr<fabric::MemoryRegion>> MembershipNode::allocate(std::size_t bytes) {
  return progress_->with_driver_quietly([bytes](membership::MembershipDriver& d) {
    return d.endpoint().allocate(bytes, fabric::Access::local_only);
  });
}

Result<std::unique_ptr<fabric::MemoryRegion>> MembershipNode::register_memory(
    std::span<std::byte> memory) {
  return progress_->with_driver_quietly([memory](membership::MembershipDriver& d) {
    return d.endpoint().register_memory(memory, fabric::Access::local_only);
  });
}

StatusSnapshot MembershipNode::status() {
  return progress_->with_driver_quietly([this](membership::MembershipDriver& d) {
    StatusSnapshot s = d.status();
    s.link_replacements_refused = replacements_refused_;
    return s;
  });
}

SendPathSnapshot MembershipNode::send_path() {
  return progress_->with_driver_quietly(
      [](membership::MembershipDriver& d) { return d.send_path(); });
}

std::vector<std::uint32_t> MembershipNode::linked_nodes() {
  const membership::NodeMask live = progress_->with_driver_quietly(
      [](membership::MembershipDriver& d) { return d.live_links(); });
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (i != my_index_ && membership::has(live, i)) out.push_back(nodes_[i]);
  return out;
}

}  // namespace ringcast::runtime
