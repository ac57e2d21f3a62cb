// One number in a file of the state directory (system.state_dir): the
// incarnation (incarnation.hpp) and the kept ring epochs (kept_epochs.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ringcast::runtime::state_file {

// mkdir -p, mode 0700 for what it creates; 0 or an errno.
int make_dirs(const std::string& dir);

struct ReadNumber {
  int err = 0;                         // of open/read; ENOENT: no file yet
  std::optional<std::uint64_t> value;  // nullopt with err 0: corrupt
};

// One decimal number above 0 and a newline, nothing else.
ReadNumber read_number(const std::string& path);

// Writes a temporary file, fsyncs it, renames it over `path` and fsyncs the
// directory `dir`: the file holds the old number or the new one, never a
// part, even across a crash. 0 or an errno.
int write_number(const std::string& dir, const std::string& path, std::uint64_t value);

}  // namespace ringcast::runtime::state_file
