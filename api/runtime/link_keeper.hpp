// LinkKeeper: MembershipNode's connections to the other members, over verbs.
//
// It sets links up as RingNode's mesh does (link_setup.hpp: listen on my
// address, connect to members with a LOWER node id, accept those with a
// HIGHER one, each peer's ConnectInfo vetted, the cluster key's handshake),
// but does not need everyone: at start-up it gathers what it reaches within
// a window, and afterwards goes on accepting (a restarted peer, a healed partition) and
// re-dials, every reconnect_interval_ns, the lower members its owner says are
// missing. Two threads of its own: an acceptor (from listen() on, so that a
// peer's request is answered at once even while this side dials, and a
// dialling peer does not time out and leave a dead half-link behind) and,
// after start(), a dialler. Set-up waits (resolve, connect, the handshake)
// happen there, off the progress thread's hot path; the endpoint lock (the
// progress thread's) is taken only for the steps that touch the endpoint
// (LinkOptions::endpoint_lock), and for destroying links.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "runtime/link_setup.hpp"

namespace ringcast::runtime {

struct KeeperTimes {
  std::uint64_t reconnect_interval_ns = 200'000'000;
  std::uint64_t dial_timeout_ns = 2'000'000'000;  // one connect, or one accepted set-up, at most
};

class LinkKeeper {
 public:
  using Links = std::vector<std::unique_ptr<fabric::Link>>;  // by member index
  // A new link to member `index`, on the keeper's thread: ownership passes.
  using HandOver = std::function<void(std::size_t index, std::unique_ptr<fabric::Link>)>;
  // Whether the owner wants a new link to (lower) member `index` now.
  using Missing = std::function<bool(std::size_t index)>;

  // Listens on my member's address and port (admitting only higher members).
  // The keeper sets the plan's context ("member") and on_peer (it notes each
  // peer's incarnation).
  static Result<std::unique_ptr<LinkKeeper>> listen(fabric::verbs::VerbsEndpoint& ep, LinkPlan plan,
                                                    KeeperTimes times);
  ~LinkKeeper();
  LinkKeeper(const LinkKeeper&) = delete;
  LinkKeeper& operator=(const LinkKeeper&) = delete;

  // Start-up, before start(): dials lower members and accepts higher ones
  // until every other member is linked or the deadline (endpoint clock).
  Links gather(std::uint64_t deadline_ns);
  // The incarnation member `index` advertised at its last link set-up with
  // me (0: none seen).
  std::uint32_t incarnation_of(std::size_t index) const;

  // Set when no link was ever set up here and at least one member refused
  // this node's cluster key (or offered a proof this node refused): the keys
  // differ. Read after gather(), to stop a node with the wrong key at
  // start-up instead of running it alone (MembershipNode::begin).
  std::optional<Error> wrong_key() const;

  void start(HandOver hand_over, Missing missing);
  // Ends both threads (within one accept wait or one dial). Idempotent.
  void stop();

 private:
  struct Arrival {
    std::size_t index = 0;
    std::unique_ptr<fabric::Link> link;
  };
  LinkKeeper(fabric::verbs::VerbsEndpoint& ep, LinkPlan plan, KeeperTimes times);
  void note(const fabric::ConnectInfo& peer, std::size_t index);
  void note_failure(const Error& e);
  std::unique_ptr<fabric::Link> dial(std::size_t index, std::uint64_t timeout_ns);
  Arrival accept_one(std::uint64_t timeout_ns);
  void destroy(std::unique_ptr<fabric::Link> link);
  void run_acceptor();
  void run_dialler();

  fabric::verbs::VerbsEndpoint& ep_;
  LinkPlan plan_;
  KeeperTimes times_;
  std::unique_ptr<fabric::verbs::Listener> listener_;
  mutable std::mutex seen_mutex_;
  std::vector<std::uint32_t> incarnations_;  // by member index, guarded by seen_mutex_
  bool linked_ever_ = false;                 // a link passed set-up; seen_mutex_
  std::uint64_t key_refusals_ = 0;           // set-ups that failed on the key; seen_mutex_
  std::string last_key_refusal_;             // seen_mutex_
  // Arrivals before start() wait here for gather() (at most one per member:
  // a newer one replaces the older); after it they go to hand_over_.
  std::mutex inbox_mutex_;
  std::condition_variable inbox_changed_;
  std::vector<std::unique_ptr<fabric::Link>> inbox_;  // by member index
  HandOver hand_over_;                                // set once by start()
  Missing missing_;
  std::mutex dial_log_mutex_;
  LogLimiter dial_log_;  // failed dials by member, guarded by dial_log_mutex_
  std::thread acceptor_;
  std::thread dialler_;
  std::atomic<bool> stop_{false};
};

}  // namespace ringcast::runtime
