#include "fault_counts.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <utility>

namespace ringcast::membership::fault_test {
namespace {

// Built on first use: counters at namespace scope in any file may register
// before or after this file's statics are initialized.
std::vector<std::string>& registry() {
  static std::vector<std::string> names;
  return names;
}

}  // namespace

FaultKindCounter::FaultKindCounter(const char* name) : index_(registry().size()) {
  // Two kinds under one name would share a printed count: a mistake.
  if (std::find(registry().begin(), registry().end(), name) != registry().end()) std::abort();
  registry().emplace_back(name);
}

const char* FaultKindCounter::name() const noexcept {
  return registry()[index_].c_str();
}

void FaultCounts::add(const FaultKindCounter& kind, std::uint64_t n) {
  if (counts_.size() <= kind.index()) counts_.resize(kind.index() + 1, 0);
  counts_[kind.index()] += n;
}

std::uint64_t FaultCounts::get(const FaultKindCounter& kind) const noexcept {
  return kind.index() < counts_.size() ? counts_[kind.index()] : 0;
}

std::uint64_t FaultCounts::total() const noexcept {
  return std::accumulate(counts_.begin(), counts_.end(), std::uint64_t{0});
}

FaultCounts& FaultCounts::operator+=(const FaultCounts& other) {
  if (counts_.size() < other.counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  return *this;
}

std::string FaultCounts::summary() const {
  std::vector<std::pair<std::string, std::uint64_t>> named;
  for (std::size_t i = 0; i < registry().size(); ++i)
    named.emplace_back(registry()[i], i < counts_.size() ? counts_[i] : 0);
  std::sort(named.begin(), named.end());
  std::string out;
  for (const auto& [name, count] : named) {
    if (!out.empty()) out += ' ';
    out += name + "=" + std::to_string(count);
  }
  return out;
}

}  // namespace ringcast::membership::fault_test
