#include "fault_oracle.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "support/ring_oracle.hpp"

namespace ringcast::membership::fault_test {

using ring::sim_test::fill_payload;

namespace {

std::vector<fabric::NodeId> sorted(std::vector<fabric::NodeId> v) {
  std::sort(v.begin(), v.end());
  return v;
}
// a \ b, of sorted lists.
std::vector<fabric::NodeId> minus(const std::vector<fabric::NodeId>& a,
                                  const std::vector<fabric::NodeId>& b) {
  std::vector<fabric::NodeId> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}
bool contains(const std::vector<fabric::NodeId>& v, fabric::NodeId n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}
std::string ring_text(std::uint32_t representative, std::uint64_t epoch) {
  return std::to_string(representative) + "/" + std::to_string(epoch);
}

}  // namespace

FaultOracle::FaultOracle(std::vector<fabric::NodeId> nodes)
    : members_(nodes.size()),
      nodes_(std::move(nodes)),
      sent_bytes_(members_),
      sent_guarantee_(members_),
      views_(members_),
      own_from_(members_, 0),
      corrupted_(members_) {
  for (auto& v : views_) {
    v.next_counter.assign(members_, 0);
    v.seen.resize(members_);
  }
}

void FaultOracle::fail(std::string what) {
  if (failure_.empty()) failure_ = std::move(what);
}

void FaultOracle::on_submitted(std::uint32_t sender, std::uint32_t counter, std::uint32_t bytes,
                               ring::Guarantee guarantee) {
  if (counter != sent_bytes_[sender].size()) fail("harness: counters out of order");
  sent_bytes_[sender].push_back(bytes);
  sent_guarantee_[sender].push_back(guarantee);
}

void FaultOracle::on_event(std::size_t m, const MemberEvent& e, std::span<const std::byte> record,
                           std::span<const std::span<const std::byte>> logs,
                           std::span<const ring::RingId> ring_of, std::uint64_t log_bytes,
                           std::uint64_t now_ns) {
  if (e.change != nullptr) {
    ++changes_total_;
    on_change(m, *e.change);
  } else {
    on_message(m, e, record, logs, ring_of, log_bytes, now_ns);
  }
}

void FaultOracle::compare_move(std::size_t m, const ConfigKey& from, const ConfigKey& to,
                               const std::vector<Message>& messages) {
  auto [it, first] = moves_.try_emplace({from, to}, Moved{m, messages});
  if (first || it->second.messages == messages) return;
  fail("virtual synchrony: members " + std::to_string(it->second.member) + " and " +
       std::to_string(m) + " moved from ring " + std::to_string(from.representative) + "/" +
       std::to_string(from.epoch) + (from.transitional ? " (transitional)" : "") + " to ring " +
       std::to_string(to.representative) + "/" + std::to_string(to.epoch) +
       (to.transitional ? " (transitional)" : "") + " having delivered " +
       std::to_string(it->second.messages.size()) + " and " + std::to_string(messages.size()) +
       " different messages there");
}

void FaultOracle::on_change(std::size_t m, const ConfigurationChange& c) {
  View& v = views_[m];
  ConfigKey next{c.ring.representative, c.ring.epoch, c.transitional, c.members};
  const fabric::NodeId me = nodes_[m];
  if (std::find(c.members.begin(), c.members.end(), me) == c.members.end()) {
    fail("member " + std::to_string(m) + ": a configuration without itself");
  }
  if (v.configured) {
    if (c.transitional && (c.ring.representative != v.config.representative ||
                           c.ring.epoch != v.config.epoch || v.config.transitional)) {
      fail("member " + std::to_string(m) + ": a transitional change not ending its ring");
    }
    if (!c.transitional && c.ring.epoch <= v.config.epoch) {
      fail("member " + std::to_string(m) + ": a new ring whose epoch did not grow");
    }
    compare_move(m, v.config, next, v.in_config);
  }
  check_transition(m, c);
  v.config = std::move(next);
  v.configured = true;
  v.in_config.clear();
}

// The member lists of a change, against the configuration it ends. A
// transitional change lists the members of the ending ring that go on
// together: all inside that ring, left = the rest of it.
void FaultOracle::check_transition(std::size_t m, const ConfigurationChange& c) {
  View& v = views_[m];
  const std::string at = "member " + std::to_string(m) + ": ";
  const std::vector<fabric::NodeId> members = sorted(c.members);
  if (c.transitional) {
    if (!v.configured || v.config.transitional) return;  // on_change reports it
    const std::string what =
        at + "transitional configuration of ring " + ring_text(c.ring.representative, c.ring.epoch);
    if (!minus(members, v.regular_members).empty()) {
      fail(what + " lists members that were not in that ring");
    } else if (sorted(c.left) != minus(v.regular_members, members)) {
      fail(what + ": its left list is not the ring's other members");
    }
    return;
  }
  const std::string what =
      at + "regular configuration of ring " + ring_text(c.ring.representative, c.ring.epoch);
  if (v.configured && v.config.transitional && !minus(v.config.members, members).empty()) {
    fail(what + " lacks members its transitional configuration said go on together");
  }
  if (v.configured && (sorted(c.left) != minus(v.regular_members, members) ||
                       sorted(c.joined) != minus(members, v.regular_members))) {
    fail(what + ": left or joined differ from what the ring lost and gained");
  }
  check_arrival(m, c, Arrival{m, v.configured, v.config});
  v.regular_members = members;
}

// Members arriving in the same ring: those that came through a transitional
// configuration of the same ring name the same members, each other among
// them; one that came from elsewhere is in nobody else's list, and nobody
// else is in its own.
void FaultOracle::check_arrival(std::size_t m, const ConfigurationChange& c, const Arrival& a) {
  auto& arrived = arrivals_[{c.ring.representative, c.ring.epoch}];
  for (const Arrival& b : arrived) {
    const bool same_ring = a.from_ring && b.from_ring &&
                           a.from.representative == b.from.representative &&
                           a.from.epoch == b.from.epoch;
    const bool both_transitional = a.from.transitional && b.from.transitional;
    bool wrong = false;
    if (same_ring && both_transitional) {
      wrong = a.from.members != b.from.members || !contains(a.from.members, nodes_[b.member]);
    } else if (!same_ring) {
      wrong = (a.from_ring && a.from.transitional && contains(a.from.members, nodes_[b.member])) ||
              (b.from_ring && b.from.transitional && contains(b.from.members, nodes_[m]));
    }
    if (wrong) {
      fail("members " + std::to_string(b.member) + " and " + std::to_string(m) + " entered ring " +
           ring_text(c.ring.representative, c.ring.epoch) +
           " with transitional configurations that disagree on who went on together");
      return;
    }
  }
  arrived.push_back(a);
}

bool FaultOracle::check_content(std::size_t m, const MemberEvent& e, std::uint32_t counter) {
  const ring::Delivery& d = e.message;
  const std::string at = "member " + std::to_string(m) + " index " + std::to_string(e.index) + ": ";
  if (d.sender_pid >= members_ || d.sender != nodes_[d.sender_pid] ||
      counter >= sent_bytes_[d.sender_pid].size()) {
    fail(at + "delivered a message nobody submitted");
    return false;
  }
  const std::uint32_t bytes = sent_bytes_[d.sender_pid][counter];
  if (d.payload.size() != bytes || d.guarantee != sent_guarantee_[d.sender_pid][counter]) {
    fail(at + "size or guarantee differs from what was submitted");
    return false;
  }
  scratch_.resize(bytes);
  fill_payload(scratch_, d.sender_pid, counter);
  if (std::memcmp(scratch_.data(), d.payload.data(), bytes) != 0) {
    fail(at + "payload differs from what was submitted");
    return false;
  }
  return true;
}

void FaultOracle::on_message(std::size_t m, const MemberEvent& e, std::span<const std::byte> record,
                             std::span<const std::span<const std::byte>> logs,
                             std::span<const ring::RingId> ring_of, std::uint64_t log_bytes,
                             std::uint64_t now_ns) {
  View& v = views_[m];
  const ring::Delivery& d = e.message;
  const std::uint32_t counter = d.group;  // the harness carries the counter in the group id
  const std::string at = "member " + std::to_string(m) + " at " + std::to_string(now_ns) + " ns: ";
  if (!v.configured || e.ring.representative != v.config.representative ||
      e.ring.epoch != v.config.epoch) {
    fail(at + "a message of a ring that is not its configuration's");
    return;
  }
  if (!check_content(m, e, counter)) return;
  auto& seen = v.seen[d.sender_pid];
  if (seen.size() <= counter) seen.resize(counter + 1, false);
  if (seen[counter]) {
    fail(at + "delivered message " + std::to_string(d.sender_pid) + "#" + std::to_string(counter) +
         " twice");
    return;
  }
  seen[counter] = true;
  std::uint32_t& expected = v.next_counter[d.sender_pid];
  if (counter < expected) {
    fail(at + "sender " + std::to_string(d.sender_pid) + " message " + std::to_string(counter) +
         " after " + std::to_string(expected - 1) + " (per-sender FIFO)");
    return;
  }
  expected = counter + 1;
  const Message msg{d.sender_pid, counter};
  auto [it, first] = order_.try_emplace({e.ring.representative, e.ring.epoch, d.seq},
                                        Ordered{msg, std::vector<bool>(members_, false)});
  Ordered& ordered = it->second;
  if (!first && ordered.message != msg) {
    fail(at + "total order differs in ring " + std::to_string(e.ring.epoch) + " at seq " +
         std::to_string(d.seq));
    return;
  }
  if (d.guarantee == ring::Guarantee::safe && !v.config.transitional) {
    const std::optional<std::size_t> lacking =
        member_lacking(e.ring, d.position % log_bytes, record, logs, ring_of, ordered.delivered_by);
    if (lacking) {
      fail(at + "delivered SAFE seq " + std::to_string(d.seq) + " before member " +
           std::to_string(*lacking) + " of its ring had it");
      return;
    }
  }
  ordered.delivered_by[m] = true;
  v.in_config.push_back(msg);
  ++delivered_total_;
}

void FaultOracle::on_restart(std::size_t m, std::uint32_t next_counter) {
  View fresh;
  fresh.next_counter.assign(members_, 0);
  fresh.seen.resize(members_);
  views_[m] = std::move(fresh);
  own_from_[m] = next_counter;
}

void FaultOracle::on_incarnation(std::size_t m, std::uint32_t before, std::uint32_t after) {
  if (after <= before) {
    fail("member " + std::to_string(m) + " restarted with incarnation " + std::to_string(after) +
         ", not above its previous " + std::to_string(before));
  }
}

void FaultOracle::on_corrupted(std::size_t m, std::uint64_t log_offset) {
  corrupted_[m].push_back(log_offset);
}

// A member that delivered the record itself had it; one that did not yet
// cannot have released it, so its log must still hold it. Only the first may
// have moved on: once it released the record, a ring it formed without the
// deliverer (across a partition) may write over those bytes, and its installed
// ring can still be the old one (it committed to the new ring and went back
// to gather before installing it, while the others wrote the new ring's
// records into its log).
std::optional<std::size_t> FaultOracle::member_lacking(
    const ring::RingId& ring, std::uint64_t offset, std::span<const std::byte> record,
    std::span<const std::span<const std::byte>> logs, std::span<const ring::RingId> ring_of,
    const std::vector<bool>& delivered_by) const {
  for (std::size_t j = 0; j < members_; ++j) {
    if (ring_of[j] != ring || delivered_by[j]) continue;
    const auto theirs = logs[j].subspan(offset, record.size());
    if (std::memcmp(theirs.data(), record.data(), record.size()) != 0 &&
        differs_beyond_corruption(j, offset, theirs, record)) {
      return j;
    }
  }
  return std::nullopt;
}

bool FaultOracle::differs_beyond_corruption(std::size_t j, std::uint64_t offset,
                                            std::span<const std::byte> theirs,
                                            std::span<const std::byte> record) const {
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (theirs[i] == record[i]) continue;
    const auto& bad = corrupted_[j];
    if (std::find(bad.begin(), bad.end(), offset + i) == bad.end()) return true;
  }
  return false;
}

