#include "raw_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "ipc/doorbell.hpp"

namespace ringcast::daemon_test {

using namespace std::chrono_literals;

Result<UniqueFd> connect_to(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return system_error("socket", errno, path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return system_error("connect", errno, path);
  RC_TRY(ipc::send_hello(fd.get(), ::getpid()));
  return fd;
}

Result<std::unique_ptr<RawClient>> RawClient::connect(const std::string& path) {
  auto fd = connect_to(path);
  if (!fd) return fd.error();
  auto channel = ipc::receive_welcome(fd->get());
  if (!channel) return channel.error();
  return std::unique_ptr<RawClient>(new RawClient(std::move(*fd), std::move(*channel)));
}

bool RawClient::push(std::span<const std::byte> frame) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    const Status s = channel_.requests->push(frame);
    if (s.ok()) return true;
    if (s.error().code != Errc::try_again || std::chrono::steady_clock::now() > end) return false;
    read();  // the daemon may wait for room in the event ring
    std::this_thread::sleep_for(50us);
  }
}

bool RawClient::send(ipc::RequestBody body, std::uint64_t request_id) {
  ipc::EncodedFrame f;
  ipc::encode(ipc::Request{request_id, std::move(body)}, f);
  return push(f.joined());
}

std::optional<Got> RawClient::call(ipc::RequestBody body, std::chrono::milliseconds timeout) {
  const std::uint64_t id = next_id();
  if (!send(std::move(body), id)) return std::nullopt;
  if (!read_until([&] { return reply_to(id).has_value(); }, timeout)) return std::nullopt;
  return reply_to(id);
}

std::uint64_t RawClient::mcast(std::uint64_t handle, std::string_view payload,
                               std::uint32_t guarantee, bool credited) {
  const auto* bytes = reinterpret_cast<const std::byte*>(payload.data());
  std::span<const std::byte> rest(bytes, payload.size());
  const std::size_t room = channel_.welcome.max_frame_bytes - 64;
  while (rest.size() > room) {
    send(ipc::McastPart{handle, rest.first(room)}, 0);
    rest = rest.subspan(room);
  }
  const std::uint64_t id = next_id();
  if (credited) {
    send(ipc::McastCredited{handle, guarantee, rest}, id);
  } else {
    send(ipc::Mcast{handle, guarantee, rest}, id);
  }
  return id;
}

std::vector<ipc::McastAck> RawClient::acks() const {
  std::vector<ipc::McastAck> out;
  for (const Got& g : events)
    if (g.type == ipc::MessageType::mcast_ack) out.push_back(g.ack);
  return out;
}

void RawClient::take(const std::vector<std::byte>& frame) {
  ipc::EventLimits limits{channel_.log.bytes().size(),
                          static_cast<std::uint32_t>(channel_.welcome.largest_message_bytes)};
  auto e = ipc::decode_event(frame, limits);
  if (!e) {
    decode_failed = true;
    return;
  }
  Got g;
  g.type = ipc::type_of(e->body);
  g.request_id = e->request_id;
  if (auto* r = std::get_if<ipc::Reply>(&e->body)) {
    g.error = r->error;
    g.value = r->value;
  } else if (auto* m = std::get_if<ipc::ReplyMembers>(&e->body)) {
    g.error = m->error;
    g.members = m->members;
  } else if (auto* it = std::get_if<ipc::ReplyIteration>(&e->body)) {
    g.error = it->error;
    g.value = it->entries.size();
  } else if (auto* p = std::get_if<ipc::DeliverPart>(&e->body)) {
    parts_.append(reinterpret_cast<const char*>(p->payload.data()), p->payload.size());
    return;
  } else if (auto* d = std::get_if<ipc::DeliverInline>(&e->body)) {
    g.handle = d->handle;
    g.group = std::string(d->group.view());
    g.sender = d->sender;
    g.payload = std::move(parts_);
    parts_.clear();
    g.payload.append(reinterpret_cast<const char*>(d->payload.data()), d->payload.size());
  } else if (auto* ref = std::get_if<ipc::DeliverRef>(&e->body)) {
    // The bytes as they are in the log now (copied: the test may release).
    g.handle = ref->handle;
    g.group = std::string(ref->group.view());
    g.sender = ref->sender;
    g.value = ref->delivery_id;
    const std::span<std::byte> log = channel_.log.bytes();
    if (ref->log_offset <= log.size() && ref->length <= log.size() - ref->log_offset)
      g.payload.assign(reinterpret_cast<const char*>(log.data() + ref->log_offset), ref->length);
  } else if (auto* c = std::get_if<ipc::Confchg>(&e->body)) {
    g.handle = c->handle;
    g.group = std::string(c->group.view());
    for (const auto& entry : c->members)
      g.members.push_back(entry.process);
    g.left = c->left;
    g.joined = c->joined;
  } else if (auto* t = std::get_if<ipc::TotemConfchg>(&e->body)) {
    g.handle = t->handle;
    g.ring_seq = t->ring_seq;
  } else if (auto* a = std::get_if<ipc::McastAck>(&e->body)) {
    g.handle = a->handle;
    g.ack = *a;
  } else if (auto* q = std::get_if<ipc::QuorumNotify>(&e->body)) {
    g.handle = q->handle;
    g.value = q->quorate;
    g.ring_seq = q->ring_seq;
    for (std::uint32_t node : q->nodes)
      g.members.push_back({node, 0});
  }
  events.push_back(std::move(g));
}

void RawClient::read(std::chrono::milliseconds wait) {
  ipc::RingConsumer& ring = *channel_.events;
  for (;;) {
    auto got = ring.pop(frame_);
    if (!got) {
      decode_failed = true;
      return;
    }
    if (*got) {
      take(frame_);
      continue;
    }
    if (wait.count() == 0) return;
    ipc::WaitPolicy policy;
    policy.max_sleep_ns = static_cast<std::uint64_t>(wait.count()) * 1'000'000;
    auto more = ipc::wait_for_frames(ring, *channel_.event_bell, policy);
    if (!more || !*more) return;
  }
}

bool RawClient::read_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    read(10ms);
  }
  return true;
}

std::optional<Got> RawClient::reply_to(std::uint64_t request_id) const {
  for (const Got& g : events)
    if (g.request_id == request_id) return g;
  return std::nullopt;
}

std::vector<std::string> RawClient::messages() const {
  std::vector<std::string> out;
  for (const Got& g : events)
    if (g.type == ipc::MessageType::deliver_inline || g.type == ipc::MessageType::deliver_ref)
      out.push_back(g.payload);
  return out;
}

std::vector<Got> RawClient::confchgs() const {
  std::vector<Got> out;
  for (const Got& g : events)
    if (g.type == ipc::MessageType::confchg) out.push_back(g);
  return out;
}

bool RawClient::hung_up(std::chrono::milliseconds wait) const {
  pollfd p{socket_.get(), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  return (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

std::uint64_t RawClient::initialize() {
  auto r = call(ipc::Initialize{});
  return r && r->error == 1 ? r->value : 0;  // CS_OK
}

std::uint32_t RawClient::join(std::uint64_t handle, const std::string& group) {
  auto r = call(ipc::Join{handle, ipc::GroupName::of(group)});
  return r ? r->error : 0xffffffffu;
}

}  // namespace ringcast::daemon_test
