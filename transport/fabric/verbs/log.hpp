// A minimal log hook for the verbs backend: set-up facts (device, NUMA
// locality) and failures worth a line. One line per call, stderr by default.
// Never called on the data path except when a link fails.
#pragma once

#include <string_view>

namespace ringcast::fabric::verbs {

using LogSink = void (*)(std::string_view line);

// nullptr restores the default (stderr). Safe to call from any thread.
void set_log_sink(LogSink sink) noexcept;

void log_line(std::string_view line) noexcept;

}  // namespace ringcast::fabric::verbs
