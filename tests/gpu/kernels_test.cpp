// GPU tests of the test kernels written as Triton users write them (tests/kernels/: matmul,
// layernorm, softmax_h, desc_matmul, gluon_add, gluon_tma_copy) and of the shipped fmha, through
// the run harness: every dtype, config and compiled constexpr value, ragged sizes, several seeds,
// poisoned outputs with guard bytes, each output against its double-precision reference. And for
// each kernel's rules, a launch the rule refuses: the message names the rule and the values, and
// the output keeps its poison. Skipped, and reported as skipped, without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/constexpr_of.h"
#include "gpu/capi_launcher.h"
#include "gpu/gpu_fixture.h"
#include "gpu/kernel_cases.h"
#include "gpu/refusals.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "tritonpack/runtime.h"

namespace tritonpack {
namespace {

std::string describe(const harness::RunRequest& r) {
  std::string out;
  for (const auto& [k, v] : r.types) out += k + "=" + v + " ";
  for (const auto& [k, v] : r.values) out += k + "=" + v + " ";
  for (const ConstexprValue& p : r.pinned) out += p.name + "=" + p.value.text() + " ";
  if (!r.config.empty()) out += "config " + r.config + " ";
  return out + "seed " + std::to_string(r.seed);
}

class Kernels : public Gpu {
 protected:
  // Runs and checks every output; returns the result for further checks.
  harness::RunResult run_checked(Kernel& k, const harness::RunRequest& r) {
    const harness::RunResult result = harness::run_kernel(*device_, k, r);
    EXPECT_TRUE(result.verified) << describe(r);
    EXPECT_TRUE(result.passed) << describe(r) << ": " << result.verify_message << " (variant " << result.variant->id << ")";
    for (const harness::OutputCheck& c : result.outputs) {
      EXPECT_TRUE(c.guard_intact) << describe(r) << ": " << c.name;
      EXPECT_EQ(c.written_outside, 0u) << describe(r) << ": " << c.name;
    }
    return result;
  }
  // Whether some variant for this device satisfies `pred` (a config or dtype this GPU can run).
  bool any_runs_here(const Kernel& k, const std::function<bool(const VariantInfo&)>& pred) {
    const auto& vs = k.info().variants;
    return std::any_of(vs.begin(), vs.end(), [&](const VariantInfo& v) { return runs_here(v) && pred(v); });
  }
  // Whether variant v can serve case c: its dtype, config, pins and expected constexprs.
  static bool serves(const VariantInfo& v, const testing::KernelCase& c, const KernelInfo& k) {
    for (const auto& [var, dtype] : c.request.types) {
      if (dtype_name(v.bindings.at(var)) != dtype) return false;
    }
    if (!c.request.config.empty() && k.configs[v.config_index].name != c.request.config) return false;
    for (const ConstexprValue& pin : c.request.pinned) {
      for (const ConstexprValue& x : v.constexprs) {
        if (x.name == pin.name && !(x.value == pin.value)) return false;
      }
    }
    for (const auto& [name, value] : c.constexprs) {
      if (testing::constexpr_of(v, name) != Constant(value)) return false;
    }
    return true;
  }
  // Every case of kernel_cases.h for `kernel` that a variant for this GPU can serve, each output
  // against its reference; and every compiled value of every constexpr that runs here ran.
  void run_cases(const std::string& kernel) {
    Kernel k(pack(kernel), kernel, device_->driver_ptr());
    std::map<std::string, std::vector<Constant>> ran_values;
    int ran = 0;
    for (const testing::KernelCase& c : testing::kernel_cases(k.info())) {
      if (!any_runs_here(k, [&](const VariantInfo& v) { return serves(v, c, k.info()); })) continue;
      SCOPED_TRACE(describe(c.request));
      const harness::RunResult result = run_checked(k, c.request);
      EXPECT_EQ(result.outputs.size(), c.outputs);
      EXPECT_TRUE(serves(*result.variant, c, k.info())) << "variant " << result.variant->id;
      const bool fallback = c.tma_fallback && device_->arch() >= 90;
      EXPECT_EQ(result.uses_ptx, fallback);
      if (fallback) EXPECT_EQ(result.variant->arch, 80u);
      for (const ConstexprValue& x : result.variant->constexprs) {
        auto& seen = ran_values[x.name];
        if (std::find(seen.begin(), seen.end(), x.value) == seen.end()) seen.push_back(x.value);
      }
      ++ran;
    }
    if (ran == 0) GTEST_SKIP() << "no variant of " << kernel << " runs on sm_" << device_->arch();
    for (const ParamInfo& p : k.info().params) {
      if (p.kind != ParamKind::kConstexpr) continue;
      for (const Constant& value : compiled_values(k.info(), p.name)) {
        const bool runs = any_runs_here(k, [&](const VariantInfo& v) {
          return std::any_of(v.constexprs.begin(), v.constexprs.end(),
                             [&](const ConstexprValue& x) { return x.name == p.name && x.value == value; });
        });
        const auto& seen = ran_values[p.name];
        if (runs) EXPECT_NE(std::find(seen.begin(), seen.end(), value), seen.end()) << p.name << "=" << value.text() << " never ran";
      }
    }
  }
  // Every refusal case of refusals.h for `kernel`: refused with the code and the texts expected,
  // and buffer 0 (an output) keeps the poison (all bits set).
  void expect_refusals(const std::string& kernel) {
    Kernel k(pack(kernel), kernel, device_->driver_ptr());
    int ran = 0;
    for (const testing::Refusal& refusal : testing::refusals()) {
      if (refusal.kernel != kernel || static_cast<uint32_t>(device_->arch()) < refusal.min_arch) continue;
      SCOPED_TRACE(kernel + ": " + refusal.what);
      std::vector<harness::DeviceBuffer> buffers;
      std::vector<CUdeviceptr> pointers;
      for (size_t i = 0; i < testing::kRefusalBuffers; ++i) {
        buffers.emplace_back(device_->driver(), testing::kRefusalBufferBytes);
        buffers.back().fill(i == 0 ? 0xff : 0);
        pointers.push_back(buffers.back().get());
      }
      testing::RefusalLaunch launch;
      refusal.build(k.info(), pointers, launch);
      harness::Stream stream(device_->driver());
      try {
        k.launch(launch.args, stream.get(), launch.options);
        ADD_FAILURE() << "the launch was not refused";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), refusal.code) << e.what();
        for (const std::string& t : refusal.expected) {
          EXPECT_NE(std::string(e.what()).find(t), std::string::npos) << t << "\nin: " << e.what();
        }
      }
      stream.synchronize();
      std::vector<uint8_t> bytes(buffers[0].size());
      buffers[0].download(bytes.data(), bytes.size());
      EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0xff; }))
          << "a refused launch wrote its output";
      ++ran;
    }
    if (ran == 0) GTEST_SKIP() << "no refusal case of " << kernel << " applies to sm_" << device_->arch();
  }
};

