// Variant selection: the one function that answers both "is this launch supported?" and "which
// variant runs it?", so capability and dispatch cannot drift apart. Pure (no driver): tests and
// the CLI can ask it for any device description.
#pragma once

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
};

// What a device of compute capability `arch` offers, from the CUDA programming guide's table of
// compute capabilities (for tools that choose a variant without a GPU: `tritonpack shapes`).
DeviceCaps caps_for_arch(uint32_t arch);

enum class Image : uint8_t { kNone, kCubin, kPtx };

// How a variant can run on a device: its cubin if binary compatible (same major, minor not newer;
// arch-specific "a" targets only on their exact arch), else its PTX if the driver can JIT it
// (not newer, not arch-specific), else not at all. `why` says which when kNone.
Image image_for(const VariantInfo& v, const DeviceCaps& caps, std::string* why = nullptr);

// Per device: each variant's image and the preference order in which selection tries variants
// (config order, then most divisibility-specialized, then cubin before PTX, then newest arch).
struct DevicePlan {
  DeviceCaps caps;
  std::vector<Image> images;    // per variant
  std::vector<uint32_t> order;  // variant indices
};
DevicePlan plan_for_device(const KernelModel& model, const DeviceCaps& caps);

// Checks the arguments against the kernel (not a variant): count, kinds, null pointers, shapes
// (rank, sizes, descriptor strides), launch variables' ranges; binds the launch's values and dims;
// evaluates the rules and heuristics that do not depend on a variant. Throws kInvalidArgument for
// malformed arguments and inconsistent shapes, kNoMatchingVariant when a launch-wide rule does
// not hold (naming the rule and the values). Allocates nothing unless it throws.
void bind_launch(const KernelModel& model, std::span<const Arg> args, LaunchValues& values);

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
