#include "fake_daemon.hpp"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ipc/fd_passing.hpp"

namespace ringcast::testing {

namespace {

// The daemon's deliveries and parts: a frame's payload at most this.
constexpr std::size_t kDeliverFixedBytes = ipc::kFrameHeaderBytes + 8 + 132 + 8 + 8;

void deliver(FakeClient& c, std::span<const std::byte> message, std::uint32_t max_frame) {
  const std::size_t chunk = max_frame - kDeliverFixedBytes;
  std::size_t at = 0;
  for (; message.size() - at > chunk; at += chunk)
    c.send({0, ipc::DeliverPart{kFakeRemoteHandle, message.subspan(at, chunk)}});
  c.send(
      {0,
       ipc::DeliverInline{
           kFakeRemoteHandle, ipc::GroupName::of("fake"), {c.node, c.pid}, message.subspan(at)}});
}

ipc::Confchg confchg_of(const FakeClient& c, const ipc::GroupName& group, bool joined) {
  ipc::Confchg m;
  m.handle = kFakeRemoteHandle;
  m.group = group;
  const ipc::ConfchgEntry self{{c.node, c.pid}, joined ? 1u : 2u};
  if (joined) {
    m.members = {{{c.node, c.pid}, 0}};
    m.joined = {self};
  } else {
    m.left = {self};
  }
  return m;
}

}  // namespace

void FakeClient::send(const ipc::Event& event) {
  ipc::EncodedFrame frame;
  ipc::encode(event, frame);
  const std::span<const std::byte> pieces[] = {frame.fixed, frame.payload};
  while (!channel.events->push(pieces).ok())
    std::this_thread::yield();
}

void FakeClient::send_raw(std::span<const std::byte> frame) {
  while (!channel.events->push(frame).ok())
    std::this_thread::yield();
}

void FakeClient::hang_up() {
  socket.reset();
  finished = true;
}

ipc::McastAck FakeClient::ack_of(std::uint64_t request_id, std::uint64_t bytes) const {
  ipc::McastAck a;
  a.handle = kFakeRemoteHandle;
  a.through = request_id;
  a.messages = request_id == 0 ? 0 : 1;
  a.bytes = bytes;
  a.window_messages = credit_messages;
  a.window_bytes = credit_bytes;
  return a;
}

ipc::QuorumNotify quorum_state(const FakeClient& c) {
  return ipc::QuorumNotify{kFakeRemoteHandle, 1, c.node, 8, {c.node}, {}, {}};
}

void FakeDaemon::answer(FakeClient& c, const ipc::Request& r) {
  const std::uint32_t max_frame = c.channel.sizes.max_frame_bytes;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ipc::McastPart>) {
          c.parts.insert(c.parts.end(), m.payload.begin(), m.payload.end());
          return;
        } else if constexpr (std::is_same_v<T, ipc::Mcast>) {
          c.parts.insert(c.parts.end(), m.payload.begin(), m.payload.end());
          deliver(c, c.parts, max_frame);
          c.parts.clear();
          c.send({r.request_id, ipc::Reply{0, 0}});
        } else if constexpr (std::is_same_v<T, ipc::McastCredited>) {
          c.parts.insert(c.parts.end(), m.payload.begin(), m.payload.end());
          deliver(c, c.parts, max_frame);
          c.send({0, c.ack_of(r.request_id, c.parts.size())});
          c.parts.clear();
        } else if constexpr (std::is_same_v<T, ipc::Join> || std::is_same_v<T, ipc::Leave>) {
          c.send({r.request_id, ipc::Reply{0, 0}});
          c.send({0, confchg_of(c, m.group, std::is_same_v<T, ipc::Join>)});
        } else if constexpr (std::is_same_v<T, ipc::Initialize>) {
          c.send({r.request_id, ipc::Reply{0, kFakeRemoteHandle}});
          if (c.credit_messages > 0) c.send({0, c.ack_of(0, 0)});
          if (m.flags != 0) c.send({0, ipc::TotemConfchg{kFakeRemoteHandle, c.node, 8, {c.node}}});
        } else if constexpr (std::is_same_v<T, ipc::MembershipGet>) {
          c.send({r.request_id, ipc::ReplyMembers{0, {{c.node, c.pid}}}});
        } else if constexpr (std::is_same_v<T, ipc::LocalGet>) {
          c.send({r.request_id, ipc::Reply{0, c.node}});
        } else if constexpr (std::is_same_v<T, ipc::Iteration>) {
          c.send({r.request_id,
                  ipc::ReplyIteration{0, {{ipc::GroupName::of("fake"), {c.node, c.pid}}}}});
        } else if constexpr (std::is_same_v<T, ipc::Finalize> ||
                             std::is_same_v<T, ipc::QuorumFinalize>) {
          c.send({r.request_id, ipc::Reply{0, 0}});
          c.finished = true;
        } else if constexpr (std::is_same_v<T, ipc::QuorumInitialize>) {
          c.send({r.request_id, ipc::Reply{0, kFakeRemoteHandle}});
        } else if constexpr (std::is_same_v<T, ipc::QuorumGetquorate>) {
          c.send({r.request_id, ipc::Reply{0, 1}});
        } else if constexpr (std::is_same_v<T, ipc::QuorumTrackstart>) {
          if ((m.flags & 3u) != 0) c.send({0, quorum_state(c)});
          c.send({r.request_id, ipc::Reply{0, 0}});
        } else if constexpr (std::is_same_v<T, ipc::QuorumTrackstop>) {
          c.send({r.request_id, ipc::Reply{0, 0}});
        } else if constexpr (!std::is_same_v<T, ipc::Release>) {
          c.send({r.request_id, ipc::Reply{19, 0}});  // CS_ERR_NOT_SUPPORTED
        }
      },
      r.body);
}

