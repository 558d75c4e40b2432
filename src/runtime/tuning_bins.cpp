// Binning of tuning keys (include/tritonpack/tuning.h).
#include <algorithm>
#include <bit>

#include "tritonpack/tuning.h"

namespace tritonpack::tuning {

uint32_t bin_count(const TuningBins& bins) noexcept {
  return bins.edges.empty() ? 64u : static_cast<uint32_t>(bins.edges.size() + 1);
}

uint32_t bin_of(const TuningBins& bins, int64_t value) noexcept {
  if (bins.edges.empty()) return value < 1 ? 0u : static_cast<uint32_t>(std::bit_width(static_cast<uint64_t>(value)));
  return static_cast<uint32_t>(std::upper_bound(bins.edges.begin(), bins.edges.end(), value) - bins.edges.begin());
}

int64_t bin_low(const TuningBins& bins, uint32_t bin) noexcept {
  if (bins.edges.empty()) return bin == 0 ? 0 : bin >= 64 ? INT64_MAX : int64_t{1} << (bin - 1);
  return bin == 0 ? INT64_MIN : bins.edges[std::min<size_t>(bin, bins.edges.size()) - 1];
}

std::string bin_text(const TuningBins& bins, uint32_t bin) {
  if (bins.edges.empty()) {
    if (bin == 0) return "< 1";
    if (bin >= 64) return "none";
    const int64_t lo = int64_t{1} << (bin - 1);
    // lo + (lo - 1), not 2 * lo - 1: the last bin ends at INT64_MAX, and 2 * 2^62 overflows.
    return lo == 1 ? "1" : std::to_string(lo) + ".." + std::to_string(lo + (lo - 1));
  }
  const size_t n = bins.edges.size();
  if (bin == 0) return "< " + std::to_string(bins.edges[0]);
  if (bin >= n) return ">= " + std::to_string(bins.edges[n - 1]);
  const int64_t lo = bins.edges[bin - 1], hi = bins.edges[bin] - 1;
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
}

std::string bins_text(const TuningBins& bins) {
  if (bins.edges.empty()) return "pow2";
  std::string out = "edges ";
  for (size_t i = 0; i < bins.edges.size(); ++i) out += (i ? ", " : "") + std::to_string(bins.edges[i]);
  return out;
}

}  // namespace tritonpack::tuning
