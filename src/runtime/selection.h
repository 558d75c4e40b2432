// Variant selection: the one function that answers both "is this launch supported?" and "which
// variant runs it?", so capability and dispatch cannot drift apart. Pure (no driver): tests and
// the CLI can ask it for any device description.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/model.h"
#include "tritonpack/runtime.h"

namespace tritonpack::runtime {

struct DeviceCaps {
  uint32_t arch = 0;              // 90 for sm_90
  uint32_t max_shared_optin = 0;  // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
  bool cluster_launch = true;     // CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH
  std::array<int64_t, 3> max_grid{2147483647, 65535, 65535};  // CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X/Y/Z
  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: what a grid's SM_COUNT is. 0 = not known; a grid
  // that names SM_COUNT is then refused.
  uint32_t sm_count = 0;
  std::string name;  // cuDeviceGetName ("NVIDIA H200"); picks the tuning table. Empty: by arch only
};

// What a device of compute capability `arch` offers, from the CUDA programming guide's table of
// compute capabilities (for tools that choose a variant without a GPU: `tritonpack shapes`), and
// the SM count of one common GPU of that arch (132 for sm_90: an H100 SXM or H200).
DeviceCaps caps_for_arch(uint32_t arch);

enum class Image : uint8_t { kNone, kCubin, kPtx };

// How a variant can run on a device: its cubin if binary compatible (same major, minor not newer;
// arch-specific "a" targets only on their exact arch), else its PTX if the driver can JIT it
// (not newer, not arch-specific), else not at all. `why` says which when kNone.
Image image_for(const VariantInfo& v, const DeviceCaps& caps, std::string* why = nullptr);

// A kernel's tuning table for one device, expanded so that a launch finds its entry in constant
// time: per dtype binding, a grid over every bin from the lowest to the highest its entries
// measured (per key), each cell holding the nearest entry (fewest bin steps, summed over the keys;
// the first entry on a tie). A key value beyond that span counts as the span's nearest end: every
// entry is then the same number of steps farther, so the nearest entry is the same.
struct TuningPlan {
  int32_t table = -1;         // index into KernelInfo::tuning.tables; -1: no table for this device
  bool by_device = false;     // the table is this GPU model's (else one of the same arch)
  struct Group {
    std::vector<DType> dtypes;                   // per type variable
    std::vector<std::vector<uint32_t>> to_axis;  // per key: bin -> position on the grid's axis
    std::vector<uint32_t> axis_size;             // per key
    std::vector<int32_t> cells;                  // entry index per grid cell (key 0 slowest)
  };
  std::vector<Group> groups;
  // Per entry: the config indices it ranks, fastest first, and the same sorted (to tell the configs
  // it does not rank, tried after them in spec order). Not every config per entry: a table of 4096
  // entries over a kernel of 65536 configs would need a gigabyte.
  std::vector<std::vector<uint32_t>> rankings;
  std::vector<std::vector<uint32_t>> ranked_sorted;
};

// Per device: each variant's image and the preference order in which selection tries variants
// (config order, then most divisibility-specialized, then cubin before PTX, then newest arch).
// A tuned kernel's launch tries configs in its tuning entry's order instead (for_each_tuned_config).
struct DevicePlan {
  DeviceCaps caps;
  std::vector<Image> images;    // per variant
  std::vector<uint32_t> order;  // variant indices
  std::vector<std::vector<uint32_t>> by_config;  // per config: its variants, in `order`
  TuningPlan tuning;
};

// Which table a device uses: the one measured on its GPU model (caps.name, and caps.arch: a name
// is not trusted across archs), else the first of its arch, else none (spec order).
TuningPlan plan_tuning(const KernelModel& model, const DeviceCaps& caps);

// The tuning entry that orders this launch's configs: -1 when the device has no table, the
// options name a config or variant or ask to ignore tuning, the key needs a dim the launch did not
// give or cannot be evaluated, or no entry has the launch's dtypes. `exact`: the entry was
// measured in the launch's own bins (else it is the nearest). `values` come from bind_launch.
// Allocates nothing.
int32_t tuned_entry(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                    const LaunchOptions& options, const LaunchValues& values, bool* exact = nullptr);

// Calls visit(config) for the configs in the order this launch tries them until it returns true:
// its tuning entry's ranking, then the configs the entry does not rank, in spec order; spec order
// without an entry. Returns whether a visit returned true. Allocates nothing.
template <class Visit>
bool for_each_tuned_config(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                           const LaunchOptions& options, const LaunchValues& values, Visit&& visit) {
  const uint32_t configs = static_cast<uint32_t>(plan.by_config.size());
  const int32_t entry = tuned_entry(model, plan, args, options, values);
  if (entry < 0) {
    for (uint32_t c = 0; c < configs; ++c) {
      if (visit(c)) return true;
    }
    return false;
  }
  const std::vector<uint32_t>& ranking = plan.tuning.rankings[static_cast<size_t>(entry)];
  const std::vector<uint32_t>& ranked = plan.tuning.ranked_sorted[static_cast<size_t>(entry)];
  for (uint32_t c : ranking) {
    if (visit(c)) return true;
  }
  for (uint32_t c = 0; c < configs; ++c) {
    if (!std::binary_search(ranked.begin(), ranked.end(), c) && visit(c)) return true;
  }
  return false;
}

// "tuning: table 'NVIDIA H200' (sm_90), entry 3 (M 256..511, N 256..511, K 256..511, T=fp16):
// m128n128k32 12.1 us, ..." or why no entry applies; empty for a kernel without a tuning key.
std::string describe_tuning(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                            const LaunchOptions& options, const LaunchValues& values);
DevicePlan plan_for_device(const KernelModel& model, const DeviceCaps& caps);

// Checks the arguments against the kernel (not a variant): count, kinds, null pointers, shapes
// (rank, sizes, descriptor strides), launch variables' ranges; binds the launch's values and dims;
// evaluates the rules and heuristics that do not depend on a variant. Throws kInvalidArgument for
// malformed arguments and inconsistent shapes, kNoMatchingVariant when a launch-wide rule does
// not hold (naming the rule and the values). Allocates nothing unless it throws.
void bind_launch(const KernelModel& model, std::span<const Arg> args, LaunchValues& values);

// The launch's values that depend on the device, once `plan` says which device: SM_COUNT's slot,
// and the dim-size arguments that name SM_COUNT checked against their expressions where the
// shapes given bind their dims (kInvalidArgument, as bind_launch's check of the others; kUnsupported
// when the plan does not know the SM count). Call after bind_launch, before selecting on `plan`.
// Allocates nothing unless it throws.
void bind_device(const KernelModel& model, const DevicePlan& plan, LaunchValues& values);

// The first variant in plan order that accepts the launch, or -1. `values` come from bind_launch
// (their constexpr slots are overwritten); values.grid is then the chosen variant's grid (checked
// against the device's limits, as is its scratch: both are conditions of accepting). Allocates
// nothing.
int32_t select_variant(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                       const LaunchOptions& options, LaunchValues& values);

// Whether variant `index` can run on the plan's device at all: an image (cubin or PTX) the device
// takes, its shared memory and cluster size. Part of every selection.
bool device_accepts(const KernelModel& model, const DevicePlan& plan, uint32_t index, std::string* why = nullptr);

// The candidates query: every variant in plan order that accepts the launch (the same test
// select_variant stops at first), with its grid. `values` come from bind_launch.
void candidate_variants(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                        const LaunchOptions& options, LaunchValues& values,
                        std::vector<std::pair<uint32_t, std::array<int64_t, 3>>>& out);

// Before any shape or value is known (an engine's build phase): the variants in plan order that
// the device can run, the options allow, and whose dtypes agree with the known argument dtypes
// (dtypes[i] empty or missing = not known yet).
void dtype_candidates(const KernelModel& model, const DevicePlan& plan, std::span<const std::optional<DType>> dtypes,
                      const LaunchOptions& options, std::vector<uint32_t>& out);

// Per variant in plan order: its index and why it cannot run the launch ("" = it can).
std::vector<std::pair<uint32_t, std::string>> variant_reasons(const KernelModel& model, const DevicePlan& plan,
                                                              std::span<const Arg> args, const LaunchOptions& options,
                                                              LaunchValues& values);

// The launch in words: arguments, pins, config, each heuristic's value and the compiled values.
std::string describe_launch(const KernelModel& model, std::span<const Arg> args, const LaunchOptions& options,
                            const LaunchValues& values);

// Triton's scratch for one launch (Triton 3.6, driver.py): global and profile scratch are each
// size per program x programs x CTAs per program, laid out global first, then profile scratch at
// the profile alignment. Pure and allocation-free (the launch path calls it); past 256 TiB it
// sets too_large and the caller reports it.
struct ScratchLayout {
  size_t bytes = 0;           // global + profile
  size_t profile_offset = 0;  // where profile scratch starts
  bool too_large = false;
};
ScratchLayout scratch_layout(const VariantInfo& v, const std::array<int64_t, 3>& grid);

// Throws Error(kNoMatchingVariant) listing every candidate with the first condition it failed
// and the actual values. `origin` names the pack.
[[noreturn]] void throw_no_match(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                                 const LaunchOptions& options, LaunchValues& values, const std::string& origin);

}  // namespace tritonpack::runtime
