#include "client/quorum_tracker.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "client/quorum_handle.hpp"

namespace ringcast::client {

namespace {

bool contains(std::span<const std::uint32_t> list, std::uint32_t node) {
  return std::find(list.begin(), list.end(), node) != list.end();
}

std::string node_list(std::span<const std::uint32_t> nodes) {
  std::string s;
  for (std::uint32_t n : nodes)
    s += (s.empty() ? "" : " ") + std::to_string(n);
  return s;
}

}  // namespace

QuorumRules QuorumRules::from(const config::ClusterConfig& config) {
  QuorumRules r;
  r.expected_votes = config.quorum.expected_votes;
  r.two_node = config.quorum.two_node;
  r.wait_for_all = config.quorum.wait_for_all;
  for (const config::ClusterNode& node : config.nodes)
    r.votes.emplace_back(node.nodeid, node.quorum_votes);
  return r;
}

QuorumRules QuorumRules::equal_votes(std::uint32_t nodes) {
  QuorumRules r;
  r.expected_votes = nodes;
  return r;
}

std::uint32_t QuorumRules::votes_of(std::uint32_t node) const {
  for (const auto& [id, v] : votes) {
    if (id == node) return v;
  }
  return 1;
}

QuorumCount count_votes(const QuorumRules& rules, std::span<const std::uint32_t> nodes) {
  QuorumCount c;
  for (std::uint32_t n : nodes)
    c.present += rules.votes_of(n);
  c.all_present = c.present >= rules.expected_votes;
  // More votes present than expected (a node added to some files only):
  // the majority is of what is there, as votequorum does.
  c.expected = std::max<std::uint64_t>(rules.expected_votes, c.present);
  c.needed = c.expected / 2 + 1;
  if (rules.two_node && c.expected == 2) c.needed = 1;
  return c;
}

void QuorumTracker::set_rules(QuorumRules rules) {
  std::lock_guard lock(mutex_);
  waiting_for_all_ = rules.wait_for_all;
  rules_ = std::move(rules);
  if (ring_) apply_locked(*ring_);  // rules given after the first ring: count it again
}

// Who left and joined, as corosync's quorum service reports it: a node of
// the last ring that did not go on with us left (also when it is in the new
// ring again: it restarted or was cut off meanwhile, so it also joined).
void QuorumTracker::on_ring(const RingEvent& ring, std::span<const std::uint32_t> side) {
  std::lock_guard lock(mutex_);
  const std::vector<std::uint32_t> before =
      from_configuration_ && ring_ ? ring_->nodes : std::vector<std::uint32_t>{};
  left_.clear();
  joined_.clear();
  for (std::uint32_t n : before) {
    if (!contains(side, n) || !contains(ring.nodes, n)) left_.push_back(n);
  }
  for (std::uint32_t n : ring.nodes) {
    if (!contains(before, n) || contains(left_, n)) joined_.push_back(n);
  }
  from_configuration_ = true;
  apply_locked(ring);
  notify_locked();
}

void QuorumTracker::seed(const RingEvent& ring) {
  std::lock_guard lock(mutex_);
  if (!ring_) apply_locked(ring);
}

// Logs when the flag changes, and at the first ring when it is not quorate,
// so that a node that starts without quorum says why (a quorate start is
// the normal case and stays quiet).
void QuorumTracker::apply_locked(const RingEvent& ring) {
  const bool first = !ring_.has_value();
  ring_ = ring;
  const QuorumCount c = count_votes(rules_, ring.nodes);
  if (waiting_for_all_ && c.all_present) waiting_for_all_ = false;
  const bool was = quorate_;
  quorate_ = !waiting_for_all_ && c.present >= c.needed;
  if (first ? quorate_ : was == quorate_) return;
  const std::string votes = std::to_string(c.present) + " of " + std::to_string(c.expected) +
                            " votes present, " + std::to_string(c.needed) + " needed";
  if (quorate_) {
    log_line("quorate: " + votes + "; nodes " + node_list(ring.nodes));
  } else if (waiting_for_all_) {
    log_line("not quorate: " + votes + ", and wait_for_all: waiting to see all " +
             std::to_string(rules_.expected_votes) + " expected votes at once");
  } else {
    log_line((was ? "quorum lost: " : "not quorate: ") + votes);
  }
}

// Every tracking handle gets the same view (shared, copied once).
void QuorumTracker::notify_locked() {
  if (tracking_.empty()) return;
  auto view = std::make_shared<QuorumView>();
  view->quorate = quorate_;
  view->ring = *ring_;
  view->joined = joined_;
  view->left = left_;
  std::shared_ptr<const QuorumView> shared = std::move(view);
  for (QuorumHandle* h : tracking_)
    h->push(shared);
}

bool QuorumTracker::quorate() const {
  std::lock_guard lock(mutex_);
  return quorate_;
}

cs_error_t QuorumTracker::track(QuorumHandle& handle, unsigned int flags) {
  std::lock_guard lock(mutex_);
  if ((flags & (CS_TRACK_CURRENT | CS_TRACK_CHANGES)) != 0) {
    auto v = std::make_shared<QuorumView>();
    v->quorate = quorate_;
    if (ring_) v->ring = *ring_;
    handle.push(std::move(v));
  }
  if (contains_handle(handle)) return CS_ERR_EXIST;
  if ((flags & (CS_TRACK_CHANGES | CS_TRACK_CHANGES_ONLY)) != 0) tracking_.push_back(&handle);
  return CS_OK;
}

void QuorumTracker::untrack(QuorumHandle& handle) {
  std::lock_guard lock(mutex_);
  std::erase(tracking_, &handle);
}

bool QuorumTracker::contains_handle(const QuorumHandle& handle) const {
  return std::find(tracking_.begin(), tracking_.end(), &handle) != tracking_.end();
}

}  // namespace ringcast::client
