// The TensorRT adapter on a GPU (level 2 of issue 8): the harness plays TensorRT's build phase
// (timing runs included) and an engine's runtime phase (createPlugin(kRUNTIME), attachToContext,
// setTactic, onShapeChange, enqueue on a real stream with a real workspace) for the shipped
// attention (kernels/fmha) and PluginGen's FMHA config, compiled by the compile tests. Fresh random
// inputs, outputs and workspace poisoned with NaN, a float64 causal-attention reference. Also: the
// plugin used twice in one network, cloned and destroyed in every order; on two GPUs (issue 12):
// both GPUs' engines run at once on two threads, plugins cloned from one GPU run on the other, and
// those destroyed in every order; and the same through the real lean TensorRT runtime's registry,
// which loads libtritonpack_tensorrt.so. Skipped (never passed) without a GPU (the two-GPU tests:
// with fewer than two), without the packs, or (the registry test) without the lean runtime.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gpu/gpu_fixture.h"
#include "gpu/half_data.h"
#include "harness/device.h"
#include "harness/references.h"
#include "runtime/args.h"
#include "tensorrt_harness.h"
#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt::testing {
namespace {

using nvinfer1::DataType;
using tritonpack::testing::download_f32;
using tritonpack::testing::download_half;
using tritonpack::testing::worst;

struct Problem {
  int64_t b, h, s, d;
  size_t elements() const { return static_cast<size_t>(b * h * s * d); }
  size_t rows() const { return static_cast<size_t>(b * h * s); }
  std::vector<int64_t> shape() const { return {b, h, s, d}; }
};

// Causal attention in double (harness::causal_attention): Out, and L and M as the kernel stores them.
void attention_reference(const Problem& p, const std::vector<float>& q, const std::vector<float>& k,
                         const std::vector<float>& v, double scale, std::vector<double>& out, std::vector<double>& l,
                         std::vector<double>& m) {
  const std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end()), vd(v.begin(), v.end());
  harness::CausalAttention r = harness::causal_attention(p.b * p.h, p.s, p.d, scale, qd, kd, vd);
  out = std::move(r.out);
  l = std::move(r.l);
  m = std::move(r.m);
}

class TensorRTGpu : public Gpu {
 protected:
  void SetUp() override {
    Gpu::SetUp();
    if (IsSkipped()) return;
    set_logger_finder(&finder_);
  }
  void TearDown() override { set_logger_finder(nullptr); }

  std::shared_ptr<const PackSource> source(const std::string& name) {
    const std::string path = test_packs_dir() + "/" + name + ".tpack";
    if (!std::filesystem::exists(path)) return nullptr;
    return PackSource::from_pack(Pack::open(path), path);
  }

  // One attention problem through an engine's runtime phase, checked against the reference.
  struct Attention {
    Problem problem;
    DType dtype;
    double scale;
    bool plugingen;  // L and M are outputs (PluginGen) or workspace scratch (tritonpack's spec)
    std::shared_ptr<const Pack> pack;  // tritonpack's spec: where its plan puts L and M
  };
  // The workspace offsets of L and M, from a core of our own (the plugin may live in a library
  // TensorRT loaded, with its own copy of tritonpack).
  static std::vector<size_t> scratch_offsets(const Attention& a) {
    const PluginCore core = PluginCore::create(a.pack, "fmha", {{"sm_scale", a.scale}});
    const TensorDesc desc{a.dtype, a.problem.shape(), {}};
    const PluginPlan plan = core.plan({{desc, desc, desc}});
    std::vector<size_t> out;
    for (const PluginPlan::Scratch& s : plan.scratch) out.push_back(s.offset);
    return out;
  }
  std::vector<float> random_half(const Problem& p, DType t, harness::DeviceBuffer& buffer) {
    return tritonpack::testing::upload_random_half(device_->driver(), p.elements(), t, rng(), buffer);
  }