void FaultOracle::check_not_silent(std::size_t m, bool corrupted, std::uint64_t noticed) {
  if (corrupted && noticed == 0) {
    fail("member " + std::to_string(m) +
         ": a corrupted record landed and no counter shows it was refused (silent)");
  }
}

bool FaultOracle::delivered_own(std::size_t m) const {
  const auto& seen = views_[m].seen[m];
  for (std::uint32_t c = own_from_[m]; c < sent_bytes_[m].size(); ++c) {
    if (c >= seen.size() || !seen[c]) return false;
  }
  return true;
}

void FaultOracle::finish(const std::vector<bool>& live) {
  if (failed()) return;
  for (std::size_t m = 0; m < members_; ++m) {
    if (!live[m]) continue;
    const auto& seen = views_[m].seen[m];
    for (std::uint32_t c = own_from_[m]; c < sent_bytes_[m].size(); ++c) {
      if (c >= seen.size() || !seen[c]) {
        fail("member " + std::to_string(m) + " (running) did not deliver its own message " +
             std::to_string(c) + " of " + std::to_string(sent_bytes_[m].size()) + " (lost)");
        return;
      }
    }
  }
  // The final configurations: members that end in the same one delivered the
  // same messages in it (compared as a move to "the end").
  const ConfigKey end{0, 0, false, {}};
  for (std::size_t m = 0; m < members_; ++m) {
    if (live[m] && views_[m].configured)
      compare_move(m, views_[m].config, end, views_[m].in_config);
  }
}

}  // namespace ringcast::membership::fault_test
