// The C++ API (ringcast.hpp): in embedded mode over client::Session, the
// same sessions the C API's handles name; in client mode over a
// DaemonBinding, a client-mode handle of the node's ringcastd.
#include <cstring>

#include "client/client_mode.hpp"
#include "client/connection_daemon.hpp"
#include "client/handle_table.hpp"
#include "client/node.hpp"
#include "client/session.hpp"
#include "ringcast/ringcast.hpp"

namespace ringcast::cpg {

namespace {

Status closed() {
  return Status(CS_ERR_BAD_HANDLE, "the connection is closed");
}

// A scoped enum holds any value of its underlying type: Guarantee{9} is a
// valid C++ value that no C enum and no record header may carry.
bool valid(Guarantee g) noexcept {
  return g == Guarantee::unordered || g == Guarantee::fifo || g == Guarantee::agreed ||
         g == Guarantee::safe;
}

bool valid(DispatchMode m) noexcept {
  return m == DispatchMode::one || m == DispatchMode::all || m == DispatchMode::blocking ||
         m == DispatchMode::one_nonblocking;
}

Status invalid(const char* what) {
  return Status(CS_ERR_INVALID_PARAM, what);
}

}  // namespace

std::string Status::message() const {
  std::string m = cs_strerror(code_);
  if (!detail_.empty()) m += " (" + detail_ + ")";
  return m;
}

Result<Connection> Connection::open(Callbacks callbacks) {
  auto mode = client::choose_mode();
  if (!mode) return mode.status();
  if (*mode) {
    auto binding = client::DaemonBinding::open(**mode, std::move(callbacks));
    if (!binding) return binding.status();
    return Connection(std::move(*binding));
  }
  auto node = client::Node::current();
  if (!node) return node.status();
  auto session = client::Session::open(*node, std::move(callbacks));
  if (!session) return session.status();
  client::HandleTable::instance().add(*session);
  return Connection(std::move(*session));
}

Status Connection::close() {
  if (auto d = std::move(daemon_)) return d->close();
  if (!session_) return {};
  auto s = std::move(session_);
  client::HandleTable::instance().remove(s->handle);
  return s->close();
}

Status Connection::join(std::string_view group) {
  if (!session_ && !daemon_) return closed();
  if (group.size() > CPG_MAX_NAME_LENGTH)
    return Status(CS_ERR_NAME_TOO_LONG, "group names have at most 128 bytes");
  return daemon_ ? daemon_->join(group) : session_->join(group);
}

Status Connection::leave(std::string_view group) {
  if (!session_ && !daemon_) return closed();
  if (group.size() > CPG_MAX_NAME_LENGTH)
    return Status(CS_ERR_NAME_TOO_LONG, "group names have at most 128 bytes");
  return daemon_ ? daemon_->leave(group) : session_->leave(group);
}

Status Connection::send(Guarantee guarantee, std::span<const std::byte> bytes) {
  const std::span<const std::byte> pieces[1] = {bytes};
  return send(guarantee, pieces);
}

Status Connection::send(Guarantee guarantee, std::span<const std::span<const std::byte>> pieces) {
  if (!valid(guarantee)) return invalid("not a guarantee");
  if (daemon_) return daemon_->send(guarantee, pieces);
  if (!session_) return closed();
  return session_->send(guarantee, pieces);
}

Result<ZeroCopyBuffer> Connection::allocate(std::size_t bytes) {
  ZeroCopyBuffer buffer;
  if (daemon_) {
    auto b = daemon_->zcb_alloc(bytes);
    if (!b) return b.status();
    buffer.daemon_ = daemon_;
    buffer.data_ = *b;
    buffer.size_ = bytes;
    return buffer;
  }
  if (!session_) return closed();
  auto b = session_->node().zcb_alloc(bytes);
  if (!b) return b.status();
  buffer.node_ = session_->node_ptr();
  buffer.data_ = *b;
  buffer.size_ = bytes;
  return buffer;
}

Status Connection::send(Guarantee guarantee, ZeroCopyBuffer& buffer, std::size_t bytes) {
  if (!session_ && !daemon_) return closed();
  if (!valid(guarantee)) return invalid("not a guarantee");
  const bool ours = daemon_ ? buffer.daemon_ == daemon_ : buffer.node_ == session_->node_ptr();
  if (buffer.data_ == nullptr || !ours)
    return Status(CS_ERR_INVALID_PARAM, "not a buffer of this connection");
  if (bytes > buffer.size_) return Status(CS_ERR_INVALID_PARAM, "more bytes than the buffer has");
  if (daemon_) return daemon_->zcb_send(guarantee, buffer.data_, bytes);
  return session_->send_zero_copy(guarantee, buffer.data_, bytes);
}

Status Connection::dispatch(DispatchMode mode) {
  if (!valid(mode)) return invalid("not a dispatch mode");
  if (daemon_) return daemon_->dispatch(mode);
  if (!session_) return closed();
  return session_->dispatch(mode);
}

int Connection::fd() const {
  if (daemon_) return daemon_->fd();
  return session_ ? session_->fd() : -1;
}

Result<std::vector<Member>> Connection::members(std::string_view group) const {
  if (daemon_) return daemon_->members(group);
  if (!session_) return closed();
  return session_->node().members_of(group);
}

std::uint32_t Connection::local_node() const {
  if (daemon_) return daemon_->local_node();
  return session_ ? session_->node().node_id() : 0;
}

bool Connection::flow_control_enabled() const {
  if (daemon_) return daemon_->flow_control_enabled();
  return session_ && session_->node().flow_control_enabled();
}

std::size_t Connection::max_message_bytes() const {
  if (daemon_) return daemon_->max_message_bytes();
  return session_ ? session_->node().max_message_bytes() : 0;
}

Counters Connection::counters() const {
  if (daemon_) return daemon_->counters();
  return session_ ? session_->node().counters() : Counters{};
}

cpg_handle_t Connection::handle() const {
  if (daemon_) return daemon_->handle();
  return session_ ? session_->handle : 0;
}

// In client mode a send returns once the buffer may be written again (the
// daemon answered it), so a buffer is never in flight between calls.
ZeroCopyBuffer::~ZeroCopyBuffer() {
  if (data_ == nullptr) return;
  if (daemon_) (void)daemon_->zcb_free(data_);
  if (node_) (void)node_->zcb_free(data_);
}

bool ZeroCopyBuffer::in_flight() const {
  return node_ && data_ != nullptr && node_->zcb_in_flight(data_);
}

Status ZeroCopyBuffer::wait_sent() const {
  if (!node_ || data_ == nullptr) return {};
  return node_->zcb_wait(data_);
}

}  // namespace ringcast::cpg
