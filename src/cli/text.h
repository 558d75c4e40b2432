// Small text helpers the CLI's commands share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tritonpack::cli {

// "0-7, 9, 12-15" for sorted ids.
inline std::string id_ranges(const std::vector<uint32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(ids[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(ids[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace tritonpack::cli
