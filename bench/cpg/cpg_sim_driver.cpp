// cpg-sim-driver: the CPG path against the ring alone, over the simulated
// fabric, in one thread and in virtual time only, so that callgrind counts
// the same instructions on every run (bench/sim-instructions). N members;
// member 0 sends `messages` messages of `size` bytes the way cpgbench's
// throughput loop does (one send, then a dispatch), and every member
// delivers each of them:
//
//   --path ring   the ring alone: submit() on the transport, the round
//                 callback drains the events and releases them at once
//   --path cpg    through the C API: cpg_mcast_joined, cpg_dispatch(ALL) on
//                 every handle, the library's client::Node on the transport
//   --path daemon as cpg, but member 0's handle is in client mode
//                 (RINGCAST_MODE=daemon): its calls go over api/ipc to a
//                 ClientServer (ringcastd's client server, its spin times
//                 0) whose Node runs on member 0's transport; the others
//                 stay embedded
//
// All paths run over the same transport (one lock around the driver, a
// round run in the sender's call as the runtime's submit does), so the
// difference between ring and cpg is the CPG layer. The daemon path has
// real threads (the connection's, besides the caller's): there one lock
// covers the whole simulated world, and the count is the whole process's. The messages carry their
// index; every member checks that it delivers 0, 1, 2, ... in order. Prints "deliveries N" (summed
// over the members); the measured part is measured_phase() (callgrind --toggle-collect), without
// the set-up.
//
//   cpg-sim-driver --path ring|cpg|daemon [--members N] [--size BYTES] [--messages N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <stdlib.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "client/node.hpp"
#include "daemon/client_server.hpp"
#include "fabric/sim/sim_world.hpp"
#include "membership/membership_driver.hpp"
#include "ringcast/cpg.h"
#include "runtime/driver_events.hpp"

namespace {

using namespace ringcast;

struct Options {
  std::string path = "cpg";
  std::size_t members = 2;
  std::size_t size = 1024;
  std::uint64_t messages = 20000;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "cpg-sim-driver: %s\n", what.c_str());
  std::exit(1);
}

// One member: its endpoint, its driver and the lock a runtime holds around
// the driver (taken here too, so that its cost is counted where the real
// one's is). With threads, lock is the world's (Sim::share_one_lock).
struct Member {
  fabric::sim::SimEndpoint* endpoint = nullptr;
  std::unique_ptr<membership::MembershipDriver> driver;
  runtime::RoundCallback on_round;
  std::mutex own_lock;
  std::mutex* lock = &own_lock;
  bool poked = true;

  void round_locked() {
    driver->progress();
    if (on_round) {
      runtime::MembershipEvents events(*driver);
      on_round(events);
    }
  }
};

// The runtime's MembershipNode without its thread: submit runs a round in
// the caller's call (with_driver_round), release_through does not.
class DirectTransport final : public runtime::RingTransport {
 public:
  DirectTransport(Member& m, std::size_t max_bytes) : m_(&m), max_bytes_(max_bytes) {}
  std::uint32_t me() const noexcept override { return m_->endpoint->node(); }
  std::size_t max_message_bytes() const noexcept override { return max_bytes_; }
  Status submit(const runtime::OutgoingTransportMessage& message) override {
    std::lock_guard lock(*m_->lock);
    Status s = m_->driver->submit(runtime::to_ring(message));
    m_->round_locked();
    return s;
  }
  Status release_through(std::uint64_t index) override {
    std::lock_guard lock(*m_->lock);
    m_->poked = true;
    return m_->driver->release_through(index);
  }
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) override {
    std::lock_guard lock(*m_->lock);
    return m_->driver->endpoint().allocate(bytes, fabric::Access::local_only);
  }
  void stop() override {
    std::lock_guard lock(*m_->lock);
    m_->on_round = nullptr;
  }
  StatusSnapshot status() override {
    std::lock_guard lock(*m_->lock);
    return m_->driver->status();
  }
  SendPathSnapshot send_path() override {
    std::lock_guard lock(*m_->lock);
    return m_->driver->send_path();
  }
  std::vector<std::uint32_t> linked_nodes() override { return {}; }

 private:
  Member* m_;
  std::size_t max_bytes_;
};

