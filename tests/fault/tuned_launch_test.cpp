// Launches with a tuning table on the fake driver: the table of the device's GPU model (the fake's
// devices are both named "Fake GPU": sm_90 and sm_80), the plugin core enqueueing the tuned
// config, and a tuned and an untuned launch of the shipped matmul played on the CPU computing
// the same result.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "common/constexpr_of.h"
#include "fault/attention_fixture.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "fault/tuned_fixture.h"
#include "harness/device.h"
#include "harness/runner.h"
#include "harness/tuner.h"
#include "tritonpack/expr.h"
#include "runtime/args.h"
#include "tritonpack/plugin.h"
#include "tritonpack/tuning.h"

namespace tritonpack::testing {
namespace {

std::string source(const std::string& relative) { return std::string(TRITONPACK_SOURCE_DIR) + "/" + relative; }

TEST(TunedLaunch, TheDevicesOwnTableChoosesWhatLaunches) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));  // sm_90, "Fake GPU"
  Kernel k(tuned_pack({tuned_table("Other GPU", 90, {entry_at(10, 1, {"c1"})}),
                       tuned_table("Fake GPU", 90, {entry_at(10, 1, {"c2", "c0"})})}),
           "tuned", fake_driver());
  const TunedLaunch launch(1000, 100);
  EXPECT_EQ(config_of(k, k.select(launch.args)), "c2");
  k.launch(launch.args, nullptr);
  ASSERT_EQ(gpu.launches.size(), 1u);
  EXPECT_EQ(gpu.launches.back().grid[0], 4u);  // cdiv(1000, 256): c2's BLOCK
  const Kernel::Explanation e = k.explain(launch.args);
  EXPECT_NE(e.summary.find("tuning: table 'Fake GPU' (sm_90, this GPU model,"), std::string::npos) << e.summary;

  LaunchOptions ignore;
  ignore.use_tuning = false;
  k.launch(launch.args, nullptr, ignore);
  EXPECT_EQ(gpu.launches.back().grid[0], 16u);  // cdiv(1000, 64): c0, spec order
  LaunchOptions config;
  config.config = "c1";
  k.launch(launch.args, nullptr, config);
  EXPECT_EQ(gpu.launches.back().grid[0], 8u);
  // Candidates on the current device: the entry's ranking, then the rest in spec order.
  std::vector<std::string> order;
  for (const Selection& s : k.candidates(launch.args)) order.push_back(config_of(k, s));
  EXPECT_EQ(order, (std::vector<std::string>{"c2", "c0", "c1"}));
}

// A table names the GPU model it was measured on; another device of that name but another arch
// (the fake's sm_80 device is "Fake GPU" too) uses a table of its own arch, if any.
TEST(TunedLaunch, ATableOfTheSameNameButAnotherArchIsNotTheDevices) {
  FakeGpu& gpu = reset_fake_gpu();
  gpu.make_context(0);
  FakeGpu::set_current(gpu.make_context(1));  // sm_80, "Fake GPU"
  const TunedLaunch launch(1000, 100);
  Kernel k(tuned_pack({tuned_table("Fake GPU", 90, {entry_at(10, 1, {"c2"})})}), "tuned", fake_driver());
  EXPECT_EQ(config_of(k, k.select(launch.args)), "c0");
  Kernel other(tuned_pack({tuned_table("Fake GPU", 90, {entry_at(10, 1, {"c2"})}),
                           tuned_table("A100", 80, {entry_at(10, 1, {"c1"})})}),
               "tuned", fake_driver());
  EXPECT_EQ(config_of(other, other.select(launch.args)), "c1");
  other.launch(launch.args, nullptr);
  EXPECT_EQ(gpu.launches.back().grid[0], 8u);
}

