// Harness of the RDMA tests: where the device and addresses come from, the
// skip-or-fail rule, and two-process runs.
//
// The gtest process itself never opens an RDMA resource: rdma_cm keeps device
// contexts open for the life of a process, and a child forked after that
// would share them. So every scenario runs in forked children (a "server"
// and a "client" talking over a socketpair) and the parent only judges their
// reports.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fabric/verbs/endpoint.hpp"

namespace ringcast::test {

using fabric::Completion;
using fabric::CompletionType;

struct RdmaEnv {
  std::string device;              // RINGCAST_RDMA_DEVICE, else the first device
  std::vector<std::string> addrs;  // RINGCAST_RDMA_ADDRS, else discovered
  int gid_index = -1;              // RINGCAST_GID_INDEX
  const std::string& server_addr() const { return addrs.front(); }
  const std::string& client_addr() const { return addrs.size() > 1 ? addrs[1] : addrs.front(); }
};

// nullopt: no device here. Addresses are discovered in a child process.
std::optional<RdmaEnv> rdma_env();
bool softroce_required();  // RINGCAST_SOFTROCE=1: a missing device is a failure

// Skips (or, under ci/softroce-run, fails) the test when there is no device.
#define RINGCAST_REQUIRE_RDMA(env)                                                    \
  auto env##_found = ::ringcast::test::rdma_env();                                    \
  if (!env##_found) {                                                                 \
    if (::ringcast::test::softroce_required()) {                                      \
      FAIL() << "RINGCAST_SOFTROCE=1 but no RDMA device (or no address on it) found"; \
    }                                                                                 \
    GTEST_SKIP() << "skipped: no RDMA device";                                        \
  }                                                                                   \
  const ::ringcast::test::RdmaEnv& env = *env##_found

// The socketpair end a child talks to its peer child through: short text
// messages, one per line, each wait bounded.
class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  bool send(const std::string& message);
  // "" with *ok = false on timeout or a closed peer.
  std::string receive(int timeout_ms, bool* ok);

 private:
  int fd_;
  std::string buffer_;
};

// A scenario body: returns "" when everything held, else what failed.
using Body = std::function<std::string(Channel&)>;

struct PairReport {
  std::string server;
  std::string client;
};
// Forks a server and a client child, connected by a socketpair, and waits
// (at most timeout_s) for both. A child that crashes or hangs is reported.
PairReport run_pair(const Body& server, const Body& client, int timeout_s = 120);
std::string run_one(const Body& body, int timeout_s = 60);

// For bodies: the first failed check returns its description.
std::string failure(const char* file, int line, const char* what, const std::string& detail);
#define REQUIRE(cond, detail)                                                           \
  do {                                                                                  \
    if (!(cond)) return ::ringcast::test::failure(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)
#define REQUIRE_OK(result)                                                                  \
  do {                                                                                      \
    const auto& rq_ = (result);                                                             \
    if (!rq_.ok())                                                                          \
      return ::ringcast::test::failure(__FILE__, __LINE__, #result, rq_.error().message()); \
  } while (0)

// Endpoint options for `local_ip` on the test device.
fabric::verbs::EndpointOptions endpoint_options(const RdmaEnv& env, fabric::NodeId node,
                                                const std::string& local_ip);

// Busy-polls an endpoint for a test, one completion at a time, keeping what
// a poll returned beyond the one asked for.
class Poller {
 public:
  explicit Poller(fabric::verbs::VerbsEndpoint& ep) : ep_(ep) {}
  // The next completion, waiting up to timeout_ms.
  std::optional<Completion> next(int timeout_ms);
  // The next completion of `type`; the others seen meanwhile go to `skipped`.
  std::optional<Completion> await(CompletionType type, int timeout_ms,
                                  std::vector<Completion>* skipped = nullptr);

 private:
  fabric::verbs::VerbsEndpoint& ep_;
  std::vector<Completion> stash_;
  std::size_t stash_at_ = 0;
};

std::string describe(const Completion& c);

// A ConnectInfo advertising `region` (remote_write) for `node`.
fabric::ConnectInfo connect_info(fabric::NodeId node, const fabric::RemoteRegion& region);

}  // namespace ringcast::test
