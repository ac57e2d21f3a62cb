// The I/O half of the configuration: reading the cluster file and the key
// file, and the environment. parse() itself is pure.
#include <fcntl.h>
#include <string.h>  // explicit_bzero
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "base/unique_fd.hpp"
#include "config/cluster_config.hpp"
#include "config/interpret.hpp"
#include "config/tree.hpp"

namespace ringcast::config {
namespace {

// Where errors about a file are reported: the file itself, or the line of
// the configuration that named it.
struct Blame {
  std::string file;
  std::uint32_t line = 0;
  std::string prefix;  // e.g. "key_file '/etc/ringcast/authkey': "
};

ConfigError failed(const Blame& blame, std::string what, int err = 0) {
  return ConfigError{blame.file, blame.line, 0, blame.prefix + std::move(what), err};
}

// The whole content of a regular file of at most max_bytes.
Parsed<std::string> read_bounded(const std::string& path, std::size_t max_bytes, const Blame& blame,
                                 struct stat* info) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return failed(blame, "cannot open", errno);
  if (::fstat(fd.get(), info) != 0) return failed(blame, "cannot stat", errno);
  if (!S_ISREG(info->st_mode)) return failed(blame, "not a regular file");
  if (static_cast<std::uint64_t>(info->st_size) > max_bytes) {
    return failed(blame, "larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string text(max_bytes + 1, '\0');  // one more: notices a file that grew
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(blame, "cannot read", errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) return failed(blame, "larger than " + std::to_string(max_bytes) + " bytes");
  text.resize(got);
  return text;
}

// A key is secret only while nobody else can read or replace the file that
// holds it, so, as ssh requires of a private key, that file must give group
// and others no access; and it must be owned by this process's user or by
// root (anyone else could rewrite it). What is wrong, or "".
std::string exposure(const struct stat& info) {
  if (info.st_uid != ::geteuid() && info.st_uid != 0) {
    return "owned by uid " + std::to_string(info.st_uid) + ", neither this process's user (uid " +
           std::to_string(::geteuid()) + ") nor root";
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return std::string("group or others may access it (mode ") + mode + ")";
  }
  return "";
}

std::string remedy(const struct stat& info) {
  return info.st_uid != ::geteuid() && info.st_uid != 0 ? "chown it" : "chmod 600 it";
}

// An inline key makes the cluster file the key's file.
Problem check_inline_key(const Auth& auth, const std::string& config_path,
                         const struct stat& info) {
  const std::string wrong = exposure(info);
  if (auth.key.empty() || wrong.empty()) return std::nullopt;
  const std::string is = wrong.starts_with("owned") ? "is " : "";
  return failed(Blame{config_path, auth.key_line, "auth.key: "},
                "the cluster file holds the key and " + is + wrong + "; " + remedy(info) +
                    ", or give the key in a key_file");
}

// The key file holds the raw key bytes.
Problem read_key_file(Auth& auth, const std::string& config_path) {
  const Blame blame{config_path, auth.key_file_line, "key_file '" + auth.key_file + "': "};
  struct stat info {};
  Parsed<std::string> bytes = read_bounded(auth.key_file, ClusterKey::kMaxBytes, blame, &info);
  if (!bytes) return bytes.error();
  std::string& secret = *bytes;
  if (const std::string wrong = exposure(info); !wrong.empty()) {
    explicit_bzero(secret.data(), secret.size());
    return failed(blame, wrong + "; " + remedy(info));
  }
  if (secret.size() < ClusterKey::kMinBytes) {
    explicit_bzero(secret.data(), secret.size());
    return failed(blame, std::to_string(secret.size()) + " bytes; a key has at least " +
                             std::to_string(ClusterKey::kMinBytes));
  }
  std::vector<std::byte> key(secret.size());
  for (std::size_t i = 0; i < secret.size(); ++i)
    key[i] = static_cast<std::byte>(secret[i]);
  explicit_bzero(secret.data(), secret.size());
  auth.key = ClusterKey(std::move(key));
  return std::nullopt;
}

// Without the key anyone who reaches a member's port could join, so running
// without one must be asked for in the file itself.
Problem require_key(const Auth& auth, const std::string& config_path) {
  if (!auth.key.empty() || !auth.key_file.empty() || auth.allow_unauthenticated) {
    return std::nullopt;
  }
  return failed(Blame{config_path, 0, ""},
                "no cluster key: add auth { key_file: <path> } (a file of 32 random bytes, "
                "mode 0600), or run unauthenticated on purpose with "
                "auth { allow_unauthenticated: yes }");
}

}  // namespace

const ClusterNode* ClusterConfig::node(std::uint32_t nodeid) const {
  for (const ClusterNode& n : nodes) {
    if (n.nodeid == nodeid) return &n;
  }
  return nullptr;
}

Parsed<ClusterConfig> parse(std::string_view text, std::string_view file_name) {
  Parsed<Block> tree = parse_tree(text, file_name);
  if (!tree) return tree.error();
  Parsed<ClusterConfig> config = interpret(*tree, file_name);
  if (!config) return config;
  if (Problem p = validate(*config, *tree, file_name)) return *std::move(p);
  return config;
}

Parsed<ClusterConfig> load(const std::string& path) {
  struct stat info {};
  Parsed<std::string> text = read_bounded(path, kMaxFileBytes, Blame{path, 0, ""}, &info);
  if (!text) return text.error();
  Parsed<ClusterConfig> config = parse(*text, path);
  if (!config) return config;
  if (Problem p = check_inline_key(config->auth, path, info)) return *std::move(p);
  if (Problem p = require_key(config->auth, path)) return *std::move(p);
  if (config->auth.key_file.empty()) return config;
  if (Problem p = read_key_file(config->auth, path)) return *std::move(p);
  return config;
}

Parsed<ClusterConfig> load_unkeyed(const std::string& path) {
  struct stat info {};
  Parsed<std::string> text = read_bounded(path, kMaxFileBytes, Blame{path, 0, ""}, &info);
  if (!text) return text.error();
  return parse(*text, path);
}

std::string path_from_environment() {
  const char* path = std::getenv(std::string(kConfigEnv).c_str());
  if (path != nullptr && *path != '\0') return path;
  return std::string(kDefaultPath);
}

}  // namespace ringcast::config