FakeDaemon::FakeDaemon(std::string run_dir, std::uint32_t node, ipc::ChannelSizes sizes)
    : path_(run_dir + "/ringcastd-" + std::to_string(node) + ".sock"), node_(node), sizes_(sizes) {
  listener_ = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path_.c_str(), sizeof sun.sun_path - 1);
  ::unlink(path_.c_str());
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0 ||
      ::listen(listener_.get(), 8) != 0)
    std::abort();
  thread_ = std::thread([this] { run(); });
}

FakeDaemon::~FakeDaemon() {
  stop();
}

void FakeDaemon::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  listener_.reset();
  ::unlink(path_.c_str());
}

std::uint64_t FakeDaemon::requests_of(ipc::MessageType type) const {
  std::lock_guard lock(mutex_);
  return counts_[static_cast<std::size_t>(type)];
}

void FakeDaemon::run() {
  while (!stop_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    UniqueFd socket(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (socket.get() >= 0) serve(std::move(socket));
  }
}

bool FakeDaemon::greet(FakeClient& c) {
  if (speak_version_plus_one || refuse_with != 0) {
    std::byte hello[256];
    (void)::recv(c.socket.get(), hello, sizeof hello, 0);
    ipc::EncodedFrame welcome;
    const std::uint32_t version = ipc::kProtocolVersion + (speak_version_plus_one ? 1 : 0);
    ipc::encode(ipc::Event{0, ipc::Welcome{.version = version, .error = refuse_with}}, welcome);
    (void)ipc::send_fds(c.socket.get(), welcome.joined(), {});
    return false;
  }
  auto hello = ipc::receive_hello(c.socket.get());
  if (!hello.ok()) return false;
  c.pid = hello->pid;
  c.node = node_;
  c.credit_messages = credit_messages;
  c.credit_bytes = credit_bytes;
  auto channel = ipc::create_channel(sizes_);
  if (!channel.ok()) return false;
  c.channel = std::move(*channel);
  ipc::Welcome w;
  w.node_id = node_;
  w.atomic_message_bytes = atomic_message_bytes;
  w.largest_message_bytes = largest_message_bytes;
  if (log_bytes != 0 && log_.fd.get() < 0) {
    auto log = ipc::create_sealed_segment("fake-log", log_bytes, ipc::PeerAccess::read_only);
    if (!log) return false;
    log_ = std::move(*log);
    const std::span<std::byte> b = log_.mapping.bytes();
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<std::byte>('a' + i % 26);
  }
  return ipc::send_welcome(c.socket.get(), c.channel, w, log_bytes != 0 ? log_.fd.get() : -1,
                           log_bytes)
      .ok();
}

void FakeDaemon::serve(UniqueFd socket) {
  FakeClient c;
  c.socket = std::move(socket);
  if (!greet(c)) return;
  ++clients_;
  const auto limits = ipc::RequestLimits{0, c.channel.sizes.max_frame_bytes, 0};
  std::vector<std::byte> frame;
  ipc::WaitStats stats;
  struct Count {
    FakeDaemon& d;
    FakeClient& c;
    ipc::WaitStats& stats;
    ~Count() {
      d.event_writes_ += c.channel.events->doorbell_writes();
      d.request_announced_ += stats.announced;
    }
  } count{*this, c, stats};
  while (!stop_ && !c.finished) {
    auto got = c.channel.requests->pop(frame);
    if (!got.ok()) return;
    if (!*got) {
      pollfd p{c.socket.get(), POLLRDHUP, 0};
      if (::poll(&p, 1, 0) > 0) return;  // the client closed
      (void)ipc::wait_for_frames(*c.channel.requests, *c.channel.request_bell, {50'000, 10'000'000},
                                 &stats);
      continue;
    }
    auto request = ipc::decode_request(frame, limits);
    if (!request.ok()) return;
    {
      std::lock_guard lock(mutex_);
      ++counts_[static_cast<std::size_t>(ipc::type_of(request->body))];
    }
    on_request(c, *request);
  }
}

DaemonEnvironment::DaemonEnvironment(const char* mode, const std::string& extra_system,
                                     const std::string& extra_sections) {
  char tmpl[] = "/tmp/ringcast-client-test-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  run_dir_ = dir_ + "/run";
  std::filesystem::create_directory(run_dir_);
  config_ = dir_ + "/ringcast.conf";
  std::ofstream(config_) << "system {\n  run_dir: " << run_dir_ << "\n"
                         << extra_system
                         << "}\nnodelist {\n  node {\n    nodeid: 1\n    address: 127.0.0.1\n"
                         << "  }\n}\n"
                         << extra_sections;
  ::setenv("RINGCAST_CONFIG", config_.c_str(), 1);
  ::setenv("RINGCAST_NODE_ID", "1", 1);
  if (mode != nullptr)
    ::setenv("RINGCAST_MODE", mode, 1);
  else
    ::unsetenv("RINGCAST_MODE");
}

DaemonEnvironment::~DaemonEnvironment() {
  ::unsetenv("RINGCAST_CONFIG");
  ::unsetenv("RINGCAST_NODE_ID");
  ::unsetenv("RINGCAST_MODE");
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace ringcast::testing
