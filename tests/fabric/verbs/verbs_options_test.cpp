// The verbs endpoint's answers that need no device (label unit, on the host):
// unusable options and a host without RDMA are clear error values.
#include <gtest/gtest.h>

#include "fabric/verbs/endpoint.hpp"

namespace ringcast::fabric::verbs {
namespace {

TEST(VerbsOptions, NamingNeitherDeviceNorAddressIsInvalid) {
  auto ep = VerbsEndpoint::open(EndpointOptions{});
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().code, Errc::invalid_argument);
  EXPECT_NE(ep.error().message().find("name a device"), std::string::npos);
}

TEST(VerbsOptions, ACompletionQueueWithoutRoomForSendsIsInvalid) {
  EndpointOptions options;
  options.device = "rxe0";
  options.cq_depth = 512;
  options.srq_depth = 1024;
  auto ep = VerbsEndpoint::open(options);
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().code, Errc::invalid_argument);
  EXPECT_NE(ep.error().message().find("cq_depth 512"), std::string::npos);
}

TEST(VerbsOptions, AHostWithoutRdmaSaysSo) {
  if (!rdma_device_names().empty()) GTEST_SKIP() << "this host has an RDMA device";
  EndpointOptions options;
  options.device = "mlx5_0";
  auto ep = VerbsEndpoint::open(options);
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().code, Errc::not_found);
  EXPECT_NE(ep.error().message().find("no RDMA device"), std::string::npos) << ep.error().message();
  EXPECT_TRUE(rdma_ipv4_addresses().empty());
}

}  // namespace
}  // namespace ringcast::fabric::verbs
