// What the runtime precomputes once per kernel from a validated manifest, so that a launch only
// compares small integers: resolved dtypes per argument, divisibility, constexpr values per
// variant, and the grid compiled to slot programs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tritonpack/expr.h"
#include "tritonpack/manifest.h"
#include "tritonpack/runtime.h"
#include "tritonpack/types.h"

namespace tritonpack::runtime {

// Most runtime arguments a kernel may have (the two hidden scratch pointers come on top).
inline constexpr size_t kMaxArgs = 64;
// Most parameters (constexprs included), i.e. expression slots.
inline constexpr size_t kMaxParams = 96;

struct VariantModel {
  const VariantInfo* info = nullptr;
  std::vector<ArgType> arg_types;       // per runtime argument, ABI storage type
  std::vector<DType> arg_dtypes;        // per runtime argument: tensor element dtype / scalar dtype
  std::vector<uint32_t> divisibility;   // per runtime argument
  std::array<int64_t, kMaxParams> constexpr_slots{};  // constexpr values at their param index
  uint32_t specificity = 0;             // sum of log2(divisibility): more specialized first
  std::string label;                    // "variant 3 (T=fp16, BLOCK_SIZE=1024, config b1024, sm_90)"
};

struct KernelModel {
  const KernelInfo* info = nullptr;
  std::vector<uint32_t> runtime_params;        // param indices of the runtime arguments, in order
  std::vector<VariantModel> variants;          // same order as info->variants
  std::array<expr::Program, 3> grid;           // slots = param indices
  std::vector<bool> param_is_int_scalar;       // per param
};

// Builds the model; throws Error(kCorruptPack) if the manifest's grid cannot be compiled.
KernelModel build_model(const KernelInfo& kernel);

// Fills `slots` (indexed by param index) with the integer values of runtime scalar arguments and
// the variant's constexprs, for evaluating grid and size expressions.
void fill_slots(const KernelModel& model, const VariantModel& variant, std::span<const Arg> args,
                std::array<int64_t, kMaxParams>& slots);

}  // namespace tritonpack::runtime
