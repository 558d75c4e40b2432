// Vector-add bandwidth through tritonpack for 2^20..2^28 elements (fp32 and fp16), event-timed
// median. Usage: bench_vector_add_bandwidth PACK [runs]. Prints CSV lines read by
// bench/compare_vector_add.py, which times torch.add the same way in the same run.
#include <cstdio>
#include <string>

#include "harness/runner.h"

using namespace tritonpack;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s vector_add.tpack [runs]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::stoi(argv[2]) : 50;
  try {
    auto driver = driver::Driver::system();
    harness::DeviceContext device(driver, 0);
    auto pack = Pack::open(argv[1]);
    Kernel kernel(pack, "vector_add", driver);
    for (const char* dtype : {"fp32", "fp16"}) {
      for (int log2n = 20; log2n <= 28; log2n += 2) {
        for (const auto& config : kernel.info().configs) {
          harness::RunRequest r;
          r.types["T"] = dtype;
          r.values["n_elements"] = std::to_string(int64_t{1} << log2n);
          r.config = config.name;
          r.bench_runs = runs;
          r.warmup_runs = 5;
          r.verify = log2n <= 24;  // the host reference is slow for the largest sizes
          const auto res = harness::run_kernel(device, kernel, r);
          if (res.verified && !res.passed) {
            std::fprintf(stderr, "verification failed: %s\n", res.verify_message.c_str());
            return 1;
          }
          std::printf("CSV,vector_add,%s,%d,%s,%.3f,%.1f\n", dtype, log2n, config.name.c_str(), res.median_ms * 1e3, res.gbps);
          std::fflush(stdout);
        }
      }
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_vector_add_bandwidth: %s\n", e.what());
    return 1;
  }
  return 0;
}
