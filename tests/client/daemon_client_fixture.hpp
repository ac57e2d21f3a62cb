// The fixture of the suites that run the library in client mode against
// the fake daemon: a scratch cluster file and run directory in the
// environment, the callbacks' lines cleared, the library's log captured.
#pragma once

#include <gtest/gtest.h>

#include "base/log.hpp"
#include "fake_daemon.hpp"
#include "recorded_lines.hpp"

namespace ringcast::testing {

class DaemonClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    take_recorded();
    clear_log();
    set_log_sink(capture_log);
  }
  void TearDown() override { set_log_sink(nullptr); }
  DaemonEnvironment env_;
};

}  // namespace ringcast::testing
