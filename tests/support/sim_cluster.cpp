#include "support/sim_cluster.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "fabric/sim/sim_world.hpp"
#include "membership/membership_driver.hpp"
#include "runtime/driver_events.hpp"

namespace ringcast::runtime {

namespace {
// How often the cluster, as a runtime would, retries connections that failed.
constexpr std::uint64_t kReconnectIntervalNs = 1'000'000;

// A region of caller memory, deregistered under the cluster's lock: the
// simulator has no locks of its own, and a zero-copy pool frees (and
// deregisters) on the caller's thread while the cluster's thread runs.
class LockedRegion final : public fabric::MemoryRegion {
 public:
  LockedRegion(std::unique_ptr<fabric::MemoryRegion> inner, std::mutex& mutex)
      : inner_(std::move(inner)), mutex_(&mutex) {
    data_ = inner_->data();
    size_ = inner_->size();
    lkey_ = inner_->lkey();
    access_ = inner_->access();
  }
  ~LockedRegion() override {
    std::lock_guard lock(*mutex_);
    inner_.reset();
  }

 private:
  std::unique_ptr<fabric::MemoryRegion> inner_;
  std::mutex* mutex_;
};
}  // namespace

struct SimCluster::Member {
  fabric::sim::SimEndpoint* endpoint = nullptr;
  std::unique_ptr<membership::MembershipDriver> driver;  // null once crashed
  RoundCallback on_round;
  std::uint32_t incarnation = 1;
  std::uint64_t epochs_kept = 0;  // its keeper's (the state directory's), across restarts
  bool poked = true;              // run a round at the next pass
};

// Member i seen from its "process" (one incarnation): every call takes the
// cluster's lock, and fails with link_failed once that process crashed.
class SimCluster::Transport final : public RingTransport {
 public:
  Transport(SimCluster& cluster, std::size_t member, std::uint32_t incarnation)
      : cluster_(&cluster), member_(member), incarnation_(incarnation) {}
  ~Transport() override { stop(); }
  void stop() override {
    std::lock_guard lock(cluster_->mutex_);
    if (alive()) cluster_->members_[member_]->on_round = nullptr;
  }
  fabric::NodeId me() const noexcept override { return cluster_->node(member_); }
  std::size_t max_message_bytes() const noexcept override {
    return cluster_->options_.ring.max_message_bytes;
  }

  Status submit(const OutgoingTransportMessage& message) override {
    std::lock_guard lock(cluster_->mutex_);
    if (!alive()) return dead();
    Status s = driver().submit(to_ring(message));
    cluster_->poke(member_);
    return s;
  }
  Status release_through(std::uint64_t seq) override {
    std::lock_guard lock(cluster_->mutex_);
    if (!alive()) return dead();
    Status s = driver().release_through(seq);
    cluster_->poke(member_);
    return s;
  }
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) override {
    std::lock_guard lock(cluster_->mutex_);
    if (!alive()) return dead().error();
    return driver().endpoint().allocate(bytes, fabric::Access::local_only);
  }
  Result<std::unique_ptr<fabric::MemoryRegion>> register_memory(
      std::span<std::byte> memory) override {
    std::lock_guard lock(cluster_->mutex_);
    if (!alive()) return dead().error();
    auto region = driver().endpoint().register_memory(memory, fabric::Access::local_only);
    if (!region) return region.error();
    return std::unique_ptr<fabric::MemoryRegion>(
        std::make_unique<LockedRegion>(std::move(*region), cluster_->mutex_));
  }
  StatusSnapshot status() override {
    std::lock_guard lock(cluster_->mutex_);
    if (!alive()) {
      StatusSnapshot down;
      down.operational = false;
      return down;
    }
    return driver().status();
  }
  SendPathSnapshot send_path() override {
    std::lock_guard lock(cluster_->mutex_);
    if (!alive()) return {};
    return driver().send_path();
  }
  std::vector<std::uint32_t> linked_nodes() override {
    std::lock_guard lock(cluster_->mutex_);
    std::vector<std::uint32_t> out;
    if (!alive()) return out;
    const membership::NodeMask live = driver().membership().live_links();
    for (std::size_t k = 0; k < cluster_->members_.size(); ++k)
      if (k != member_ && membership::has(live, k)) out.push_back(cluster_->node(k));
    return out;
  }