// Several GPUs in one process, of one arch but different models: one Kernel serves them all, and
// each device's context plans the table of its own model, whichever device launched first; a
// model with no table of its own takes the first table of its arch. Going back and forth between
// the devices, as a process serving both does, keeps every device's choice.
TEST(TunedLaunch, EachDeviceOfAProcessRunsItsOwnModelsTable) {
  FakeGpu& gpu = reset_fake_gpu();
  gpu.devices = {FakeDevice{}, FakeDevice{}, FakeDevice{}};
  gpu.devices[0].name = "NVIDIA H200";
  gpu.devices[1].name = "NVIDIA H100 80GB HBM3";
  gpu.devices[2].name = "NVIDIA GH200 480GB";
  const CUcontext h200 = gpu.make_context(0), h100 = gpu.make_context(1), gh200 = gpu.make_context(2);
  Kernel k(tuned_pack({tuned_table("NVIDIA H100 80GB HBM3", 90, {entry_at(10, 1, {"c1", "c0"})}),
                       tuned_table("NVIDIA H200", 90, {entry_at(10, 1, {"c2", "c0"})})}),
           "tuned", fake_driver());
  struct Expected {
    CUcontext context;
    const char* config;
    unsigned grid;  // cdiv(1000, the config's BLOCK)
    const char* table;
  };
  const Expected expected[] = {{h100, "c1", 8, "table 'NVIDIA H100 80GB HBM3' (sm_90, this GPU model"},
                               {h200, "c2", 4, "table 'NVIDIA H200' (sm_90, this GPU model"},
                               {gh200, "c1", 8, "table 'NVIDIA H100 80GB HBM3' (sm_90, same arch"}};
  const TunedLaunch launch(1000, 100);
  for (int round = 0; round < 2; ++round) {
    for (const Expected& e : expected) {
      SCOPED_TRACE(std::string(e.table) + ", round " + std::to_string(round));
      FakeGpu::set_current(e.context);
      EXPECT_EQ(config_of(k, k.select(launch.args)), e.config);
      k.launch(launch.args, nullptr);
      ASSERT_FALSE(gpu.launches.empty());
      EXPECT_EQ(gpu.launches.back().context, e.context);
      EXPECT_EQ(gpu.launches.back().grid[0], e.grid);
      EXPECT_NE(k.explain(launch.args).tuning.find(e.table), std::string::npos) << k.explain(launch.args).tuning;
      // Each device's candidates follow its own entry's ranking, then spec order.
      std::vector<std::string> order;
      for (const Selection& s : k.candidates(launch.args)) order.push_back(config_of(k, s));
      EXPECT_EQ(order.front(), e.config);
      EXPECT_EQ(order.size(), 3u);
    }
  }
  // Planned without a device (select_for_arch, as tools do), the model is named: each gets its
  // own table's choice, and naming one does not change what the current device runs.
  LaunchOptions as_h200, as_h100;
  as_h200.tuning_device = "NVIDIA H200";
  as_h100.tuning_device = "NVIDIA H100 80GB HBM3";
  EXPECT_EQ(config_of(k, k.select_for_arch(launch.args, 90, as_h200)), "c2");
  EXPECT_EQ(config_of(k, k.select_for_arch(launch.args, 90, as_h100)), "c1");
  FakeGpu::set_current(h100);
  EXPECT_EQ(config_of(k, k.select(launch.args, as_h200)), "c1");
}