// The world and its members; step() runs what is due at the next instant
// of virtual time.
class Sim {
 public:
  explicit Sim(std::size_t n) : world_(1) {
    membership::MembershipConfig mc;
    for (std::size_t i = 0; i < n; ++i)
      mc.nodes.push_back(static_cast<fabric::NodeId>(i + 1));
    for (std::size_t i = 0; i < n; ++i) {
      auto m = std::make_unique<Member>();
      m->endpoint = &world_.add_endpoint(static_cast<fabric::NodeId>(i + 1));
      auto d = membership::MembershipDriver::create(*m->endpoint, ring_, mc);
      if (!d) fail(d.error().message());
      m->driver = std::move(*d);
      members_.push_back(std::move(m));
    }
    std::vector<std::vector<fabric::Link*>> links(n, std::vector<fabric::Link*>(n, nullptr));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        Member& a = *members_[i];
        Member& b = *members_[j];
        auto pair = world_.connect(*a.endpoint, a.driver->connect_info(1), *b.endpoint,
                                   b.driver->connect_info(1));
        if (!pair) fail(pair.error().message());
        links[i][j] = pair->a_to_b;
        links[j][i] = pair->b_to_a;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (Status s = members_[i]->driver->start(links[i]); !s.ok()) fail(s.error().message());
    }
  }

  Member& member(std::size_t i) { return *members_[i]; }
  // Another thread calls a transport: one lock guards the whole world (the
  // simulated fabric is not thread-safe), held for a whole step.
  void share_one_lock() {
    world_locked_ = true;
    for (auto& m : members_)
      m->lock = &world_lock_;
  }
  std::size_t size() const { return members_.size(); }
  std::size_t max_message_bytes() const { return ring_.max_message_bytes; }

  // Moves virtual time to the next fabric event or deadline and runs what
  // is due then, and the rounds of the members poked meanwhile (a submit or
  // a release). A poke does not hold the clock: the application's calls
  // take time too, so each pass of the loop lets the fabric move on.
  bool step() {
    if (!world_locked_) return step_with<false>();
    std::lock_guard world(world_lock_);
    return step_with<true>();
  }

 private:
  // world_held: the world's lock is held, so the members' are not taken.
  template <bool world_held>
  bool step_with() {
    const std::uint64_t due = next_due_ns();
    const bool poked =
        std::any_of(members_.begin(), members_.end(), [](const auto& m) { return m->poked; });
    if (due == ring::kNever && !poked) return false;
    if (due != ring::kNever) world_.run_until(std::max(due, world_.now_ns()));
    const std::uint64_t now = world_.now_ns();
    for (auto& m : members_) {
      if (!m->poked && m->endpoint->pending_completions() == 0 &&
          m->driver->next_deadline_ns() > now) {
        continue;
      }
      m->poked = false;
      if constexpr (world_held) {
        m->round_locked();
      } else {
        std::lock_guard lock(m->own_lock);
        m->round_locked();
      }
    }
    return true;
  }

  std::uint64_t next_due_ns() const {
    std::uint64_t due = world_.next_event_ns().value_or(ring::kNever);
    for (const auto& m : members_) {
      if (m->endpoint->pending_completions() > 0) return world_.now_ns();
      due = std::min(due, m->driver->next_deadline_ns());
    }
    return due;
  }

  ring::RingConfig ring_;
  std::mutex world_lock_;
  bool world_locked_ = false;
  fabric::sim::SimWorld world_;
  std::vector<std::unique_ptr<Member>> members_;
};

// What a member delivered: how many, and whether in order.
struct Tally {
  std::uint64_t delivered = 0;
  bool in_order = true;
  void take(const void* payload, std::size_t bytes) {
    std::uint64_t index = ~std::uint64_t{0};
    if (bytes >= sizeof index) std::memcpy(&index, payload, sizeof index);
    in_order = in_order && index == delivered;
    ++delivered;
  }
};

// A path: send one message if the ring takes it, deliver what is pending.
class Path {
 public:
  virtual ~Path() = default;
  virtual bool send(const std::vector<std::byte>& payload) = 0;
  virtual void deliver() = 0;
  // Messages another thread still carries to a member (the daemon's).
  virtual bool in_flight() const { return false; }
  std::vector<Tally> tallies;
};

class RingPath final : public Path {
 public:
  explicit RingPath(Sim& sim) {
    tallies.resize(sim.size());
    for (std::size_t i = 0; i < sim.size(); ++i) {
      sim.member(i).on_round = [t = &tallies[i]](runtime::EventSource& events) {
        std::uint64_t last = 0;
        while (auto e = events.next_event()) {
          if (e->change == nullptr) t->take(e->message.payload.data(), e->message.payload.size());
          last = e->index;
        }
        if (last != 0) (void)events.release_through(last);
      };
      transports_.push_back(
          std::make_unique<DirectTransport>(sim.member(i), sim.max_message_bytes()));
    }
  }
  bool send(const std::vector<std::byte>& payload) override {
    runtime::OutgoingTransportMessage m;
    m.payload = payload;
    m.group = 1;
    m.sender_pid = 1;
    return transports_[0]->submit(m).ok();
  }
  void deliver() override {}