  // Runs `plugin` (already attached and its tactic set) on fresh data; checks every output.
  void run_and_check(nvinfer1::IPluginV3& plugin, const BuildReport& built, const Attention& a, const std::string& what) {
    const Problem& p = a.problem;
    const DataType t = *to_tensorrt(a.dtype);
    harness::DeviceBuffer q, k, v;
    const auto hq = random_half(p, a.dtype, q), hk = random_half(p, a.dtype, k), hv = random_half(p, a.dtype, v);
    const std::vector<std::vector<int64_t>> shapes(3, p.shape());
    const std::vector<DataType> in_types(3, t);
    const auto out_shapes = built.output_shapes(shapes);
    const auto in = Harness::descs(in_types, shapes);
    const auto out = Harness::descs(built.output_types, out_shapes);
    std::vector<harness::DeviceBuffer> outputs;
    std::vector<CUdeviceptr> out_ptrs;
    for (size_t o = 0; o < out_shapes.size(); ++o) {
      size_t bytes = element_size(built.output_types[o]);
      for (int64_t d : out_shapes[o]) bytes *= static_cast<size_t>(d);
      outputs.emplace_back(device_->driver(), bytes);
      outputs.back().fill(0xff);  // NaN in fp16, bf16 and fp32 until the kernel writes
      out_ptrs.push_back(outputs.back().get());
    }
    harness::DeviceBuffer workspace(device_->driver(), std::max<size_t>(built.workspace, 256));
    workspace.fill(0xff);
    harness::Stream stream(device_->driver());
    ASSERT_EQ(Harness::shape_change(plugin, in, out), 0) << what << "\n" << logger_.all_errors();
    const std::vector<CUdeviceptr> in_ptrs{q.get(), k.get(), v.get()};
    ASSERT_EQ(Harness::enqueue(plugin, in, out, in_ptrs, out_ptrs, workspace.get(), stream.get()), 0)
        << what << "\n" << logger_.all_errors();
    stream.synchronize();
    std::vector<double> ro, rl, rm;
    attention_reference(p, hq, hk, hv, a.scale, ro, rl, rm);
    const double tol = a.dtype == DType::kFp16 ? 1e-2 : 4e-2;
    EXPECT_LE(worst(download_half(outputs[0], ro.size(), a.dtype), ro, tol / 4, tol), 1.0) << what << " Out";
    std::vector<float> l, m;
    if (a.plugingen) {
      l = download_f32(outputs[1], p.rows());
      m = download_f32(outputs[2], p.rows());
    } else {
      // L and M live in the workspace, where the plan puts them.
      const std::vector<size_t> offsets = scratch_offsets(a);
      ASSERT_EQ(offsets.size(), 2u);
      l = download_f32(workspace, p.rows(), offsets[0]);
      m = download_f32(workspace, p.rows(), offsets[1]);
    }
    EXPECT_LE(worst(l, rl, 1e-4, 5e-3), 1.0) << what << " L";
    EXPECT_LE(worst(m, rm, 1e-4, 5e-3), 1.0) << what << " M";
  }

  static std::vector<InputUse> profile(DataType t, const Problem& p) {
    const InputUse q{t, {1, 1, 1, p.d}, p.shape(), {4, 4, 512, p.d}};
    return {q, q, q};
  }

  // One engine per thread: the two-GPU tests draw inputs on two threads at once.
  static std::mt19937& rng() {
    thread_local std::mt19937 engine{std::random_device{}()};
    return engine;
  }

  RecordingLogger logger_;
  TestLoggerFinder finder_{&logger_};
};

