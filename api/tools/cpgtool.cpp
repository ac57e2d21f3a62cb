#include "tools/cpgtool.hpp"

#include <optional>
#include <ostream>

namespace ringcast::tools {

namespace {

constexpr const char* kUsage =
    "usage: ringcast-cpgtool [-d delimiter] [-e] [-n] [-j] [-h]\n"
    "The cluster's CPG groups and their members, as corosync-cpgtool shows them.\n"
    "  -d DELIM  fields separated by DELIM's first character, one line per member\n"
    "  -e        do not escape unprintable characters in group names\n"
    "  -n        only the names of all existing groups\n"
    "  -j        JSON (ringcast's own; not in corosync-cpgtool)\n"
    "  -h        this help\n"
    "exit status: 0 listed, 1 no ringcastd of this node answered (or the node\n"
    "could not start, RINGCAST_MODE=embedded) or the listing failed, 2 bad\n"
    "command line\n";

struct Parsed {
  CpgtoolOptions options;
  bool help = false;
};

// getopt's "hd:nej" without its global state: flags may be grouped (-en),
// -d takes the rest of its word or the next word (-d: or -d :).
std::optional<Parsed> parse(std::span<const std::string_view> args, std::ostream& err) {
  Parsed p;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--" && i + 1 == args.size()) break;  // the end of the options, nothing after
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      const std::string_view extra = a == "--" ? args[i + 1] : a;
      err << "ringcast-cpgtool: unexpected argument '" << extra << "'\n" << kUsage;
      return std::nullopt;
    }
    for (std::size_t j = 1; j < a.size(); ++j) {
      switch (a[j]) {
        case 'h':
          p.help = true;
          break;
        case 'n':
          p.options.names_only = true;
          break;
        case 'e':
          p.options.escape = false;
          break;
        case 'j':
          p.options.json = true;
          break;
        case 'd': {
          if (j + 1 == a.size() && i + 1 == args.size()) {
            err << "ringcast-cpgtool: option -d needs a delimiter\n" << kUsage;
            return std::nullopt;
          }
          const std::string_view value = j + 1 < a.size() ? a.substr(j + 1) : args[++i];
          p.options.delimiter = value.empty() ? 0 : value[0];
          j = a.size();
          break;
        }
        default:
          err << "ringcast-cpgtool: unknown option -" << a[j] << "\n" << kUsage;
          return std::nullopt;
      }
    }
  }
  return p;
}

void say_error(std::ostream& err, const char* call, cs_error_t e) {
  err << "ringcast-cpgtool: " << call << ": " << cs_strerror(e) << " (error " << e << ")";
}

// Every item of one iteration; nullopt (said on err) when it fails.
std::optional<GroupItems> list_groups(cpg_handle_t handle, cpg_iteration_type_t type,
                                      std::ostream& err) {
  cpg_iteration_handle_t it = 0;
  if (cs_error_t e = cpg_iteration_initialize(handle, type, nullptr, &it); e != CS_OK) {
    say_error(err, "cpg_iteration_initialize", e);
    err << "\n";
    return std::nullopt;
  }
  GroupItems items;
  cpg_iteration_description_t d{};
  cs_error_t e = CS_OK;
  while ((e = cpg_iteration_next(it, &d)) == CS_OK)
    items.push_back(d);
  cpg_iteration_finalize(it);
  if (e != CS_ERR_NO_SECTIONS) {
    say_error(err, "cpg_iteration_next", e);
    err << "\n";
    return std::nullopt;
  }
  return items;
}

}  // namespace

int cpgtool_main(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  const std::optional<Parsed> p = parse(args, err);
  if (!p) return kCpgtoolUsage;
  if (p->help) {
    out << kUsage;
    return kCpgtoolOk;
  }
  cpg_handle_t handle = 0;
  if (cs_error_t e = cpg_initialize(&handle, nullptr); e != CS_OK) {
    say_error(err, "cpg_initialize", e);
    err << ": no ringcastd of this node answered (start it with systemctl start ringcastd, "
           "or ringcastd -n NODEID), or with RINGCAST_MODE=embedded this process could not "
           "start as a node; the library's line above says why\n";
    return kCpgtoolFailed;
  }
  const CpgtoolOptions& o = p->options;
  const auto items =
      list_groups(handle, o.names_only ? CPG_ITERATION_NAME_ONLY : CPG_ITERATION_ALL, err);
  cpg_finalize(handle);
  if (!items) return kCpgtoolFailed;
  out << (o.json ? cpgtool_json(*items, o) : cpgtool_text(*items, o));
  out.flush();
  return out ? kCpgtoolOk : kCpgtoolFailed;
}

}  // namespace ringcast::tools
