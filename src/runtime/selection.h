// Variant selection: the one function that answers both "is this launch supported?" and "which
// variant runs it?", so capability and dispatch cannot drift apart. Pure (no driver): tests and
// the CLI can ask it for any device description.
#pragma once

#include <array>
#include <cstdint>
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
};

enum class Image : uint8_t { kNone, kCubin, kPtx };

// How a variant can run on a device: its cubin if binary compatible (same major, minor not newer;
// arch-specific "a" targets only on their exact arch), else its PTX if the driver can JIT it
// (not newer, not arch-specific), else not at all. `why` says which when kNone.
Image image_for(const VariantInfo& v, const DeviceCaps& caps, std::string* why = nullptr);

// Per device: each variant's image and the preference order in which selection tries variants
// (config order, then most divisibility-specialized, then cubin before PTX, then newest arch).
struct DevicePlan {
  DeviceCaps caps;
  std::vector<Image> images;     // per variant
  std::vector<uint32_t> order;   // variant indices
};
DevicePlan plan_for_device(const KernelModel& model, const DeviceCaps& caps);

// Checks argument count and kinds against the kernel (not the variant). Throws kInvalidArgument.
void check_args(const KernelModel& model, std::span<const Arg> args);

// The first variant in plan order that accepts the launch, or -1. Allocates nothing.
int32_t select_variant(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                       const LaunchOptions& options);

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
[[noreturn]] void throw_no_match(const KernelModel& model, const DevicePlan& plan,
                                 std::span<const Arg> args, const LaunchOptions& options,
                                 const std::string& origin);

}  // namespace tritonpack::runtime
