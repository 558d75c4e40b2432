// The thread-mix stress (tests/stress/stress_mix.h) on a GPU with the real driver, the same mix
// the fake driver runs in CI: Kernels of vector_add launched through the run harness (fresh random
// inputs, poisoned outputs, the host reference) and plugin cores of the shipped attention (fmha)
// enqueued at small shapes, each output against the double-precision causal-attention reference,
// while other threads unload, replace and clone them. Short by default (a few seconds of work) so
// that scripts/gpu-check.sh also runs it under compute-sanitizer; TRITONPACK_STRESS_SEED, _OPS and
// _THREADS change it, as on the fake driver.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "gpu/gpu_fixture.h"
#include "gpu/half_data.h"
#include "harness/device.h"
#include "harness/references.h"
#include "harness/runner.h"
#include "runtime/args.h"
#include "stress/stress_mix.h"
#include "tritonpack/plugin.h"

namespace tritonpack::testing {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

class GpuWorld : public StressWorld {
 public:
  GpuWorld(const harness::DeviceContext& device, std::shared_ptr<const Pack> add, std::shared_ptr<const Pack> fmha,
           size_t threads)
      : device_(device), add_(std::move(add)), fmha_(std::move(fmha)), streams_(threads) {}

  // Each thread's stream is made and used by that thread only (destroyed on the test's thread).
  void enter(size_t thread) override {
    device_.make_current();
    streams_[thread] = std::make_unique<harness::Stream>(device_.driver());
  }

  Kernel make_kernel(size_t) override { return Kernel(add_, "vector_add", device_.driver_ptr()); }

  PluginCore make_plugin(StressRng& rng) override {
    PluginCore plugin = PluginCore::create(fmha_, "fmha", {{"sm_scale", 0.125}}, device_.driver_ptr());
    // Tactics 1 and 2 serve D = 64 in both dtypes (PluginGpu.NativeFmhaSpecKeepsLAndMInTheWorkspace).
    plugin.set_tactic(static_cast<int32_t>(rng() % std::min<size_t>(plugin.tactics().size() + 1, 3)));
    return plugin;
  }

  std::string launch(Kernel& kernel, StressRng& rng, size_t thread, size_t) override {
    harness::RunRequest r;
    r.types["T"] = kDtypes[rng() % 3];
    r.values["n_elements"] = std::to_string(1 + rng() % (1 << 18));
    r.seed = rng() | 1;  // 0 would ask for a fresh seed
    r.stream = streams_[thread]->get();
    const harness::RunResult result = harness::run_kernel(device_, kernel, r);
    if (!result.verified || !result.passed) return "vector_add " + r.types["T"] + ": " + result.verify_message;
    return "";
  }

  std::string select(Kernel& kernel, StressRng& rng) override {
    const DType t = *parse_dtype(kDtypes[rng() % 3]);
    const int64_t n = 1 + static_cast<int64_t>(rng() % (1 << 20));
    const std::vector<Arg> args{Arg::tensor(harness::kPlaceholder, t), Arg::tensor(harness::kPlaceholder, t),
                                Arg::tensor(harness::kPlaceholder, t), Arg::integer(n)};
    const Selection sel = kernel.select(args);
    if (sel.variant->bindings.at("T") != t) return "chose a variant of another dtype";
    if (sel.device_arch != static_cast<uint32_t>(device_.arch())) return "chose for another arch";
    int64_t block = 0;
    for (const ConstexprValue& c : sel.variant->constexprs) {
      if (c.name == "BLOCK_SIZE") block = c.value.as_int();
    }
    if (block <= 0 || sel.grid[0] != ceil_div(n, block)) return "grid " + std::to_string(sel.grid[0]) + " for n " + std::to_string(n);
    if (kernel.workspace_size(args) != 0) return "vector_add needs no workspace";
    return "";
  }

