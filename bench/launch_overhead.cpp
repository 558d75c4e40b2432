// Host cost per launch: tritonpack's Kernel::launch against a raw cuLaunchKernel of the same
// function with pre-packed arguments, in one run, for two kernels:
//   - vector_add (no rules, no heuristics): the plain launch path;
//   - desc_scale (rules, a heuristic and a host tensor descriptor, tests/kernels/desc_scale): the
//     raw side encodes the CUtensorMap once, tritonpack checks the rules, evaluates the heuristic
//     and encodes the map on every launch.
// Also counts heap allocations inside the timed launches (operator new is counted in this
// program). Usage: bench_launch_overhead VECTOR_ADD.tpack [DESC_SCALE.tpack] [launches]
// Prints a table and CSV lines.
#include <chrono>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "harness/device.h"
#include "measure.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"

using namespace tritonpack;

namespace {

struct Measured {
  double raw_us = 0, ours_us = 0;
  double select_us = 0;  // Kernel::select alone: the host work of a launch without packing and the driver
  uint64_t allocations_per_1000 = 0;  // heap allocations in 1000 warm tritonpack launches
};

// Batches of 100 launches, raw and ours alternating, so drift of the host (these machines are
// shared) hits both alike; each method's median over its batches.
template <class Raw, class Ours>
Measured measure(const harness::Stream& stream, int launches, Raw&& raw, Ours&& ours) {
  Measured m;
  m.allocations_per_1000 = bench::allocations_per_1000(stream, ours);
  const std::vector<double> us = bench::alternate(stream, launches, raw, ours);
  m.raw_us = us[0];
  m.ours_us = us[1];
  return m;
}

// The host work of selection (argument checks, rules, heuristics, variant choice, grid) alone.
double select_us(Kernel& kernel, std::span<const Arg> args) {
  for (int i = 0; i < 1000; ++i) (void)kernel.select(args);
  const int n = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) (void)kernel.select(args);
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
}

// The variant's function, loaded by hand in the current context.
CUfunction load_raw(const driver::Driver& d, const Pack& pack, const VariantInfo& v, CUmodule& module) {
  CUfunction fn = nullptr;
  const auto blob = pack.blob(v.cubin_blob);
  TRITONPACK_CU(d, cuModuleLoadDataEx(&module, blob.data(), 0, nullptr, nullptr), "raw load");
  TRITONPACK_CU(d, cuModuleGetFunction(&fn, module, v.entry.c_str()), "raw function");
  if (v.shared > 48 * 1024) {
    TRITONPACK_CU(d, cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(v.shared)),
                  "raw shared");
  }
  return fn;
}

Measured vector_add(const driver::Driver& d, std::shared_ptr<const driver::Driver> driver, const std::string& path,
                    const harness::Stream& stream, int launches) {
  auto pack = Pack::open(path);
  Kernel kernel(pack, "vector_add", driver);
  const int64_t n = 1024;
  harness::DeviceBuffer x(d, n * 4), y(d, n * 4), out(d, n * 4);
  std::vector<Arg> args = {Arg::tensor(x.get(), DType::kFp32), Arg::tensor(y.get(), DType::kFp32),
                           Arg::tensor(out.get(), DType::kFp32), Arg::integer(n)};
  const Selection sel = kernel.select(args);
  const VariantInfo& v = *sel.variant;
  CUmodule module = nullptr;
  const CUfunction fn = load_raw(d, *pack, v, module);
  CUdeviceptr px = x.get(), py = y.get(), po = out.get(), scratch = 0;
  int32_t ni = static_cast<int32_t>(n);
  void* params[] = {&px, &py, &po, &ni, &scratch, &scratch};
  const unsigned grid = static_cast<unsigned>(sel.grid[0]);
  auto raw = [&] {
    TRITONPACK_CU(d, cuLaunchKernel(fn, grid, 1, 1, 32 * v.num_warps, 1, 1, v.shared, stream.get(), params, nullptr),
                  "raw");
  };
  auto ours = [&] { kernel.launch(args, stream.get()); };
  Measured m = measure(stream, launches, raw, ours);
  m.select_us = select_us(kernel, args);
  d.api().cuModuleUnload(module);
  return m;
}