// The plugin core plans with the runtime's candidates and enqueues through Kernel::launch: both
// follow the table. attn's configs: m128 (98304 bytes of shared memory), then m64 (65536).
TEST(TunedLaunch, ThePluginCoreRunsTheTunedConfig) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  const auto plain = attention_pack();
  Manifest m = plain->manifest();
  for (KernelInfo& k : m.kernels) {
    if (k.name != "attn") continue;
    k.tuning.key = {"S"};
    k.tuning.bins = {TuningBins{}};
    TuningEntry e;
    e.bindings = {{"T", DType::kBf16}};
    e.bin = {tuning::bin_of(TuningBins{}, 100)};
    e.configs = {"m64", "m128"};
    e.times_us = {1, 2};
    k.tuning.tables = {tuned_table("NVIDIA H200", 90, {e})};
  }
  const auto tuned = Pack::from_bytes(rewrite_manifest(*plain, m), "attention-tuned.tpack");
  const TensorDesc q{DType::kBf16, {2, 3, 100, 128}, {}};
  const std::vector<TensorDesc> inputs{q, q, q};
  const CUdeviceptr ins[] = {0x7000'0000'0000ull, 0x7000'0010'0000ull, 0x7000'0020'0000ull};
  const CUdeviceptr outs[] = {0x7000'0030'0000ull};
  const CUdeviceptr workspace = 0x7000'0040'0000ull;

  auto enqueue_shared = [&](const std::shared_ptr<const Pack>& pack, int32_t tactic, uint32_t target_arch) {
    PluginCore p = PluginCore::create(pack, "attn", {}, fake_driver());
    p.set_tactic(tactic);
    p.set_target_arch(target_arch);
    const PreparedLaunch prepared = p.prepare(inputs);
    EXPECT_FALSE(prepared.plan().candidates.empty());
    const int64_t first = constexpr_of(*prepared.plan().candidates.front().variant, "BLOCK_M").value_or(Constant(0)).as_int();
    if (target_arch == 0) {
      p.enqueue(prepared, ins, outs, workspace, prepared.workspace_bytes(), nullptr);
      EXPECT_EQ(gpu.launches.back().shared, first == 64 ? 65536u : 98304u) << "enqueue ran the first candidate";
    }
    return first;
  };
  EXPECT_EQ(enqueue_shared(plain, 0, 0), 128);
  EXPECT_EQ(enqueue_shared(tuned, 0, 0), 64);
  EXPECT_EQ(enqueue_shared(tuned, 0, 90), 64);  // planning for sm_90 without that GPU
  EXPECT_EQ(enqueue_shared(tuned, 1, 0), 128);  // a tactic is an explicit config
  EXPECT_EQ(enqueue_shared(tuned, 1, 90), 128);
}

// The shipped matmul played on the CPU tile by tile: each program computes the BLOCK_M x BLOCK_N
// tile of its config (the variant's entry names it here), so a launch whose grid was computed for
// another config than the variant it runs leaves tiles unwritten, which verification reports.
class TunedMatmulTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    gpu_->back_memory = true;
    gpu_->params_to_record = 8;  // A, B, C, M, N, K and the two scratch pointers
    device_ = std::make_unique<harness::DeviceContext>(fake_driver(), 0);
  }
  // The pack of kernels/matmul with each variant's entry named after its config, and `tables`.
  static std::shared_ptr<const Pack> matmul_pack(std::vector<TuningTable> tables) {
    const auto spec_pack = pack_from_spec(source("kernels/matmul/matmul.toml"), {90});
    Manifest m = spec_pack->manifest();
    KernelInfo& k = m.kernels[0];
    for (VariantInfo& v : k.variants) v.entry = k.function + "__" + k.configs[v.config_index].name;
    k.tuning.tables = std::move(tables);
    return Pack::from_bytes(rewrite_manifest(*spec_pack, m), "matmul-tuned.tpack");
  }
  void play(const KernelInfo& k, const FakeLaunch& l) {
    const std::string config = l.entry.substr(l.entry.find("__") + 2);
    int64_t bm = 0, bn = 0;
    for (const ConfigInfo& c : k.configs) {
      if (c.name != config) continue;
      for (const ConstexprValue& v : c.constexprs) {
        if (v.name == "BLOCK_M") bm = v.value.as_int();
        if (v.name == "BLOCK_N") bn = v.value.as_int();
      }
    }
    ASSERT_GT(bm * bn, 0) << l.entry;
    const CUdeviceptr a = l.params[0], b = l.params[1], c = l.params[2];
    const int64_t M = static_cast<int32_t>(l.params[3]), N = static_cast<int32_t>(l.params[4]),
                  K = static_cast<int32_t>(l.params[5]);
    auto at = [&](CUdeviceptr base, int64_t i) { return gpu_->host(base + static_cast<CUdeviceptr>(i) * 2, 2); };
    auto get = [&](CUdeviceptr base, int64_t i) {
      uint16_t h;
      std::memcpy(&h, at(base, i), 2);
      return runtime::fp16_bits_to_float(h);
    };
    const int64_t tiles_n = (N + bn - 1) / bn;
    for (int64_t pid = 0; pid < static_cast<int64_t>(l.grid[0]); ++pid) {
      const int64_t m0 = pid / tiles_n * bm, n0 = pid % tiles_n * bn;
      for (int64_t i = m0; i < std::min(M, m0 + bm); ++i) {
        for (int64_t j = n0; j < std::min(N, n0 + bn); ++j) {
          float acc = config == wrong_config_ ? 1.0f : 0.0f;
          for (int64_t kk = 0; kk < K; ++kk) acc += get(a, i * K + kk) * get(b, kk * N + j);
          const uint16_t h = runtime::float_to_fp16_bits(acc);
          std::memcpy(at(c, i * N + j), &h, 2);
        }
      }
    }
    const uint8_t* out = gpu_->host(c, static_cast<size_t>(M * N * 2));
    last_output_.assign(out, out + M * N * 2);
  }
  harness::RunResult run(Kernel& k, bool use_tuning) {
    gpu_->on_launch = [&](FakeGpu&, const FakeLaunch& l) { play(k.info(), l); };
    harness::RunRequest r;
    r.types["T"] = "fp16";
    r.values = {{"M", "100"}, {"N", "72"}, {"K", "40"}};
    r.use_tuning = use_tuning;
    r.seed = 11;
    return harness::run_kernel(*device_, k, r);
  }
  FakeGpu* gpu_ = nullptr;
  std::unique_ptr<harness::DeviceContext> device_;
  std::vector<uint8_t> last_output_;
  std::string wrong_config_;  // this config's programs add 1 to every element
};

