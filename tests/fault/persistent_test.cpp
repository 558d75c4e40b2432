// Persistent kernels on the fake driver: a grid that names SM_COUNT takes the SM count of the
// device the launch runs on (CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, read once per context),
// explains with the count it assumed, and tunes with the device's grid. The kernel is
// tests/kernels/persistent_add (grid min(SM_COUNT, cdiv(n_elements, BLOCK_SIZE))), played on the
// CPU as the Triton kernel runs: program p adds the tiles p, p + programs, p + 2 programs, ...
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "harness/tuner.h"
#include "runtime/args.h"
#include "runtime/model.h"
#include "runtime/selection.h"

namespace tritonpack::testing {
namespace {

std::string spec_path() {
  return std::string(TRITONPACK_SOURCE_DIR) + "/tests/kernels/persistent_add/persistent_add.toml";
}

constexpr CUdeviceptr kX = 0x7000'0000'0000ull, kY = 0x7000'0010'0000ull, kOut = 0x7000'0020'0000ull;

std::vector<Arg> add_args(int64_t n) {
  return {Arg::tensor(kX, DType::kFp16), Arg::tensor(kY, DType::kFp16), Arg::tensor(kOut, DType::kFp16),
          Arg::integer(n)};
}

int64_t tiles(int64_t n, int64_t block) { return (n + block - 1) / block; }

// persistent_add_kernel on the CPU, fp16: the launch's block size tells the config (b1024 has 4
// warps, b4096 8), its grid how many programs share the tiles.
void play(FakeGpu& gpu, const FakeLaunch& l) {
  const CUdeviceptr x = l.params.at(0), y = l.params.at(1), out = l.params.at(2);
  const int64_t n = static_cast<int32_t>(l.params.at(3) & 0xffffffffu);
  const int64_t block = l.block[0] == 128 ? 1024 : 4096;
  const int64_t programs = l.grid[0];
  auto at = [&](CUdeviceptr base, int64_t i) { return gpu.host(base + static_cast<CUdeviceptr>(i) * 2, 2); };
  auto get = [&](CUdeviceptr base, int64_t i) {
    uint16_t h;
    std::memcpy(&h, at(base, i), 2);
    return runtime::fp16_bits_to_float(h);
  };
  for (int64_t pid = 0; pid < programs; ++pid) {
    for (int64_t tile = pid; tile < tiles(n, block); tile += programs) {
      for (int64_t i = tile * block; i < std::min(n, (tile + 1) * block); ++i) {
        const uint16_t h = runtime::float_to_fp16_bits(get(x, i) + get(y, i));
        std::memcpy(at(out, i), &h, 2);
      }
    }
  }
}

TEST(PersistentSpec, AGridNamingSmCountCompilesAndThePackKeepsIt) {
  const spec::Spec spec = spec::load_spec(spec_path());
  EXPECT_EQ(spec.kernel.grid[0], "min(SM_COUNT, cdiv(n_elements, BLOCK_SIZE))");
  EXPECT_EQ(spec::plan_jobs(spec).size(), 2u * 2 * 2);  // dtypes x configs x archs
  const auto pack = pack_from_spec(spec_path(), {80, 90});  // serialized, then read and validated
  EXPECT_EQ(pack->kernel("persistent_add").grid[0], "min(SM_COUNT, cdiv(n_elements, BLOCK_SIZE))");
}

class PersistentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    pack_ = pack_from_spec(spec_path(), {80, 90});
  }
  FakeGpu* gpu_ = nullptr;
  std::shared_ptr<const Pack> pack_;
};

