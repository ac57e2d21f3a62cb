#include "runtime/kept_epochs.hpp"

#include <cerrno>
#include <cstring>

#include "base/log.hpp"
#include "runtime/state_file.hpp"

namespace ringcast::runtime {

Result<KeptEpochs> KeptEpochs::open(const std::string& dir, std::uint32_t node, bool required) {
  KeptEpochs k;
  k.required_ = required;
  int err = dir.empty() ? ENOENT : state_file::make_dirs(dir);
  const std::string path = dir + "/epochs." + std::to_string(node);
  state_file::ReadNumber read;
  if (err == 0) {
    read = state_file::read_number(path);
    if (read.err != ENOENT) err = read.err;
  }
  if (err != 0) {
    if (required)
      return system_error("open", err, path + " (system.state_dir: ring epochs must be kept)");
    k.warning_ = path + ": " + std::strerror(err) +
                 "; ring epochs are not kept (a restart relies on its incarnation alone)";
    return k;
  }
  k.dir_ = dir;
  k.path_ = path;
  if (read.err == 0 && !read.value) {
    k.warning_ = path + " is corrupt (not one decimal number); epochs start from the " +
                 "incarnation and the file is rewritten";
  }
  k.kept_ = read.value.value_or(0);
  return k;
}

bool KeptEpochs::keep(std::uint64_t through) {
  if (path_.empty() || through <= kept_) return true;
  if (int err = state_file::write_number(dir_, path_, through); err != 0) {
    if (!failing_) {
      log_line(LogLevel::warning, "write " + path_ + ": " + std::strerror(err) +
                                      (required_ ? "; no new ring is named until it can be written"
                                                 : "; ring epochs are no longer kept"));
    }
    failing_ = true;
    if (!required_) path_.clear();
    return !required_;
  }
  if (failing_) log_line("wrote " + path_ + " again");
  failing_ = false;
  kept_ = through;
  return true;
}

}  // namespace ringcast::runtime