TEST_F(TunedMatmulTest, ATunedAndAnUntunedLaunchComputeTheSameResult) {
  // M 100, N 72, K 40: pow2 bins 7, 7, 6; N and K are not multiples of 16: bin 0 of the fourth key.
  TuningEntry e;
  e.bindings = {{"T", DType::kFp16}};
  e.bin = {7, 7, 6, 0};
  e.configs = {"m32n64k32", "m64n32k32"};
  e.times_us = {3, 4};
  Kernel k(matmul_pack({tuned_table("Fake GPU", 90, {e})}), "matmul", fake_driver());

  const harness::RunResult untuned = run(k, false);
  EXPECT_TRUE(untuned.passed) << untuned.verify_message;
  EXPECT_EQ(k.info().configs[untuned.variant->config_index].name, "m128n256k64");
  const std::vector<uint8_t> untuned_output = last_output_;

  const harness::RunResult tuned = run(k, true);
  EXPECT_TRUE(tuned.passed) << tuned.verify_message;
  EXPECT_EQ(k.info().configs[tuned.variant->config_index].name, "m32n64k32");
  EXPECT_EQ(tuned.grid[0], 4 * 2);  // cdiv(100, 32) x cdiv(72, 64)
  ASSERT_EQ(last_output_.size(), 100u * 72 * 2);
  EXPECT_TRUE(last_output_ == untuned_output) << "the tuned launch computed another result";
}

// The legacy stream's memsets and pageable copies may still be writing when they return, and a
// created stream does not wait for them: the run harness must have its inputs uploaded and its
// outputs poisoned before the kernel runs, or it reads stale inputs and loses what it wrote.
TEST_F(TunedMatmulTest, TheRunHarnessWaitsForItsUploadsBeforeLaunching) {
  Kernel k(matmul_pack({}), "matmul", fake_driver());
  gpu_->legacy_stream_lags = true;
  const harness::RunResult r = run(k, false);
  EXPECT_TRUE(r.passed) << r.verify_message;
  EXPECT_TRUE(gpu_->legacy_queue.empty());
}

// The fake clock's time per config for the tuner tests, and the tuner's request: one small launch.
const std::map<std::string, double> kConfigMs = {{"m128n256k64", 8}, {"m64n256k32", 7}, {"m128n128k32", 1},
                                                 {"m128n64k32", 5},  {"m64n128k32", 4},  {"m128n32k32", 6},
                                                 {"m64n32k32", 3},   {"m32n64k32", 2}};

