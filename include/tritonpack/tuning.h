// tritonpack: ahead-of-time tuning tables (docs/tuning.md). How key values fall into bins, and
// the limits a spec and a manifest are held to. The tables themselves are part of the manifest
// (TuningInfo in manifest.h); `tritonpack tune` writes them, the runtime reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tritonpack/manifest.h"

namespace tritonpack::tuning {

inline constexpr int kTuningVersion = 1;  // the manifest's "tuning" object
inline constexpr size_t kMaxKeys = 4;
inline constexpr size_t kMaxEdges = 64;       // explicit edges of one key
inline constexpr size_t kMaxShapes = 4096;    // launches a spec asks `tune` to measure
inline constexpr size_t kMaxTables = 64;      // GPU models in one pack
inline constexpr size_t kMaxEntries = 4096;   // entries of one table
// The runtime expands a table into grids, one per dtype binding, over the bins from the lowest to
// the highest its entries measured (per key): at most this many cells in all, so a hostile table
// cannot make a kernel's setup allocate (or compute) without bound.
inline constexpr size_t kMaxCells = size_t{1} << 20;

// Bins of a key: 64 for powers of two (values < 1, then [2^(b-1), 2^b) for b = 1..63, so every
// int64 falls in one), edges + 1 for explicit edges.
uint32_t bin_count(const TuningBins& bins) noexcept;

// The bin `value` falls in. Constant time for powers of two, a binary search over the edges else.
uint32_t bin_of(const TuningBins& bins, int64_t value) noexcept;

// The smallest value of a bin (INT64_MIN for the first bin of explicit edges, 0 for the power-of-
// two bin of values < 1): what `tune` measures for a bin when a spec asks for a range.
int64_t bin_low(const TuningBins& bins, uint32_t bin) noexcept;

// "256..511", "< 1", ">= 1024", "64..255": the values of a bin, for messages and `inspect`.
std::string bin_text(const TuningBins& bins, uint32_t bin);

// "pow2" or "edges 64, 256, 1024".
std::string bins_text(const TuningBins& bins);

}  // namespace tritonpack::tuning
