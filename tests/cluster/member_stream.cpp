// member_stream: one member of the separate-hosts test on the runtime with
// membership (runtime::MembershipNode), for the VMs of tests/cluster/. It runs
// member_kill_test's member process (support/stream_member.hpp: streams,
// reports each configuration change with the count and hash of what it
// delivered since the one before) in a child, and turns its reports into
// the lines of cpg_stream.c that tests/cluster/scenario.sh reads:
//   conf T R.E m=1,2 l=3 j=- seg=N:H d=3:MS
//                                     ->  view_end members=<previous> count=N hash=H
//                                           ring=<previous>/<kind> next=R.E/T/1,2
//                                         view members=1,2 left=3:down down_ms=3:MS joined=
//   final N:H                         ->  report members=<current> count=N hash=H
//                                           ring=<current>/<kind> next=end
//   error ...                         ->  error ... (and the exit status is 1)
// and, when the child ends, "exit failures=F status=S".
//
//   RINGCAST_CLUSTER_ADDRS="a b c" RINGCAST_NODE_ID=n [RINGCAST_VIEW_HASHES=FILE] member_stream
// Node i+1 is at the i-th address, port 7405; stdin ("stop", "exit") goes to
// the member process. RINGCAST_VIEW_HASHES: the member process writes each
// view's running hashes there (support/stream_member.hpp), for the host's prefix
// check of views whose members parted ways.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "support/stream_member.hpp"

namespace {

using ringcast::test::StreamMemberPlan;

constexpr std::uint16_t kPort = 7405;

bool plan_from_environment(StreamMemberPlan& plan) {
  const char* addrs = std::getenv("RINGCAST_CLUSTER_ADDRS");
  const char* id = std::getenv("RINGCAST_NODE_ID");
  if (addrs == nullptr || id == nullptr) return false;
  std::istringstream in(addrs);
  ringcast::fabric::NodeId n = 0;
  for (std::string a; in >> a;)
    plan.members.push_back({++n, a, kPort});
  plan.me = static_cast<ringcast::fabric::NodeId>(std::atoi(id));
  if (const char* d = std::getenv("RINGCAST_RDMA_DEVICE")) plan.device = d;
  if (const char* g = std::getenv("RINGCAST_GID_INDEX")) plan.gid_index = std::atoi(g);
  if (const char* h = std::getenv("RINGCAST_VIEW_HASHES")) plan.view_hash_path = h;
  return plan.me >= 1 && plan.me <= n;
}

// "3,4" -> "3:down,4:down"; "-" -> "".
std::string with_reason(const std::string& ids) {
  if (ids == "-") return "";
  std::string out;
  std::istringstream in(ids);
  for (std::string id; std::getline(in, id, ',');)
    out += (out.empty() ? "" : ",") + id + ":down";
  return out;
}

std::string field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const auto start = at + key.size() + 2;
  return line.substr(start, line.find(' ', start) - start);
}

struct Translator {
  std::string members;  // of the current configuration
  std::string ring;     // its ring id and kind (T or R): "rep.epoch/R"
  unsigned failures = 0;

  void line(const std::string& l) {
    if (l.rfind("conf ", 0) == 0) return conf(l);
    if (l.rfind("final ", 0) == 0) return count_hash("report", l.substr(6), "end");
    if (l.rfind("error", 0) == 0) ++failures;
    std::printf("%s\n", l.c_str());
  }
  // next: the configuration that follows (ring/kind/members): only members
  // that move together to the same one must have delivered the same.
  void count_hash(const char* what, const std::string& seg, const std::string& next) {
    const auto colon = seg.find(':');
    std::printf("%s members=%s count=%s hash=%s ring=%s next=%s\n", what, members.c_str(),
                seg.substr(0, colon).c_str(), seg.substr(colon + 1).c_str(), ring.c_str(),
                next.c_str());
  }
  void conf(const std::string& l) {
    std::istringstream in(l);
    std::string word, t, kind, id;
    in >> word >> t >> kind >> id;
    const std::string next_ring = id + "/" + kind;
    if (!members.empty()) count_hash("view_end", field(l, "seg"), next_ring + "/" + field(l, "m"));
    members = field(l, "m");
    ring = next_ring;
    const std::string& ring_id = id;
    const std::string joined = field(l, "j");
    std::printf("ring id=%s kind=%s members=%s\n", ring_id.c_str(), kind.c_str(), members.c_str());
    const std::string silences = field(l, "d");
    std::printf("view members=%s left=%s down_ms=%s joined=%s\n", members.c_str(),
                with_reason(field(l, "l")).c_str(), silences == "-" ? "" : silences.c_str(),
                joined == "-" ? "" : joined.c_str());
  }
};

}  // namespace

int main() {
  StreamMemberPlan plan;
  if (!plan_from_environment(plan)) {
    std::fprintf(stderr, "member_stream: set RINGCAST_CLUSTER_ADDRS and RINGCAST_NODE_ID\n");
    return 2;
  }
  int fds[2];
  if (::pipe(fds) != 0) return 1;
  const pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::close(fds[0]);
    ::_exit(ringcast::test::stream_member_main(plan, STDIN_FILENO, fds[1]));
  }
  ::close(fds[1]);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("local nodeid=%u pid=%d\n", plan.me, static_cast<int>(child));
  Translator tr;
  FILE* reports = ::fdopen(fds[0], "r");
  char buf[1024];
  while (reports != nullptr && std::fgets(buf, sizeof buf, reports) != nullptr) {
    std::string l(buf);
    if (!l.empty() && l.back() == '\n') l.pop_back();
    tr.line(l);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) ++tr.failures;
  std::printf("exit failures=%u status=%d\n", tr.failures, code);
  return tr.failures == 0 ? 0 : 1;
}