harness::TuneRequest small_tune_request() {
  harness::TuneRequest request;
  request.runs = 3;
  request.warmup = 1;
  request.flush_bytes = 4096;
  request.seed = 5;
  return request;
}

// The first config in spec order cannot launch: the next that runs is the reference.
TEST_F(TunedMatmulTest, WhenTheFirstConfigFailsTheNextIsTheReference) {
  const auto spec_pack = matmul_pack({});
  Manifest m = spec_pack->manifest();
  m.kernels[0].tuning.shapes = {TuningShape{{{"T", DType::kFp16}}, {{"M", 100}, {"N", 72}, {"K", 40}}, {}}};
  Kernel k(Pack::from_bytes(rewrite_manifest(*spec_pack, m), "matmul.tpack"), "matmul", fake_driver());
  wrong_config_ = "m128n128k32";
  gpu_->failing_entries = {"matmul_kernel__m128n256k64"};
  gpu_->on_launch = [&](FakeGpu&, const FakeLaunch& l) { play(k.info(), l); };
  gpu_->launch_ms = [&](const FakeLaunch& l) { return kConfigMs.at(l.entry.substr(l.entry.find("__") + 2)); };
  const harness::TuneResult result = harness::tune_kernel(*device_, k, small_tune_request());
  ASSERT_EQ(result.shapes.size(), 1u);
  ASSERT_EQ(result.shapes[0].configs.size(), 8u);
  EXPECT_FALSE(result.shapes[0].configs[0].ran);
  EXPECT_TRUE(result.shapes[0].configs[1].correct) << "m64n256k32, the reference";
  EXPECT_FALSE(result.shapes[0].configs[2].correct) << "m128n128k32, wrong";
  ASSERT_EQ(result.table.entries.size(), 1u);
  EXPECT_EQ(result.table.entries[0].configs, (std::vector<std::string>{"m32n64k32", "m64n32k32", "m64n128k32",
                                                                       "m128n64k32", "m128n32k32", "m64n256k32"}));
}

// The tuner poisons the outputs again before each config: every config right, once the poison has
// landed before the config's launch (tritonpack tune on an H200 flagged right configs of the
// sm_90 attention "written by one config only" when it did not wait).
TEST_F(TunedMatmulTest, TuningWaitsForThePoisonBeforeEachConfig) {
  const auto spec_pack = matmul_pack({});
  Manifest m = spec_pack->manifest();
  m.kernels[0].tuning.shapes = {TuningShape{{{"T", DType::kFp16}}, {{"M", 100}, {"N", 72}, {"K", 40}}, {}}};
  Kernel k(Pack::from_bytes(rewrite_manifest(*spec_pack, m), "matmul.tpack"), "matmul", fake_driver());
  gpu_->legacy_stream_lags = true;
  size_t early = 0;  // launches that ran before an upload or a poisoning had landed
  gpu_->on_launch = [&](FakeGpu&, const FakeLaunch& l) {
    early += !gpu_->legacy_queue.empty();
    play(k.info(), l);
  };
  gpu_->launch_ms = [&](const FakeLaunch& l) { return kConfigMs.at(l.entry.substr(l.entry.find("__") + 2)); };
  const harness::TuneResult result = harness::tune_kernel(*device_, k, small_tune_request());
  EXPECT_EQ(early, 0u);
  ASSERT_EQ(result.shapes.size(), 1u);
  ASSERT_EQ(result.shapes[0].configs.size(), 8u);
  for (const harness::ConfigMeasurement& c : result.shapes[0].configs) {
    EXPECT_TRUE(c.ran && c.correct) << k.info().configs[c.config].name << ": " << c.message;
  }
}

