#include <cstdio>
#include <cstring>

#include "tools/cpgtool.hpp"

namespace ringcast::tools {

namespace {

std::string_view name_of(const cpg_iteration_description_t& item) {
  const std::size_t length = item.group.length <= CPG_MAX_NAME_LENGTH ? item.group.length : 0;
  return {item.group.value, length};
}

// As corosync-cpgtool escapes: backslash doubled, every byte outside
// printable ASCII as \xHH; each byte on its own (corosync prints bytes
// above 0x7f sign-extended, \xFFFFFFC3; here \xC3).
std::string text_name(std::string_view name, bool escape) {
  std::string out;
  for (char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (!escape || (b >= 0x20 && b < 0x7f && b != '\\')) {
      out += c;
    } else if (b == '\\') {
      out += "\\\\";
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", b);
      out += hex;
    }
  }
  return out;
}

// A JSON string: quote, backslash and control bytes escaped as JSON wants;
// bytes above 0x7f as \u00hh (the byte's value: names are bytes, not
// UTF-8), or as they are with -e (valid JSON when the names are UTF-8).
std::string json_name(std::string_view name, bool escape) {
  std::string out = "\"";
  for (char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20 || b == 0x7f || (b > 0x7f && escape)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", b);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string names_text(const GroupItems& items, const CpgtoolOptions& o) {
  std::string out;
  for (const auto& item : items) {
    out += text_name(name_of(item), o.escape);
    out += o.delimiter != 0 ? o.delimiter : '\n';
  }
  if (o.delimiter != 0) out += '\n';
  return out;
}

std::string members_text(const GroupItems& items, const CpgtoolOptions& o) {
  char line[128];
  const char d = o.delimiter;
  if (d != 0)
    std::snprintf(line, sizeof line, "GRP_NAME%cPID%cNODEID\n", d, d);
  else
    std::snprintf(line, sizeof line, "Group Name\t%10s\t%10s\n", "PID", "Node ID");
  std::string out = line;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string name = text_name(name_of(items[i]), o.escape);
    if (d != 0) {
      std::snprintf(line, sizeof line, "%c%u%c%u\n", d, items[i].pid, d, items[i].nodeid);
      out += name + line;
      continue;
    }
    if (i == 0 || name_of(items[i]) != name_of(items[i - 1])) out += name + "\n";
    // corosync appends the node's addresses in parentheses; the CPG API
    // has no call that gives them.
    std::snprintf(line, sizeof line, "\t\t%10u\t%10u\n", items[i].pid, items[i].nodeid);
    out += line;
  }
  return out;
}

std::string json_member(const cpg_iteration_description_t& item) {
  return "{\"nodeid\":" + std::to_string(item.nodeid) + ",\"pid\":" + std::to_string(item.pid) +
         "}";
}

}  // namespace

std::string cpgtool_text(const GroupItems& items, const CpgtoolOptions& options) {
  return options.names_only ? names_text(items, options) : members_text(items, options);
}

std::string cpgtool_json(const GroupItems& items, const CpgtoolOptions& options) {
  std::string out = "{\"groups\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const bool first_of_group = i == 0 || name_of(items[i]) != name_of(items[i - 1]);
    if (options.names_only || first_of_group) {
      if (i != 0) out += options.names_only ? "}," : "]},";
      out += "{\"name\":" + json_name(name_of(items[i]), options.escape);
      if (!options.names_only) out += ",\"members\":[";
    } else {
      out += ",";
    }
    if (!options.names_only) out += json_member(items[i]);
  }
  if (!items.empty()) out += options.names_only ? "}" : "]}";
  return out + "]}\n";
}

}  // namespace ringcast::tools
