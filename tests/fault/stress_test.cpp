// The thread-mix stress (tests/stress/stress_mix.h) on the fake driver, as CI runs it (and under
// ThreadSanitizer in build-tsan): two contexts of two archs, a kernel that launches plainly, one
// with clusters and pooled global scratch, and an attention plugin. Every launch must reach the
// driver exactly once with the entry, grid, block, stream, context and argument bytes the case
// asks for; no driver call may name an unloaded module or function; at the end nothing is left
// loaded or allocated.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <mutex>

#include "fault/attention_fixture.h"
#include "fault/fake_driver.h"
#include "fault/runtime_fixture.h"
#include "stress/stress_mix.h"

namespace tritonpack::testing {
namespace {

// Each launch's first argument (x, or the plugin's output) is an address unique to its thread and
// operation, so a thread finds its own launch among everyone's.
CUdeviceptr launch_key(size_t thread, size_t op, bool plugin) {
  return 0x1000'0000'0000ull + (plugin ? 0x0800'0000'0000ull : 0) + (uint64_t{thread} << 32) + (uint64_t{op} << 12);
}

std::string mismatch(const char* what, uint64_t got, uint64_t want) {
  return std::string(what) + " " + std::to_string(got) + ", expected " + std::to_string(want);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

class FakeWorld : public StressWorld {
 public:
  FakeWorld() : gpu_(reset_fake_gpu()) {
    sm90_ = gpu_.make_context(0);
    sm80_ = gpu_.make_context(1);
    gpu_.devices[1].arch = 80;
    gpu_.params_to_record = 4;  // the fewest arguments any kernel here takes (heavy: x, n, 2 scratch)
    gpu_.on_launch = [this](FakeGpu& g, const FakeLaunch& l) { seen(g, l); };
    kernels_ = runtime_test_pack();
    attention_ = attention_pack();
  }
  ~FakeWorld() override { gpu_.on_launch = nullptr; }  // it calls into this world
  FakeGpu& gpu() { return gpu_; }

  void enter(size_t) override {}

  Kernel make_kernel(size_t slot) override { return Kernel(kernels_, slot == 0 ? "heavy" : "axpy", fake_driver()); }

  PluginCore make_plugin(StressRng& rng) override {
    PluginCore plugin = PluginCore::create(attention_, "attn", {}, fake_driver());
    plugin.set_tactic(static_cast<int32_t>(rng() % 3));  // before it is shared: set_tactic is not concurrent
    if (rng() % 2 == 0) return PluginCore::deserialize(plugin.serialize(), fake_driver());
    return plugin;
  }

  std::string launch(Kernel& kernel, StressRng& rng, size_t thread, size_t op) override {
    const Case c = draw(kernel, rng, launch_key(thread, op, false));
    const CUstream stream = stream_of(thread);
    kernel.launch(c.args, stream);
    const Seen s = take(c.args[0].pointer);
    if (s.count != 1) return "launch reached the driver " + std::to_string(s.count) + " times";
    const FakeLaunch& l = s.launch;
    if (l.entry != c.entry) return "launched '" + l.entry + "', expected '" + c.entry + "'";
    for (int i = 0; i < 3; ++i) {
      if (l.grid[i] != c.grid[i]) return mismatch("grid", l.grid[i], c.grid[i]);
    }
    if (l.block[0] != c.block) return mismatch("block", l.block[0], c.block);
    if (l.cluster_x != c.cluster) return mismatch("cluster", l.cluster_x, c.cluster);
    if (l.stream != stream || l.context != c.context) return "wrong stream or context";
    if (c.entry == "heavy_kernel") {
      // x, n, then the pooled global scratch: live (not freed by a racing unload) and large enough.
      if (static_cast<uint32_t>(l.params[1]) != static_cast<uint64_t>(c.n)) return mismatch("n", l.params[1], c.n);
      if (s.scratch_bytes < c.scratch) return mismatch("live scratch bytes", s.scratch_bytes, c.scratch);
      return "";
    }
    if (l.params[1] != c.args[1].pointer || l.params[2] != c.args[2].pointer) return "wrong y or out";
    if (static_cast<uint32_t>(l.params[3]) != static_cast<uint64_t>(c.n)) return mismatch("n", l.params[3], c.n);
    return "";
  }

  std::string select(Kernel& kernel, StressRng& rng) override {
    const Case c = draw(kernel, rng, 0x2000'0000'0000ull);
    const Selection sel = kernel.select(c.args);
    if (sel.device_arch != c.arch) return mismatch("arch", sel.device_arch, c.arch);
    if (sel.grid[0] * sel.variant->num_ctas != c.grid[0] || sel.grid[1] != c.grid[1]) return "wrong grid";
    if (sel.global_scratch_bytes != c.scratch) return mismatch("scratch", sel.global_scratch_bytes, c.scratch);
    const size_t workspace = kernel.workspace_size(c.args);
    if (workspace != c.scratch) return mismatch("workspace", workspace, c.scratch);
    if (c.entry == "axpy_kernel" && sel.variant->bindings.at("T") != c.args[0].dtype) return "wrong dtype";
    return "";
  }

  std::string enqueue(PluginCore& plugin, StressRng& rng, size_t thread, size_t op) override {
    const Attention a = draw_attention(rng);
    FakeGpu::set_current(sm90_);
    const PreparedLaunch prepared = plugin.prepare(a.inputs);
    const CUdeviceptr out = launch_key(thread, op, true), q = out + 0x100, k = out + 0x200, v = out + 0x300;
    const CUdeviceptr ws = out + 0x400;  // the fake reads no memory: distinct aligned addresses do
    const CUstream stream = stream_of(thread);
    const CUdeviceptr inputs[] = {q, k, v}, outputs[] = {out};
    plugin.enqueue(prepared, inputs, outputs, ws, prepared.workspace_bytes(), stream);
    const Seen s = take(out);
    if (s.count != 1) return "enqueue reached the driver " + std::to_string(s.count) + " times";
    const FakeLaunch& l = s.launch;
    if (l.entry != "fused_attention_kernel") return "launched '" + l.entry + "'";
    // The spec's grid: (seq_len + 127) / 128, batch_size * num_heads.
    if (l.grid[0] != ceil_div(a.s, 128)) return mismatch("grid x", l.grid[0], ceil_div(a.s, 128));
    if (l.grid[1] != a.b * a.h) return mismatch("grid y", l.grid[1], a.b * a.h);
    if (l.stream != stream || l.context != sm90_) return "wrong stream or context";
    const PluginPlan& plan = prepared.plan();
    if (l.params[1] != ws + plan.scratch[0].offset || l.params[2] != ws + plan.scratch[1].offset) {
      return "L and M not in the workspace";
    }
    if (l.params[3] != q) return "wrong Q";
    return "";
  }

  std::string plan(const PluginCore& plugin, StressRng& rng) override {
    const Attention a = draw_attention(rng);
    FakeGpu::set_current(sm90_);
    const DType dtypes[] = {a.inputs[0].dtype};
    if (!plugin.supports(0, dtypes)) return "does not support its own dtype";
    const PreparedLaunch prepared = plugin.prepare(a.inputs);
    if (prepared.output_shapes().at(0) != a.inputs[0].shape) return "wrong output shape";
    // L and M: fp32 [B*H, S] each, 256-byte aligned; the variants need no global scratch.
    const size_t one = (static_cast<size_t>(a.b * a.h * a.s) * 4 + 255) / 256 * 256;
    if (prepared.workspace_bytes() != 2 * one) return mismatch("workspace", prepared.workspace_bytes(), 2 * one);
    if (plugin.workspace_size(a.inputs) != 2 * one) return "workspace_size disagrees with prepare";
    return "";
  }

 private:
  // One kernel launch's arguments and what the driver must see.
  struct Case {
    std::vector<Arg> args;
    std::string entry;
    CUcontext context = nullptr;
    uint32_t arch = 0;
    int64_t n = 0;
    std::array<int64_t, 3> grid{};  // as launched: CTAs, clusters included
    uint32_t block = 0, cluster = 1;
    size_t scratch = 0;
  };
  // axpy: on sm_90 (fp16, or fp32 from the sm_80 PTX) or sm_80 (fp32), 256 per program (config
  // "small" comes first). heavy (sm_90 only): 128 per program, clusters of 2, and 128 bytes of
  // global scratch per CTA.
  Case draw(Kernel& kernel, StressRng& rng, CUdeviceptr x) {
    Case c;
    c.n = 1 + static_cast<int64_t>(rng() % 100000);
    const bool heavy = kernel.info().name == "heavy";
    const bool sm80 = !heavy && rng() % 4 == 0;
    c.context = sm80 ? sm80_ : sm90_;
    c.arch = sm80 ? 80 : 90;
    FakeGpu::set_current(c.context);
    if (heavy) {
      c.args = {Arg::tensor(x, DType::kFp32), Arg::integer(c.n)};
      c.entry = "heavy_kernel";
      c.grid = {ceil_div(c.n, 128) * 2, 2, 1};
      c.block = 256;
      c.cluster = 2;
      c.scratch = static_cast<size_t>(c.grid[0] * c.grid[1]) * 128;
      return c;
    }
    const DType t = sm80 || rng() % 2 == 0 ? DType::kFp32 : DType::kFp16;
    c.args = {Arg::tensor(x, t), Arg::tensor(x + 0x100, t), Arg::tensor(x + 0x200, t), Arg::integer(c.n),
              Arg::real(0.5), Arg::real(-2.0)};
    c.entry = "axpy_kernel";
    c.grid = {ceil_div(c.n, 256), 1, 1};
    c.block = 128;
    return c;
  }

  struct Attention {
    int64_t b = 0, h = 0, s = 0, d = 0;
    std::vector<TensorDesc> inputs;
  };
  static Attention draw_attention(StressRng& rng) {
    Attention a;
    a.b = 1 + static_cast<int64_t>(rng() % 3);
    a.h = 1 + static_cast<int64_t>(rng() % 4);
    a.s = 1 + static_cast<int64_t>(rng() % 300);
    a.d = rng() % 2 == 0 ? 64 : 128;
    const DType t = rng() % 2 == 0 ? DType::kFp16 : DType::kBf16;
    a.inputs.assign(3, TensorDesc{t, {a.b, a.h, a.s, a.d}, {}});
    return a;
  }

  static CUstream stream_of(size_t thread) { return reinterpret_cast<CUstream>(0x5000 + 0x10 * thread); }

  // What the driver saw of one launch key. The scratch allocation's size is read as the launch
  // happens: a buffer freed by an unload before the launch reaches the driver shows as 0.
  struct Seen {
    FakeLaunch launch;
    size_t count = 0;
    size_t scratch_bytes = 0;
  };
  // Runs in the driver, under the fake's mutex.
  void seen(FakeGpu& g, const FakeLaunch& l) {
    std::lock_guard<std::mutex> lock(seen_mutex_);
    Seen& s = seen_[l.params[0]];
    s.launch = l;
    ++s.count;
    if (l.entry == "heavy_kernel") {
      const auto it = g.allocations.find(l.params[2]);
      s.scratch_bytes = it == g.allocations.end() ? 0 : it->second;
    }
  }
  Seen take(CUdeviceptr key) {
    std::lock_guard<std::mutex> lock(seen_mutex_);
    const auto it = seen_.find(key);
    if (it == seen_.end()) return {};
    Seen s = std::move(it->second);
    seen_.erase(it);
    return s;
  }

  FakeGpu& gpu_;
  CUcontext sm90_ = nullptr, sm80_ = nullptr;
  std::shared_ptr<const Pack> kernels_, attention_;
  std::mutex seen_mutex_;
  std::map<CUdeviceptr, Seen> seen_;
};

TEST(Stress, ThreadsMixLaunchUnloadSelectAndPluginLifetimes) {
  const StressOptions options = stress_options({.seed = 13, .threads = 8, .operations = 20000});
  StressResult result;
  {
    FakeWorld world;
    result = run_stress(world, options);
    FakeGpu& gpu = world.gpu();
    std::string failures;
    for (const std::string& f : result.failures) failures += "\n  " + f;
    EXPECT_TRUE(result.failures.empty()) << "seed " << options.seed << " (TRITONPACK_STRESS_SEED=" << options.seed
                                         << " repeats it), " << options.threads << " threads:" << failures;
    std::string stale;
    for (const std::string& s : gpu.stale_handle_uses) stale += "\n  " + s;
    EXPECT_TRUE(gpu.stale_handle_uses.empty()) << "seed " << options.seed << ": stale handles used:" << stale;
    // Every Kernel and plugin is destroyed by now: each unloaded what it loaded.
    EXPECT_EQ(gpu.live_modules(), 0u) << "seed " << options.seed;
    EXPECT_EQ(gpu.live_allocations(), 0u) << "seed " << options.seed;
    // The mix did what it is for: launches, unloads and new objects, many of each.
    for (size_t i = 0; i < result.done.size(); ++i) {
      EXPECT_GE(result.done[i], options.operations / 100) << kStressOpNames[i] << " too rare: " << result.counts();
    }
  }
  std::printf("stress: seed %llu, %zu threads: %s\n", static_cast<unsigned long long>(options.seed), options.threads,
              result.counts().c_str());
}

}  // namespace
}  // namespace tritonpack::testing