TEST_F(TensorRTGpu, ShippedAttentionThroughBuildAndRuntimePhases) {
  auto fmha = source("fmha");
  if (!fmha) GTEST_SKIP() << "no fmha.tpack in " << test_packs_dir() << " (its compile test was skipped)";
  Creator creator(fmha, "fmha", device_->driver_ptr());
  int ran = 0;
  for (DType t : {DType::kFp16, DType::kBf16}) {
    for (int64_t d : {64, 128}) {
      const Problem p{2, 2, d == 64 ? 200 : 129, d};
      const double scale = 1.0 / std::sqrt(double(d));
      harness::Stream stream(device_->driver());
      Harness harness(creator, device_->driver_ptr(), stream.get());
      FieldSet fields;
      fields.f32("sm_scale", static_cast<float>(scale));
      BuildReport built = harness.build("attention", fields, profile(*to_tensorrt(t), p));
      ASSERT_EQ(built.timing_runs, built.tactics.size());
      auto engine = harness.deserialize(built.serialized);
      ASSERT_TRUE(engine) << logger_.all_errors();
      for (int32_t tactic : built.tactics) {
        RecordingErrorRecorder recorder;
        ResourceContext context(&recorder);
        auto plugin = Harness::attach(*engine, context);
        ASSERT_TRUE(plugin);
        ASSERT_EQ(Harness::set_tactic(*plugin, tactic), 0);
        const std::string what = std::string(dtype_name(t)) + " D=" + std::to_string(d) + " tactic " + std::to_string(tactic);
        run_and_check(*plugin, built, {p, t, static_cast<float>(scale), false, fmha->pack}, what);
        EXPECT_EQ(recorder.getNbErrors(), 0) << what;
        ++ran;
      }
    }
  }
  EXPECT_EQ(ran, 8);
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();
}

TEST_F(TensorRTGpu, PluginGenFmhaConfigThroughBuildAndRuntimePhases) {
  auto pg = source("fmha_plugingen");
  if (!pg) GTEST_SKIP() << "no fmha_plugingen.tpack in " << test_packs_dir() << " (its compile test was skipped)";
  Creator creator(pg, "fused_attention_kernel", device_->driver_ptr());
  for (const Problem p : {Problem{2, 3, 128, 64}, Problem{1, 2, 77, 64}, Problem{2, 2, 1, 64}, Problem{1, 4, 300, 64}}) {
    harness::Stream stream(device_->driver());
    Harness harness(creator, device_->driver_ptr(), stream.get());
    FieldSet fields;
    fields.f32("sm_scale", 0.125f).i32("num_heads", static_cast<int32_t>(p.h));
    BuildReport built = harness.build("pg", fields, profile(DataType::kHALF, p));
    auto engine = harness.deserialize(built.serialized);
    ASSERT_TRUE(engine) << logger_.all_errors();
    RecordingErrorRecorder recorder;
    ResourceContext context(&recorder);
    auto plugin = Harness::attach(*engine, context);
    ASSERT_EQ(Harness::set_tactic(*plugin, built.tactics.at(0)), 0);
    run_and_check(*plugin, built, {p, DType::kFp16, 0.125f, true, nullptr}, "S=" + std::to_string(p.s));
  }
}

// Two nodes of one network, each plugin cloned and attached, all enqueued on one stream, then
// destroyed in every order: right results, and every module unloaded once (compute-sanitizer
// would report a double cuModuleUnload).
TEST_F(TensorRTGpu, UsedTwiceClonedAndDestroyedInEveryOrder) {
  auto fmha = source("fmha");
  if (!fmha) GTEST_SKIP() << "no fmha.tpack in " << test_packs_dir();
  Creator creator(fmha, "fmha", device_->driver_ptr());
  const Problem p{1, 2, 96, 64};
  std::vector<int> order(4);
  std::iota(order.begin(), order.end(), 0);
  do {
    harness::Stream stream(device_->driver());
    Harness harness(creator, device_->driver_ptr(), stream.get());
    FieldSet f1, f2;
    f1.f32("sm_scale", 0.125f);
    f2.f32("sm_scale", 0.25f);
    BuildReport a = harness.build("first", f1, profile(DataType::kHALF, p));
    BuildReport b = harness.build("second", f2, profile(DataType::kHALF, p));
    RecordingErrorRecorder recorder;
    ResourceContext context(&recorder);
    std::vector<std::unique_ptr<nvinfer1::IPluginV3>> plugins;
    plugins.push_back(harness.deserialize(a.serialized));
    plugins.push_back(harness.deserialize(b.serialized));
    plugins.push_back(std::unique_ptr<nvinfer1::IPluginV3>(plugins[0]->clone()));
    plugins.push_back(Harness::attach(*plugins[1], context));
    for (size_t i = 0; i < plugins.size(); ++i) {
      ASSERT_TRUE(plugins[i]);
      run_and_check(*plugins[i], i == 0 || i == 2 ? a : b, {p, DType::kFp16, i == 0 || i == 2 ? 0.125 : 0.25, false, fmha->pack},
                    "plugin " + std::to_string(i));
    }
    for (int i : order) plugins[static_cast<size_t>(i)].reset();
  } while (std::next_permutation(order.begin(), order.end()));
}

