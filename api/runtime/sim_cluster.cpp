#include "runtime/sim_cluster.hpp"

#include <algorithm>
#include <chrono>

#include "fabric/sim/sim_world.hpp"
#include "membership/member_driver.hpp"
#include "runtime/driver_events.hpp"

namespace ringcast::runtime {

struct SimCluster::Member {
  fabric::sim::SimEndpoint* endpoint = nullptr;
  std::unique_ptr<membership::MemberDriver> driver;
  RoundCallback on_round;
  bool poked = true;  // run a round at the next pass
};

// Member i seen from its "process": every call takes the cluster's lock.
class SimCluster::Transport final : public RingTransport {
 public:
  Transport(SimCluster& cluster, std::size_t member) : cluster_(&cluster), member_(member) {}
  ~Transport() override {
    std::lock_guard lock(cluster_->mutex_);
    cluster_->members_[member_]->on_round = nullptr;
  }
  fabric::NodeId me() const noexcept override { return cluster_->node(member_); }
  const ring::RingConfig& ring_config() const noexcept override { return cluster_->options_.ring; }

  Status submit(const ring::OutgoingMessage& message) override {
    std::lock_guard lock(cluster_->mutex_);
    Status s = driver().submit(message);
    cluster_->poke(member_);
    return s;
  }
  Status release_through(std::uint64_t seq) override {
    std::lock_guard lock(cluster_->mutex_);
    Status s = driver().release_through(seq);
    cluster_->poke(member_);
    return s;
  }
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) override {
    std::lock_guard lock(cluster_->mutex_);
    return driver().endpoint().allocate(bytes, fabric::Access::local_only);
  }
  TransportStatus status() override {
    std::lock_guard lock(cluster_->mutex_);
    return status_of(driver().member());
  }
  SendPathState send_path() override {
    std::lock_guard lock(cluster_->mutex_);
    const auto& ring = driver().member().ring();
    return send_path_of(ring.send_queue(), cluster_->options_.ring.send_buffer_bytes);
  }

 private:
  membership::MemberDriver& driver() { return *cluster_->members_[member_]->driver; }
  SimCluster* cluster_;
  std::size_t member_;
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

Status SimCluster::set_up() {
  world_ = std::make_unique<fabric::sim::SimWorld>(options_.seed, options_.sim);
  for (std::size_t i = 0; i < options_.members; ++i) {
    auto m = std::make_unique<Member>();
    m->endpoint = &world_->add_endpoint(node(i));
    auto driver =
        membership::MemberDriver::create(*m->endpoint, options_.ring, options_.membership);
    RC_TRY(driver);
    m->driver = std::move(*driver);
    m->driver->set_disconnect([w = world_.get()](fabric::Link& l) { w->disconnect(l); });
    members_.push_back(std::move(m));
  }
  const std::size_t n = members_.size();
  std::vector<fabric::Link*> links(n * n, nullptr);  // row i: member i's links
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      Member& a = *members_[i];
      Member& b = *members_[j];
      auto pair = world_->connect(*a.endpoint, a.driver->connect_info(1), *b.endpoint,
                                  b.driver->connect_info(1));
      RC_TRY(pair);
      links[i * n + j] = pair->a_to_b;
      links[j * n + i] = pair->b_to_a;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    RC_TRY(members_[i]->driver->start(std::span(links).subspan(i * n, n)));
  return {};
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
  auto t = std::make_unique<Transport>(*this, member);
  std::lock_guard lock(mutex_);
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
  for (const auto& m : members_) {
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
  for (int pass = 0; pass < 64; ++pass) {
    const std::uint64_t due = next_due_ns();
    if (due > target_ns) break;
    world_->run_until(std::max(due, world_->now_ns()));
    const std::uint64_t now = world_->now_ns();
    for (auto& m : members_) {
      if (!m->poked && m->endpoint->pending_completions() == 0 &&
          m->driver->next_deadline_ns() > now) {
        continue;
      }
      m->poked = false;
      m->driver->progress();
      if (m->on_round) {
        MemberEvents events(*m->driver);
        m->on_round(events);
      }
    }
    did = true;
  }
  return did;
}

void SimCluster::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
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
