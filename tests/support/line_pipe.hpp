// Lines over a pipe or socket between a parent and its child processes (the
// rdma tests' members, ringcast-bench's): one text message per line, what
// came after the last newline kept for the next read.
#pragma once

#include <optional>
#include <string>

namespace ringcast::test {

// Writes text and a newline, all of it; false when the pipe broke.
bool write_line(int fd, const std::string& text);

// Takes the first complete line (without its newline) out of buffer.
std::optional<std::string> take_line(std::string& buffer);

enum class LineWait { line, timeout, closed };

// The next line from fd into `line`, reading into buffer, waiting up to
// timeout_ms in all (-1: no limit); closed at EOF or a read error.
LineWait wait_line(int fd, std::string& buffer, int timeout_ms, std::string& line);

// The same, "" on timeout or EOF: for peers whose lines are never empty.
std::string read_line(int fd, std::string& buffer, int timeout_ms);

}  // namespace ringcast::test
