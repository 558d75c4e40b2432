// The part of a run that needs no GPU: from a request (type bindings, NAME=VALUE texts, pins) and
// a kernel's description to every value by name, the shape of each tensor and descriptor whose
// dims are all known, and the runtime arguments in launch order. `tritonpack run` plans before it
// touches the driver, so a missing or misspelt value is reported on any machine.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/references.h"
#include "tritonpack/runtime.h"

namespace tritonpack::harness {

struct RunRequest {
  std::map<std::string, std::string> types;   // type variable -> dtype; default: the first listed
  // NAME -> value text, for scalar params, launch variables and dim names (a dim that no scalar
  // gives, as fmha's D). A scalar with `dim = "S"` and its dim S give each other.
  std::map<std::string, std::string> values;
  std::string config;
  std::vector<ConstexprValue> pinned;  // any kind; from text with pin_from_text
  int32_t variant_id = -1;
  bool use_tuning = true;     // LaunchOptions::use_tuning
  std::string tuning_device;  // LaunchOptions::tuning_device (explaining for a GPU not present)
  uint32_t sm_count = 0;      // LaunchOptions::sm_count (the same; plan_run takes the count it uses)
  bool verify = true;
  int bench_runs = 0;  // 0: no benchmark
  int warmup_runs = 10;
  uint64_t seed = 0;          // 0: a fresh random seed
  CUstream stream = nullptr;  // nullptr: a stream of the runner's own
  // How each launch is made; empty: Kernel::launch. Tests put the C API here, so that the same
  // data, poison and references check a launch through another interface.
  std::function<void(std::span<const Arg> args, CUstream stream, const LaunchOptions& options)> launch;

  // How the runtime is asked to choose: config, pins, variant id. The options borrow this request's
  // config and pins: keep the request alive while using them.
  LaunchOptions launch_options() const;
};

// A tensor or descriptor param of the kernel, as the run will pass it.
struct PlannedOperand {
  const ParamInfo* param = nullptr;
  DType dtype = DType::kFp32;
  bool descriptor = false;
  bool written = false;          // io = "out" or "scratch"
  std::vector<int64_t> shape;    // every dim evaluated; empty if the spec has no dims or one is unknown
  std::vector<int64_t> strides;  // contiguous strides of `shape`
};

struct RunPlan {
  const KernelInfo* kernel = nullptr;
  TypeBindings bindings;
  std::map<std::string, int64_t, std::less<>> integers;  // i32/i64 scalars, launch variables, dims
  std::map<std::string, double, std::less<>> reals;      // fp32/fp16/bf16 scalars
  std::vector<PlannedOperand> operands;                  // in param order
  const Reference* reference = nullptr;                  // when the request verifies
  // What SM_COUNT is where dim-size arguments name it (the run's device's count); 0: not known,
  // and `awaiting_sm_count` names the dim-size arguments left for a plan that knows it (a value
  // given for one with -a is checked then).
  uint32_t sm_count = 0;
  std::vector<std::string> awaiting_sm_count;

  // The kernel's runtime arguments in launch order (non-constexpr params, then launch variables),
  // one pointer per operand. The args borrow the plan's shapes: keep the plan alive while using them.
  std::vector<Arg> args(std::span<const CUdeviceptr> pointers) const;
  // A tensor's element count under `variant`: its numel expression (which may use the variant's
  // constexprs), else the product of its shape. Throws naming the tensor when neither exists.
  int64_t numel(const PlannedOperand& operand, const VariantInfo& variant) const;
  // The names a run's expressions (numel, bench) read under `variant`: the plan's integers, then the
  // variant's integral constexprs. For expr::Expr::eval; borrows the plan and the variant.
  std::function<bool(std::string_view name, int64_t& value)> lookup(const VariantInfo& variant) const;
};

// Throws Error(kInvalidArgument) naming every missing value (as the -a to add), an unknown name (with
// the names the kernel takes), a value that does not parse, or disagrees with its dim; kNotFound for
// a reference `tritonpack run` does not know. `sm_count`: what SM_COUNT is in dim-size arguments
// (the SM count of the device the run launches on, or of the arch it explains for); 0 = not known
// yet: the arguments that need it are left out (RunPlan::awaiting_sm_count), and a run refuses
// such a plan.
RunPlan plan_run(const KernelInfo& kernel, const RunRequest& request, uint32_t sm_count = 0);

// `--pin NAME=TEXT`: the value compiled into the pack that TEXT names (Constant::matches_text), of
// any kind: --pin ACTIVATION=leaky_relu, --pin BLOCK_SIZE=1024, --pin EVEN=true. Throws
// kInvalidArgument listing the compiled values when none matches, or the constexprs when NAME is
// not one.
ConstexprValue pin_from_text(const KernelInfo& kernel, std::string_view name, std::string_view text);

}  // namespace tritonpack::harness