// TuneRequest::shapes (tritonpack tune --shape) replaces the kernel's own list: those launches, and
// only those, are measured.
TEST_F(TunedMatmulTest, TheRequestsShapesAreWhatIsMeasured) {
  const auto spec_pack = matmul_pack({});
  Manifest m = spec_pack->manifest();
  m.kernels[0].tuning.shapes = {TuningShape{{{"T", DType::kFp16}}, {{"M", 100}, {"N", 72}, {"K", 40}}, {}}};
  Kernel k(Pack::from_bytes(rewrite_manifest(*spec_pack, m), "matmul.tpack"), "matmul", fake_driver());
  gpu_->on_launch = [&](FakeGpu&, const FakeLaunch& l) { play(k.info(), l); };
  gpu_->launch_ms = [&](const FakeLaunch& l) { return kConfigMs.at(l.entry.substr(l.entry.find("__") + 2)); };
  const std::vector<TuningShape> shapes = {harness::parse_tuning_shape(k.info(), "M=20,N=24,K=20"),
                                           harness::parse_tuning_shape(k.info(), "M=100 N=72 K=40 T=fp16")};
  harness::TuneRequest request = small_tune_request();
  request.shapes = &shapes;
  const harness::TuneResult result = harness::tune_kernel(*device_, k, request);
  ASSERT_EQ(result.shapes.size(), 2u);
  EXPECT_EQ(result.shapes[0].shape.values.at("M"), 20);
  EXPECT_EQ(result.shapes[1].shape.values.at("M"), 100);
  EXPECT_EQ(result.table.entries.size(), 2u);
}

// `tritonpack tune` on the fake driver: each config of each launch runs on the same inputs (played
// on the CPU, each config taking its own time on the fake clock), its output is compared with the
// first config's, and the table ranks the configs that agree. The fastest config computes a wrong
// result and one fails to launch, both after the reference config: neither may be chosen, and the
// reference stays the first config's.
TEST_F(TunedMatmulTest, TuningRanksOnlyTheConfigsThatComputeTheReferenceResult) {
  const auto spec_pack = matmul_pack({});
  Manifest m = spec_pack->manifest();
  const TypeBindings fp16{{"T", DType::kFp16}};
  m.kernels[0].tuning.shapes = {TuningShape{fp16, {{"M", 100}, {"N", 72}, {"K", 40}}, {}},
                                TuningShape{fp16, {{"M", 120}, {"N", 88}, {"K", 56}}, {}},  // the same bins
                                TuningShape{fp16, {{"M", 20}, {"N", 24}, {"K", 20}}, {}}};
  Kernel k(Pack::from_bytes(rewrite_manifest(*spec_pack, m), "matmul.tpack"), "matmul", fake_driver());
  const std::map<std::string, double>& ms = kConfigMs;
  wrong_config_ = "m128n128k32";
  gpu_->failing_entries = {"matmul_kernel__m64n256k32"};
  gpu_->on_launch = [&](FakeGpu&, const FakeLaunch& l) { play(k.info(), l); };
  gpu_->launch_ms = [&](const FakeLaunch& l) { return ms.at(l.entry.substr(l.entry.find("__") + 2)); };
  const harness::TuneResult result = harness::tune_kernel(*device_, k, small_tune_request());

  EXPECT_EQ(result.table.device, "Fake GPU");
  EXPECT_EQ(result.table.arch, 90u);
  ASSERT_EQ(result.shapes.size(), 3u);
  for (const harness::ShapeMeasurement& s : result.shapes) {
    EXPECT_TRUE(s.skipped.empty()) << s.skipped;
    ASSERT_EQ(s.configs.size(), 8u);
    for (const harness::ConfigMeasurement& c : s.configs) {
      const std::string& name = k.info().configs[c.config].name;
      SCOPED_TRACE(name);
      EXPECT_EQ(c.ran, name != "m64n256k32") << c.message;
      EXPECT_EQ(c.correct, name != "m64n256k32" && name != "m128n128k32") << c.message;
      if (name == "m128n128k32") {
        EXPECT_NE(c.message.find("C differs from the reference config's: relative error"), std::string::npos) << c.message;
      }
      if (c.correct) EXPECT_DOUBLE_EQ(c.median_us, 1000 * ms.at(name));
    }
  }
  ASSERT_EQ(result.table.entries.size(), 2u);
  EXPECT_EQ(result.table.entries[0].bin, (std::vector<uint32_t>{7, 7, 6, 0}));
  EXPECT_EQ(result.table.entries[1].bin, (std::vector<uint32_t>{5, 5, 5, 0}));
  for (const TuningEntry& e : result.table.entries) {
    EXPECT_EQ(e.configs, (std::vector<std::string>{"m32n64k32", "m64n32k32", "m64n128k32", "m128n64k32", "m128n32k32",
                                                   "m128n256k64"}));
    EXPECT_EQ(e.times_us, (std::vector<double>{2000, 3000, 4000, 5000, 6000, 8000}));
  }

  // The table, written into the pack, makes a launch in its bins run the fastest right config.
  m.kernels[0].tuning.tables = {result.table};
  Kernel tuned(Pack::from_bytes(rewrite_manifest(*spec_pack, m), "tuned.tpack"), "matmul", fake_driver());
  gpu_->failing_entries.clear();
  wrong_config_.clear();
  const harness::RunResult r = run(tuned, true);
  EXPECT_TRUE(r.passed) << r.verify_message;
  EXPECT_EQ(tuned.info().configs[r.variant->config_index].name, "m32n64k32");
}

