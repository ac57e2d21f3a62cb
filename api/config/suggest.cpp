// Messages for unknown names, with a hint when the name is close to a known
// one or is what corosync.conf calls it.
#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "config/interpret.hpp"

namespace ringcast::config {
namespace {

// corosync.conf spellings that people will bring along.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kCorosyncNames = {{
    {"token", "token_timeout_ms"},
    {"consensus", "consensus_timeout_ms"},
    {"join", "join_timeout_ms"},
    {"token_retransmits_before_loss_const", "token_retransmits_before_loss"},
    {"hold", "token_hold_us"},
    {"ring0_addr", "address"},
    {"netmtu", "max_message_size_bytes"},
    {"authkey", "key_file"},
}};

// Levenshtein distance, giving up (returning limit + 1) on long inputs.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  constexpr std::size_t kLongest = 48;
  if (a.size() > kLongest || b.size() > kLongest) return limit + 1;
  std::array<std::size_t, kLongest + 1> row{};
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view suggestion(std::string_view name, std::span<const std::string_view> known) {
  for (const auto& [theirs, ours] : kCorosyncNames) {
    if (name == theirs && std::find(known.begin(), known.end(), ours) != known.end()) return ours;
  }
  constexpr std::size_t kMaxDistance = 2;
  std::string_view best;
  std::size_t best_distance = kMaxDistance + 1;
  for (std::string_view candidate : known) {
    const std::size_t d = edit_distance(name, candidate, kMaxDistance);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace

ConfigError unknown_name(std::string_view what, std::string_view name, std::string_view where,
                         std::span<const std::string_view> known, std::string_view file,
                         std::uint32_t line, std::uint32_t column) {
  std::string message = "unknown " + std::string(what) + " " + quoted(name);
  if (!where.empty()) message += " in " + std::string(where);
  const std::string_view hint = suggestion(name, known);
  if (!hint.empty()) {
    message += " (did you mean '" + std::string(hint) + "'?)";
  } else if (!known.empty()) {
    message += " (expected one of:";
    for (std::string_view k : known)
      message += " " + std::string(k);
    message += ")";
  }
  return error_at(file, line, column, std::move(message));
}

}  // namespace ringcast::config
