#include "daemon/options.hpp"

#include <optional>

namespace ringcast::daemon {

namespace {

// "-c FILE" and "-cFILE" both work, as with getopt; flags without a value
// may be grouped ("-fv").
struct Reader {
  std::span<const std::string_view> args;
  std::size_t next = 0;

  // The value of the option at args[next - 1] whose letter ends at `rest`.
  std::optional<std::string_view> value(std::string_view rest) {
    if (!rest.empty()) return rest;
    if (next >= args.size()) return std::nullopt;
    return args[next++];
  }
};

std::optional<UsageError> take_value(char letter, std::string_view value, Options& o) {
  if (value.empty()) return UsageError{std::string("-") + letter + ": empty value"};
  if (letter == 'c') {
    o.config_path = std::string(value);
  } else {
    o.node_id = std::string(value);
  }
  return std::nullopt;
}

// One argument that starts with '-': its flags, or one flag and its value.
std::optional<UsageError> read_flags(std::string_view arg, Reader& r, Options& o) {
  for (std::size_t i = 1; i < arg.size(); ++i) {
    const char letter = arg[i];
    if (letter == 'f') {
      o.foreground = true;
    } else if (letter == 'h') {
      o.action = Options::Action::help;
    } else if (letter == 'v') {
      o.action = Options::Action::version;
    } else if (letter == 'c' || letter == 'n') {
      const std::optional<std::string_view> v = r.value(arg.substr(i + 1));
      if (!v) return UsageError{std::string("-") + letter + " needs a value"};
      return take_value(letter, *v, o);
    } else {
      return UsageError{"unknown option -" + std::string(1, letter)};
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<Options, UsageError> parse_options(std::span<const std::string_view> args) {
  Options o;
  Reader r{args};
  while (r.next < args.size()) {
    const std::string_view arg = args[r.next++];
    if (arg.size() < 2 || arg[0] != '-') {
      return UsageError{"unexpected argument '" + std::string(arg) + "'"};
    }
    if (std::optional<UsageError> e = read_flags(arg, r, o)) return *e;
  }
  return o;
}

std::string usage_text() {
  return "usage: ringcastd [-f] [-c FILE] [-n NODEID] [-h] [-v]\n"
         "  -f         stay in the foreground (as systemd runs it); without -f it forks\n"
         "             and the parent exits once the node is in a ring, or with the reason\n"
         "  -c FILE    the cluster file (default: $RINGCAST_CONFIG, then\n"
         "             /etc/ringcast/ringcast.conf)\n"
         "  -n NODEID  the node of the cluster file to run (default: $RINGCAST_NODE_ID,\n"
         "             then the node whose address is this host's)\n"
         "  -h         this help\n"
         "  -v         the version\n"
         "exit status: 0 stopped by SIGTERM or SIGINT, 1 could not join the ring or left\n"
         "it, 2 bad command line, 3 bad cluster file, 4 another ringcastd runs the node\n";
}

}  // namespace ringcast::daemon
