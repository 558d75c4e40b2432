// tritonpack: small text helpers shared by the spec reader, the pack reader, the runtime's model,
// the CLI and the run harness.
#pragma once

#include <cstdint>
#include <optional>
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

// "sm_90" -> 90; nullopt unless the text is exactly "sm_" and a number from 50 to 200 written
// without a leading zero (so "sm_090" and "sm_99999999999999999999" are not archs).
inline std::optional<uint32_t> parse_arch(std::string_view s) {
  if (s.size() < 5 || s.size() > 6 || s.substr(0, 3) != "sm_" || s[3] == '0') return std::nullopt;
  uint32_t arch = 0;
  for (char c : s.substr(3)) {
    if (c < '0' || c > '9') return std::nullopt;
    arch = arch * 10 + static_cast<uint32_t>(c - '0');
  }
  if (arch < 50 || arch > 200) return std::nullopt;
  return arch;
}

}  // namespace tritonpack::text