// ---- runs: every case of kernel_cases.h (its fault-test twin checks on the fake driver that each
// chooses the variant it means to) ----

TEST_F(Kernels, MatmulEveryDtypeConfigAndActivation) { run_cases("matmul"); }
TEST_F(Kernels, LayernormEveryDtypeAndEveryBlockSize) { run_cases("layernorm"); }
TEST_F(Kernels, SoftmaxHeuristicEveryDtypeAndEveryBlockSize) { run_cases("softmax_h"); }
TEST_F(Kernels, DescriptorMatmulEveryDtypeAndConfig) { run_cases("desc_matmul"); }
TEST_F(Kernels, GluonAddEveryDtype) { run_cases("gluon_add"); }
TEST_F(Kernels, GluonTmaCopyEveryDtype) { run_cases("gluon_tma_copy"); }
TEST_F(Kernels, DescriptorScaleEveryDtypeAndHeuristicBlock) { run_cases("desc_scale"); }
TEST_F(Kernels, FmhaEveryDtypeHeadSizeAndConfig) { run_cases("fmha"); }

// ---- the C API: one case of every kernel launched through tp_kernel_launch, checked the same way ----

TEST_F(Kernels, EveryKernelThroughTheCApi) {
  int ran = 0;
  for (const std::string kernel :
       {"matmul", "layernorm", "softmax_h", "desc_matmul", "gluon_add", "gluon_tma_copy", "desc_scale", "fmha"}) {
    SCOPED_TRACE(kernel);
    Kernel k(pack(kernel), kernel, device_->driver_ptr());
    const testing::CApiLauncher c(test_packs_dir() + "/" + kernel + ".tpack", kernel);
    const int before = ran;
    for (testing::KernelCase kc : testing::kernel_cases(k.info())) {
      if (!any_runs_here(k, [&](const VariantInfo& v) { return serves(v, kc, k.info()); })) continue;
      kc.request.launch = [&](std::span<const Arg> args, CUstream stream, const LaunchOptions& options) {
        c.launch(args, stream, options);
      };
      SCOPED_TRACE(describe(kc.request));
      const harness::RunResult result = run_checked(k, kc.request);
      EXPECT_TRUE(serves(*result.variant, kc, k.info())) << "variant " << result.variant->id;
      ++ran;
      break;  // one case a kernel: the C++ tests above cover the rest
    }
    if (ran == before && any_runs_here(k, [](const VariantInfo&) { return true; })) {
      ADD_FAILURE() << kernel << " runs here but no case of kernel_cases.h went through the C API";
    }
  }
  if (ran == 0) GTEST_SKIP() << "no kernel runs on sm_" << device_->arch();
}

// ---- refusals: every case of refusals.h (its fault-test twin checks the same messages on the fake
// driver), each with its output poisoned ----

TEST_F(Kernels, MatmulRefusals) { expect_refusals("matmul"); }
TEST_F(Kernels, LayernormRefusals) { expect_refusals("layernorm"); }
TEST_F(Kernels, SoftmaxHeuristicRefusals) { expect_refusals("softmax_h"); }
TEST_F(Kernels, DescriptorMatmulRefusals) { expect_refusals("desc_matmul"); }
TEST_F(Kernels, GluonAddRefusals) { expect_refusals("gluon_add"); }
TEST_F(Kernels, GluonTmaCopyRefusals) { expect_refusals("gluon_tma_copy"); }
TEST_F(Kernels, FmhaRefusals) { expect_refusals("fmha"); }

}  // namespace
}  // namespace tritonpack