  std::string enqueue(PluginCore& plugin, StressRng& rng, size_t thread, size_t) override {
    const Attention a = draw_attention(rng);
    const PreparedLaunch prepared = plugin.prepare(a.inputs);
    const driver::Driver& d = device_.driver();
    const size_t elements = static_cast<size_t>(a.b * a.h * a.s * a.d);
    std::vector<std::vector<float>> values(3);
    harness::DeviceBuffer q, k, v;
    harness::DeviceBuffer* buffers[] = {&q, &k, &v};
    for (size_t i = 0; i < 3; ++i) {
      values[i] = upload_random_half(d, elements, a.dtype, rng, *buffers[i]);  // the reference sees what the GPU sees
    }
    harness::DeviceBuffer out(d, elements * 2), ws(d, std::max<size_t>(prepared.workspace_bytes(), 1));
    out.fill(harness::kPoisonByte);
    const CUdeviceptr inputs[] = {q.get(), k.get(), v.get()}, outputs[] = {out.get()};
    plugin.enqueue(prepared, inputs, outputs, ws.get(), ws.size(), streams_[thread]->get());
    streams_[thread]->synchronize();
    std::vector<uint16_t> bits(elements);
    out.download(bits.data(), elements * 2);
    const std::vector<double> qd(values[0].begin(), values[0].end()), kd(values[1].begin(), values[1].end()),
        vd(values[2].begin(), values[2].end());
    const harness::CausalAttention want = harness::causal_attention(a.b * a.h, a.s, a.d, 0.125, qd, kd, vd);
    // The tolerances of PluginGpu's attention tests.
    const double rtol = a.dtype == DType::kFp16 ? 1e-2 : 4e-2, atol = rtol / 4;
    for (size_t e = 0; e < elements; ++e) {
      const double got = half_to_float(bits[e], a.dtype);
      if (!std::isfinite(got) || std::abs(got - want.out[e]) > atol + rtol * std::abs(want.out[e])) {
        return "fmha " + std::string(dtype_name(a.dtype)) + " [" + std::to_string(a.b) + "x" + std::to_string(a.h) +
               "x" + std::to_string(a.s) + "x64]: element " + std::to_string(e) + " is " + std::to_string(got) +
               ", expected " + std::to_string(want.out[e]);
      }
    }
    return "";
  }

  std::string plan(const PluginCore& plugin, StressRng& rng) override {
    const Attention a = draw_attention(rng);
    const DType dtypes[] = {a.dtype};
    if (!plugin.supports(0, dtypes)) return "does not support " + std::string(dtype_name(a.dtype));
    const PreparedLaunch prepared = plugin.prepare(a.inputs);
    if (prepared.output_shapes().at(0) != a.inputs[0].shape) return "wrong output shape";
    // At least L and M: fp32 [B*H, S] each, 256-byte aligned.
    const size_t one = (static_cast<size_t>(a.b * a.h * a.s) * 4 + 255) / 256 * 256;
    if (prepared.workspace_bytes() < 2 * one) return "workspace too small for L and M";
    if (plugin.workspace_size(a.inputs) != prepared.workspace_bytes()) return "workspace_size disagrees with prepare";
    return "";
  }

 private:
  static constexpr const char* kDtypes[] = {"fp32", "fp16", "bf16"};

  struct Attention {
    int64_t b = 1, h = 1, s = 1, d = 64;
    DType dtype = DType::kFp16;
    std::vector<TensorDesc> inputs;
  };
  static Attention draw_attention(StressRng& rng) {
    Attention a;
    a.h = 1 + static_cast<int64_t>(rng() % 2);
    a.s = 1 + static_cast<int64_t>(rng() % 128);
    a.dtype = rng() % 2 == 0 ? DType::kFp16 : DType::kBf16;
    a.inputs.assign(3, TensorDesc{a.dtype, {a.b, a.h, a.s, a.d}, {}});
    return a;
  }

  const harness::DeviceContext& device_;
  std::shared_ptr<const Pack> add_, fmha_;
  std::vector<std::unique_ptr<harness::Stream>> streams_;
};

class StressGpu : public Gpu {};

TEST_F(StressGpu, ThreadsMixLaunchUnloadSelectAndPluginLifetimes) {
  const StressOptions options = stress_options({.seed = 13, .threads = 8, .operations = 400});
  GpuWorld world(*device_, pack("vector_add"), pack("fmha"), options.threads);
  const StressResult result = run_stress(world, options);
  std::string failures;
  for (const std::string& f : result.failures) failures += "\n  " + f;
  EXPECT_TRUE(result.failures.empty()) << "seed " << options.seed << " (TRITONPACK_STRESS_SEED=" << options.seed
                                       << " repeats it), " << options.threads << " threads:" << failures;
  for (size_t i = 0; i < result.done.size(); ++i) {
    EXPECT_GE(result.done[i], options.operations / 100) << kStressOpNames[i] << " too rare: " << result.counts();
  }
  std::printf("stress: seed %llu, %zu threads on %s: %s\n", static_cast<unsigned long long>(options.seed),
              options.threads, device_->name().c_str(), result.counts().c_str());
}

}  // namespace
}  // namespace tritonpack::testing
