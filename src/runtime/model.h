// What the runtime precomputes once per kernel from a validated manifest, so that a launch only
// compares small integers: resolved dtypes per argument, divisibility, integer constexpr values per
// variant, the grid, rules and heuristics compiled to slot programs, and how given shapes bind
// dim names.
//
// Expression slots: [0, params) the kernel's params by index (integer scalars and integer or
// boolean constexprs), then the launch variables, then SM_COUNT (the device's SM count, which only
// grids and dim-size arguments name), then the dim names.
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

// Most runtime arguments a kernel may have (launch variables included; the two hidden scratch
// pointers come on top).
inline constexpr size_t kMaxArgs = kMaxRuntimeArgs;
// Most parameters (constexprs included).
inline constexpr size_t kMaxParams = 96;
inline constexpr size_t kMaxLaunchVars = 16;
inline constexpr size_t kMaxDimNames = 32;
inline constexpr size_t kMaxSlots = kMaxParams + kMaxLaunchVars + 1 + kMaxDimNames;
inline constexpr size_t kMaxDescriptors = 16;
inline constexpr size_t kMaxHeuristics = 16;
// Most kernel parameters after descriptors expand (docs/compile-step.md), scratch pointers included.
inline constexpr size_t kMaxAbiParams = 512;

struct VariantModel {
  const VariantInfo* info = nullptr;
  std::vector<ArgType> arg_types;      // per runtime argument, ABI storage type
  std::vector<DType> arg_dtypes;       // per runtime argument: tensor element dtype / scalar dtype
  std::vector<uint32_t> divisibility;  // per runtime argument
  // What selection compares per launch, precomputed: the arguments whose dtype must match (tensors
  // and descriptors), and those whose value must be divisible (divisor > 1).
  std::vector<std::pair<uint32_t, DType>> typed_args;
  std::vector<std::pair<uint32_t, uint32_t>> divisible_args;
  std::vector<int64_t> integer_constexprs;  // values of KernelModel::integer_constexprs, in order
  uint32_t specificity = 0;                 // sum of log2(divisibility): more specialized first
  uint32_t abi_params = 0;                  // parameters after descriptors expand, scratch included
  std::string label;                        // "variant 3 (T=fp16, BLOCK_SIZE=1024, config b1024, sm_90)"
  // A kernel in steps: the step whose values this variant has (steps differ, so at most one), or
  // -1 when it has none of them.
  int32_t step = -1;
};

// One dim of an argument's declared dims, checked when the launch gives the argument's shape.
struct DimCheck {
  enum class Kind : uint8_t {
    kBind,        // a dim name: the first given shape binds its slot, later ones must agree
    kEqualSlot,   // the name of an integer scalar, launch variable or constexpr: the size must equal it
    kEqualConst,  // an integer: the size must be it
    kEqualExpr,   // an expression (outputs): the size must equal it where its names are known
  };
  Kind kind = Kind::kBind;
  uint32_t dim = 0;
  uint32_t slot = 0;         // kBind, kEqualSlot
  int64_t value = 0;         // kEqualConst
  expr::Program program;     // kEqualExpr
  uint64_t dims_needed = 0;  // kEqualExpr: dim names it uses (bit = dim name index)
  bool per_variant = false;  // names a constexpr: checked per variant, with its constexprs in their slots
};

struct ShapeModel {
  uint32_t arg = 0;  // runtime argument index
  std::vector<DimCheck> dims;
};

// A dim-size argument (a scalar with `dim = "S"`): once the shapes given bind every dim it names,
// the argument must equal its expression.
struct DimArgCheck {
  uint32_t param = 0;  // the scalar's param index (its slot)
  expr::Program program;
  uint64_t dims_needed = 0;
  bool per_variant = false;  // names a constexpr
  bool per_device = false;   // names SM_COUNT: checked once the device is known (bind_device)
};

