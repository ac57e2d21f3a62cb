// The `uidgid` sections: the users and groups whose processes may use
// ringcastd besides root and the daemon's own user, as corosync's uidgid
// directives say it (`uidgid { uid: hacluster }`, `uidgid { gid: haclient }`;
// any number of sections). A name is looked up on this host when the file
// is parsed; a number is taken as it is.
#include <grp.h>
#include <pwd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string>
#include <vector>

#include "config/interpret.hpp"

namespace ringcast::config {
namespace {

constexpr std::array<std::string_view, 2> kUidGidKeys = {"uid", "gid"};
// (uid_t)-1 means "no change" to the kernel: never a user.
constexpr std::uint64_t kMaxId = 0xffff'fffe;

std::optional<std::uint32_t> number_of(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc{} || end != text.data() + text.size() || n > kMaxId) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

// getpwnam_r / getgrnam_r (lookup) with a buffer that grows to what the
// entry needs; id reads the number out of what it found.
template <class Record, class Lookup, class Id>
std::optional<std::uint32_t> look_up(const std::string& name, Lookup lookup, Id id) {
  std::vector<char> buffer(1024);
  for (int tries = 0; tries < 8; ++tries) {
    Record record{};
    Record* found = nullptr;
    const int e = lookup(name.c_str(), &record, buffer.data(), buffer.size(), &found);
    if (e == ERANGE) {
      buffer.resize(buffer.size() * 4);
      continue;
    }
    if (e != 0 || found == nullptr) return std::nullopt;
    return id(*found);
  }
  return std::nullopt;
}

std::optional<std::uint32_t> id_of(bool user, const std::string& name) {
  if (user) return look_up<passwd>(name, ::getpwnam_r, [](const passwd& p) { return p.pw_uid; });
  return look_up<group>(name, ::getgrnam_r, [](const group& g) { return g.gr_gid; });
}

Parsed<std::uint32_t> read_id(const Entry& entry, std::string_view file) {
  const bool user = entry.key == "uid";
  const char* what = user ? "user" : "group";
  if (entry.value.empty())
    return error_at(file, entry.line, entry.value_column,
                    std::string(entry.key) + ": empty; give a " + what + " name or number");
  if (auto n = number_of(entry.value)) return *n;
  const std::string name(entry.value);
  if (const std::optional<std::uint32_t> id = id_of(user, name)) return *id;
  return error_at(
      file, entry.line, entry.value_column,
      std::string(entry.key) + ": no " + what + " " + quoted(entry.value) + " on this host");
}

}  // namespace

Problem read_uidgid(const Block& block, std::vector<UidGid>& out, std::string_view file) {
  if (Problem p = check_keys(block, kUidGidKeys, file)) return p;
  if (block.entries.empty())
    return error_at(file, block.line, block.column, "section 'uidgid' names neither uid nor gid");
  UidGid u;
  for (const Entry& entry : block.entries) {
    Parsed<std::uint32_t> id = read_id(entry, file);
    if (!id) return id.error();
    (entry.key == "uid" ? u.uid : u.gid) = *id;
  }
  out.push_back(u);
  return std::nullopt;
}

}  // namespace ringcast::config
