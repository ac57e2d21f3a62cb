#include "daemon/run_daemon.hpp"

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "base/log.hpp"
#include "config/cluster_config.hpp"
#include "daemon/client_server.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/daemon_node.hpp"
#include "daemon/detach.hpp"
#include "daemon/member_loop.hpp"
#include "daemon/node_lock.hpp"
#include "daemon/shared_log.hpp"
#include "daemon/status_writer.hpp"
#include "daemon/stop_signals.hpp"

namespace ringcast::daemon {

namespace {

// Absolute, so that paths the file names relative to itself (key_file,
// state_dir) still hold once a background daemon has moved to /.
std::string absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

config::Parsed<config::LocalConfig> load_config(const Options& o) {
  const std::string path =
      absolute(o.config_path.empty() ? config::path_from_environment() : o.config_path);
  if (!o.node_id.empty()) return config::load_local(path, o.node_id, "-n ");
  const char* env = std::getenv(std::string(config::kNodeIdEnv).c_str());
  return config::load_local(path, env != nullptr ? env : "", std::string(config::kNodeIdEnv) + "=");
}

std::string run_dir_of(const config::ClusterConfig& c) {
  return c.system.run_dir.empty() ? config::default_run_dir() : c.system.run_dir;
}

// Once the node is in a ring (or the start failed), the terminal's stderr
// is let go: a background daemon logs to syslog from then on.
struct Starter {
  std::optional<Detached> detached;

  int report(int code) {
    if (!detached) return code;
    detached->report(code);
    use_log_targets(LogTargets{false, true, false});
    detached.reset();
    return code;
  }
};

ServerOptions server_options(const config::LocalConfig& local, const SharedLog* log) {
  ServerOptions o;
  if (log != nullptr) log->share_with(o, local.config.totem.deliver_copy_below_bytes);
  o.socket_path = client_socket_path(run_dir_of(local.config), local.local().nodeid);
  o.sizes.zcb_segment_bytes = local.config.system.client_zcb_segment_bytes;
  // A client may fill its segment: what all clients register together is
  // bounded by the node's zero-copy limit (rdma.zero_copy_max_bytes), as a
  // process's pool is in embedded mode, not by a ceiling per client below it.
  o.quota.max_zcb_bytes = o.sizes.zcb_segment_bytes;
  for (const config::UidGid& entry : local.config.uidgid) {
    if (entry.uid) o.access.uids.push_back(*entry.uid);
    if (entry.gid) o.access.gids.push_back(*entry.gid);
  }
  return o;
}

// Without a shared log the daemon still serves: every delivery is copied.
std::optional<SharedLog> share_log(const config::LocalConfig& local) {
  const std::uint32_t node = local.local().nodeid;
  auto log = create_shared_log(node, local.config.totem.log_size_bytes);
  if (log.ok()) return std::move(*log);
  log_line("node " + std::to_string(node) + ": the receive log cannot be shared with clients (" +
           log.error().message() + "); every delivery is copied into their event rings");
  return std::nullopt;
}

// The clients' socket exists from the start (a program started with the
// daemon waits in its first handle until the node settled, as in embedded
// mode); the status file (for ringcast-cfgtool) while the loop runs ready.
int run_loop(MemberLoop& loop, const config::LocalConfig& local,
             const std::shared_ptr<client::Node>& node, const SharedLog* log, int stop_fd,
             Starter& starter) {
  auto server = ClientServer::start(node, server_options(local, log));
  if (!server.ok()) {
    log_error("node " + std::to_string(local.local().nodeid) +
              " cannot serve clients: " + server.error().message());
    return kExitFailed;
  }
  log_line("clients connect at " + (*server)->path());
  runtime::RingTransport& transport = node->transport();
  StatusWriter status(local, status_path(run_dir_of(local.config), local.local().nodeid));
  MemberLoop::Hooks hooks;
  hooks.on_ready = [&] { starter.report(kExitOk); };
  hooks.on_tick = [&] { status.update(transport, (*server)->counters().list()); };
  hooks.left = [&] { return node->has_left(); };
  // The clients see their socket hang up; their sessions close while the
  // ring still takes their finalizes.
  hooks.on_stop = [&] { (*server)->stop(); };
  const int code = loop.run(transport, stop_fd, hooks);
  (*server)->stop();
  return code;
}

int run_member(const config::LocalConfig& local, Starter& starter) {
  const std::uint32_t node = local.local().nodeid;
  const std::string lock = lock_path(run_dir_of(local.config), node);
  Result<UniqueFd> held = take_node_lock(lock);
  if (!held.ok()) {
    const Error& e = held.error();
    const bool locked = e.code == Errc::try_again;
    log_error("node " + std::to_string(node) +
              " cannot start: " + (locked ? e.detail : e.message()));
    return starter.report(locked ? kExitLocked : kExitFailed);
  }
  Result<UniqueFd> signals = stop_signal_fd();
  if (!signals.ok()) {
    log_error("cannot take the stop signals: " + signals.error().message());
    return starter.report(kExitFailed);
  }
  log_line("ringcastd " RINGCAST_VERSION_STRING ": node " + std::to_string(node) + " of " +
           local.config.file + " starts (lock " + lock + ")");
  MemberLoop loop(std::chrono::milliseconds(local.config.totem.startup_window_ms));
  // Before the member, so that it outlives it (the NIC writes into it).
  std::optional<SharedLog> log = share_log(local);
  auto member = start_node(local, log ? log->memory() : std::span<std::byte>{});
  if (!member.ok()) {
    // open_transport logged the reason at info level; this is the verdict.
    log_error("node " + std::to_string(node) +
              " does not start (exit status 1): " + member.error().message());
    return starter.report(kExitFailed);
  }
  const int code = run_loop(loop, local, *member, log ? &*log : nullptr, signals->get(), starter);
  member->reset();  // closes every link: the others see this node leave now
  log_line("node " + std::to_string(node) + " stopped");
  return starter.report(code);
}

}  // namespace

int run_daemon(const Options& options) {
  use_log_targets(log_targets(true, false));
  auto local = load_config(options);
  if (!local.ok()) {
    log_error(local.error().message());
    return kExitConfig;
  }
  const config::Logging& logging = local->config.logging;
  use_log_targets(log_targets(logging.to_stderr, logging.to_syslog));
  Starter starter;
  if (!options.foreground) {
    auto detached = Detached::detach();
    if (!detached.ok()) {
      log_error("cannot go into the background: " + detached.error().message());
      return kExitFailed;
    }
    starter.detached.emplace(std::move(*detached));
  }
  return run_member(*local, starter);
}

}  // namespace ringcast::daemon
