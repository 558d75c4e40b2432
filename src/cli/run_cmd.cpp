// `tritonpack run`: launch a kernel of a pack on random data, verify every output against the
// kernel's host reference, benchmark. The arguments are checked against the pack before the GPU is
// touched, so a missing -a or an unknown --pin value is reported on any machine.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_choice.h"
#include "cli/text.h"
#include "driver/driver.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/runner.h"

namespace tritonpack::cli {
namespace {

// NAME=VALUE; an empty VALUE only where `allow_empty` (a pin of the empty string: --pin ACTIVATION=).
std::pair<std::string, std::string> split_assignment(const std::string& text, const char* option,
                                                     bool allow_empty = false) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || (eq + 1 == text.size() && !allow_empty)) {
    throw Error(ErrorCode::kInvalidArgument, std::string(option) + " " + text + ": expected NAME=VALUE");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::string pins_text(const std::vector<ConstexprValue>& pins) {
  std::string out;
  for (const ConstexprValue& p : pins) out += (out.empty() ? "" : ", ") + p.name + "=" + p.value.text();
  return out;
}

void print_json(const RunOptions& o, const KernelInfo& k, const harness::DeviceContext& device,
                const harness::RunResult& r) {
  nlohmann::ordered_json j;
  j["kernel"] = k.name;
  j["device"] = device.name();
  j["arch"] = "sm_" + std::to_string(device.arch());
  j["variant"] = r.variant->id;
  j["config"] = k.configs[r.variant->config_index].name;
  nlohmann::ordered_json constexprs = nlohmann::ordered_json::object();
  for (const ConstexprValue& c : r.variant->constexprs) constexprs[c.name] = c.value.text();
  j["constexprs"] = constexprs;
  j["image"] = r.uses_ptx ? "ptx" : "cubin";
  j["grid"] = r.grid;
  if (!r.steps.empty()) {
    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (size_t i = 0; i < r.steps.size(); ++i) {
      nlohmann::ordered_json step;
      step["step"] = step_text(k.steps[i]);
      step["variant"] = r.steps[i].variant->id;
      step["config"] = k.configs[r.steps[i].variant->config_index].name;
      step["grid"] = r.steps[i].grid;
      steps.push_back(std::move(step));
    }
    j["steps"] = std::move(steps);
  }
  if (!r.only_step.empty()) j["only_step"] = r.only_step;
  j["seed"] = r.seed;
  nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
  for (const harness::OutputCheck& c : r.outputs) {
    outputs.push_back({{"name", c.name}, {"dtype", std::string(dtype_name(c.dtype))}, {"passed", c.passed},
                       {"relative_error", c.relative_error}, {"tolerance", c.tolerance}, {"elements", c.elements},
                       {"not_finite", c.not_finite}, {"wrong_infinite", c.wrong_infinite}, {"written_outside", c.written_outside},
                       {"guard_intact", c.guard_intact}, {"message", c.message}});
  }
  j["verify"] = {{"checked", r.verified}, {"passed", r.passed}, {"relative_error", r.relative_error},
                 {"tolerance", r.tolerance}, {"elements", r.elements_checked}, {"message", r.verify_message},
                 {"outputs", outputs}};
  if (o.bench > 0) {
    j["bench"] = {{"runs", o.bench}, {"median_us", r.median_ms * 1e3}, {"bytes", r.bytes},
                  {"flops", r.flops}, {"gbps", r.gbps}, {"tflops", r.tflops}};
  }
  std::cout << j.dump(2) << "\n";
}

void print_text(const RunOptions& o, const KernelInfo& k, const harness::DeviceContext& device,
                const harness::RunResult& r) {
  std::cout << "kernel " << k.name << " on " << device.name() << " (sm_" << device.arch() << ")\n"
            << "variant " << r.variant->id << " (config " << k.configs[r.variant->config_index].name << ", "
            << (r.uses_ptx ? "PTX JIT" : "cubin");
  if (!r.variant->constexprs.empty()) std::cout << ", " << pins_text(r.variant->constexprs);
  std::cout << "), grid (" << r.grid[0] << ", " << r.grid[1] << ", " << r.grid[2] << "), seed " << r.seed << "\n";
  if (!r.only_step.empty()) {
    std::cout << "launches " << r.only_step << " only: the outputs are part of the operation\n";
  }
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const Selection& step = r.steps[i];
    std::cout << "step " << i + 1 << " of " << r.steps.size() << " (" << step_text(k.steps[i]) << "): variant "
              << step.variant->id << " (config " << k.configs[step.variant->config_index].name << "), grid ("
              << step.grid[0] << ", " << step.grid[1] << ", " << step.grid[2] << ")\n";
  }
  if (r.verified) {
    std::cout << "verify: " << (r.passed ? "PASSED" : "FAILED") << "\n";
    for (const harness::OutputCheck& c : r.outputs) {
      std::cout << "  " << c.name << " (" << dtype_name(c.dtype) << "): " << (c.passed ? "ok" : "FAILED") << ", "
                << c.message << "\n";
    }
  } else if (!r.verify_message.empty()) {
    std::cout << "verify: " << r.verify_message << "\n";
  }
  if (o.bench > 0) {
    std::cout << std::fixed << std::setprecision(2) << "bench: median " << r.median_ms * 1e3 << " us over " << o.bench
              << " runs";
    if (r.bytes > 0) std::cout << ", " << r.gbps << " GB/s";
    if (r.flops > 0) std::cout << ", " << std::setprecision(3) << r.tflops << " TFLOP/s";
    std::cout << "\n";
  }
}

// `--explain sm_90`: what a launch with these values would run, without a GPU. Buffers are taken to
// be aligned to 1 MiB (as allocations are), so divisibility is never what refuses a variant here.
int explain(uint32_t arch, const std::shared_ptr<const Pack>& pack, const KernelInfo& info,
            const harness::RunRequest& request, const harness::RunPlan& plan) {
  std::vector<CUdeviceptr> pointers;
  for (size_t i = 0; i < plan.operands.size(); ++i) pointers.push_back(CUdeviceptr{0x100000} * (i + 1));
  const std::vector<Arg> args = plan.args(pointers);
  Kernel kernel(pack, info.name);
  const Kernel::Explanation e = kernel.explain(args, request.launch_options(), arch);
  std::cout << "kernel " << info.name << " on an sm_" << arch << " device (buffers taken as 1 MiB aligned)\n  "
            << e.text() << "\n";
  return e.chosen != nullptr ? 0 : 5;
}

}  // namespace

