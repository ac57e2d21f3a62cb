// ringcast's cluster configuration: the file format is documented in
// docs/configuration.md (every key with its unit, default and range).
//
// Three steps, each usable alone:
//   parse()                  text -> Config; pure (no I/O), the fuzzed entry point
//   load()                   reads a file, parses it, reads auth.key_file
//   find_local_node()        which node of the nodelist this process is
// and load_from_environment() does all three the way the library starts:
// RINGCAST_CONFIG (or /etc/ringcast/ringcast.conf), then RINGCAST_NODE_ID or
// the host's interface addresses (getifaddrs).
//
// Every failure is a ConfigError naming the file and line; nothing throws or
// aborts on bad input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/cluster_key.hpp"
#include "config/config_error.hpp"

namespace ringcast::config {

inline constexpr std::string_view kDefaultPath = "/etc/ringcast/ringcast.conf";
inline constexpr std::string_view kConfigEnv = "RINGCAST_CONFIG";
inline constexpr std::string_view kNodeIdEnv = "RINGCAST_NODE_ID";

inline constexpr std::size_t kMaxFileBytes = 1 << 20;  // larger files are refused unread
inline constexpr std::size_t kMaxLineBytes = 4096;     // excluding the newline
inline constexpr std::size_t kMaxNodes = 128;          // CPG_MEMBERS_MAX
inline constexpr std::uint16_t kDefaultPort = 7405;    // rdma_cm port of a node
// The most members one ring holds (the ring's kMaxMembers; the runtime
// checks they agree): the top of totem.relay_min_members.
inline constexpr std::uint32_t kMaxRingMembers = 64;

// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
// stored as IPv4 so that they compare equal to what getifaddrs() reports.
struct IpAddress {
  enum class Family : std::uint8_t { v4, v6 };
  Family family = Family::v4;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4, network order