 private:
  std::vector<std::unique_ptr<DirectTransport>> transports_;
};

Tally* g_tally = nullptr;  // the member being dispatched

void on_deliver(cpg_handle_t, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  g_tally->take(msg, len);
}

std::size_t g_view_members = 0;
void on_confchg(cpg_handle_t, const cpg_name*, const cpg_address*, size_t members,
                const cpg_address*, size_t, const cpg_address*, size_t) {
  g_view_members = members;
}

// The cluster file and socket directory of the daemon path: the library
// finds the daemon of node 1 through RINGCAST_CONFIG's run_dir.
class RunDir {
 public:
  explicit RunDir(std::size_t members) {
    char dir[] = "/tmp/cpg-sim-driver-XXXXXX";
    if (::mkdtemp(dir) == nullptr) fail("mkdtemp");
    dir_ = dir;
    std::string text = "nodelist {\n";
    for (std::size_t i = 1; i <= members; ++i)
      text += " node {\n  nodeid: " + std::to_string(i) + "\n  address: 10.0.0." +
              std::to_string(i) + "\n }\n";
    text += "}\nauth {\n allow_unauthenticated: yes\n}\nsystem {\n run_dir: " + dir_ + "\n}\n";
    std::FILE* f = std::fopen(file().c_str(), "w");
    if (f == nullptr || std::fputs(text.c_str(), f) < 0 || std::fclose(f) != 0)
      fail("cannot write " + file());
    ::setenv("RINGCAST_CONFIG", file().c_str(), 1);
    ::setenv("RINGCAST_MODE", "daemon", 1);
    ::setenv("RINGCAST_NODE_ID", "1", 1);
  }
  ~RunDir() {
    std::remove(file().c_str());
    std::remove(daemon::client_socket_path(dir_, 1).c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string file() const { return dir_ + "/ringcast.conf"; }
  std::string dir_;
};

class CpgPath final : public Path {
 public:
  // daemon: member 0's handle goes through a ClientServer on its node.
  CpgPath(Sim& sim, bool daemon) : sim_(&sim) {
    tallies.resize(sim.size());
    views_.resize(sim.size());
    if (daemon) {
      sim.share_one_lock();
      run_dir_ = std::make_unique<RunDir>(sim.size());
    }
    for (std::size_t i = 0; i < sim.size(); ++i) {
      auto node = client::Node::create();
      sim.member(i).on_round = node->round_callback();
      node->attach(std::make_unique<DirectTransport>(sim.member(i), sim.max_message_bytes()));
      nodes_.push_back(node);
      if (daemon && i == 0) {
        serve(node);
        handles_.push_back(open_handle());
      } else {
        client::Node::Override use(node);
        handles_.push_back(open_handle());
      }
    }
    join_all();
  }
  ~CpgPath() override {
    for (cpg_handle_t h : handles_)
      cpg_finalize(h);
    if (server_) server_->stop();
  }
  bool send(const std::vector<std::byte>& payload) override {
    iovec iov{const_cast<std::byte*>(payload.data()), payload.size()};
    const cs_error_t e = cpg_mcast_joined(handles_[0], CPG_TYPE_AGREED, &iov, 1);
    if (e != CS_OK && e != CS_ERR_TRY_AGAIN) fail("cpg_mcast_joined: " + std::to_string(e));
    sent_ += e == CS_OK;
    return e == CS_OK;
  }
  void deliver() override {
    for (std::size_t i = 0; i < handles_.size(); ++i) {
      g_tally = &tallies[i];
      g_view_members = views_[i];
      if (cpg_dispatch(handles_[i], CS_DISPATCH_ALL) != CS_OK) fail("cpg_dispatch");
      views_[i] = g_view_members;
    }
  }
  bool in_flight() const override { return server_ && tallies[0].delivered < sent_; }

 private:
  void serve(const std::shared_ptr<client::Node>& node) {
    daemon::ServerOptions so;
    so.socket_path = daemon::client_socket_path(run_dir_->dir(), 1);
    so.spin_ns = 0;
    so.max_spin_ns = 0;
    auto server = daemon::ClientServer::start(node, so);
    if (!server) fail(server.error().message());
    server_ = std::move(*server);
  }

  static cpg_handle_t open_handle() {
    cpg_model_v1_data_t model{};
    model.model = CPG_MODEL_V1;
    model.cpg_deliver_fn = on_deliver;
    model.cpg_confchg_fn = on_confchg;
    cpg_handle_t h = 0;
    if (cpg_model_initialize(&h, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&model),
                             nullptr) != CS_OK)
      fail("cpg_model_initialize");
    return h;
  }

  // Every handle joins, and the set-up waits until each saw all of them.
  void join_all() {
    cpg_name group{};
    group.length = 8;
    std::memcpy(group.value, "cpgbench", 8);
    for (cpg_handle_t h : handles_) {
      cs_error_t e;
      for (int tries = 0; (e = cpg_join(h, &group)) == CS_ERR_TRY_AGAIN && tries < 100'000;
           ++tries) {
        sim_->step();
        std::this_thread::yield();
      }
      if (e != CS_OK) fail("cpg_join: " + std::to_string(e));
    }
    for (int i = 0; i < 1'000'000; ++i) {
      deliver();
      if (std::all_of(views_.begin(), views_.end(),
                      [&](std::size_t n) { return n == handles_.size(); }))
        return;
      if (!sim_->step() && !server_) break;
      if (server_) std::this_thread::yield();
    }
    fail("the handles did not all join");
  }

  Sim* sim_;
  std::unique_ptr<RunDir> run_dir_;
  std::vector<std::shared_ptr<client::Node>> nodes_;
  std::unique_ptr<daemon::ClientServer> server_;
  std::vector<cpg_handle_t> handles_;
  std::vector<std::size_t> views_;
  std::uint64_t sent_ = 0;
};

// The loop callgrind measures.
bool measured_loop(Sim& sim, Path& path, const Options& o) {
  std::vector<std::byte> payload(o.size);
  std::uint64_t sent = 0;
  const std::uint64_t bound = o.messages * 1000 + 1'000'000;
  for (std::uint64_t pass = 0; pass < bound; ++pass) {
    if (sent < o.messages) {
      std::memcpy(payload.data(), &sent, std::min(sizeof sent, payload.size()));
      if (path.send(payload)) ++sent;
    }
    const bool stepped = sim.step();
    path.deliver();
    const bool done = std::all_of(path.tallies.begin(), path.tallies.end(),
                                  [&](const Tally& t) { return t.delivered >= o.messages; });
    if (done) return true;
    if (!stepped && path.in_flight()) {
      std::this_thread::yield();  // the daemon's thread has the messages
      continue;
    }
    if (!stepped && sent == o.messages) break;
  }
  std::fprintf(stderr, "cpg-sim-driver: sent %llu of %llu; delivered",
               static_cast<unsigned long long>(sent), static_cast<unsigned long long>(o.messages));
  for (const Tally& t : path.tallies)
    std::fprintf(stderr, " %llu", static_cast<unsigned long long>(t.delivered));
  std::fprintf(stderr, "\n");
  return false;
}

// --toggle-collect=*measured_phase* counts the caller's thread only, and
// only in here. The daemon path's connection thread never enters it: with
// --instr-atstart=no, callgrind counts every thread, but only between these
// two requests (no-ops outside valgrind).
__attribute__((noinline)) bool measured_phase(Sim& sim, Path& path, const Options& o) {
  CALLGRIND_START_INSTRUMENTATION;
  const bool done = measured_loop(sim, path, o);
  CALLGRIND_STOP_INSTRUMENTATION;
  return done;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc)
      fail(
          "usage: cpg-sim-driver --path ring|cpg|daemon [--members N] [--size B] "
          "[--messages N]");
    const char* v = argv[++i];
    if (a == "--path") {
      o.path = v;
    } else if (a == "--members") {
      o.members = std::strtoull(v, nullptr, 10);
    } else if (a == "--size") {
      o.size = std::strtoull(v, nullptr, 10);
    } else if (a == "--messages") {
      o.messages = std::strtoull(v, nullptr, 10);
    } else {
      fail("unknown option " + a);
    }
  }
  if (o.path != "ring" && o.path != "cpg" && o.path != "daemon")
    fail("--path is ring, cpg or daemon");
  if (o.members < 1 || o.members > 16 || o.size < 8 || o.messages == 0)
    fail("--members 1..16, --size at least 8, --messages at least 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Sim sim(o.members);
  std::unique_ptr<Path> path;
  if (o.path == "ring") {
    path = std::make_unique<RingPath>(sim);
  } else {
    path = std::make_unique<CpgPath>(sim, o.path == "daemon");
  }
  if (!measured_phase(sim, *path, o)) fail("the messages were not all delivered");
  std::uint64_t deliveries = 0;
  for (const Tally& t : path->tallies) {
    if (!t.in_order) fail("a member delivered out of order");
    deliveries += t.delivered;
  }
  std::printf("path %s members %zu size %zu messages %llu: deliveries %llu\n", o.path.c_str(),
              o.members, o.size, static_cast<unsigned long long>(o.messages),
              static_cast<unsigned long long>(deliveries));
  return 0;
}