 private:
  // The cluster's lock is held.
  bool alive() const {
    const Member& m = *cluster_->members_[member_];
    return m.driver != nullptr && m.incarnation == incarnation_;
  }
  static Status dead() {
    return make_error(Errc::link_failed, "SimCluster", "this member's process crashed");
  }
  membership::MembershipDriver& driver() { return *cluster_->members_[member_]->driver; }
  SimCluster* cluster_;
  std::size_t member_;
  std::uint32_t incarnation_;
};

SimCluster::SimCluster(const SimClusterOptions& options) : options_(options) {}

Result<std::unique_ptr<SimCluster>> SimCluster::start(const SimClusterOptions& options) {
  if (options.members == 0 || options.members > ring::kMaxMembers) {
    return make_error(Errc::invalid_argument, "SimCluster",
                      "members must be 1.." + std::to_string(ring::kMaxMembers));
  }
  SimClusterOptions o = options;
  for (std::size_t i = 0; i < o.members; ++i)
    o.membership.nodes.push_back(o.first_node + static_cast<fabric::NodeId>(i));
  RC_TRY(ring::validate(o.ring));
  RC_TRY(membership::validate(o.membership, o.ring));
  std::unique_ptr<SimCluster> cluster(new SimCluster(o));
  RC_TRY(cluster->set_up());
  cluster->start_real_ns_ = cluster->real_elapsed_ns();
  cluster->thread_ = std::thread([c = cluster.get()] { c->run(); });
  return cluster;
}

Status SimCluster::make_driver(Member& m) {
  // Its index; during set_up it is not in members_ yet: the next one.
  std::size_t i = 0;
  while (i < members_.size() && members_[i].get() != &m)
    ++i;
  const std::span<std::byte> log =
      i < options_.log_memory.size() ? options_.log_memory[i] : std::span<std::byte>{};
  auto driver =
      membership::MembershipDriver::create(*m.endpoint, options_.ring, options_.membership, log);
  RC_TRY(driver);
  m.driver = std::move(*driver);
  m.driver->set_disconnect([w = world_.get()](fabric::Link& l) { w->disconnect(l); });
  m.driver->keep_epochs_with([&m](std::uint64_t through) {
    m.epochs_kept = std::max(m.epochs_kept, through);
    return true;
  });
  return {};
}

Status SimCluster::set_up() {
  world_ = std::make_unique<fabric::sim::SimWorld>(options_.seed, options_.sim);
  for (std::size_t i = 0; i < options_.members; ++i) {
    auto m = std::make_unique<Member>();
    m->endpoint = &world_->add_endpoint(node(i));
    RC_TRY(make_driver(*m));
    members_.push_back(std::move(m));
  }
  const std::size_t n = members_.size();
  links_.assign(n, std::vector<fabric::Link*>(n, nullptr));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      Member& a = *members_[i];
      Member& b = *members_[j];
      auto pair = world_->connect(*a.endpoint, a.driver->connect_info(a.incarnation), *b.endpoint,
                                  b.driver->connect_info(b.incarnation));
      RC_TRY(pair);
      links_[i][j] = pair->a_to_b;
      links_[j][i] = pair->b_to_a;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    RC_TRY(members_[i]->driver->start(links_[i]));
  return {};
}

// --- Faults.

void SimCluster::crash(std::size_t member) {
  RC_ASSERT(member < members_.size());
  std::lock_guard lock(mutex_);
  Member& m = *members_[member];
  if (m.driver == nullptr) return;
  world_->crash(node(member));
  m.on_round = nullptr;
  // Its memory stays until the cluster goes: writes on the wire may land.
  graveyard_.push_back(std::move(m.driver));
  wake_.notify_all();
}

// A new process for a crashed member, as fault_sim_run does it: the others
// drop their old links to it (a new incarnation connecting tells a runtime
// so), it starts alone with an epoch floor above its old rings', and the
// reconnection and merge detection bring it in.
Status SimCluster::restart(std::size_t member) {
  RC_ASSERT(member < members_.size());
  std::lock_guard lock(mutex_);
  Member& m = *members_[member];
  if (m.driver != nullptr) {
    return make_error(Errc::invalid_argument, "SimCluster::restart",
                      "member " + std::to_string(member) + " is running");
  }
  for (std::size_t j = 0; j < members_.size(); ++j) {
    if (links_[j][member] != nullptr && members_[j]->driver != nullptr)
      world_->disconnect(*links_[j][member]);
    links_[j][member] = links_[member][j] = nullptr;
  }
  m.endpoint = &world_->restart(node(member));
  ++m.incarnation;
  RC_TRY(make_driver(m));
  const std::vector<fabric::Link*> links = link_restarted(member);
  RC_TRY(m.driver->start_joining(links, membership::epoch_floor(m.incarnation, m.epochs_kept)));
  next_reconnect_ns_ = world_->now_ns();
  poke(member);
  return {};
}

