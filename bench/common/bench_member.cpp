#include "bench_member.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "case_digest.hpp"
#include "order_digest.hpp"
#include "payload_watch.hpp"
#include "runtime/status_line.hpp"

namespace ringcast::bench {
namespace {

constexpr std::uint64_t kNoRemoteSamples = ~std::uint64_t{0};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::vector<std::uint32_t> member_ids(const runtime::RingNodeOptions& node) {
  std::vector<std::uint32_t> ids;
  for (const auto& m : node.members)
    ids.push_back(m.node);
  return ids;
}

// Registered buffers for zero-copy sends, one region carved into slots of
// the case's message size. A slot is busy from its submit until the ring
// hands its tag back (next_zero_copy_done): until then the NIC may read it.
// The ring returns tags in visit order, so slots are used round-robin.
class ZeroCopySlots {
 public:
  static constexpr std::size_t kRegionBytes = 16u << 20;
  static constexpr std::size_t kMaxSlots = 1024;  // the ring's default send queue

  // Once per member, under the driver lock (the endpoint is the ring's).
  Status allocate(fabric::Endpoint& endpoint) {
    if (region_) return {};
    auto r = endpoint.allocate(kRegionBytes, fabric::Access::local_only);
    RC_TRY(r);
    region_ = std::move(*r);
    busy_ = std::make_unique<std::atomic<bool>[]>(kMaxSlots);
    return {};
  }
  bool allocated() const { return region_ != nullptr; }
  // Slot size for a case; every slot must be free.
  void shape(std::uint32_t size_bytes) {
    slot_bytes_ = (std::max<std::size_t>(size_bytes, 64) + 63) / 64 * 64;
    slots_ = std::min(kMaxSlots, kRegionBytes / slot_bytes_);
  }
  std::size_t slot_of(std::uint64_t index) const { return index % slots_; }
  // Waits until the slot is free, then marks it busy.
  void acquire(std::size_t slot) {
    while (busy_[slot].load(std::memory_order_acquire))
      std::this_thread::sleep_for(std::chrono::microseconds(10));
    busy_[slot].store(true, std::memory_order_release);
  }
  void release(std::uint64_t tag) { busy_[tag].store(false, std::memory_order_release); }
  bool all_free() const {
    for (std::size_t i = 0; i < slots_; ++i)
      if (busy_[i].load(std::memory_order_acquire)) return false;
    return true;
  }
  fabric::Segment segment(std::size_t slot, std::uint32_t size_bytes) const {
    return {region_.get(), slot * slot_bytes_, size_bytes};
  }
  std::span<std::byte> bytes(std::size_t slot, std::uint32_t size_bytes) const {
    return region_->bytes().subspan(slot * slot_bytes_, size_bytes);
  }

 private:
  std::unique_ptr<fabric::MemoryRegion> region_;
  std::unique_ptr<std::atomic<bool>[]> busy_;
  std::size_t slot_bytes_ = 64;
  std::size_t slots_ = 1;
};

// Touched by the progress thread only (on_round, under the driver lock),
// except the atomics; reset() and prepare() run under the same lock.
struct Sink {
  explicit Sink(const runtime::RingNodeOptions& node)
      : me(node.me), ids(member_ids(node)), fifo(ids) {}
  fabric::NodeId me;
  std::vector<std::uint32_t> ids;
  CaseDigest digest;
  FifoCheck fifo;
  std::vector<std::uint64_t> samples;
  std::vector<std::uint64_t> remote_samples;
  std::uint64_t bytes = 0;
  std::uint64_t last_ns = 0;
  std::uint64_t warmup = 0;                        // my first messages, not sampled
  std::uint64_t remote_warmup = kNoRemoteSamples;  // the others' first messages, not sampled
  std::string release_error;
  ZeroCopySlots* slots = nullptr;
  std::atomic<std::uint64_t> own_delivered{0};
  std::atomic<std::uint64_t> delivered{0};
  // RINGCAST_BENCH_TRACE=DIR: every delivery of a case, written to a file
  // per member and case when the case ends (see write_trace).
  struct TraceEntry {
    std::uint64_t seq, position, index;
    std::uint32_t sender, size, crc;
    OrderDigest::Samples samples;  // what the digest mixed (sampled payloads only)
  };
  bool tracing = std::getenv("RINGCAST_BENCH_TRACE") != nullptr;
  std::vector<TraceEntry> trace;
  PayloadWatch watch;  // with the trace: a record's bytes that change while read
  std::uint64_t cases = 0;

