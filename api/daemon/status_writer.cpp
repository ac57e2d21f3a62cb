#include "daemon/status_writer.hpp"

#include <unistd.h>

#include "base/log.hpp"

namespace ringcast::daemon {

StatusWriter::StatusWriter(const config::LocalConfig& local, std::string path)
    : path_(std::move(path)) {
  const config::ClusterNode& me = local.local();
  status_.node = me.nodeid;
  status_.pid = ::getpid();
  status_.address = me.address.to_string();
  for (const config::ClusterNode& n : local.config.nodes)
    if (n.nodeid != me.nodeid) others_.push_back(n.nodeid);
}

StatusWriter::~StatusWriter() {
  if (!written_.empty()) ::unlink(path_.c_str());
}

void StatusWriter::update(runtime::RingTransport& transport,
                          const std::vector<std::pair<std::string, std::uint64_t>>& extra) {
  fill_ring(status_, transport.status(), others_, transport.linked_nodes());
  status_.counters.insert(status_.counters.end(), extra.begin(), extra.end());
  std::string text = to_text(status_);
  if (text == written_) return;
  if (Status s = replace_file(path_, text); !s.ok()) {
    if (!failed_)
      log_line(LogLevel::warning, "cannot write the status file: " + s.error().message());
    failed_ = true;
    return;
  }
  written_ = std::move(text);
}

}  // namespace ringcast::daemon
