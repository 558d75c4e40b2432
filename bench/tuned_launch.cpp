// Host cost per launch of a tuned kernel (docs/tuning.md): Kernel::launch with the pack's tuning
// table (key evaluated, binned, one cell read, configs tried in the entry's order) against a raw
// cuLaunchKernel of the variant it picks with pre-packed arguments, and against Kernel::launch with
// use_tuning = false (spec order), in one run, batches alternating. Also counts heap allocations
// in the timed launches and times Kernel::select alone both ways.
// Usage: bench_tuned_launch TUNED_MATMUL.tpack [launches]   (kernels/matmul, tuned)
// Prints a table and CSV lines.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/device.h"
#include "measure.h"
#include "tritonpack/runtime.h"

using namespace tritonpack;

namespace {

double select_us(Kernel& kernel, std::span<const Arg> args, const LaunchOptions& options) {
  for (int i = 0; i < 1000; ++i) (void)kernel.select(args, options);
  const int n = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) (void)kernel.select(args, options);
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TUNED_MATMUL.tpack [launches]\n", argv[0]);
    return 2;
  }
  const int launches = argc > 2 ? std::stoi(argv[2]) : 20000;
  try {
    auto driver = driver::Driver::system();
    harness::DeviceContext device(driver, 0);
    const driver::Driver& d = *driver;
    harness::Stream stream(d);
    auto pack = Pack::open(argv[1]);
    Kernel kernel(pack, "matmul", driver);
    const int64_t M = 64, N = 64, K = 64;  // a small launch: the host cost is what is measured
    harness::DeviceBuffer a(d, M * K * 2), b(d, K * N * 2), c(d, M * N * 2);
    const int64_t sa[] = {M, K}, sb[] = {K, N}, sc[] = {M, N};
    const std::vector<Arg> args = {Arg::tensor(a.get(), DType::kFp16, sa), Arg::tensor(b.get(), DType::kFp16, sb),
                                   Arg::tensor(c.get(), DType::kFp16, sc), Arg::integer(M), Arg::integer(N),
                                   Arg::integer(K)};
    LaunchOptions untuned;
    untuned.use_tuning = false;
    const Selection tuned_sel = kernel.select(args);
    const Selection spec_sel = kernel.select(args, untuned);
    const VariantInfo& v = *tuned_sel.variant;
    const std::string tuning = kernel.explain(args).tuning;
    std::printf("device: %s (sm_%d), matmul %lldx%lldx%lld fp16, %d launches per method, batches of 100 alternating\n",
                device.name().c_str(), device.arch(), static_cast<long long>(M), static_cast<long long>(N),
                static_cast<long long>(K), launches);
    std::printf("tuning: %s\n", tuning.empty() ? "(none)" : tuning.c_str());
    std::printf("tuned variant %u (config %s), spec-order variant %u (config %s)\n", v.id,
                kernel.info().configs[v.config_index].name.c_str(), spec_sel.variant->id,
                kernel.info().configs[spec_sel.variant->config_index].name.c_str());
    if (tuning.find("entry") == std::string::npos) {
      throw Error(ErrorCode::kInvalidArgument, "the pack has no tuning entry for this launch on this GPU: tune it first");
    }

    CUmodule module = nullptr;
    CUfunction fn = nullptr;
    const auto blob = pack->blob(v.cubin_blob);
    TRITONPACK_CU(d, cuModuleLoadDataEx(&module, blob.data(), 0, nullptr, nullptr), "raw load");
    TRITONPACK_CU(d, cuModuleGetFunction(&fn, module, v.entry.c_str()), "raw function");
    if (v.shared > 48 * 1024) {
      TRITONPACK_CU(d, cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(v.shared)),
                    "raw shared");
    }
    // The variant's ABI: its runtime arguments in order (A, B, C, M, N, K), then two scratch pointers.
    CUdeviceptr pa = a.get(), pb = b.get(), pc = c.get(), scratch = 0;
    int32_t m32 = static_cast<int32_t>(M), n32 = static_cast<int32_t>(N), k32 = static_cast<int32_t>(K);
    std::vector<void*> params;
    for (const KernelArg& arg : v.args) {
      void* p = arg.name == "A" ? static_cast<void*>(&pa) : arg.name == "B" ? static_cast<void*>(&pb)
              : arg.name == "C" ? static_cast<void*>(&pc) : arg.name == "M" ? static_cast<void*>(&m32)
              : arg.name == "N" ? static_cast<void*>(&n32) : arg.name == "K" ? static_cast<void*>(&k32) : nullptr;
      if (p == nullptr) throw Error(ErrorCode::kInvalidArgument, "unexpected argument '" + arg.name + "'");
      params.push_back(p);
    }
    params.push_back(&scratch);
    params.push_back(&scratch);
    const unsigned grid = static_cast<unsigned>(tuned_sel.grid[0]);
    auto raw = [&] {
      TRITONPACK_CU(d,
                    cuLaunchKernel(fn, grid, 1, 1, 32 * v.num_warps, 1, 1, v.shared, stream.get(), params.data(),
                                   nullptr),
                    "raw");
    };
    auto tuned = [&] { kernel.launch(args, stream.get()); };
    auto spec_order = [&] { kernel.launch(args, stream.get(), untuned); };
    const uint64_t allocations = bench::allocations_per_1000(stream, tuned);
    const std::vector<double> us = bench::alternate(stream, launches, raw, tuned, spec_order);
    const double select_tuned = select_us(kernel, args, {}), select_spec = select_us(kernel, args, untuned);
    std::printf("%-36s %10s %8s %14s %10s\n", "method", "us", "vs raw", "allocs/1000", "select us");
    std::printf("%-36s %10.3f %8.3f %14s %10s\n", "raw cuLaunchKernel", us[0], 1.0, "-", "-");
    std::printf("%-36s %10.3f %8.3f %14llu %10.3f\n", "Kernel::launch, tuned", us[1], us[1] / us[0],
                static_cast<unsigned long long>(allocations), select_tuned);
    std::printf("%-36s %10.3f %8.3f %14s %10.3f\n", "Kernel::launch, use_tuning = false", us[2], us[2] / us[0], "-",
                select_spec);
    std::printf("CSV,tuned_launch,raw_us,%.4f,tuned_us,%.4f,spec_order_us,%.4f,tuned_ratio,%.4f,allocs_per_1000,%llu,"
                "select_tuned_us,%.4f,select_spec_us,%.4f\n",
                us[0], us[1], us[2], us[1] / us[0], static_cast<unsigned long long>(allocations), select_tuned,
                select_spec);
    d.api().cuModuleUnload(module);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_tuned_launch: %s\n", e.what());
    return 1;
  }
  return 0;
}