// Two GPUs of one process, each with the engine of its own (TensorRT makes an engine's device
// current for each call it makes into the plugin). The engine's fields come from one build on GPU
// 0, as one plan serves every GPU of a model. Skipped (never passed) with fewer than two GPUs.
class TensorRTTwoGpus : public TensorRTGpu {
 protected:
  void SetUp() override {
    TensorRTGpu::SetUp();
    if (IsSkipped()) return;
    int count = 0;
    ASSERT_EQ(device_->driver().api().cuDeviceGetCount(&count), CUDA_SUCCESS);
    if (count < 2) GTEST_SKIP() << "needs 2 GPUs, this machine has " << count;
    fmha_ = source("fmha");
    if (!fmha_) GTEST_SKIP() << "no fmha.tpack in " << test_packs_dir() << " (its compile test was skipped)";
    // Held for the whole test: released to zero, GPU 1's primary context would reset and take the
    // plugins' modules with it, and their unloading would go untested.
    second_ = std::make_unique<harness::DeviceContext>(device_->driver_ptr(), 1);
    device_->make_current();
    creator_ = std::make_unique<Creator>(fmha_, "fmha", device_->driver_ptr());
    harness::Stream stream(device_->driver());
    Harness harness(*creator_, device_->driver_ptr(), stream.get());
    FieldSet fields;
    fields.f32("sm_scale", static_cast<float>(kScale));
    built_ = harness.build("attention", fields, profile(DataType::kHALF, kProblems[0]));
    ASSERT_FALSE(built_.tactics.empty());
  }
  const harness::DeviceContext& gpu(int ordinal) const { return ordinal == 0 ? *device_ : *second_; }

  // createPlugin(kRUNTIME) from the engine's fields with GPU `ordinal` current.
  std::unique_ptr<nvinfer1::IPluginV3> deserialize_on(int ordinal) {
    gpu(ordinal).make_current();
    FieldSet serialized = built_.serialized;
    return Harness(*creator_).deserialize(serialized);
  }

  // Runs `plugin` (its tactic set) with GPU `ordinal` current, on that GPU's buffers and stream.
  void run_on(int ordinal, nvinfer1::IPluginV3& plugin, const Problem& p, const std::string& what) {
    gpu(ordinal).make_current();
    run_and_check(plugin, built_, {p, DType::kFp16, kScale, false, fmha_->pack},
                  what + ", on GPU " + std::to_string(ordinal));
  }

  // Shapes inside the build's profile, each a shape change from the one before.
  static constexpr Problem kProblems[] = {{2, 2, 200, 64}, {1, 3, 77, 64}, {4, 1, 129, 64}};
  static constexpr double kScale = 0.125;
  std::shared_ptr<const PackSource> fmha_;
  std::unique_ptr<harness::DeviceContext> second_;
  std::unique_ptr<Creator> creator_;
  BuildReport built_;
};