  // Literal addresses only (no host names, no zone index); nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// The default of totem.zcb_copy_below_bytes: the smallest zero-copy send that
// the NIC reads from its buffer; smaller ones are copied, which costs less
// than a write of their own (docs/performance.md, "Zero copy or a copy").
inline constexpr std::uint32_t kDefaultZcbCopyBelowBytes = 16u << 10;
// Provisional (docs/configuration.md has the ipc-level measurement): below
// this size a copy through the event ring costs under 100 instructions more
// than a deliver_ref, less than the daemon's pin bookkeeping and release.
inline constexpr std::uint32_t kDefaultDeliverCopyBelowBytes = 256;

// The ring's timing and sizing (the `totem` section). Units are in the names.
struct Totem {
  std::uint32_t token_timeout_ms = 1000;
  std::uint32_t token_retransmits_before_loss = 4;
  std::uint32_t consensus_timeout_ms = 1200;  // default: 1.2 x token_timeout_ms
  std::uint32_t join_timeout_ms = 50;
  std::uint32_t max_messages = 64;          // a member's messages per token visit
  std::uint32_t window_size = 256;          // messages per token rotation, all members
  std::uint32_t token_hold_us = 100000;     // how long a holder nobody else needs keeps the token
  std::uint32_t spin_time_us = 50;          // busy-polling before sleeping on the CQ
  std::uint32_t log_size_bytes = 8u << 20;  // receive log per sender
  std::uint32_t max_message_size_bytes = 1u << 20;  // cpg_max_atomic_msgsize_get()
  // The largest CPG message; above max_message_size_bytes it goes in fragments.
  std::uint32_t max_fragmented_message_bytes = 64u << 20;
  // Membership over verbs (runtime::MembershipNode): how long a starting process
  // waits to reach every node before it starts with those it reached (or
  // joins a running ring), and how often it re-dials a node it lost.
  std::uint32_t startup_window_ms = 3000;
  std::uint32_t reconnect_interval_ms = 200;
  // Eviction of a handle that stops dispatching (docs/api.md "Eviction"):
  // evicted once its oldest undispatched message waited handle_unreleased_
  // max_ms while the receive log it holds reached handle_unreleased_max_bytes.
  // Bytes 0: half of log_size_bytes (validation fills it in); ms 0: never.
  std::uint32_t handle_unreleased_max_bytes = 0;
  std::uint32_t handle_unreleased_max_ms = 5000;
  // Before that, a handle holding handle_unreleased_max_bytes has its queued
  // messages copied out of the log, up to this many bytes (0: never).
  std::uint32_t handle_spill_max_bytes = 64u << 20;
  // cpg_zcb_mcast_joined of fewer bytes is copied like cpg_mcast_joined and
  // returns at once; 0: every send up to max_message_size_bytes is zero copy.
  // Unset: the default, at most max_message_size_bytes (validation).
  std::uint32_t zcb_copy_below_bytes = kDefaultZcbCopyBelowBytes;
  // ringcastd copies a delivery of fewer bytes into the client's event ring;
  // from this size on the client reads it in the receive log mapped into it
  // and releases it (docs/architecture.md, "Serving clients").
  std::uint32_t deliver_copy_below_bytes = kDefaultDeliverCopyBelowBytes;
  // A token visit whose records take at least this many log bytes is relayed
  // along the ring instead of written to every member (docs/protocol.md
  // "Relay"); 0: never. The ring's default.
  std::uint32_t relay_min_batch_bytes = 32u << 10;
  // ... and only in a ring of at least this many members (3 to
  // kMaxRingMembers): below 5 the relay's hops cost more than the holder's
  // NIC saves (docs/performance.md). The ring's default.
  std::uint32_t relay_min_members = 5;
};

struct ClusterNode {
  std::uint32_t nodeid = 0;  // 1..2^32-1, unique
  IpAddress address;
  std::uint16_t port = kDefaultPort;       // (address, port) unique
  std::string device;                      // overrides rdma.device when not empty
  std::optional<std::uint16_t> gid_index;  // overrides rdma.gid_index
  std::uint32_t quorum_votes = 1;          // its votes towards quorum (0: none)
  std::uint32_t line = 0;                  // where its `node {` is, for messages
};

// The RDMA device a node uses (the `rdma` section); a node may override it.
struct Rdma {
  std::string device;                      // empty: the first device with an active port
  std::optional<std::uint16_t> gid_index;  // empty: chosen from the node's address
  std::uint8_t port = 1;                   // the device's port number (ibv port)
  // Bound on the memory registered for zero-copy buffers (cpg_zcb_alloc);
  // empty: default_zero_copy_max_bytes().
  std::optional<std::uint64_t> zero_copy_max_bytes;
};

// The default of rdma.zero_copy_max_bytes: what this process may pin, the
// soft RLIMIT_MEMLOCK, unless that is unlimited or the process holds
// CAP_IPC_LOCK (the kernel then pins without counting); and at most a quarter
// of the machine's memory either way, since pinned pages can be neither
// swapped nor reclaimed and the rest of the system needs the other three.
std::uint64_t default_zero_copy_max_bytes();

struct Auth {
  ClusterKey key;        // empty: no authentication (only with allow_unauthenticated)
  std::string key_file;  // as resolved against the config file's directory
  std::uint32_t key_file_line = 0;
  std::uint32_t key_line = 0;  // of an inline key (load() checks its file's owner and mode)
  // auth { allow_unauthenticated: yes }: the file opts out of the key that
  // load() otherwise requires.
  bool allow_unauthenticated = false;
  std::uint32_t allow_unauthenticated_line = 0;
};

// How the quorum API counts votes (the `quorum` section), with the meanings
// of corosync's votequorum options; docs/configuration.md "quorum".
struct Quorum {
  std::uint32_t expected_votes = 0;  // 0 until validate(): the nodes' votes summed
  bool two_node = false;             // quorate with 1 vote of 2
  bool wait_for_all = false;         // validate(): two_node's value unless set
};

// The host's side of a node (the `system` section, as corosync's).
struct System {
  // Where the node keeps what must survive a restart (its incarnation).
  // Empty: default_state_dir().
  std::string state_dir;
  // Where ringcastd keeps what lives as long as it runs (its lock,
  // ringcastd-<nodeid>.lock). Empty: default_run_dir().
  std::string run_dir;
  // How the CPG library of a program reaches the ring: through the node's
  // ringcastd (daemon), or as a ring member itself (embedded). The
  // environment's RINGCAST_MODE, when set, wins over it.
  enum class Mode : std::uint8_t { daemon, embedded };
  Mode mode = Mode::daemon;
  std::uint32_t mode_line = 0;  // 0: not in the file
  // ringcastd: address space of each client's zcb segment (shared memory its
  // cpg_zcb_alloc buffers lie in, registered with the NIC only as they are
  // handed out); 0: none, the library then copies zcb sends.
  std::uint64_t client_zcb_segment_bytes = std::uint64_t{4} << 30;
};

// One `uidgid` section (as corosync's uidgid directive): a user, a group,
// or both, whose processes may use ringcastd besides root and the daemon's
// own user. Names are looked up when the file is parsed.
struct UidGid {
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
};

// Where ringcastd logs (the `logging` section, as corosync's): the library
// in a process of its own (embedded) always logs to stderr.
struct Logging {
  bool to_stderr = true;
  bool to_syslog = false;
};

// /var/lib/ringcast for root; else $XDG_STATE_HOME/ringcast, else
// $HOME/.local/state/ringcast (docs/operations.md "State directory").
std::string default_state_dir();

// /run/ringcast for root; else $XDG_RUNTIME_DIR/ringcast, else
// /tmp/ringcast-<uid> (docs/operations.md "Running ringcastd").
std::string default_run_dir();

struct ClusterConfig {
  std::string file;  // the path or name it was parsed from
  Totem totem;
  System system;
  Logging logging;
  std::vector<ClusterNode> nodes;  // in file order, at least one
  Rdma rdma;
  Auth auth;
  Quorum quorum;
  std::vector<UidGid> uidgid;  // any number of sections, in file order