// Every launch the shipped specs' [tuning] lists is one `tritonpack tune` can measure on an sm_90
// device (their archs): it plans, its key evaluates, and more than one config can run it. A spec
// mistake (a shape no variant serves, a value the run needs and the shape lacks) shows here rather
// than after an hour on a GPU.
TEST(ShippedTuning, EveryShapeIsALaunchSeveralConfigsCanRun) {
  for (const char* spec : {"kernels/matmul/matmul.toml", "kernels/fmha/fmha.toml", "kernels/attention/attention.toml",
                           "kernels/attention/attention_sm90.toml", "kernels/attention/attention_fp8.toml",
                           "kernels/attention/attention_fp8_vt.toml"}) {
    SCOPED_TRACE(spec);
    const auto pack = pack_from_spec(source(spec), {90});
    Kernel k(pack, pack->manifest().kernels[0].name);
    const TuningInfo& t = k.info().tuning;
    ASSERT_FALSE(t.key.empty());
    ASSERT_FALSE(t.shapes.empty());
    std::set<std::pair<TypeBindings, std::vector<uint32_t>>> entries;
    for (const TuningShape& shape : t.shapes) {
      harness::RunRequest r;  // as the tuner makes it
      for (const auto& [var, dtype] : shape.bindings) r.types[var] = std::string(dtype_name(dtype));
      for (const auto& [name, value] : shape.values) r.values[name] = std::to_string(value);
      for (const auto& [name, value] : shape.reals) r.values[name] = std::to_string(value);
      const harness::RunPlan plan = harness::plan_run(k.info(), r);
      std::vector<uint32_t> bins;
      for (size_t key = 0; key < t.key.size(); ++key) {
        const int64_t value = expr::Expr::parse(t.key[key]).eval([&](std::string_view name, int64_t& out) {
          const auto it = plan.integers.find(name);
          if (it == plan.integers.end()) return false;
          out = it->second;
          return true;
        });
        bins.push_back(tuning::bin_of(t.bins[key], value));
      }
      entries.emplace(shape.bindings, bins);
      LaunchOptions spec_order;
      spec_order.use_tuning = false;
      const std::vector<CUdeviceptr> pointers(plan.operands.size(), harness::kPlaceholder);
      std::set<uint32_t> configs;
      for (const Selection& s : k.candidates(plan.args(pointers), spec_order, 90)) configs.insert(s.variant->config_index);
      EXPECT_GE(configs.size(), 2u) << "shape with " << r.values.size() << " values, first bin " << bins[0];
    }
    EXPECT_GE(entries.size(), 2u) << "the shapes fall in one entry";
  }
}

}  // namespace
}  // namespace tritonpack::testing