// The runtime phase on GPU 1 while GPU 0 runs the same plugin: each GPU's engine deserialized,
// attached, and run on a thread of its own with its own GPU current and its own streams, every
// tactic, shapes changing between enqueues, several rounds; every result against the reference.
// The core launches in the current context and keeps modules per context, so neither GPU may
// use what the other loaded, nor the other's context.
TEST_F(TensorRTTwoGpus, RuntimePhaseOnBothGpusAtOnce) {
  constexpr int kRounds = 3;
  std::latch start(2);
  const auto engine_on = [&](int ordinal) {
    // Both threads arrive before either may return early, so that neither waits forever.
    start.arrive_and_wait();
    try {
      RecordingErrorRecorder recorder;
      ResourceContext context(&recorder);
      auto engine = deserialize_on(ordinal);
      ASSERT_TRUE(engine) << "GPU " << ordinal << ": " << logger_.all_errors();
      for (int round = 0; round < kRounds; ++round) {
        for (int32_t tactic : built_.tactics) {
          auto plugin = Harness::attach(*engine, context);
          ASSERT_TRUE(plugin);
          ASSERT_EQ(Harness::set_tactic(*plugin, tactic), 0);
          const std::string what = "round " + std::to_string(round) + ", tactic " + std::to_string(tactic);
          for (const Problem& p : kProblems) run_on(ordinal, *plugin, p, what + ", S=" + std::to_string(p.s));
        }
      }
      EXPECT_EQ(recorder.getNbErrors(), 0) << "GPU " << ordinal;
      // Enqueues and destructions (unloading pushes and pops each context a plugin loaded in)
      // leave the context TensorRT made current as it was.
      CUdevice current = -1, want = -1;
      ASSERT_EQ(device_->driver().api().cuCtxGetDevice(&current), CUDA_SUCCESS);
      ASSERT_EQ(device_->driver().api().cuDeviceGet(&want, ordinal), CUDA_SUCCESS);
      EXPECT_EQ(current, want) << "GPU " << ordinal;
    } catch (const std::exception& e) {  // the harness's buffers and streams throw; a thread must not
      ADD_FAILURE() << "GPU " << ordinal << ": " << e.what();
    }
  };
  std::thread first(engine_on, 0), second(engine_on, 1);
  first.join();
  second.join();
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();
}

// A plugin attached with one GPU current and run there, then cloned; the clone runs on the other
// GPU with that GPU's context current (as the engine of an execution context there would run it),
// through a shape change, and the original runs again on its own GPU. The clone is made after the
// original has loaded its modules in its GPU's context: the clone must load its own in the other's
// and leave the original's alone. Both directions, every tactic.
TEST_F(TensorRTTwoGpus, ClonesRunOnTheOtherGpu) {
  RecordingErrorRecorder recorder;
  ResourceContext context(&recorder);
  for (int from : {0, 1}) {
    const int to = 1 - from;
    for (int32_t tactic : built_.tactics) {
      const std::string what = "tactic " + std::to_string(tactic) + ", attached on GPU " + std::to_string(from);
      auto engine = deserialize_on(from);
      ASSERT_TRUE(engine) << logger_.all_errors();
      auto original = Harness::attach(*engine, context);
      ASSERT_TRUE(original);
      ASSERT_EQ(Harness::set_tactic(*original, tactic), 0);
      run_on(from, *original, kProblems[0], what);
      std::unique_ptr<nvinfer1::IPluginV3> clone(original->clone());
      ASSERT_TRUE(clone);
      run_on(to, *clone, kProblems[0], what + ", its clone");
      run_on(to, *clone, kProblems[1], what + ", its clone");
      run_on(from, *original, kProblems[1], what + ", again");
    }
  }
  EXPECT_EQ(recorder.getNbErrors(), 0);
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();
}

