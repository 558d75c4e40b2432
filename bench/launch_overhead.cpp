// Host cost per launch: tritonpack's Kernel::launch against a raw cuLaunchKernel of the same
// function with pre-packed arguments, in one run. Usage: bench_launch_overhead PACK [launches]
// Prints a table and one CSV line per method.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/device.h"
#include "tritonpack/runtime.h"

using namespace tritonpack;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s vector_add.tpack [launches]\n", argv[0]);
    return 2;
  }
  const int launches = argc > 2 ? std::stoi(argv[2]) : 20000;
  try {
    auto driver = driver::Driver::system();
    harness::DeviceContext device(driver, 0);
    const driver::Driver& d = *driver;
    auto pack = Pack::open(argv[1]);
    Kernel kernel(pack, "vector_add", driver);
    const int64_t n = 1024;
    harness::DeviceBuffer x(d, n * 4), y(d, n * 4), out(d, n * 4);
    harness::Stream stream(d);
    std::vector<Arg> args = {Arg::tensor(x.get(), DType::kFp32), Arg::tensor(y.get(), DType::kFp32),
                             Arg::tensor(out.get(), DType::kFp32), Arg::integer(n)};
    const Selection sel = kernel.select(args);
    const VariantInfo& v = *sel.variant;

    // The raw path: the same cubin, loaded by hand, arguments packed once.
    CUmodule module = nullptr;
    CUfunction fn = nullptr;
    const auto blob = pack->blob(v.cubin_blob);
    TRITONPACK_CU(d, cuModuleLoadDataEx(&module, blob.data(), 0, nullptr, nullptr), "raw load");
    TRITONPACK_CU(d, cuModuleGetFunction(&fn, module, v.entry.c_str()), "raw function");
    CUdeviceptr px = x.get(), py = y.get(), po = out.get(), scratch = 0;
    int32_t ni = static_cast<int32_t>(n);
    void* params[] = {&px, &py, &po, &ni, &scratch, &scratch};
    const unsigned grid = static_cast<unsigned>(sel.grid[0]);

    auto time_batches = [&](auto&& launch_once) {
      std::vector<double> per_launch;
      const int batch = 100;
      for (int done = 0; done < launches; done += batch) {
        stream.synchronize();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < batch; ++i) launch_once();
        const auto t1 = std::chrono::steady_clock::now();
        per_launch.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / batch);
      }
      stream.synchronize();
      std::sort(per_launch.begin(), per_launch.end());
      return per_launch[per_launch.size() / 2];
    };
    auto raw = [&] {
      TRITONPACK_CU(d, cuLaunchKernel(fn, grid, 1, 1, 32 * v.num_warps, 1, 1, v.shared, stream.get(), params, nullptr), "raw");
    };
    auto ours = [&] { kernel.launch(args, stream.get()); };
    for (int i = 0; i < 1000; ++i) {  // warm both paths
      raw();
      ours();
    }
    // Interleave the two measurements three times, keep each method's best median.
    double raw_us = 1e9, ours_us = 1e9;
    for (int round = 0; round < 3; ++round) {
      raw_us = std::min(raw_us, time_batches(raw));
      ours_us = std::min(ours_us, time_batches(ours));
    }
    d.api().cuModuleUnload(module);
    std::printf("device: %s (sm_%d), %d launches per method, median of batches of 100\n", device.name().c_str(),
                device.arch(), launches);
    std::printf("%-28s %10s %8s\n", "method", "us/launch", "ratio");
    std::printf("%-28s %10.3f %8.3f\n", "raw cuLaunchKernel", raw_us, 1.0);
    std::printf("%-28s %10.3f %8.3f\n", "tritonpack Kernel::launch", ours_us, ours_us / raw_us);
    std::printf("CSV,launch_overhead,raw_cuLaunchKernel,%.4f\n", raw_us);
    std::printf("CSV,launch_overhead,tritonpack,%.4f\n", ours_us);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_launch_overhead: %s\n", e.what());
    return 1;
  }
  return 0;
}