// A validity rule ([kernel] constraints) or a heuristic (a constexpr's `heuristic`).
struct RuleModel {
  enum class Kind : uint8_t { kConstraint, kHeuristic };
  Kind kind = Kind::kConstraint;
  expr::Program program;
  std::string text;                // the expression as written
  uint32_t param = 0;              // kHeuristic: the constexpr it chooses
  int32_t integer_constexpr = -1;  // kHeuristic: its index in KernelModel::integer_constexprs
  uint32_t heuristic = 0;          // kHeuristic: its ordinal among the heuristics (LaunchValues::heuristic)
  bool per_variant = false;        // uses a constexpr: evaluated for each variant
  uint64_t dims_needed = 0;        // dim names it uses (bit = dim name index)
  std::vector<uint32_t> slots;     // the slots it names, for messages
};

// The tuning key compiled to slot programs (it names no constexpr: it is known before a variant
// is), and where each type variable's dtype comes from at launch. Empty programs: not tuned.
struct TuningKeyModel {
  std::vector<expr::Program> programs;  // per key expression
  std::vector<int32_t> direct_slots;    // per key: its slot when it is a bare name (read directly), else -1
  uint64_t dims_needed = 0;             // dim names the key uses (bit = dim name index)
  std::vector<uint32_t> type_var_args;  // per KernelInfo::type_vars: the first argument it types
};

struct KernelModel {
  const KernelInfo* info = nullptr;
  std::vector<uint32_t> runtime_params;  // param indices of the kernel's runtime arguments
  size_t num_args = 0;                   // runtime_params + launch variables
  std::vector<VariantModel> variants;    // same order as info->variants
  std::array<expr::Program, 3> grid;
  std::vector<uint8_t> param_is_int_scalar;  // per param (bytes, not std::vector<bool>: read per launch)
  std::vector<uint32_t> int_scalar_args;     // runtime argument indices of the integer scalars
  std::vector<uint32_t> integer_constexprs;  // constexpr params whose values are all integral
  std::vector<std::string> slot_names;       // per slot
  uint32_t launch_var_slot = 0;              // first launch variable's slot
  uint32_t sm_count_slot = 0;                // SM_COUNT's slot, written from the device's caps
  // Which grid axes name SM_COUNT (the built-in, not a param or launch variable of that name,
  // which only packs older than the reserved name can have).
  std::array<bool, 3> grid_names_sm_count{false, false, false};
  uint32_t dim_slot = 0;                     // first dim name's slot
  std::vector<ShapeModel> shapes;            // arguments whose dims the spec declares
  std::vector<DimArgCheck> dim_args;
  bool has_per_variant_dims = false;  // some check above names a constexpr
  std::vector<RuleModel> rules;       // constraints, then heuristics
  size_t num_descriptors = 0;
  TuningKeyModel tuning;
  // A kernel in steps: per step, "PHASE=0" (KernelInfo::steps in words). Empty for a one-launch
  // kernel.
  std::vector<std::string> step_labels;
};

// Builds the model; throws Error(kCorruptPack) if an expression of the manifest names something
// the kernel does not have, or a limit above is exceeded.
KernelModel build_model(const KernelInfo& kernel);

// The launch's values in slot order: integer scalars, launch variables, the dims its shapes bind,
// and the integer constexprs of the variant last considered. Filled by bind_launch (selection.h).
struct LaunchValues {
  // Not zero-filled (the launch path writes a kilobyte less): every read is of a slot written
  // first. bind_launch writes the integer scalars, launch variables and the dims the given shapes
  // bind (known_dims says which); set_variant_slots writes the integer constexprs before anything
  // that names one is evaluated (rules, heuristics and dim checks that name constexprs are
  // evaluated per variant for that reason); expressions naming an unbound dim are not evaluated.
  std::array<int64_t, kMaxSlots> slots;
  uint64_t known_dims = 0;  // bit i: dim name i was bound by a given shape
  // The values of the heuristics that name no constexpr (evaluated once per launch), by the
  // heuristic's ordinal among the kernel's heuristics.
  std::array<int64_t, kMaxHeuristics> heuristic;
  std::array<int64_t, 3> grid;  // the grid of the variant last accepted
  // Selecting for one step of a kernel in steps: only that step's variants accept (-1: any).
  int32_t step = -1;
};

// Writes the variant's integer constexprs into their slots.
void set_variant_slots(const KernelModel& model, const VariantModel& variant, LaunchValues& values);

}  // namespace tritonpack::runtime