// A runtime's start-up links first (LinkKeeper::gather): the new process
// starts with links to the running members that saw its old link fail and
// that the network lets it reach. The others come later (reconnect).
std::vector<fabric::Link*> SimCluster::link_restarted(std::size_t member) {
  std::vector<fabric::Link*> links(members_.size(), nullptr);
  Member& a = *members_[member];
  for (std::size_t j = 0; j < members_.size(); ++j) {
    Member& b = *members_[j];
    if (j == member || b.driver == nullptr) continue;
    if (membership::has(b.driver->membership().live_links(), member)) continue;
    auto pair = world_->connect(*a.endpoint, a.driver->connect_info(a.incarnation), *b.endpoint,
                                b.driver->connect_info(b.incarnation));
    if (!pair) continue;  // cut off
    links_[member][j] = links[j] = pair->a_to_b;
    links_[j][member] = pair->b_to_a;
    Status s = b.driver->add_link(member, pair->b_to_a);
    RC_ASSERT(s.ok());
    poke(j);
  }
  return links;
}

void SimCluster::partition(std::span<const std::size_t> side) {
  std::lock_guard lock(mutex_);
  std::vector<fabric::NodeId> one, other;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const bool in = std::find(side.begin(), side.end(), i) != side.end();
    (in ? one : other).push_back(node(i));
  }
  world_->partition(one, other);
  wake_.notify_all();
}

void SimCluster::heal() {
  std::lock_guard lock(mutex_);
  world_->heal();
  next_reconnect_ns_ = world_->now_ns();
  wake_.notify_all();
}

bool SimCluster::crashed(std::size_t member) const {
  std::lock_guard lock(mutex_);
  return members_[member]->driver == nullptr;
}

std::vector<fabric::NodeId> SimCluster::ring_members(std::size_t member) const {
  std::lock_guard lock(mutex_);
  const Member& m = *members_[member];
  if (m.driver == nullptr) return {};
  return m.driver->membership().ring_members();
}

std::string SimCluster::describe(std::size_t member) const {
  std::lock_guard lock(mutex_);
  const Member& m = *members_[member];
  if (m.driver == nullptr) return "crashed";
  const membership::Membership& d = m.driver->membership();
  std::string text = std::string(membership::phase_name(d.phase())) + " ring " +
                     std::to_string(d.ring_id().representative) + "/" +
                     std::to_string(d.ring_id().epoch) + " members";
  for (fabric::NodeId n : d.ring_members())
    text += " " + std::to_string(n);
  char links[32];
  std::snprintf(links, sizeof links, " links 0x%llx",
                static_cast<unsigned long long>(d.live_links()));
  return text + links + " (pairs down " + std::to_string(pairs_down_) + ")";
}

// What a runtime does (see fault_sim_run.cpp): a pair of running members
// whose link is down at both ends gets a new connection once the network
// lets it through; when only one end saw the failure, the other drops its
// old link (on RC an idle end may never notice). Counts the pairs down.
void SimCluster::reconnect() {
  pairs_down_ = 0;
  const bool act = world_->now_ns() >= next_reconnect_ns_;
  if (act) next_reconnect_ns_ = world_->now_ns() + kReconnectIntervalNs;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    for (std::size_t j = i + 1; j < members_.size(); ++j) {
      Member& a = *members_[i];
      Member& b = *members_[j];
      if (a.driver == nullptr || b.driver == nullptr) continue;
      const bool a_up = membership::has(a.driver->membership().live_links(), j);
      const bool b_up = membership::has(b.driver->membership().live_links(), i);
      if (a_up && b_up) continue;
      ++pairs_down_;
      if (act) reconnect_pair(i, j);
    }
  }
}

void SimCluster::reconnect_pair(std::size_t i, std::size_t j) {
  Member& a = *members_[i];
  Member& b = *members_[j];
  const bool a_up = membership::has(a.driver->membership().live_links(), j);
  const bool b_up = membership::has(b.driver->membership().live_links(), i);
  if (a_up || b_up) {
    fabric::Link* old = a_up ? links_[i][j] : links_[j][i];
    if (old != nullptr) world_->disconnect(*old);
    return;
  }
  auto pair = world_->connect(*a.endpoint, a.driver->connect_info(a.incarnation), *b.endpoint,
                              b.driver->connect_info(b.incarnation));
  if (!pair) return;  // still cut off
  links_[i][j] = pair->a_to_b;
  links_[j][i] = pair->b_to_a;
  // Both ends saw the old link fail, so add_link cannot refuse.
  Status sa = a.driver->add_link(j, pair->a_to_b);
  Status sb = b.driver->add_link(i, pair->b_to_a);
  RC_ASSERT(sa.ok() && sb.ok());
  poke(i);
  poke(j);
}