  // The node with this id, or nullptr.
  const ClusterNode* node(std::uint32_t nodeid) const;
};

// Text to Config. file_name is used in messages and to resolve a relative
// key_file. key_file is only recorded (auth.key_file); load() reads it.
Parsed<ClusterConfig> parse(std::string_view text, std::string_view file_name);

// Reads and parses the file at path (at most kMaxFileBytes), then reads
// auth.key_file if one is named (owner-only permissions required). A file
// without a cluster key is refused unless it says
// auth { allow_unauthenticated: yes } (parse() alone does not require one).
Parsed<ClusterConfig> load(const std::string& path);
// The same without the key: a client of the daemon needs the file's nodes
// and system section only, and may not be allowed to read the key.
Parsed<ClusterConfig> load_unkeyed(const std::string& path);

// $RINGCAST_CONFIG when set and not empty, else kDefaultPath.
std::string path_from_environment();

// The index in config.nodes of this process's node. node_id_env is the value
// of RINGCAST_NODE_ID (empty: unset); when it is unset, the one node whose
// address is among host_addresses.
Parsed<std::size_t> find_local_node(const ClusterConfig& config, std::string_view node_id_env,
                                    std::span<const IpAddress> host_addresses,
                                    std::string_view node_id_source = "RINGCAST_NODE_ID=");

// The addresses of this host's interfaces (getifaddrs), IPv4 and IPv6.
Parsed<std::vector<IpAddress>> host_addresses();

struct LocalConfig {
  ClusterConfig config;
  std::size_t local_index = 0;
  const ClusterNode& local() const { return config.nodes[local_index]; }
};

// load(path_from_environment()), then find_local_node() with
// $RINGCAST_NODE_ID and host_addresses().
Parsed<LocalConfig> load_from_environment();
// load_from_environment() through load_unkeyed(): the node and run_dir a
// client of the daemon connects to.
Parsed<LocalConfig> locate_from_environment();

// load(path), then find_local_node() with node_id (empty: by this host's
// addresses). node_id_source names where node_id came from in messages
// ("RINGCAST_NODE_ID=", or ringcastd's "-n ").
Parsed<LocalConfig> load_local(const std::string& path, std::string_view node_id,
                               std::string_view node_id_source);

}  // namespace ringcast::config
