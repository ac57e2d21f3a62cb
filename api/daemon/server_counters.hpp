// What the client server counted (ringcast-cfgtool -s shows them; the
// status file's "counter client_..." lines, docs/operations.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringcast::daemon {

struct ServerCounters {
  std::atomic<std::uint64_t> connected{0};          // clients connected now
  std::atomic<std::uint64_t> accepted{0};           // welcomed, ever
  std::atomic<std::uint64_t> refused{0};            // by their credentials
  std::atomic<std::uint64_t> malformed{0};          // disconnected for a malformed frame
  std::atomic<std::uint64_t> over_quota{0};         // disconnected for a flood
  std::atomic<std::uint64_t> evicted{0};            // handles evicted (stopped reading)
  std::atomic<std::uint64_t> failed_handshakes{0};  // no valid hello, or a version mismatch
  // Zero-copy requests naming no buffer of the client (a wrong offset or
  // length, a double free) or beyond its quota, answered with an error.
  std::atomic<std::uint64_t> zcb_refused{0};
  // Deliveries the node's delivery thread wrote straight into an event ring
  // (the others went through a Session's queue). Not in the status file.
  std::atomic<std::uint64_t> direct_deliveries{0};
  // Deliveries a client reads in the mapped receive log; releases refused
  // (an id never delivered or already released).
  std::atomic<std::uint64_t> deliveries_by_reference{0};
  std::atomic<std::uint64_t> releases_refused{0};
  // Credited mcasts the node refused for good after the library had
  // returned CS_OK (reported to the client by its next mcast). Not in the
  // status file.
  std::atomic<std::uint64_t> credited_refused{0};

  std::vector<std::pair<std::string, std::uint64_t>> list() const {
    auto v = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    return {{"clients_connected", v(connected)},
            {"clients_accepted", v(accepted)},
            {"clients_refused", v(refused)},
            {"clients_malformed", v(malformed)},
            {"clients_over_quota", v(over_quota)},
            {"clients_evicted", v(evicted)},
            {"clients_bad_hello", v(failed_handshakes)},
            {"clients_zcb_refused", v(zcb_refused)},
            {"client_deliveries_by_reference", v(deliveries_by_reference)},
            {"client_releases_refused", v(releases_refused)}};
  }
};

}  // namespace ringcast::daemon
