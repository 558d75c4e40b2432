// Runs one kernel of a pack on real data: random inputs, poisoned outputs, one checked launch
// against a host reference in double precision, and optionally an event-timed benchmark. Used by
// `tritonpack run`, the GPU tests and the benchmarks.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/device.h"
#include "tritonpack/runtime.h"

namespace tritonpack::harness {

struct RunRequest {
  std::map<std::string, std::string> types;    // type variable -> dtype; default: first listed
  std::map<std::string, std::string> scalars;  // scalar param -> value text
  std::string config;
  std::vector<ConstexprValue> pinned;
  int32_t variant_id = -1;
  bool verify = true;
  int bench_runs = 0;  // 0: no benchmark
  int warmup_runs = 10;
  uint64_t seed = 0;   // 0: fresh random seed
  CUstream stream = nullptr;  // nullptr: a stream of the runner's own
};

struct RunResult {
  const VariantInfo* variant = nullptr;
  bool uses_ptx = false;
  std::array<int64_t, 3> grid{};
  uint64_t seed = 0;
  // Verification (when the kernel has a reference and verify was asked).
  bool verified = false;
  bool passed = false;
  double relative_error = 0;   // ||out - ref|| / ||ref||
  double tolerance = 0;
  size_t elements_checked = 0;
  std::string verify_message;  // why it failed, or what was checked
  // Benchmark.
  std::vector<float> times_ms;
  double median_ms = 0;
  double bytes = 0, flops = 0;  // from the spec's formulas (0 = none)
  double gbps = 0, tflops = 0;
};

RunResult run_kernel(const DeviceContext& device, Kernel& kernel, const RunRequest& request);

// The references `tritonpack run` knows ("vector_add", "softmax_rows"), for docs and errors.
std::vector<std::string> known_references();

}  // namespace tritonpack::harness
