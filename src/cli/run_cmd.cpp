// `tritonpack run`: launch a kernel of a pack on random data, verify, benchmark.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "driver/driver.h"
#include "harness/device.h"
#include "harness/runner.h"

namespace tritonpack::cli {
namespace {

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* option) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw Error(ErrorCode::kInvalidArgument, std::string(option) + " " + text + ": expected NAME=VALUE");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace

int run(const RunOptions& o) {
  const auto pack = Pack::open(o.pack);
  std::string kernel_name = o.kernel;
  if (kernel_name.empty()) {
    if (pack->manifest().kernels.size() != 1) {
      throw Error(ErrorCode::kInvalidArgument, "the pack holds several kernels: choose one with --kernel");
    }
    kernel_name = pack->manifest().kernels[0].name;
  }
  harness::RunRequest request;
  for (const auto& t : o.types) request.types.insert(split_assignment(t, "--type"));
  for (const auto& a : o.args) request.scalars.insert(split_assignment(a, "--arg"));
  for (const auto& p : o.pins) {
    auto [name, value] = split_assignment(p, "--pin");
    try {
      request.pinned.push_back({name, std::stoll(value)});
    } catch (...) {
      throw Error(ErrorCode::kInvalidArgument, "--pin " + p + ": expected an integer value");
    }
  }
  request.config = o.config;
  request.variant_id = o.variant;
  request.verify = !o.no_verify;
  request.bench_runs = o.bench;
  request.warmup_runs = o.warmup;
  request.seed = o.seed;

  harness::DeviceContext device(driver::Driver::system(), o.device);
  Kernel kernel(pack, kernel_name, device.driver_ptr());
  const harness::RunResult r = harness::run_kernel(device, kernel, request);
  const KernelInfo& k = kernel.info();
  if (o.json) {
    nlohmann::ordered_json j;
    j["kernel"] = k.name;
    j["device"] = device.name();
    j["arch"] = "sm_" + std::to_string(device.arch());
    j["variant"] = r.variant->id;
    j["config"] = k.configs[r.variant->config_index].name;
    j["image"] = r.uses_ptx ? "ptx" : "cubin";
    j["grid"] = r.grid;
    j["seed"] = r.seed;
    j["verify"] = {{"checked", r.verified}, {"passed", r.passed}, {"relative_error", r.relative_error},
                   {"tolerance", r.tolerance}, {"elements", r.elements_checked}, {"message", r.verify_message}};
    if (o.bench > 0) {
      j["bench"] = {{"runs", o.bench}, {"median_us", r.median_ms * 1e3}, {"bytes", r.bytes},
                    {"flops", r.flops}, {"gbps", r.gbps}, {"tflops", r.tflops}};
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "kernel " << k.name << " on " << device.name() << " (sm_" << device.arch() << ")\n"
              << "variant " << r.variant->id << " (config " << k.configs[r.variant->config_index].name << ", "
              << (r.uses_ptx ? "PTX JIT" : "cubin") << "), grid (" << r.grid[0] << ", " << r.grid[1] << ", "
              << r.grid[2] << "), seed " << r.seed << "\n";
    if (r.verified) {
      std::cout << "verify: " << (r.passed ? "PASSED" : "FAILED") << ": " << r.verify_message << "\n";
    } else if (!r.verify_message.empty()) {
      std::cout << "verify: " << r.verify_message << "\n";
    }
    if (o.bench > 0) {
      std::cout << std::fixed << std::setprecision(2) << "bench: median " << r.median_ms * 1e3 << " us over "
                << o.bench << " runs";
      if (r.bytes > 0) std::cout << ", " << r.gbps << " GB/s";
      if (r.flops > 0) std::cout << ", " << std::setprecision(3) << r.tflops << " TFLOP/s";
      std::cout << "\n";
    }
  }
  return r.verified && !r.passed ? 4 : 0;
}

}  // namespace tritonpack::cli