// With the fake device's SM count at its default (132, an H200's) and at 20: many tiles launch one
// program per SM, fewer tiles one program per tile, and the programs' loop writes every element.
TEST_F(PersistentTest, TheGridIsTheSmallerOfTheDevicesSmCountAndTheTiles) {
  for (const int sm_count : {132, 20}) {
    SCOPED_TRACE("sm_count " + std::to_string(sm_count));
    gpu_ = &reset_fake_gpu();
    gpu_->devices[0].sm_count = sm_count;
    gpu_->back_memory = true;
    gpu_->params_to_record = 4;
    gpu_->on_launch = play;
    harness::DeviceContext device(fake_driver(), 0);
    Kernel k(pack_, "persistent_add", fake_driver());
    for (const int64_t n : {int64_t{1000003}, int64_t{5000}}) {
      SCOPED_TRACE("n_elements " + std::to_string(n));
      harness::RunRequest r;
      r.types["T"] = "fp16";
      r.values = {{"n_elements", std::to_string(n)}};
      r.seed = 3;
      const harness::RunResult result = harness::run_kernel(device, k, r);
      EXPECT_TRUE(result.passed) << result.verify_message;
      const int64_t expected = std::min<int64_t>(sm_count, tiles(n, 1024));  // config b1024 runs
      EXPECT_EQ(result.grid[0], expected);
      ASSERT_FALSE(gpu_->launches.empty());
      EXPECT_EQ(gpu_->launches.back().grid[0], static_cast<unsigned>(expected));
      EXPECT_EQ(k.select(add_args(n)).grid[0], expected);
    }
  }
}

// Each device of a process has its own count: read when the kernel first runs in its context.
TEST_F(PersistentTest, EachDeviceGetsItsOwnSmCount) {
  gpu_->devices[1].sm_count = 108;  // the sm_80 device, an A100's
  const CUcontext ctx0 = gpu_->make_context(0), ctx1 = gpu_->make_context(1);
  Kernel k(pack_, "persistent_add", fake_driver());
  FakeGpu::set_current(ctx0);
  EXPECT_EQ(k.select(add_args(1 << 24)).grid[0], 132);
  FakeGpu::set_current(ctx1);
  EXPECT_EQ(k.select(add_args(1 << 24)).grid[0], 108);
  k.launch(add_args(1 << 24), nullptr);
  ASSERT_EQ(gpu_->launches.size(), 1u);
  EXPECT_EQ(gpu_->launches[0].grid[0], 108u);
  // Read once: a count changed afterwards (which a real device never does) is not seen.
  gpu_->devices[1].sm_count = 7;
  EXPECT_EQ(k.select(add_args(1 << 24)).grid[0], 108);
}

// Without a GPU (explain and select for an arch): one common GPU's count of that arch, or the one
// the options give; the explanation says which it took and the grid that gives.
TEST_F(PersistentTest, PlanningForAnArchTakesItsCommonSmCountOrTheGivenOne) {
  Kernel k(pack_, "persistent_add", fake_driver());
  const std::vector<Arg> args = add_args(1 << 24);
  EXPECT_EQ(k.select_for_arch(args, 90).grid[0], 132);
  EXPECT_EQ(k.select_for_arch(args, 80).grid[0], 108);
  Kernel::Explanation e = k.explain(args, {}, 90);
  EXPECT_NE(e.summary.find("SM_COUNT = 132 (assumed for an sm_90 GPU; --sm-count or LaunchOptions::sm_count sets "
                           "another): grid (132, 1, 1)"),
            std::string::npos)
      << e.summary;
  LaunchOptions h100_pcie;
  h100_pcie.sm_count = 114;
  EXPECT_EQ(k.select_for_arch(args, 90, h100_pcie).grid[0], 114);
  EXPECT_EQ(k.candidates(args, h100_pcie, 90).front().grid[0], 114);
  e = k.explain(args, h100_pcie, 90);
  EXPECT_NE(e.summary.find("SM_COUNT = 114 (as given): grid (114, 1, 1)"), std::string::npos) << e.summary;
  // On the device itself the options' count is not used: the device's is.
  FakeGpu::set_current(gpu_->make_context(0));
  EXPECT_EQ(k.select(args, h100_pcie).grid[0], 132);
  e = k.explain(args, h100_pcie);
  EXPECT_NE(e.summary.find("SM_COUNT = 132 (the device's): grid (132, 1, 1)"), std::string::npos) << e.summary;
}

