// Small text helpers the CLI's commands share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/error.h"
#include "util/text.h"

namespace tritonpack::cli {

// The value of an arch option (--arch, --explain): "sm_90" -> 90. Throws Error(kInvalidArgument)
// "OPTION TEXT: expected sm_NN, e.g. sm_90" for anything text::parse_arch does not take.
inline uint32_t parse_arch_option(const std::string& text, std::string_view option) {
  if (const auto arch = tritonpack::text::parse_arch(text)) return *arch;
  throw Error(ErrorCode::kInvalidArgument, std::string(option) + " " + text + ": expected sm_NN, e.g. sm_90");
}

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
