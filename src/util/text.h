// tritonpack: small text helpers shared by the spec reader, the pack reader, the runtime's model,
// the CLI and the run harness.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tritonpack::text {

// [A-Za-z_][A-Za-z0-9_]*
inline bool is_identifier(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// "a, b, c"
inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace tritonpack::text