// Plugins of both GPUs, each run on its GPU: deserialized on GPU 0, deserialized on GPU 1, a
// clone() of the first run on GPU 1, the second attached with GPU 0 current and run there. Then
// destroyed in every order, each with either GPU current (TensorRT destroys an execution context's
// plugins with whatever is current): right results, and each plugin's modules unloaded once, in
// the context they were loaded in (compute-sanitizer reports a driver call that fails, such as a
// second cuModuleUnload of a module).
TEST_F(TensorRTTwoGpus, ClonedAcrossGpusAndDestroyedInEveryOrder) {
  constexpr int kRunsOn[] = {0, 1, 1, 0};
  std::vector<int> order(4);
  std::iota(order.begin(), order.end(), 0);
  do {
    RecordingErrorRecorder recorder;
    ResourceContext context(&recorder);
    std::vector<std::unique_ptr<nvinfer1::IPluginV3>> plugins;
    plugins.push_back(deserialize_on(0));
    plugins.push_back(deserialize_on(1));
    ASSERT_TRUE(plugins[0] && plugins[1]) << logger_.all_errors();
    plugins.push_back(std::unique_ptr<nvinfer1::IPluginV3>(plugins[0]->clone()));
    gpu(0).make_current();
    plugins.push_back(Harness::attach(*plugins[1], context));
    for (size_t i = 0; i < plugins.size(); ++i) {
      ASSERT_TRUE(plugins[i]);
      run_on(kRunsOn[i], *plugins[i], kProblems[i % 2], "plugin " + std::to_string(i));
    }
    for (size_t step = 0; step < order.size(); ++step) {
      gpu(static_cast<int>(step % 2)).make_current();
      plugins[static_cast<size_t>(order[step])].reset();
    }
    EXPECT_EQ(recorder.getNbErrors(), 0);
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();
}

std::string generic_library() {
  const char* v = std::getenv("TRITONPACK_TENSORRT_GENERIC_LIBRARY");  // the build ran elsewhere
  return v && *v ? v : TRITONPACK_TENSORRT_GENERIC_LIBRARY;
}

// The real lean TensorRT runtime's registry loads the generic plugin library serving the compiled
// packs; its creators run the same phases.
TEST_F(TensorRTGpu, ThroughTheLeanRuntimesRegistry) {
  const char* lean_env = std::getenv("TRITONPACK_TENSORRT_LEAN");
  const std::string lean = lean_env && *lean_env ? lean_env : TRITONPACK_TENSORRT_LEAN_DEFAULT;
  if (!std::filesystem::exists(lean)) GTEST_SKIP() << "no lean TensorRT runtime at " << lean << " (scripts/setup.sh)";
  const std::string fmha = test_packs_dir() + "/fmha.tpack", pg = test_packs_dir() + "/fmha_plugingen.tpack";
  if (!std::filesystem::exists(fmha) || !std::filesystem::exists(pg)) GTEST_SKIP() << "no compiled packs in " << test_packs_dir();
  void* handle = dlopen(lean.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto get = reinterpret_cast<nvinfer1::IPluginRegistry* (*)()>(dlsym(handle, "getPluginRegistry"));
  ASSERT_NE(get, nullptr);
  nvinfer1::IPluginRegistry* registry = get();
  ASSERT_EQ(setenv("TRITONPACK_TENSORRT_PACKS", (fmha + ":" + pg).c_str(), 1), 0);
  void* library = registry->loadLibrary(generic_library().c_str());
  ASSERT_NE(library, nullptr) << generic_library();
  {
    auto* creator = static_cast<nvinfer1::IPluginCreatorV3One*>(registry->getCreator("tritonpack_fmha", "1", "tritonpack"));
    ASSERT_NE(creator, nullptr);
    const Problem p{2, 2, 200, 64};
    harness::Stream stream(device_->driver());
    Harness harness(*creator, device_->driver_ptr(), stream.get());
    FieldSet fields;
    fields.f32("sm_scale", 0.125f);
    BuildReport built = harness.build("attention", fields, profile(DataType::kHALF, p));
    auto engine = harness.deserialize(built.serialized);
    ASSERT_TRUE(engine);
    RecordingErrorRecorder recorder;
    ResourceContext context(&recorder);
    for (int32_t tactic : built.tactics) {
      auto plugin = Harness::attach(*engine, context);
      ASSERT_EQ(Harness::set_tactic(*plugin, tactic), 0);
      run_and_check(*plugin, built, {p, DType::kFp16, 0.125, false, Pack::open(fmha)}, "lean registry, tactic " + std::to_string(tactic));
    }
    EXPECT_EQ(recorder.getNbErrors(), 0);

    auto* pg_creator = static_cast<nvinfer1::IPluginCreatorV3One*>(registry->getCreator("fused_attention_kernel", "0", "tritonpack"));
    ASSERT_NE(pg_creator, nullptr);
    Harness pg_harness(*pg_creator, device_->driver_ptr(), stream.get());
    FieldSet pg_fields;
    pg_fields.f32("sm_scale", 0.125f).i32("num_heads", 2);
    BuildReport pg_built = pg_harness.build("pg", pg_fields, profile(DataType::kHALF, p));
    auto pg_engine = pg_harness.deserialize(pg_built.serialized);
    ASSERT_TRUE(pg_engine);
    run_and_check(*Harness::attach(*pg_engine, context), pg_built, {p, DType::kFp16, 0.125, true, nullptr}, "lean registry, PluginGen");
  }
  registry->deregisterLibrary(library);
}

}  // namespace
}  // namespace tritonpack::tensorrt::testing