  void reset() {
    trace.clear();
    watch.reset();
    digest.reset();
    fifo = FifoCheck(ids);
    samples.clear();
    remote_samples.clear();
    bytes = 0;
    last_ns = 0;
    release_error.clear();
    own_delivered.store(0);
    delivered.store(0);
  }
  // Reserved up front: no allocation while deliveries are timed.
  void prepare(const MemberPlan& plan, std::uint64_t warmup_messages,
               std::uint64_t remote_warmup_messages) {
    samples.reserve(plan.my_messages);
    if (tracing) trace.reserve(plan.total_messages);
    warmup = warmup_messages;
    remote_warmup = remote_warmup_messages;
    if (remote_warmup != kNoRemoteSamples)
      remote_samples.reserve(plan.total_messages - plan.my_messages);
    digest.set_mode(plan.full_payload_check);
  }

  void on_round(ring::RingDriver& d) {
    while (auto tag = d.next_zero_copy_done())
      if (slots != nullptr) slots->release(*tag);
    std::uint64_t last_seq = 0;
    while (auto del = d.next_delivery()) {
      take(*del, d);
      last_seq = del->seq;
    }
    if (last_seq == 0) return;
    if (auto s = d.release_through_seq(last_seq); !s.ok() && release_error.empty())
      release_error = s.error().message();
    delivered.store(digest.count());
    delivered.notify_all();
  }