// Before timing: the launch is right, through the TMA variant and through the variant without TMA
// (the sm_80 one, JIT-compiled from PTX), on fresh random data with a poisoned output.
void verify_desc_scale(const driver::Driver& d, Kernel& kernel, const std::vector<Arg>& args, CUdeviceptr x,
                       CUdeviceptr out, int64_t elements, const harness::Stream& stream) {
  std::vector<uint16_t> hx(static_cast<size_t>(elements)), hout(hx.size());
  uint64_t state = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1;
  for (uint16_t& v : hx) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v = runtime::float_to_fp16_bits(static_cast<float>(static_cast<int>(state >> 40) % 2001 - 1000) / 256.0f);
  }
  // The legacy stream's copy and memset may still be writing when they return, and `stream` (non-
  // blocking) does not wait for it: each waits for its own write (harness::DeviceBuffer does too).
  TRITONPACK_CU(d, cuMemcpyHtoD(x, hx.data(), hx.size() * 2), "upload");
  TRITONPACK_CU(d, cuStreamSynchronize(CU_STREAM_LEGACY), "waiting for the upload");
  for (int tma = 1; tma >= 0; --tma) {
    LaunchOptions options;
    for (const VariantInfo& v : kernel.info().variants) {
      const bool is_tma = !v.tensordescs.empty() && v.tensordescs[0].tma;
      const bool fp16 = v.bindings.begin()->second == DType::kFp16;
      for (const ConstexprValue& c : v.constexprs) {
        if (c.name == "BN" && c.value.as_int() == 128 && fp16 && is_tma == (tma == 1)) options.variant_id = static_cast<int32_t>(v.id);
      }
    }
    TRITONPACK_CU(d, cuMemsetD8(out, 0xff, hx.size() * 2), "poison");
    TRITONPACK_CU(d, cuStreamSynchronize(CU_STREAM_LEGACY), "waiting for the poison");
    kernel.launch(args, stream.get(), options);
    stream.synchronize();
    TRITONPACK_CU(d, cuMemcpyDtoH(hout.data(), out, hout.size() * 2), "download");
    size_t bad = 0;
    for (size_t i = 0; i < hx.size(); ++i) {
      const float want = runtime::fp16_bits_to_float(hx[i]) * 0.5f;
      bad += runtime::fp16_bits_to_float(hout[i]) != want;
    }
    std::printf("verify desc_scale %s variant %d: %s (%zu of %zu elements wrong)\n", tma ? "TMA" : "non-TMA",
                options.variant_id, bad == 0 ? "PASSED" : "FAILED", bad, hx.size());
    if (bad != 0) throw Error(ErrorCode::kInternal, "desc_scale produced wrong results");
  }
}

