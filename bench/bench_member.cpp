#include "bench_member.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

#include "order_digest.hpp"

namespace ringcast::bench {
namespace {

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::vector<std::uint32_t> member_ids(const MemberPlan& plan) {
  std::vector<std::uint32_t> ids;
  for (const auto& m : plan.node.members)
    ids.push_back(m.node);
  return ids;
}

// Touched by the progress thread only, except the atomics.
struct Sink {
  explicit Sink(const MemberPlan& p) : plan(p), fifo(member_ids(p)) {
    samples.reserve(p.my_messages);
  }
  const MemberPlan& plan;
  OrderDigest digest;
  FifoCheck fifo;
  std::vector<std::uint64_t> samples;
  std::uint64_t bytes = 0;
  std::uint64_t last_ns = 0;
  std::string release_error;
  std::atomic<std::uint64_t> own_delivered{0};
  std::atomic<std::uint64_t> delivered{0};

  void on_round(ring::RingDriver& d) {
    std::uint64_t last_seq = 0;
    while (auto del = d.next_delivery()) {
      take(*del);
      last_seq = del->seq;
    }
    if (last_seq == 0) return;
    if (auto s = d.release_through(last_seq); !s.ok() && release_error.empty())
      release_error = s.error().message();
    delivered.store(digest.count());
    delivered.notify_all();
  }

  void take(const ring::Delivery& del) {
    digest.add(del.seq, del.sender, del.payload);
    bytes += del.payload.size();
    last_ns = now_ns();
    if (del.payload.size() < kStampBytes) {
      fifo.add(0, 0);  // counted as a violation: we never send such a message
      return;
    }
    fifo.add(del.sender, payload_index(del.payload));
    if (del.sender == plan.node.me) {
      samples.push_back(last_ns - payload_send_ns(del.payload));
      own_delivered.store(own_delivered.load() + 1);
      own_delivered.notify_all();
    }
  }
};

// Submits one message, waiting out back-pressure (Errc::try_again).
Status send_one(runtime::RingNode& node, const MemberPlan& plan, std::vector<std::byte>& buffer,
                std::uint64_t index) {
  std::uint32_t size = plan.size_bytes;
  ring::Guarantee guarantee = plan.guarantee;
  if (plan.shape) plan.shape(index, &size, &guarantee);
  size = std::max<std::uint32_t>(size, kStampBytes);
  if (buffer.size() < size) buffer.resize(size);
  const std::span<std::byte> payload(buffer.data(), size);
  for (;;) {
    fill_payload(payload, now_ns(), index);
    ring::OutgoingMessage m;
    m.payload = payload;
    m.guarantee = guarantee;
    Status s = node.submit(m);
    if (s.ok() || s.error().code != Errc::try_again) return s;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

Status send_all(runtime::RingNode& node, const MemberPlan& plan, Sink& sink) {
  std::vector<std::byte> buffer(std::max<std::size_t>(plan.size_bytes, kStampBytes));
  for (std::uint64_t i = 0; i < plan.my_messages; ++i) {
    RC_TRY(send_one(node, plan, buffer, i));
    if (plan.mode != Mode::latency) continue;
    // One message in flight: wait for its self-delivery before the next.
    for (std::uint64_t seen = sink.own_delivered.load(); seen <= i;
         seen = sink.own_delivered.load())
      sink.own_delivered.wait(seen);
  }
  return {};
}

bool wait_delivered(const MemberPlan& plan, Sink& sink) {
  const std::uint64_t deadline = now_ns() + plan.deliver_timeout_ns;
  while (sink.delivered.load() < plan.total_messages) {
    if (now_ns() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

double MemberResult::msgs_per_s() const {
  return elapsed_ns == 0 ? 0
                         : static_cast<double>(delivered) * 1e9 / static_cast<double>(elapsed_ns);
}

double MemberResult::mb_per_s() const {
  return elapsed_ns == 0
             ? 0
             : static_cast<double>(bytes_delivered) * 1e3 / static_cast<double>(elapsed_ns);
}

MemberResult run_member(const MemberPlan& plan, const MemberHooks& hooks) {
  MemberResult r;
  r.node = plan.node.me;
  Sink sink(plan);
  runtime::RingNodeOptions options = plan.node;
  options.on_round = [&sink](ring::RingDriver& d) { sink.on_round(d); };
  auto node = runtime::RingNode::start(options);
  if (!node.ok()) {
    r.error = node.error().message();
    if (hooks.report_then_wait_exit) hooks.report_then_wait_exit(r);
    return r;
  }
  if (hooks.ready_then_wait_go && !hooks.ready_then_wait_go()) r.error = "no go from the parent";
  const std::uint64_t start_ns = now_ns();
  if (r.error.empty()) {
    if (Status s = send_all(**node, plan, sink); !s.ok())
      r.error = "submit: " + s.error().message();
  }
  if (r.error.empty() && !wait_delivered(plan, sink)) r.error = "timed out waiting for deliveries";
  (*node)->with_driver([&](ring::RingDriver&) {  // the sink is the progress thread's
    r.delivered = sink.digest.count();
    r.hash = sink.digest.hash();
    r.fifo_violations = sink.fifo.violations();
    r.bytes_delivered = sink.bytes;
    r.elapsed_ns = sink.last_ns > start_ns ? sink.last_ns - start_ns : 0;
    r.latency = summarize(sink.samples);
    if (r.error.empty() && !sink.release_error.empty()) r.error = "release: " + sink.release_error;
  });
  if (r.error.empty() && r.delivered != plan.total_messages) {
    r.error =
        "delivered " + std::to_string(r.delivered) + " of " + std::to_string(plan.total_messages);
  }
  if (hooks.report_then_wait_exit) hooks.report_then_wait_exit(r);
  (*node)->stop();
  return r;
}

std::string encode(const MemberResult& r) {
  std::ostringstream o;
  o << "result " << r.node << ' ' << r.delivered << ' ' << r.hash << ' ' << r.fifo_violations << ' '
    << r.bytes_delivered << ' ' << r.elapsed_ns << ' ' << r.latency.count << ' ' << r.latency.min_us
    << ' ' << r.latency.max_us << ' ' << r.latency.typical_us << ' ' << r.latency.avg_us << ' '
    << r.latency.p99_us << ' ' << r.latency.p999_us << ' ' << (r.error.empty() ? "-" : r.error);
  std::string line = o.str();
  for (char& c : line)
    if (c == '\n') c = ' ';
  return line;
}

bool decode(const std::string& line, MemberResult* out) {
  std::istringstream in(line);
  std::string tag;
  MemberResult& r = *out;
  in >> tag >> r.node >> r.delivered >> r.hash >> r.fifo_violations >> r.bytes_delivered >>
      r.elapsed_ns >> r.latency.count >> r.latency.min_us >> r.latency.max_us >>
      r.latency.typical_us >> r.latency.avg_us >> r.latency.p99_us >> r.latency.p999_us;
  if (!in || tag != "result") return false;
  std::getline(in >> std::ws, r.error);
  if (r.error == "-") r.error.clear();
  return true;
}

}  // namespace ringcast::bench