SimCluster::~SimCluster() {
  stop();
}

void SimCluster::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

fabric::NodeId SimCluster::node(std::size_t member) const noexcept {
  return options_.first_node + static_cast<fabric::NodeId>(member);
}

std::unique_ptr<RingTransport> SimCluster::attach(std::size_t member, RoundCallback on_round) {
  RC_ASSERT(member < members_.size());
  std::lock_guard lock(mutex_);
  auto t = std::make_unique<Transport>(*this, member, members_[member]->incarnation);
  RC_ASSERT(!members_[member]->on_round);
  members_[member]->on_round = std::move(on_round);
  poke(member);
  return t;
}

void SimCluster::poke(std::size_t member) {
  members_[member]->poked = true;
  wake_.notify_all();
}

std::uint64_t SimCluster::real_elapsed_ns() const {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
             std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()) -
         start_real_ns_;
}

// The earliest virtual time at which anything is due: a fabric event or a
// member's deadline (0 when a member was poked).
std::uint64_t SimCluster::next_due_ns() const {
  std::uint64_t due = world_->next_event_ns().value_or(ring::kNever);
  if (pairs_down_ > 0) due = std::min(due, next_reconnect_ns_);
  for (const auto& m : members_) {
    if (m->driver == nullptr) continue;
    if (m->poked || m->endpoint->pending_completions() > 0) return 0;
    due = std::min(due, m->driver->next_deadline_ns());
  }
  return due;
}

// Runs every event and round due up to target_ns (virtual): moves the clock
// to the next thing due (a fabric event or a member's deadline), runs the
// events of that instant, then the rounds of the members that have work.
// Bounded, so that application threads get the lock between calls.
bool SimCluster::run_due(std::uint64_t target_ns) {
  bool did = false;
  bool moved = true;  // the last pass moved virtual time
  for (int pass = 0; pass < 64; ++pass) {
    const std::uint64_t due = next_due_ns();
    if (due > target_ns) break;
    const std::uint64_t before = world_->now_ns();
    world_->run_until(std::max(due, before));
    // A member due at once but stuck on its outbox (chains the link
    // refused) would hold the clock, and the writes that drain the link
    // would never land: after a pass that moved nothing, the fabric
    // reaches its next event.
    const bool poked = std::any_of(members_.begin(), members_.end(),
                                   [](const auto& m) { return m->driver != nullptr && m->poked; });
    if (!moved && !poked) {
      if (auto next = world_->next_event_ns()) world_->run_until(*next);
    }
    const std::uint64_t now = world_->now_ns();
    for (auto& m : members_) {
      if (m->driver == nullptr) continue;
      if (!m->poked && m->endpoint->pending_completions() == 0 &&
          m->driver->next_deadline_ns() > now) {
        continue;
      }
      m->poked = false;
      m->driver->progress();
      if (m->on_round) {
        MembershipEvents events(*m->driver);
        m->on_round(events);
      }
    }
    // After the rounds, which take in link failures: pairs_down_ then
    // schedules the next attempt (next_due_ns).
    reconnect();
    did = true;
    moved = world_->now_ns() != before;
  }
  return did;
}

void SimCluster::pause() {
  std::lock_guard lock(mutex_);  // the thread is between passes or waiting
  paused_ = true;
}

void SimCluster::resume() {
  std::lock_guard lock(mutex_);
  paused_ = false;
  wake_.notify_all();
}

void SimCluster::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (paused_) {
      wake_.wait(lock);
      continue;
    }
    const std::uint64_t target = std::max(world_->now_ns(), real_elapsed_ns());
    if (run_due(target)) {
      // Let the application threads in before the next pass.
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
      continue;
    }
    const std::uint64_t due = next_due_ns();
    const std::uint64_t wait_ns =
        due <= target ? 0 : std::min<std::uint64_t>(due - target, 100'000'000);
    wake_.wait_for(lock, std::chrono::nanoseconds(std::max<std::uint64_t>(wait_ns, 1000)));
  }
}

}  // namespace ringcast::runtime
