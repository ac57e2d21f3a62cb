// ringcast-cpgtool: the cluster's CPG groups and their members (node id,
// pid), in corosync-cpgtool's layouts, read through the public C API only
// (cpg_iteration_*), so it sees what any CPG program of the node sees: in
// daemon mode through the node's ringcastd, in embedded mode as a ring node
// of its own. Its exit status serves scripts waiting for a daemon.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ringcast/cpg.h"

namespace ringcast::tools {

inline constexpr int kCpgtoolOk = 0;
inline constexpr int kCpgtoolFailed = 1;  // no daemon or node answered, or the listing failed
inline constexpr int kCpgtoolUsage = 2;

struct CpgtoolOptions {
  char delimiter = 0;       // -d: fields separated by it; 0: corosync's table
  bool escape = true;       // -e clears it: group names printed as their bytes
  bool names_only = false;  // -n
  bool json = false;        // -j
};

// One iteration item per member (or per group for names_only), in the
// order cpg_iteration_next gave them: a group's members follow each other.
using GroupItems = std::vector<cpg_iteration_description_t>;

// corosync-cpgtool's output for these options (-d, -e, -n).
std::string cpgtool_text(const GroupItems& items, const CpgtoolOptions& options);
// -j: {"groups":[{"name":..., "members":[{"nodeid":N,"pid":P},...]},...]}
// (no "members" with -n), one line.
std::string cpgtool_json(const GroupItems& items, const CpgtoolOptions& options);

// The tool's main, on argv without argv[0]: the listing on `out`, reasons
// on `err`.
int cpgtool_main(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace ringcast::tools
