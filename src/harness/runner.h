// Runs one kernel of a pack on real data: the variant is chosen first (with placeholder pointers),
// then every tensor is sized with that variant's constexprs, inputs are filled with seeded random
// values, outputs and the guard bytes after every written buffer are poisoned (all bits set: NaN
// in every float dtype), one checked launch is compared output by output with the kernel's host
// reference (references.h), each within its own tolerance; optionally an event-timed benchmark.
// Used by `tritonpack run`, the GPU tests and the benchmarks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/device.h"
#include "harness/run_plan.h"
#include "tritonpack/runtime.h"

namespace tritonpack::harness {

// Poison for written buffers and guards: all bits set, NaN in every float dtype.
inline constexpr unsigned char kPoisonByte = 0xff;
// Placeholder addresses for choosing the variant before anything is allocated: aligned beyond
// any divisibility a spec can ask for (4096) and TMA's 16 bytes.
inline constexpr CUdeviceptr kPlaceholder = CUdeviceptr{1} << 32;

// One element of dtype t at p, as a double; and v stored at p in dtype t, returning the stored
// (rounded to nearest, ties to even) value. fp16, bf16, fp32, fp64, i32, i64, and the FP8 types
// as NVIDIA's tensor cores read them: fp8e4nv (e4m3 "fn": bias 7, no infinities, largest 448, a
// larger magnitude becomes NaN) and fp8e5 (e5m2: bias 15, IEEE infinities, largest 57344); throws
// kUnsupported for other dtypes.
double decode(DType t, const uint8_t* p);
double encode(DType t, double v, uint8_t* p);

// One output compared with its reference.
struct OutputCheck {
  std::string name;
  DType dtype = DType::kFp32;
  size_t elements = 0;        // elements the kernel must write
  double relative_error = 0;  // ||got - want|| / ||want|| over them
  double tolerance = 0;
  size_t not_finite = 0;      // of them, NaN or infinite (unwritten: they keep the NaN poison)
  size_t wrong_infinite = 0;  // of them, expected infinite (a log-sum-exp over no key) but not that value
  size_t written_outside = 0;  // elements the kernel must not write that lost the poison
  bool guard_intact = true;   // the bytes after the buffer kept the poison
  bool passed = false;
  std::string message;  // what was found, in words
};

struct RunResult {
  const VariantInfo* variant = nullptr;  // a kernel in steps: the first step's (as uses_ptx, grid)
  bool uses_ptx = false;
  std::array<int64_t, 3> grid{};
  std::vector<Selection> steps;  // a kernel run in steps: each step's variant and grid, in order
  // A kernel in steps launched one step alone (a pin of a step's constexprs or a variant id):
  // which step, "step 1 of 2 (PHASE=0)"; its outputs are a partial operation. Empty otherwise.
  std::string only_step;
  uint64_t seed = 0;
  // Verification (when the kernel has a reference and verify was asked): every output, and the
  // summary over them (passed: all passed; relative_error, tolerance: of the output farthest
  // from its tolerance; elements_checked: the sum).
  bool verified = false;
  bool passed = false;
  std::vector<OutputCheck> outputs;
  double relative_error = 0;
  double tolerance = 0;
  size_t elements_checked = 0;
  std::string verify_message;  // why it failed, or what was checked
  // Benchmark.
  std::vector<float> times_ms;
  double median_ms = 0;
  double bytes = 0, flops = 0;  // from the spec's formulas (0 = none)
  double gbps = 0, tflops = 0;
};

// Throws what plan_run throws, the runtime's errors (a launch no variant can serve: the runtime's
// message, which names each rule and its values), and kDriver errors.
RunResult run_kernel(const DeviceContext& device, Kernel& kernel, const RunRequest& request);
// The same with the plan already made: plan_run(kernel.info(), request, device.sm_count()), as
// `tritonpack run` makes it once the device is open. Throws kInvalidArgument for a plan of another
// KernelInfo, or one made without the SM count its dim-size arguments need.
RunResult run_kernel(const DeviceContext& device, Kernel& kernel, const RunRequest& request, const RunPlan& plan);

}  // namespace tritonpack::harness
