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
//   --path zcb    as cpg, but member 0 sends from a cpg_zcb_alloc buffer
//                 with cpg_zcb_mcast_joined
//
// --atomic sets the ring's atomic size (max_message_bytes; default 1 MiB):
// a larger --size goes in fragments. A send that returns only once the ring
// carried it (in fragments, or zero copy at or above the crossover) is made
// from a thread of its own that takes turns with the stepping thread
// (SenderThread), one message at a time: count both threads
// (--instr-atstart=no).
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
//   cpg-sim-driver --path ring|cpg|zcb|daemon [--members N] [--size BYTES] [--messages N]
//                  [--atomic BYTES]
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
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
#include "ringcast/counters.h"
#include "ringcast/cpg.h"
#include "runtime/driver_events.hpp"

namespace {

using namespace ringcast;

struct Options {
  std::string path = "cpg";
  std::size_t members = 2;
  std::size_t size = 1024;
  std::uint64_t messages = 20000;
  std::size_t atomic = 0;  // the ring's max_message_bytes; 0: its default
  // --credit 0: the daemon grants no credit (every mcast waits for its
  // reply); 1, the default, as ringcastd: mcasts without replies.
  bool credit = true;
};

// --path daemon --credit 0: the daemon grants none, so every mcast waits
// for its reply.
bool g_daemon_credit = true;

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
// watched: every accepted submit is reported (on_accepted, after the
// member's lock is released: the sender thread's turns); a type of its own,
// so that the other paths run the same instructions as without it.
template <bool watched>
class BasicDirectTransport final : public runtime::RingTransport {
 public:
  BasicDirectTransport(Member& m, std::size_t max_bytes) : m_(&m), max_bytes_(max_bytes) {}
  std::uint32_t me() const noexcept override { return m_->endpoint->node(); }
  std::size_t max_message_bytes() const noexcept override { return max_bytes_; }
  Status submit(const runtime::OutgoingTransportMessage& message) override {
    if constexpr (watched) {
      Status s = submit_and_round(message);
      if (s.ok() && on_accepted) on_accepted();
      return s;
    } else {
      return submit_and_round(message);
    }
  }
  std::function<void()> on_accepted;  // watched only
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
  Status submit_and_round(const runtime::OutgoingTransportMessage& message) {
    std::lock_guard lock(*m_->lock);
    Status s = m_->driver->submit(runtime::to_ring(message));
    m_->round_locked();
    return s;
  }