int run(const RunOptions& o) {
  // Argument errors before the pack is read.
  const uint32_t explain_arch = o.explain_arch.empty() ? 0 : parse_arch_option(o.explain_arch, "--explain");
  const auto pack = Pack::open(o.pack);
  const KernelInfo& info = choose_kernel(*pack, o.kernel);
  harness::RunRequest request;
  for (const auto& t : o.types) request.types.insert(split_assignment(t, "--type"));
  for (const auto& a : o.args) {
    auto [name, value] = split_assignment(a, "--arg");
    if (!request.values.emplace(name, value).second) {
      throw Error(ErrorCode::kInvalidArgument, "--arg " + a + ": '" + name + "' is given twice");
    }
  }
  for (const auto& p : o.pins) {
    auto [name, value] = split_assignment(p, "--pin", true);
    request.pinned.push_back(harness::pin_from_text(info, name, value));
  }
  request.config = o.config;
  request.variant_id = o.variant;
  request.use_tuning = !o.no_tuning;
  request.tuning_device = o.tuning_device;
  request.sm_count = o.sm_count;
  request.verify = !o.no_verify;
  request.bench_runs = o.bench;
  request.warmup_runs = o.warmup;
  request.seed = o.seed;
  // Every argument error before the driver; a dim-size argument that names SM_COUNT waits for the
  // device's count (or, explaining, the count assumed for the arch).
  (void)harness::plan_run(info, request);
  if (!o.explain_arch.empty()) {
    const uint32_t sm_count = Kernel(pack, info.name).sm_count(request.launch_options(), explain_arch);
    return explain(explain_arch, pack, info, request, harness::plan_run(info, request, sm_count));
  }

  harness::DeviceContext device(driver::Driver::system(), o.device);
  Kernel kernel(pack, info.name, device.driver_ptr());
  const harness::RunPlan plan = harness::plan_run(info, request, device.sm_count());
  const harness::RunResult r = harness::run_kernel(device, kernel, request, plan);
  if (o.json) {
    print_json(o, kernel.info(), device, r);
  } else {
    print_text(o, kernel.info(), device, r);
  }
  return r.verified && !r.passed ? 4 : 0;
}

}  // namespace tritonpack::cli
