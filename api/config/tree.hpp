// The syntax of a cluster file, without its meaning: lines become a tree of
// blocks (`name {` ... `}`) holding entries (`key: value`). The meaning of
// each section and key is interpret.cpp's business.
//
// Views in the tree point into the text passed to parse_tree(); the text must
// outlive the tree.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"

namespace ringcast::config {

struct Entry {
  std::string_view key;
  std::string_view value;  // without the quotes of a quoted value
  std::uint32_t line = 0;
  std::uint32_t key_column = 0;
  std::uint32_t value_column = 0;
};

struct Block {
  std::string_view name;  // empty for the root
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::vector<Entry> entries;
  std::vector<Block> blocks;
};

// Blocks nest at most this deep below the root (nodelist > node).
inline constexpr int kMaxDepth = 2;

// The root block of the text, or the first syntax problem: NUL bytes, lines
// over kMaxLineBytes, a file over kMaxFileBytes, malformed lines, braces that
// do not match, blocks nested too deep.
Parsed<Block> parse_tree(std::string_view text, std::string_view file_name);

}  // namespace ringcast::config
