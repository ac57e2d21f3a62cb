// Whether a new link from a member may replace the live one to it.
//
// A new link arrives while one is live when the peer restarted (a newer
// incarnation: its old link is dead, and cutting it is how both heal), or
// when the peer saw the link fail before this side did and dialled again
// (the same incarnation). The second needs no replacement: the peer tore its
// side down, so this side's link fails too, at once when the disconnect
// arrives, else at its next write (the token's, or the membership's join
// once the token stops), and the peer's next dial then finds no live link.
// A new link is also what an impostor would offer to cut a member off: one
// that reaches the port (with the key, from the member's address) could
// evict it again and again. So only a newer incarnation replaces a live
// link, at most once per min_interval_ns per member; a link refused is
// dropped (a genuine peer dials again).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringcast::runtime {

enum class Replacement : std::uint8_t { allowed, older_incarnation, same_incarnation, too_soon };
const char* replacement_text(Replacement r) noexcept;

class LinkReplacement {
 public:
  static constexpr std::uint64_t kDefaultMinIntervalNs = 1'000'000'000;

  explicit LinkReplacement(std::size_t members,
                           std::uint64_t min_interval_ns = kDefaultMinIntervalNs)
      : min_interval_ns_(min_interval_ns), last_ns_(members, kNever) {}

  // A new link from member `peer` (incarnation `offered`) while the live one
  // came from incarnation `live`. On `allowed`, counts as a replacement now.
  Replacement decide(std::size_t peer, std::uint32_t live, std::uint32_t offered,
                     std::uint64_t now_ns) noexcept {
    if (peer >= last_ns_.size()) return Replacement::too_soon;
    if (offered < live) return Replacement::older_incarnation;
    if (offered == live) return Replacement::same_incarnation;
    if (last_ns_[peer] != kNever && now_ns - last_ns_[peer] < min_interval_ns_) {
      return Replacement::too_soon;
    }
    last_ns_[peer] = now_ns;
    return Replacement::allowed;
  }

 private:
  static constexpr std::uint64_t kNever = UINT64_MAX;
  std::uint64_t min_interval_ns_;
  std::vector<std::uint64_t> last_ns_;  // by member index: its last replacement
};

inline const char* replacement_text(Replacement r) noexcept {
  switch (r) {
    case Replacement::allowed:
      return "allowed";
    case Replacement::older_incarnation:
      return "it comes from an older incarnation than the live link";
    case Replacement::same_incarnation:
      return "it comes from the incarnation of the live link (only a restarted peer replaces a "
             "live link; one that failed on the peer's side is taken once it fails here)";
    case Replacement::too_soon:
      return "the live link to it was replaced less than a second ago";
  }
  return "?";
}

}  // namespace ringcast::runtime
