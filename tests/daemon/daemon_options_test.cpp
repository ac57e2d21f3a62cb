// ringcastd's command line (api/daemon/options.cpp): corosync's flags.
#include <gtest/gtest.h>

#include <string_view>
#include <variant>
#include <vector>

#include "daemon/options.hpp"

namespace ringcast::daemon {
namespace {

std::variant<Options, UsageError> parse(std::vector<std::string_view> args) {
  return parse_options(args);
}

Options ok(std::vector<std::string_view> args) {
  auto r = parse(args);
  if (const auto* e = std::get_if<UsageError>(&r)) ADD_FAILURE() << e->message;
  return std::holds_alternative<Options>(r) ? std::get<Options>(r) : Options{};
}

std::string usage_error(std::vector<std::string_view> args) {
  auto r = parse(args);
  const auto* e = std::get_if<UsageError>(&r);
  return e != nullptr ? e->message : "(parsed)";
}

TEST(DaemonOptions, NoneMeansForkDefaultFileAndNode) {
  const Options o = ok({});
  EXPECT_EQ(o.action, Options::Action::run);
  EXPECT_FALSE(o.foreground);
  EXPECT_EQ(o.config_path, "");
  EXPECT_EQ(o.node_id, "");
}

TEST(DaemonOptions, ForegroundFileAndNodeInEitherSpelling) {
  Options o = ok({"-f", "-c", "/etc/x.conf", "-n", "3"});
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.config_path, "/etc/x.conf");
  EXPECT_EQ(o.node_id, "3");
  o = ok({"-fc/etc/y.conf", "-n7"});
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.config_path, "/etc/y.conf");
  EXPECT_EQ(o.node_id, "7");
}

TEST(DaemonOptions, HelpAndVersion) {
  EXPECT_EQ(ok({"-h"}).action, Options::Action::help);
  EXPECT_EQ(ok({"-v"}).action, Options::Action::version);
  EXPECT_EQ(ok({"-f", "-h"}).action, Options::Action::help);
  EXPECT_NE(usage_text().find("ringcastd [-f] [-c FILE] [-n NODEID] [-h] [-v]"), std::string::npos);
}

TEST(DaemonOptions, MistakesAreUsageErrors) {
  EXPECT_EQ(usage_error({"-x"}), "unknown option -x");
  EXPECT_EQ(usage_error({"-c"}), "-c needs a value");
  EXPECT_EQ(usage_error({"-f", "-n"}), "-n needs a value");
  EXPECT_EQ(usage_error({"-c", ""}), "-c: empty value");
  EXPECT_EQ(usage_error({"node1"}), "unexpected argument 'node1'");
  EXPECT_EQ(usage_error({"-"}), "unexpected argument '-'");
}

}  // namespace
}  // namespace ringcast::daemon
