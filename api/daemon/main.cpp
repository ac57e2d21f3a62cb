// ringcastd: the node's one ring member (docs/operations.md "Running
// ringcastd", man ringcastd(8)).
#include <cstdio>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/options.hpp"
#include "daemon/run_daemon.hpp"

int main(int argc, char** argv) {
  using namespace ringcast::daemon;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const std::variant<Options, UsageError> parsed = parse_options(args);
  if (const auto* e = std::get_if<UsageError>(&parsed)) {
    std::fprintf(stderr, "ringcastd: %s\n%s", e->message.c_str(), usage_text().c_str());
    return kExitUsage;
  }
  const Options& options = std::get<Options>(parsed);
  if (options.action == Options::Action::help) {
    std::fputs(usage_text().c_str(), stdout);
    return kExitOk;
  }
  if (options.action == Options::Action::version) {
    std::puts("ringcastd " RINGCAST_VERSION_STRING);
    return kExitOk;
  }
  return run_daemon(options);
}
