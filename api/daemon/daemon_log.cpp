#include "daemon/daemon_log.hpp"

#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/log.hpp"

namespace ringcast::daemon {

namespace {

// The sink is a plain function (base/log.hpp); it reads its targets here.
std::atomic<bool> g_stderr{true};
std::atomic<bool> g_syslog{false};
std::atomic<bool> g_journal{false};

constexpr std::string_view kError = "error: ";
constexpr std::string_view kWarning = "warning: ";

void daemon_sink(std::string_view line) {
  const int priority = log_priority(line);
  const int n = static_cast<int>(line.size());
  if (g_stderr.load(std::memory_order_relaxed)) {
    if (g_journal.load(std::memory_order_relaxed)) {
      std::fprintf(stderr, "<%d>ringcastd: %.*s\n", priority, n, line.data());
    } else {
      std::fprintf(stderr, "ringcastd: %.*s\n", n, line.data());
    }
  }
  if (g_syslog.load(std::memory_order_relaxed)) ::syslog(priority, "%.*s", n, line.data());
}

}  // namespace

int log_priority(std::string_view line) {
  if (line.starts_with(kError)) return LOG_ERR;
  if (line.starts_with(kWarning)) return LOG_WARNING;
  return LOG_INFO;
}

LogTargets log_targets(bool to_stderr, bool to_syslog) {
  const char* journal = std::getenv("JOURNAL_STREAM");
  return LogTargets{to_stderr, to_syslog, journal != nullptr && journal[0] != '\0'};
}

void use_log_targets(const LogTargets& targets) {
  if (targets.to_syslog && !g_syslog.load())
    ::openlog("ringcastd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  g_stderr.store(targets.to_stderr);
  g_syslog.store(targets.to_syslog);
  g_journal.store(targets.journal);
  set_log_sink(&daemon_sink);
}

void log_error(std::string_view line) {
  log_line(LogLevel::info, std::string(kError) + std::string(line));
}

}  // namespace ringcast::daemon
