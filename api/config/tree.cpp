#include "config/tree.hpp"

#include <string>
#include <utility>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One line, classified. Columns are 1-based.
struct Line {
  enum class Kind { blank, open, close, entry };
  Kind kind = Kind::blank;
  std::string_view name;
  std::uint32_t name_column = 0;
  std::string_view value;
  std::uint32_t value_column = 0;
};

std::uint32_t column_of(std::size_t index) {
  return static_cast<std::uint32_t>(index + 1);
}

std::size_t skip_blanks(std::string_view text, std::size_t at) {
  while (at < text.size() && is_blank(text[at]))
    ++at;
  return at;
}

// NUL bytes and other control characters (tab excepted) are refused so that
// nothing unprintable reaches a value or a message.
Problem check_bytes(std::string_view text, std::string_view file, std::uint32_t line_no) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0) return error_at(file, line_no, column_of(i), "NUL byte");
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      return error_at(file, line_no, column_of(i),
                      "control character " + std::to_string(byte) + " (only tab is allowed)");
    }
  }
  return std::nullopt;
}

// The value after `key:`: trimmed, and unquoted when it is in double quotes.
Problem take_value(std::string_view text, std::size_t at, Line& line, std::string_view file,
                   std::uint32_t line_no) {
  at = skip_blanks(text, at);
  std::size_t end = text.size();
  while (end > at && is_blank(text[end - 1]))
    --end;
  std::string_view value = text.substr(at, end - at);
  line.value_column = column_of(at);
  const std::string where = "key " + quoted(line.name);
  if (value.empty()) return error_at(file, line_no, column_of(at), where + " has no value");
  if (value.front() == '"') {
    if (value.size() < 2 || value.back() != '"') {
      return error_at(file, line_no, column_of(at), where + ": quoted value has no closing '\"'");
    }
    value = value.substr(1, value.size() - 2);
    if (value.find('"') != std::string_view::npos) {
      return error_at(file, line_no, column_of(at), where + ": '\"' inside a quoted value");
    }
    line.value_column += 1;
  }
  line.value = value;
  return std::nullopt;
}

Parsed<Line> classify(std::string_view text, std::string_view file, std::uint32_t line_no) {
  Line line;
  std::size_t at = skip_blanks(text, 0);
  if (at == text.size() || text[at] == '#') return line;
  if (text[at] == '}') {
    if (skip_blanks(text, at + 1) != text.size()) {
      return error_at(file, line_no, column_of(at + 1), "unexpected text after '}'");
    }
    line.kind = Line::Kind::close;
    return line;
  }
  const std::size_t name_start = at;
  while (at < text.size() && is_name_char(text[at]))
    ++at;
  if (at == name_start) {
    return error_at(file, line_no, column_of(at),
                    "expected 'key: value', 'section {' or '}', found " + quoted(text.substr(at)));
  }
  line.name = text.substr(name_start, at - name_start);
  line.name_column = column_of(name_start);
  at = skip_blanks(text, at);
  if (at < text.size() && text[at] == '{') {
    if (skip_blanks(text, at + 1) != text.size()) {
      return error_at(file, line_no, column_of(at + 1),
                      "unexpected text after '{' (one statement per line)");
    }
    line.kind = Line::Kind::open;
    return line;
  }
  if (at < text.size() && text[at] == ':') {
    line.kind = Line::Kind::entry;
    if (Problem p = take_value(text, at + 1, line, file, line_no)) return *std::move(p);
    return line;
  }
  return error_at(file, line_no, column_of(at),
                  "expected ':' or '{' after " + quoted(line.name) +
                      (at < text.size() ? ", found " + quoted(text.substr(at, 1)) : ""));
}

// The open blocks, innermost last; the root is always at the bottom.
class BlockStack {
 public:
  BlockStack() : stack_(1) {}

  Problem open(const Line& line, std::string_view file, std::uint32_t line_no) {
    if (stack_.size() > static_cast<std::size_t>(kMaxDepth)) {
      // Most often a '}' is missing further up: name the outermost section.
      std::string path;
      for (std::size_t i = 1; i < stack_.size(); ++i)
        path += std::string(stack_[i].name) + " > ";
      return error_at(file, line_no, line.name_column,
                      "section " + quoted(line.name) + " is nested too deep (" + path +
                          std::string(line.name) + "; at most " + std::to_string(kMaxDepth) +
                          " levels): is the '}' of " + quoted(stack_[1].name) + " (line " +
                          std::to_string(stack_[1].line) + ") missing?");
    }
    Block block;
    block.name = line.name;
    block.line = line_no;
    block.column = line.name_column;
    stack_.push_back(std::move(block));
    return std::nullopt;
  }

  Problem close(std::string_view file, std::uint32_t line_no, std::uint32_t column) {
    if (stack_.size() == 1) return error_at(file, line_no, column, "'}' without an open section");
    Block done = std::move(stack_.back());
    stack_.pop_back();
    stack_.back().blocks.push_back(std::move(done));
    return std::nullopt;
  }

  void add(const Line& line, std::uint32_t line_no) {
    stack_.back().entries.push_back(
        Entry{line.name, line.value, line_no, line.name_column, line.value_column});
  }

  // The root, or the innermost block that was never closed.
  Parsed<Block> finish(std::string_view file) {
    if (stack_.size() > 1) {
      const Block& open = stack_.back();
      return error_at(file, open.line, open.column,
                      "section " + quoted(open.name) + " has no closing '}'");
    }
    return std::move(stack_.front());
  }

 private:
  std::vector<Block> stack_;
};

}  // namespace

Parsed<Block> parse_tree(std::string_view text, std::string_view file) {
  if (text.size() > kMaxFileBytes) {
    return error_at(file, 0, 0, "file is larger than " + std::to_string(kMaxFileBytes) + " bytes");
  }
  BlockStack blocks;
  std::uint32_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);  // CRLF files
    if (raw.size() > kMaxLineBytes) {
      return error_at(file, line_no, column_of(kMaxLineBytes),
                      "line is longer than " + std::to_string(kMaxLineBytes) + " bytes");
    }
    if (Problem p = check_bytes(raw, file, line_no)) return *std::move(p);
    Parsed<Line> line = classify(raw, file, line_no);
    if (!line) return line.error();
    Problem p;
    switch (line->kind) {
      case Line::Kind::blank:
        break;
      case Line::Kind::open:
        p = blocks.open(*line, file, line_no);
        break;
      case Line::Kind::close:
        p = blocks.close(file, line_no, column_of(raw.find('}')));
        break;
      case Line::Kind::entry:
        blocks.add(*line, line_no);
        break;
    }
    if (p) return *std::move(p);
  }
  return blocks.finish(file);
}

}  // namespace ringcast::config