// Host tensor map of a 2-D fp16 tensor for the TMA variant, encoded once (the raw side).
Measured desc_scale(const driver::Driver& d, std::shared_ptr<const driver::Driver> driver, const std::string& path,
                    const harness::Stream& stream, int launches) {
  auto pack = Pack::open(path);
  Kernel kernel(pack, "desc_scale", driver);
  const int64_t rows = 512, cols = 200;
  harness::DeviceBuffer x(d, rows * cols * 2), out(d, rows * cols * 2);
  const int64_t shape[] = {rows, cols}, strides[] = {cols, 1};
  std::vector<Arg> args = {Arg::descriptor(x.get(), DType::kFp16, shape, strides), Arg::tensor(out.get(), DType::kFp16),
                           Arg::integer(rows), Arg::integer(cols), Arg::real(0.5)};
  verify_desc_scale(d, kernel, args, x.get(), out.get(), rows * cols, stream);
  const Selection sel = kernel.select(args);
  const VariantInfo& v = *sel.variant;
  if (v.tensordescs.empty() || !v.tensordescs[0].tma) {
    throw Error(ErrorCode::kUnsupported, "desc_scale did not choose a TMA variant on this device");
  }
  const TensorDescInfo& info = v.tensordescs[0];
  CUmodule module = nullptr;
  const CUfunction fn = load_raw(d, *pack, v, module);
  alignas(64) CUtensorMap map;
  const cuuint64_t dims[] = {static_cast<cuuint64_t>(cols), static_cast<cuuint64_t>(rows)};
  const cuuint64_t byte_strides[] = {static_cast<cuuint64_t>(cols * 2)};
  const cuuint32_t box[] = {info.box[1], info.box[0]}, element_strides[] = {1, 1};
  TRITONPACK_CU(d,
                cuTensorMapEncodeTiled(&map, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, reinterpret_cast<void*>(x.get()), dims,
                                       byte_strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                       static_cast<CUtensorMapSwizzle>(info.swizzle), CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                                       CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
                "raw encode");
  int32_t shape32[] = {static_cast<int32_t>(rows), static_cast<int32_t>(cols)};
  int64_t stride64[] = {cols, 1};
  CUdeviceptr po = out.get(), scratch = 0;
  int32_t m = static_cast<int32_t>(rows), n = static_cast<int32_t>(cols);
  float scale = 0.5f;
  void* params[] = {&map, &shape32[0], &shape32[1], &stride64[0], &stride64[1], &po, &m, &n, &scale, &scratch, &scratch};
  auto raw = [&] {
    TRITONPACK_CU(d,
                  cuLaunchKernel(fn, static_cast<unsigned>(sel.grid[0]), static_cast<unsigned>(sel.grid[1]), 1,
                                 32 * v.num_warps, 1, 1, v.shared, stream.get(), params, nullptr),
                  "raw");
  };
  auto ours = [&] { kernel.launch(args, stream.get()); };
  Measured measured = measure(stream, launches, raw, ours);
  measured.select_us = select_us(kernel, args);
  // For scale: what encoding the map on every launch costs (the runtime keeps encoded maps per thread).
  auto encode_and_launch = [&] {
    alignas(64) CUtensorMap fresh;
    TRITONPACK_CU(d,
                  cuTensorMapEncodeTiled(&fresh, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, reinterpret_cast<void*>(x.get()),
                                         dims, byte_strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                         static_cast<CUtensorMapSwizzle>(info.swizzle),
                                         CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
                  "encode");
    raw();
  };
  const Measured encoded = measure(stream, launches, raw, encode_and_launch);
  std::printf("(raw cuLaunchKernel with the map encoded at every launch: %.3f us, %.3fx raw)\n", encoded.ours_us,
              encoded.ours_us / encoded.raw_us);
  d.api().cuModuleUnload(module);
  return measured;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s vector_add.tpack [desc_scale.tpack] [launches]\n", argv[0]);
    return 2;
  }
  const std::string desc_pack = argc > 2 && std::string(argv[2]).find(".tpack") != std::string::npos ? argv[2] : "";
  const int launches_arg = desc_pack.empty() ? 2 : 3;
  const int launches = argc > launches_arg ? std::stoi(argv[launches_arg]) : 20000;
  try {
    auto driver = driver::Driver::system();
    harness::DeviceContext device(driver, 0);
    const driver::Driver& d = *driver;
    harness::Stream stream(d);
    std::printf("device: %s (sm_%d), %d launches per method, median of batches of 100, raw and ours alternating\n",
                device.name().c_str(),
                device.arch(), launches);
    std::printf("%-44s %10s %10s %8s %14s %10s\n", "kernel", "raw us", "ours us", "ratio", "allocs/1000",
                "select us");
    auto report = [](const char* name, const Measured& m) {
      std::printf("%-44s %10.3f %10.3f %8.3f %14llu %10.3f\n", name, m.raw_us, m.ours_us, m.ours_us / m.raw_us,
                  static_cast<unsigned long long>(m.allocations_per_1000), m.select_us);
      std::printf("CSV,launch_overhead,%s,%.4f,%.4f,%.4f,%llu\n", name, m.raw_us, m.ours_us, m.ours_us / m.raw_us,
                  static_cast<unsigned long long>(m.allocations_per_1000));
    };
    report("vector_add (plain)", vector_add(d, driver, argv[1], stream, launches));
    if (!desc_pack.empty()) {
      report("desc_scale (rules, heuristic, descriptor)", desc_scale(d, driver, desc_pack, stream, launches));
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_launch_overhead: %s\n", e.what());
    return 1;
  }
  return 0;
}