// A device description without an SM count (caps made by hand) would give an empty grid, which
// launches nothing: selection refuses it and says why, with the count in the grid's text.
TEST_F(PersistentTest, AnUnknownSmCountIsRefusedNotAnEmptyGrid) {
  const KernelInfo& info = pack_->kernel("persistent_add");
  const runtime::KernelModel model = runtime::build_model(info);
  runtime::DeviceCaps caps = runtime::caps_for_arch(90);
  caps.sm_count = 0;
  const runtime::DevicePlan plan = runtime::plan_for_device(model, caps);
  const std::vector<Arg> args = add_args(5000);
  runtime::LaunchValues values;
  runtime::bind_launch(model, args, values);
  EXPECT_EQ(runtime::select_variant(model, plan, args, {}, values), -1);
  const std::string message =
      error_of([&] { runtime::throw_no_match(model, plan, args, {}, values, "persistent.tpack"); },
               ErrorCode::kNoMatchingVariant);
  EXPECT_NE(message.find("grid[0] = 'min(SM_COUNT, cdiv(n_elements, BLOCK_SIZE))' (SM_COUNT=0) needs the device's SM "
                         "count, which is not known"),
            std::string::npos)
      << message;
}

// A pack written before SM_COUNT was reserved may have a param of that name: its grid keeps
// meaning the param.
TEST_F(PersistentTest, AParamNamedSmCountInAnOlderPackKeepsItsMeaning) {
  Manifest m;
  m.created_by = "tritonpack 0.1.0";
  KernelInfo k = kernel_named("old");
  k.params = {tensor_param("x", "fp32"), scalar_param("SM_COUNT", "i32")};
  k.grid = {"min(SM_COUNT, 1000)", "1", "1"};
  k.configs = {ConfigInfo{"default", {}, 4, 2, 1}};
  k.variants = {make_variant(k, 0, "", 90, 1, 0, 0, 1)};
  m.kernels = {k};
  Kernel kernel(fake_pack(m, "old.tpack"), "old", fake_driver());
  FakeGpu::set_current(gpu_->make_context(0));
  const Arg args[] = {Arg::tensor(kX, DType::kFp32), Arg::integer(7)};
  EXPECT_EQ(kernel.select(args).grid[0], 7);
}

// `tritonpack tune` on a persistent kernel: every config runs with the device's grid and agrees
// with the reference config, and the table ranks them all.
TEST_F(PersistentTest, TuningMeasuresEachConfigWithTheDevicesGrid) {
  gpu_->devices[0].sm_count = 20;
  gpu_->back_memory = true;
  gpu_->params_to_record = 4;
  gpu_->on_launch = play;
  gpu_->launch_ms = [](const FakeLaunch& l) { return l.block[0] == 128 ? 2.0 : 1.0; };  // b4096 faster
  harness::DeviceContext device(fake_driver(), 0);
  Kernel k(pack_, "persistent_add", fake_driver());
  harness::TuneRequest request;
  request.runs = 2;
  request.warmup = 1;
  request.flush_bytes = 4096;
  request.seed = 4;
  const harness::TuneResult result = harness::tune_kernel(device, k, request);
  ASSERT_EQ(result.shapes.size(), 2u);  // the spec's n_elements 100000 and 5000000
  for (const harness::ShapeMeasurement& s : result.shapes) {
    EXPECT_TRUE(s.skipped.empty()) << s.skipped;
    ASSERT_EQ(s.configs.size(), 2u);
    for (const harness::ConfigMeasurement& c : s.configs) {
      EXPECT_TRUE(c.ran && c.correct) << c.message;
    }
  }
  for (const FakeLaunch& l : gpu_->launches) {
    const int64_t n = static_cast<int32_t>(l.params.at(3) & 0xffffffffu);
    EXPECT_EQ(l.grid[0], static_cast<unsigned>(std::min<int64_t>(20, tiles(n, l.block[0] == 128 ? 1024 : 4096))));
  }
  ASSERT_EQ(result.table.entries.size(), 2u);
  for (const TuningEntry& e : result.table.entries) {
    EXPECT_EQ(e.configs, (std::vector<std::string>{"b4096", "b1024"}));
  }
}

}  // namespace
}  // namespace tritonpack::testing
