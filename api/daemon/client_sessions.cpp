#include "daemon/client_sessions.hpp"

#include <algorithm>
#include <string>

#include "base/log.hpp"
#include "base/wire.hpp"

namespace ringcast::daemon {

namespace {

ipc::ProcessId process_of(const cpg::Member& m) {
  return {m.node, m.pid};
}

std::vector<ipc::ConfchgEntry> entries_of(std::span<const cpg::MemberChange> changes) {
  std::vector<ipc::ConfchgEntry> out;
  const std::size_t n = std::min<std::size_t>(changes.size(), ipc::kMaxMembers);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({process_of(changes[i].member), static_cast<std::uint32_t>(changes[i].reason)});
  return out;
}

ipc::Confchg confchg_of(std::uint64_t handle, const cpg::ViewChange& v) {
  ipc::Confchg c;
  c.handle = handle;
  c.group = ipc::GroupName::of(v.group);
  const std::size_t n = std::min<std::size_t>(v.members.size(), ipc::kMaxMembers);
  for (std::size_t i = 0; i < n; ++i)
    c.members.push_back({process_of(v.members[i]), 0});
  c.left = entries_of(v.left);
  c.joined = entries_of(v.joined);
  return c;
}

ipc::TotemConfchg totem_of(std::uint64_t handle, const cpg::RingChange& r) {
  ipc::TotemConfchg t;
  t.handle = handle;
  t.ring_node = r.representative;
  t.ring_seq = r.seq;
  const std::size_t n = std::min<std::size_t>(r.nodes.size(), ipc::kMaxMembers);
  t.nodes.assign(r.nodes.begin(), r.nodes.begin() + static_cast<std::ptrdiff_t>(n));
  return t;
}

}  // namespace

ClientSessions::ClientSessions(std::shared_ptr<client::Node> node, EventWriter& writer,
                               ipc::QuotaLedger& ledger, ServerCounters& counters, pid_t pid,
                               std::span<const std::byte> log, std::uint32_t copy_below)
    : node_(std::move(node)),
      writer_(writer),
      ledger_(ledger),
      counters_(counters),
      pid_(pid),
      log_(log),
      copy_below_(copy_below) {}

ClientSessions::~ClientSessions() {
  close_all();
}

ipc::RequestLimits ClientSessions::limits(std::span<const std::byte> frame) const noexcept {
  const std::uint64_t largest = node_->max_fragmented_bytes();
  ipc::RequestLimits l{0, static_cast<std::uint32_t>(std::min<std::uint64_t>(largest, UINT32_MAX)),
                       0};
  if (frame.size() < 4) return l;
  const auto type = static_cast<ipc::MessageType>(wire::get<std::uint32_t>(frame.data()));
  if (type == ipc::MessageType::zcb_alloc || type == ipc::MessageType::zcb_free ||
      type == ipc::MessageType::zcb_mcast) {
    // A buffer may be as large as the segment: one beyond what the quota
    // leaves is refused by zcb_alloc (CS_ERR_NO_MEMORY), not taken for
    // malformed, since the library knows the segment's size, not the quota.
    if (zcb_) return {zcb_->segment_bytes, l.max_message_bytes, zcb_->segment_bytes};
    l.zcb_segment_bytes = UINT64_MAX;
    l.max_zcb_alloc_bytes = UINT64_MAX;
  }
  return l;
}

cpg::Callbacks ClientSessions::callbacks(std::uint64_t handle) {
  cpg::Callbacks cb;
  EventWriter* w = &writer_;
  cb.on_message = [this, handle](const cpg::Message& m) { deliver_queued(handle, m); };
  cb.on_view_change = [w, handle](const cpg::ViewChange& v) {
    w->put(ipc::Event{0, confchg_of(handle, v)});
  };
  // Always: the library drops it when its program has no totem callback.
  cb.on_ring_change = [w, handle](const cpg::RingChange& r) {
    w->put(ipc::Event{0, totem_of(handle, r)});
  };
  return cb;
}

// A message goes straight into the event ring when it fits one frame and
// the ring has room; anything else (a view, a ring change, a large message,
// a full ring) is queued at the Session and written by this connection's
// dispatch, as every event was before. While one is queued, the Session
// queues the next ones too, so the order in the ring is the queue's.
// A message of at least copy_below_ bytes whole in the log goes by
// reference (held until the client releases it), unless the client holds
// its quota of them already: then it is copied.
client::Session::Sink ClientSessions::sink(std::uint64_t handle) {
  using Taken = client::Session::Taken;
  return [this, handle](const client::Event& e, std::uint64_t ref_id) {
    if (e.kind != client::Event::Kind::message) return Taken::no;
    const ipc::GroupName group = ipc::GroupName::of(*e.group);
    const ipc::ProcessId sender{e.sender.node, e.sender.pid};
    if (auto ref = reference(handle, e.payload, e.payload_bytes); ref && !e.spilled) {
      ref->group = group;
      ref->sender = sender;
      ref->delivery_id = ref_id;
      if (writer_.try_deliver_ref(*ref)) {
        counters_.deliveries_by_reference.fetch_add(1, std::memory_order_relaxed);
        return Taken::held;
      }
    }
    if (!writer_.try_deliver(handle, group, sender, {e.payload, e.payload_bytes})) return Taken::no;
    counters_.direct_deliveries.fetch_add(1, std::memory_order_relaxed);
    return Taken::copied;
  };
}

ClientSessions::Handle* ClientSessions::find(std::uint64_t handle) {
  const auto it = handles_.find(handle);
  return it == handles_.end() ? nullptr : &it->second;
}

void ClientSessions::reply(std::uint64_t request_id, cs_error_t error, std::uint64_t value) {
  writer_.put(ipc::Event{request_id, ipc::Reply{static_cast<std::uint32_t>(error), value}});
}

void ClientSessions::initialize(std::uint64_t request_id, const ipc::Initialize& m) {
  if (size() >= kMaxHandlesPerClient) return reply(request_id, CS_ERR_NO_RESOURCES);
  const std::uint64_t handle = next_handle_++;
  cpg::Callbacks cb = callbacks(handle);
  cb.initial_ring_change = (m.flags & 1u) != 0;  // CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF
  // The client's pid as the kernel gave it (SO_PEERCRED), never its hello's.
  auto session = client::Session::open(node_, std::move(cb), pid_);
  if (!session) return reply(request_id, session.status().code());
  handles_[handle].session = std::move(*session);
  finalized_last_ = false;
  reply(request_id, CS_OK, handle);
  // After the reply: the library learns the handle's id from it.
  handles_[handle].session->set_sink(sink(handle));
  grant(handle);
}

void ClientSessions::finalize(std::uint64_t request_id, const ipc::Finalize& m) {
  Handle* h = find(m.handle);
  if (h == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  // A leave that cannot be sent is logged by the node, as in embedded mode.
  (void)h->session->close();
  drop_held(*h->session);
  forget_credit(*h);
  handles_.erase(m.handle);
  finalized_last_ = size() == 0;
  reply(request_id, CS_OK);
}

void ClientSessions::close_all() {
  for (auto& [id, h] : handles_) {
    (void)h.session->close();
    drop_held(*h.session);
  }
  handles_.clear();
  held_.reset();  // the client is gone: nobody is told
  close_quorum();
}

bool ClientSessions::dispatch_one(std::uint64_t id, Handle& h) {
  const cpg::Status s = h.session->dispatch(cpg::DispatchMode::one_nonblocking);
  if (s.ok()) return true;
  if (s.code() == CS_ERR_TRY_AGAIN) return false;  // nothing pending
  stop_dispatching(id, h, s);
  return false;
}

// Once per handle: bounded by the handles.
void ClientSessions::stop_dispatching(std::uint64_t id, Handle& h, const cpg::Status& why) {
  h.stopped = true;
  if (h.session->evicted()) {
    counters_.evicted.fetch_add(1, std::memory_order_relaxed);
    drop_held(*h.session);
  }
  log_line(LogLevel::warning, "client pid " + std::to_string(pid_) + " handle " +
                                  std::to_string(id) + ": " + why.message());
}

void ClientSessions::notice_evictions() {
  for (auto& [id, h] : handles_)
    if (!h.stopped && h.session->evicted()) stop_dispatching(id, h, h.session->evicted_status());
}

bool ClientSessions::dispatch() {
  bool any = false;
  for (auto& [id, h] : handles_) {
    // Not readable: nothing to run, and no trip through the node's lock.
    while (!h.stopped && h.session->readable() && writer_.idle() && dispatch_one(id, h))
      any = true;
  }
  return dispatch_quorum() || any;
}

void ClientSessions::add_poll_fds(std::vector<pollfd>& fds) const {
  if (!writer_.idle()) return;
  for (const auto& [id, h] : handles_)
    if (!h.stopped) fds.push_back(pollfd{h.session->fd(), POLLIN, 0});
  for (const auto& [id, q] : quorum_)
    fds.push_back(pollfd{q->fd(), POLLIN, 0});
  if (zcb_ && !zcb_->pending.empty()) fds.push_back(pollfd{zcb_->done->get(), POLLIN, 0});
}

}  // namespace ringcast::daemon