  // The time first: a latency sample must not include the checking.
  void take(const ring::Delivery& del, ring::RingDriver& d) {
    last_ns = now_ns();
    if (tracing) watch.before(del);
    const OrderDigest::Samples mixed = digest.add(del.seq, del.sender, del.payload);
    bytes += del.payload.size();
    if (tracing) {
      trace.push_back({del.seq, del.position,
                       del.payload.size() >= kStampBytes ? payload_index(del.payload) : 0,
                       del.sender, static_cast<std::uint32_t>(del.payload.size()),
                       crc32c(del.payload), mixed});
      watch.after(del, d, me);
    }
    if (del.payload.size() < kStampBytes) {
      fifo.add(0, 0);  // counted as a violation: we never send such a message
      return;
    }
    fifo.add(del.sender, payload_index(del.payload));
    if (del.sender != me && payload_index(del.payload) >= remote_warmup &&
        remote_samples.size() < remote_samples.capacity())
      remote_samples.push_back(last_ns - payload_send_ns(del.payload));
    if (del.sender == me) {
      if (payload_index(del.payload) >= warmup)
        samples.push_back(last_ns - payload_send_ns(del.payload));
      own_delivered.store(own_delivered.load() + 1);
      own_delivered.notify_all();
    }
  }
};

Status submit_until_taken(runtime::RingNode& node, const ring::OutgoingMessage& m,
                          std::span<std::byte> stamp_at, std::uint64_t index, bool fill) {
  for (;;) {
    if (fill)
      fill_payload(stamp_at, now_ns(), index);
    else
      stamp_payload(stamp_at, now_ns(), index);
    Status s = node.submit(m);
    if (s.ok() || s.error().code != Errc::try_again) return s;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

// Submits one message, waiting out back-pressure (Errc::try_again).
Status send_one(runtime::RingNode& node, const MemberPlan& plan, std::vector<std::byte>& buffer,
                ZeroCopySlots& slots, std::uint64_t index) {
  std::uint32_t size = plan.size_bytes;
  ring::Guarantee guarantee = plan.guarantee;
  if (plan.shape) plan.shape(index, &size, &guarantee);
  size = std::max<std::uint32_t>(size, kStampBytes);
  ring::OutgoingMessage m;
  m.guarantee = guarantee;
  if (plan.zero_copy) {
    const std::size_t slot = slots.slot_of(index);
    slots.acquire(slot);  // before submit: the tag may come back at once
    m.zero_copy = slots.segment(slot, size);
    m.tag = slot;
    Status s = submit_until_taken(node, m, slots.bytes(slot, size), index, plan.full_payload_check);
    if (!s.ok()) slots.release(slot);
    return s;
  }
  if (buffer.size() < size) buffer.resize(size);
  m.payload = std::span<const std::byte>(buffer.data(), size);
  return submit_until_taken(node, m, std::span<std::byte>(buffer.data(), size), index,
                            plan.full_payload_check);
}

Status send_all(runtime::RingNode& node, const MemberPlan& plan, Sink& sink, ZeroCopySlots& slots) {
  std::vector<std::byte> buffer(std::max<std::size_t>(plan.size_bytes, kStampBytes));
  for (std::uint64_t i = 0; i < plan.my_messages; ++i) {
    RC_TRY(send_one(node, plan, buffer, slots, i));
    if (plan.mode != Mode::latency) continue;
    // One message in flight: wait for its self-delivery before the next.
    for (std::uint64_t seen = sink.own_delivered.load(); seen <= i;
         seen = sink.own_delivered.load())
      sink.own_delivered.wait(seen);
  }
  return {};
}

bool wait_until(std::uint64_t deadline_ns, const std::function<bool()>& done) {
  while (!done()) {
    if (now_ns() > deadline_ns) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A fresh case's first latency samples pay for cold caches, page faults and
// the ring settling into its hold pattern: up to a tenth (at most 100) of
// them are sent but not counted, as perftest warms up before it measures.
std::uint64_t warmup_messages(const MemberPlan& plan) {
  if (plan.mode != Mode::latency || plan.shape) return 0;
  return std::min<std::uint64_t>(plan.my_messages / 10, 100);
}

// The same warm-up for the others' messages (in latency mode one member
// sends them all), or kNoRemoteSamples when they are not timed here.
std::uint64_t remote_warmup_messages(const MemberPlan& plan) {
  if (plan.mode != Mode::latency || plan.shape || !plan.sample_remote) return kNoRemoteSamples;
  return std::min<std::uint64_t>((plan.total_messages - plan.my_messages) / 10, 100);
}

// One line per delivery, "seq position sender index size crc first_crc
// last_crc" (the last two: the sampled checksums the digest mixed, 0 when it
// read the whole payload), in
// $RINGCAST_BENCH_TRACE/node<N>-case<K>.trace: when the order check fails,
// `diff` of two members' files shows the first record they disagree on.
void write_trace(std::uint32_t node, std::uint64_t case_number,
                 const std::vector<Sink::TraceEntry>& trace) {
  const std::string path = std::string(std::getenv("RINGCAST_BENCH_TRACE")) + "/node" +
                           std::to_string(node) + "-case" + std::to_string(case_number) + ".trace";
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "ringcast-bench: cannot write %s\n", path.c_str());
    return;
  }
  for (const auto& e : trace)
    std::fprintf(f, "%llu %llu %u %llu %u %08x %08x %08x\n", static_cast<unsigned long long>(e.seq),
                 static_cast<unsigned long long>(e.position), e.sender,
                 static_cast<unsigned long long>(e.index), e.size, e.crc, e.samples.first_crc,
                 e.samples.last_crc);
  std::fclose(f);
}

// Records whose bytes changed while read (PayloadWatch), next to the trace
// in node<N>-case<K>.changes, and each on stderr (bounded).
void write_changes(std::uint32_t node, std::uint64_t case_number, std::uint64_t count,
                   const std::vector<PayloadWatch::Change>& changes) {
  if (count == 0) return;
  const std::string path = std::string(std::getenv("RINGCAST_BENCH_TRACE")) + "/node" +
                           std::to_string(node) + "-case" + std::to_string(case_number) +
                           ".changes";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(stderr, "ringcast-bench: node %u: %llu records changed while read\n", node,
               static_cast<unsigned long long>(count));
  for (const auto& c : changes) {
    const std::string line = PayloadWatch::describe(c);
    if (f != nullptr) std::fprintf(f, "%s\n", line.c_str());
    std::fprintf(stderr, "ringcast-bench: node %u changed while read: %s\n", node, line.c_str());
  }
  if (f != nullptr) std::fclose(f);
}

// Sends my part, waits for every delivery (and, zero copy, for every buffer
// to come back: the region outlives the case's writes), and reports.
MemberResult run_case(runtime::RingNode& node, Sink& sink, ZeroCopySlots& slots,
                      const MemberPlan& plan) {
  MemberResult r;
  r.node = node.me();
  std::vector<Sink::TraceEntry> trace;
  std::vector<PayloadWatch::Change> changes;
  std::uint64_t changed = 0;
  node.with_driver([&](ring::RingDriver& d) {
    sink.prepare(plan, warmup_messages(plan), remote_warmup_messages(plan));
    if (plan.zero_copy) {
      if (Status s = slots.allocate(d.endpoint()); !s.ok())
        r.error = "zero-copy region: " + s.error().message();
      sink.slots = &slots;
    }
  });
  if (!r.error.empty()) return r;
  if (plan.zero_copy) slots.shape(std::max<std::uint32_t>(plan.size_bytes, kStampBytes));
  const std::uint64_t start_ns = now_ns();
  if (Status s = send_all(node, plan, sink, slots); !s.ok())
    r.error = "submit: " + s.error().message();
  const std::uint64_t deadline = now_ns() + plan.deliver_timeout_ns;
  if (r.error.empty() &&
      !wait_until(deadline, [&] { return sink.delivered.load() >= plan.total_messages; }))
    r.error = "timed out waiting for deliveries (" + std::to_string(sink.delivered.load()) +
              " of " + std::to_string(plan.total_messages) + ", " +
              std::to_string(sink.own_delivered.load()) + " of my " +
              std::to_string(plan.my_messages) + ")";
  if (r.error.empty() && plan.zero_copy && !wait_until(deadline, [&] { return slots.all_free(); }))
    r.error = "timed out waiting for zero-copy buffers to come back";
  node.with_driver([&](ring::RingDriver&) {
    r.delivered = sink.digest.count();
    r.hash = sink.digest.hash();
    r.fifo_violations = sink.fifo.violations();
    r.bytes_delivered = sink.bytes;
    r.elapsed_ns = sink.last_ns > start_ns ? sink.last_ns - start_ns : 0;
    r.latency = summarize(sink.samples);
    r.remote_latency = summarize(sink.remote_samples);
    if (r.error.empty() && !sink.release_error.empty()) r.error = "release: " + sink.release_error;
    // In the same critical section as the capture: the next case's first
    // messages may arrive as soon as every member reported, and they belong
    // to the next case's counters.
    trace.swap(sink.trace);
    changes = sink.watch.take_changes();
    changed = sink.watch.count();
    sink.reset();
  });
  if (sink.tracing) {
    write_changes(node.me(), sink.cases, changed, changes);
    write_trace(node.me(), sink.cases++, trace);
  }
  if (r.error.empty() && r.delivered != plan.total_messages) {
    r.error =
        "delivered " + std::to_string(r.delivered) + " of " + std::to_string(plan.total_messages);
  }
  return r;
}

MemberResult failed(fabric::NodeId node, std::string why) {
  MemberResult r;
  r.node = node;
  r.error = std::move(why);
  return r;
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

namespace {

// RINGCAST_BENCH_COUNTERS=1: each case's ring counters on stderr (tuning).
void print_case_counters(runtime::RingNode& node, ring::RingCounters* before) {
  if (std::getenv("RINGCAST_BENCH_COUNTERS") == nullptr) return;
  const ring::RingCounters now =
      node.with_driver([](ring::RingDriver& d) { return d.state().counters(); });
  const ring::RingCounters& b = *before;
  std::fprintf(
      stderr,
      "ringcast-bench counters node %u: visits %llu records %llu passes %llu "
      "busy_holds %llu holds %llu wakes %llu/%llu outbox_limited %llu "
      "space_limited %llu catch_up %llu busy_hold_waits %llu relayed %llu relay_waits %llu\n",
      node.me(), static_cast<unsigned long long>(now.visits - b.visits),
      static_cast<unsigned long long>(now.records_sent - b.records_sent),
      static_cast<unsigned long long>(now.tokens_passed - b.tokens_passed),
      static_cast<unsigned long long>(now.busy_holds - b.busy_holds),
      static_cast<unsigned long long>(now.token_holds - b.token_holds),
      static_cast<unsigned long long>(now.wakes_sent - b.wakes_sent),
      static_cast<unsigned long long>(now.wakes_received - b.wakes_received),
      static_cast<unsigned long long>(now.visits_outbox_limited - b.visits_outbox_limited),
      static_cast<unsigned long long>(now.visits_space_limited - b.visits_space_limited),
      static_cast<unsigned long long>(now.catch_up_waits - b.catch_up_waits),
      static_cast<unsigned long long>(now.busy_hold_waits - b.busy_hold_waits),
      static_cast<unsigned long long>(now.records_relayed - b.records_relayed),
      static_cast<unsigned long long>(now.relay_waits - b.relay_waits));
  node.with_driver([](ring::RingDriver& d) {
    const ring::ReceiveLog& log = d.state().log();
    std::fprintf(stderr,
                 "ringcast-bench log: received %llu delivered %llu released %llu dropped %llu "
                 "fault %d stuck %d highest_safe %llu\n",
                 static_cast<unsigned long long>(log.received_up_to()),
                 static_cast<unsigned long long>(log.delivered_seq()),
                 static_cast<unsigned long long>(log.released_seq()),
                 static_cast<unsigned long long>(log.counters().records_dropped),
                 static_cast<int>(log.counters().last_fault), log.stuck() ? 1 : 0,
                 static_cast<unsigned long long>(d.state().safe_up_to()));
  });
  *before = now;
}

}  // namespace

void run_member_series(const runtime::RingNodeOptions& node_options, const SeriesHooks& hooks) {
  Sink sink(node_options);
  runtime::RingNodeOptions options = node_options;
  options.on_round = [&sink](ring::RingDriver& d) { sink.on_round(d); };
  auto node = runtime::RingNode::start(options);
  if (!node.ok()) {
    hooks.report(failed(options.me, node.error().message()));
    return;
  }
  // Declared after the node and freed before it: a region goes before its endpoint.
  ZeroCopySlots slots;
  ring::RingCounters counters_before;
  if (hooks.ready && !hooks.ready()) {
    hooks.report(failed(options.me, "no go from the parent"));
  } else {
    while (auto plan = hooks.next_case()) {
      const MemberResult r = run_case(**node, sink, slots, *plan);
      hooks.report(r);
      print_case_counters(**node, &counters_before);
      if (!r.error.empty()) break;
    }
  }
  // Membership's counters, one line per member process, on stderr so that
  // the table and the JSON on stdout keep their format.
  std::fprintf(stderr, "ringcast-bench: node %u status: %s\n", options.me,
               runtime::status_line((*node)->status()).c_str());
  (*node)->stop();  // no more on_round: the slots may go
}

MemberResult run_member(const MemberPlan& plan, const MemberHooks& hooks) {
  MemberResult last = failed(plan.node.me, "no report");
  bool given = false;
  SeriesHooks series;
  series.ready = hooks.ready_then_wait_go;
  series.next_case = [&]() -> std::optional<MemberPlan> {
    if (given) return std::nullopt;
    given = true;
    std::this_thread::sleep_for(std::chrono::nanoseconds(plan.start_delay_ns));
    return plan;
  };
  series.report = [&](const MemberResult& r) {
    last = r;
    if (hooks.report_then_wait_exit) hooks.report_then_wait_exit(r);
  };
  run_member_series(plan.node, series);
  return last;
}

std::string encode(const MemberResult& r) {
  std::ostringstream o;
  o << "result " << r.node << ' ' << r.delivered << ' ' << r.hash << ' ' << r.fifo_violations << ' '
    << r.bytes_delivered << ' ' << r.elapsed_ns << ' ' << r.latency.count << ' ' << r.latency.min_us
    << ' ' << r.latency.max_us << ' ' << r.latency.typical_us << ' ' << r.latency.avg_us << ' '
    << r.latency.p99_us << ' ' << r.latency.p999_us << ' ' << r.remote_latency.count << ' '
    << r.remote_latency.min_us << ' ' << r.remote_latency.max_us << ' '
    << r.remote_latency.typical_us << ' ' << r.remote_latency.avg_us << ' '
    << r.remote_latency.p99_us << ' ' << r.remote_latency.p999_us << ' '
    << (r.error.empty() ? "-" : r.error);
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
      r.latency.typical_us >> r.latency.avg_us >> r.latency.p99_us >> r.latency.p999_us >>
      r.remote_latency.count >> r.remote_latency.min_us >> r.remote_latency.max_us >>
      r.remote_latency.typical_us >> r.remote_latency.avg_us >> r.remote_latency.p99_us >>
      r.remote_latency.p999_us;
  if (!in || tag != "result") return false;
  std::getline(in >> std::ws, r.error);
  if (r.error == "-") r.error.clear();
  return true;
}

std::string encode_case(const MemberPlan& p) {
  std::ostringstream o;
  o << "case " << (p.mode == Mode::latency ? 0 : 1) << ' ' << p.size_bytes << ' '
    << p.total_messages << ' ' << p.my_messages << ' ' << static_cast<int>(p.guarantee) << ' '
    << (p.zero_copy ? 1 : 0) << ' ' << p.deliver_timeout_ns << ' '
    << (p.full_payload_check ? 1 : 0);
  return o.str();
}

bool decode_case(const std::string& line, MemberPlan* out) {
  std::istringstream in(line);
  std::string tag;
  int mode = 0, guarantee = 0, zero_copy = 0, full_check = 1;
  MemberPlan& p = *out;
  in >> tag >> mode >> p.size_bytes >> p.total_messages >> p.my_messages >> guarantee >>
      zero_copy >> p.deliver_timeout_ns >> full_check;
  if (!in || tag != "case" || guarantee < 0 || guarantee > 3) return false;
  p.mode = mode == 0 ? Mode::latency : Mode::throughput;
  p.guarantee = static_cast<ring::Guarantee>(guarantee);
  p.zero_copy = zero_copy != 0;
  p.full_payload_check = full_check != 0;
  return true;
}

}  // namespace ringcast::bench