  Member* m_;
  std::size_t max_bytes_;
};

using DirectTransport = BasicDirectTransport<false>;
using WatchedTransport = BasicDirectTransport<true>;

// The world and its members; step() runs what is due at the next instant
// of virtual time.
class Sim {
 public:
  Sim(std::size_t n, const ring::RingConfig& ring) : ring_(ring), world_(1) {
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
    const std::uint64_t before = world_.now_ns();
    if (due != ring::kNever) world_.run_until(std::max(due, world_.now_ns()));
    // A member due at once but stuck on its outbox would hold the clock:
    // after a step that moved nothing, the fabric reaches its next event.
    if (!moved_ && !poked) {
      if (auto next = world_.next_event_ns()) world_.run_until(*next);
    }
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
    moved_ = world_.now_ns() != before;
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
  bool moved_ = true;  // the last step moved virtual time
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
  // The NIC still reads the last zero-copy send's buffer.
  virtual bool buffer_in_flight() { return false; }
  // Calls `f` after every submit member 0's transport accepted.
  virtual void watch_submits(std::function<void()> f) = 0;
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
  void watch_submits(std::function<void()>) override {
    fail("the ring path's submits never wait for the ring");
  }

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

class CpgPath : public Path {
 public:
  // daemon: member 0's handle goes through a ClientServer on its node.
  // watched: member 0's transport reports its submits (watch_submits).
  CpgPath(Sim& sim, bool daemon, bool watched) : sim_(&sim) {
    tallies.resize(sim.size());
    views_.resize(sim.size());
    if (daemon) {
      sim.share_one_lock();
      run_dir_ = std::make_unique<RunDir>(sim.size());
    }
    for (std::size_t i = 0; i < sim.size(); ++i) {
      auto node = client::Node::create();
      sim.member(i).on_round = node->round_callback();
      std::unique_ptr<runtime::RingTransport> transport;
      if (i == 0 && watched) {
        auto t = std::make_unique<WatchedTransport>(sim.member(i), sim.max_message_bytes());
        watched_ = t.get();
        transport = std::move(t);
      } else {
        transport = std::make_unique<DirectTransport>(sim.member(i), sim.max_message_bytes());
      }
      node->attach(std::move(transport));
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
  // What member 0's node copied on send and what the NIC read from zcb
  // buffers (ringcast_counters_get), printed.
  ringcast_counters print_send_counters() const {
    ringcast_counters c{};
    c.size = sizeof c;
    if (ringcast_counters_get(handles_[0], &c) != CS_OK) fail("ringcast_counters_get");
    std::printf("sender: bytes_copied_on_send %llu zero_copy_bytes_from_buffer %llu\n",
                static_cast<unsigned long long>(c.bytes_copied_on_send),
                static_cast<unsigned long long>(c.zero_copy_bytes_from_buffer));
    return c;
  }
  void watch_submits(std::function<void()> f) override {
    if (watched_ == nullptr) fail("this path does not watch its submits");
    watched_->on_accepted = std::move(f);
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

 protected:
  cpg_handle_t sender_handle() const { return handles_[0]; }
  client::Node& sender_node() const { return *nodes_[0]; }

 private:
  void serve(const std::shared_ptr<client::Node>& node) {
    daemon::ServerOptions so;
    so.socket_path = daemon::client_socket_path(run_dir_->dir(), 1);
    so.spin_ns = 0;
    so.max_spin_ns = 0;
    if (!g_daemon_credit) so.quota.max_credit_messages = 0;
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
  WatchedTransport* watched_ = nullptr;  // the node owns it
};

// As CpgPath, but member 0 sends from one cpg_zcb_alloc buffer with
// cpg_zcb_mcast_joined.
class ZeroCopyPath final : public CpgPath {
 public:
  ZeroCopyPath(Sim& sim, std::size_t bytes) : CpgPath(sim, false, true) {
    if (cpg_zcb_alloc(sender_handle(), bytes, &buffer_) != CS_OK) fail("cpg_zcb_alloc");
    std::memset(buffer_, 0, bytes);  // as the copying path's payload
  }
  ~ZeroCopyPath() override { cpg_zcb_free(sender_handle(), buffer_); }
  bool send(const std::vector<std::byte>& payload) override {
    std::memcpy(buffer_, payload.data(), std::min(sizeof(std::uint64_t), payload.size()));
    const cs_error_t e =
        cpg_zcb_mcast_joined(sender_handle(), CPG_TYPE_AGREED, buffer_, payload.size());
    if (e != CS_OK && e != CS_ERR_TRY_AGAIN) fail("cpg_zcb_mcast_joined: " + std::to_string(e));
    return e == CS_OK;
  }
  bool buffer_in_flight() override { return sender_node().zcb_in_flight(buffer_); }

 private:
  void* buffer_ = nullptr;
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

// The thread that makes member 0's sends when a send blocks until the ring
// carried it (a message in fragments, a zero-copy send): it and the
// stepping thread take turns, so what each runs does not depend on timing.
// The stepping thread waits while the call submits (every fragment fits the
// send queue), then steps until every member delivered the message and the
// call returned.
class SenderThread {
 public:
  SenderThread(Path& path, std::size_t size)
      : path_(&path), payload_(size), thread_([this] { run(); }) {
    path.watch_submits([this] {
      std::lock_guard lock(mutex_);
      ++submits_;
      changed_.notify_all();
    });
  }
  ~SenderThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
    path_->watch_submits(nullptr);
  }

  // Sends message `index`; returns once its call returned or it has made
  // `submits` more submits, whichever is first.
  void start(std::uint64_t index, std::uint64_t submits) {
    std::unique_lock lock(mutex_);
    const std::uint64_t until = submits_ + submits;
    next_ = index;
    ++asked_;
    changed_.notify_all();
    wait_locked(lock, [&] { return returned_ == asked_ || submits_ >= until; });
  }
  // Whether the call returned; `wait`: waits for it (no step is due).
  bool returned(bool wait) {
    std::unique_lock lock(mutex_);
    if (wait) wait_locked(lock, [&] { return returned_ == asked_; });
    return returned_ == asked_;
  }
  bool accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  template <typename Pred>
  void wait_locked(std::unique_lock<std::mutex>& lock, Pred pred) {
    // A bound for a bug only: a turn takes microseconds.
    if (!changed_.wait_for(lock, std::chrono::seconds(60), pred))
      fail("the sending thread made no progress in 60 s");
  }
  void run() {
    std::unique_lock lock(mutex_);
    for (std::uint64_t done = 0;;) {
      changed_.wait(lock, [&] { return stop_ || asked_ > done; });
      if (stop_) return;
      ++done;
      std::memcpy(payload_.data(), &next_, std::min(sizeof next_, payload_.size()));
      lock.unlock();
      const bool ok = path_->send(payload_);
      lock.lock();
      accepted_ = ok;
      returned_ = done;
      changed_.notify_all();
    }
  }

  Path* path_;
  std::vector<std::byte> payload_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t next_ = 0;
  std::uint64_t asked_ = 0;
  std::uint64_t returned_ = 0;
  std::uint64_t submits_ = 0;
  bool accepted_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is set
};

// Records member 0's send makes for one message: a fragment each above
// the atomic size (slices of the atomic size less the fragment header).
std::uint64_t records_of(std::size_t size, std::size_t atomic) {
  constexpr std::size_t kFragmentHeaderBytes = 32;
  if (size <= atomic) return 1;
  const std::size_t slice = atomic - kFragmentHeaderBytes;
  return (size + slice - 1) / slice;
}

bool all_delivered(const Path& path, std::uint64_t n) {
  return std::all_of(path.tallies.begin(), path.tallies.end(),
                     [&](const Tally& t) { return t.delivered >= n; });
}

// One message after another, each sent by the sender thread.
bool blocking_loop(Sim& sim, Path& path, SenderThread& sender, const Options& o) {
  const std::uint64_t records = records_of(o.size, sim.max_message_bytes());
  for (std::uint64_t sent = 0; sent < o.messages;) {
    sender.start(sent, records);
    const auto refused = [&] { return sender.returned(false) && !sender.accepted(); };
    while (!refused() && !all_delivered(path, sent + 1)) {
      if (!sim.step()) return false;
      path.deliver();
    }
    while (!sender.returned(!path.buffer_in_flight())) {
      sim.step();
      path.deliver();
    }
    if (sender.accepted()) {
      ++sent;
    } else {  // the ring had no room: it makes some
      sim.step();
      path.deliver();
    }
  }
  return true;
}

// --toggle-collect=*measured_phase* counts the caller's thread only, and
// only in here. The daemon path's connection thread never enters it: with
// --instr-atstart=no, callgrind counts every thread, but only between these
// two requests (no-ops outside valgrind).
// With a sender thread (sends that block), both threads are counted: run
// with --instr-atstart=no; they take turns, each waiting on a condition.
__attribute__((noinline)) bool measured_phase(Sim& sim, Path& path, SenderThread* sender,
                                              const Options& o) {
  CALLGRIND_START_INSTRUMENTATION;
  const bool done = sender ? blocking_loop(sim, path, *sender, o) : measured_loop(sim, path, o);
  CALLGRIND_STOP_INSTRUMENTATION;
  return done;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc)
      fail(
          "usage: cpg-sim-driver --path ring|cpg|zcb|daemon [--members N] [--size B] "
          "[--messages N] [--atomic B] [--credit 0|1]");
    const char* v = argv[++i];
    if (a == "--path") {
      o.path = v;
    } else if (a == "--members") {
      o.members = std::strtoull(v, nullptr, 10);
    } else if (a == "--size") {
      o.size = std::strtoull(v, nullptr, 10);
    } else if (a == "--messages") {
      o.messages = std::strtoull(v, nullptr, 10);
    } else if (a == "--atomic") {
      o.atomic = std::strtoull(v, nullptr, 10);
    } else if (a == "--credit") {
      o.credit = std::strtoull(v, nullptr, 10) != 0;
    } else {
      fail("unknown option " + a);
    }
  }
  if (o.path != "ring" && o.path != "cpg" && o.path != "zcb" && o.path != "daemon")
    fail("--path is ring, cpg, zcb or daemon");
  if (o.members < 1 || o.members > 16 || o.size < 8 || o.messages == 0)
    fail("--members 1..16, --size at least 8, --messages at least 1");
  if (o.atomic != 0 && (o.atomic < 1024 || o.atomic > (std::size_t{64} << 20)))
    fail("--atomic 1 KiB to 64 MiB");
  return o;
}

// The ring's defaults, but for the atomic size; the log and the send
// buffer hold a whole message in fragments (so no fragment's submit waits
// for room, which would make the turns depend on timing).
ring::RingConfig ring_of(const Options& o) {
  ring::RingConfig r;
  if (o.atomic != 0) r.max_message_bytes = static_cast<std::uint32_t>(o.atomic);
  const std::uint64_t room = 2 * std::max<std::uint64_t>(o.size, r.max_message_bytes) + (1u << 20);
  r.send_buffer_bytes = std::max(r.send_buffer_bytes, room);
  r.log_bytes = std::max(r.log_bytes, 2 * room);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  g_daemon_credit = o.credit;
  Sim sim(o.members, ring_of(o));
  if (o.path == "ring" && o.size > sim.max_message_bytes()) fail("--path ring: --size <= --atomic");
  // Sends that return only once the ring carried them: from a thread.
  const bool blocking = o.path == "zcb" || o.size > sim.max_message_bytes();
  if (blocking && o.path == "daemon") fail("--path daemon: --size <= --atomic");
  std::unique_ptr<Path> path;
  if (o.path == "ring") {
    path = std::make_unique<RingPath>(sim);
  } else if (o.path == "zcb") {
    path = std::make_unique<ZeroCopyPath>(sim, o.size);
  } else {
    path = std::make_unique<CpgPath>(sim, o.path == "daemon", blocking);
  }
  std::unique_ptr<SenderThread> sender;
  if (blocking) sender = std::make_unique<SenderThread>(*path, o.size);
  if (!measured_phase(sim, *path, sender.get(), o)) fail("the messages were not all delivered");
  sender.reset();
  std::uint64_t deliveries = 0;
  for (const Tally& t : path->tallies) {
    if (!t.in_order) fail("a member delivered out of order");
    deliveries += t.delivered;
  }
  std::printf("path %s members %zu size %zu messages %llu: deliveries %llu\n", o.path.c_str(),
              o.members, o.size, static_cast<unsigned long long>(o.messages),
              static_cast<unsigned long long>(deliveries));
  if (auto* cpg = dynamic_cast<CpgPath*>(path.get()); cpg && o.path != "daemon") {
    const ringcast_counters c = cpg->print_send_counters();
    // In fragments, every slice goes from the buffer.
    if (o.path == "zcb" && o.size > sim.max_message_bytes() &&
        c.zero_copy_bytes_from_buffer != o.size * o.messages)
      fail("zero copy in fragments: not every byte was read from the buffer");
  }
  return 0;
}
