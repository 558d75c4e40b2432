// A dim-size argument that names SM_COUNT, on the fake driver: the shipped split-KV decode
// attention (kernels/attention/attention_decode.toml, splits = clamp(2 * SM_COUNT / (B * HKV), 1,
// cdiv(SKV, 256))). The plugin core computes splits, and the workspace of the partials it sizes,
// from the SM count of the device it plans for; the runtime checks a launch's splits against its
// own device; `tritonpack run`'s plan takes the run's device count. Two fake SM counts give two
// different answers everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/runtime_fixture.h"
#include "fault/spec_pack.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "tritonpack/plugin.h"
#include "tritonpack/symbolic.h"
#include "unit/test_manifest.h"

namespace tritonpack::testing {
namespace {

const char* const kSpec = TRITONPACK_SOURCE_DIR "/kernels/attention/attention_decode.toml";
const char* const kFormula = "clamp(2 * SM_COUNT / (B * HKV), 1, cdiv(SKV, 256))";

// Decode shapes where the SM count decides splits: 2 * SM_COUNT / (B * HKV) is below
// cdiv(SKV, 256) = 16 for both counts the tests use.
constexpr int64_t kB = 4, kHq = 8, kHkv = 4, kSq = 1, kSkv = 4096, kD = 64;

int64_t splits_for(int64_t sm_count) { return std::clamp<int64_t>(2 * sm_count / (kB * kHkv), 1, (kSkv + 255) / 256); }

size_t aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

// OP [splits, B, HQ, SQ, D] and LP [splits, B, HQ, SQ] in fp32, each 256-byte aligned.
size_t workspace_for(int64_t splits) {
  const auto rows = static_cast<size_t>(splits * kB * kHq * kSq);
  return aligned(rows * kD * 4) + aligned(rows * 4);
}

std::vector<TensorDesc> decode_inputs() {
  return {{DType::kFp16, {kB, kHq, kSq, kD}, {}},
          {DType::kFp16, {kB, kHkv, kSkv, kD}, {}},
          {DType::kFp16, {kB, kHkv, kSkv, kD}, {}}};
}

class SmCountDimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    pack_ = pack_from_spec(kSpec, {80, 90});
  }
  PluginCore core() const {
    return PluginCore::create(pack_, "attention_decode", {{"sm_scale", 0.125}, {"causal", 0}}, fake_driver());
  }
  FakeGpu* gpu_ = nullptr;
  std::shared_ptr<const Pack> pack_;
};

TEST_F(SmCountDimTest, TheShippedDecodeSpecNamesSmCount) {
  const KernelInfo& k = pack_->kernel("attention_decode");
  const auto splits = std::find_if(k.params.begin(), k.params.end(), [](const ParamInfo& p) { return p.name == "splits"; });
  ASSERT_NE(splits, k.params.end());
  EXPECT_EQ(splits->dim, kFormula);
  const auto bshd = pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/attention/attention_decode_bshd.toml", {90});
  EXPECT_EQ(bshd->kernel("attention_decode_bshd").params[splits - k.params.begin()].dim, kFormula);
}

// The same plugin on devices of 132 and 20 SMs: splits, the partials' shapes, the workspace
// (prepare and configure agree) and the first step's grid all follow the device.
TEST_F(SmCountDimTest, ThePluginTakesItsDevicesSmCountForSplitsAndTheWorkspace) {
  std::vector<size_t> workspaces;
  for (const int sm_count : {132, 20}) {
    SCOPED_TRACE("sm_count " + std::to_string(sm_count));
    gpu_ = &reset_fake_gpu();
    gpu_->devices[0].sm_count = sm_count;
    gpu_->params_to_record = 17;  // 15 arguments and the two scratch pointers
    FakeGpu::set_current(gpu_->make_context(0));
    PluginCore p = core();
    const int64_t splits = splits_for(sm_count);
    const PreparedLaunch prepared = p.prepare(decode_inputs());
    const PluginPlan& plan = prepared.plan();
    EXPECT_EQ(plan.sm_count, static_cast<uint32_t>(sm_count));
    const auto arg = std::find_if(plan.dim_args.begin(), plan.dim_args.end(), [](const auto& a) { return a.first == "splits"; });
    ASSERT_NE(arg, plan.dim_args.end());
    EXPECT_EQ(arg->second, splits);
    ASSERT_EQ(plan.scratch.size(), 2u);
    EXPECT_EQ(plan.scratch[0].shape, (Shape{splits, kB, kHq, kSq, kD}));
    EXPECT_EQ(plan.scratch[1].shape, (Shape{splits, kB, kHq, kSq}));
    EXPECT_EQ(prepared.workspace_bytes(), workspace_for(splits));
    p.configure(decode_inputs(), decode_inputs());
    EXPECT_EQ(p.configured_workspace_size(), workspace_for(splits)) << "configure plans with the same count";
    workspaces.push_back(prepared.workspace_bytes());

    const CUdeviceptr base = 0x7300'0000'0000ull;
    const CUdeviceptr in[] = {base, base + 0x100000, base + 0x2000000}, out[] = {base + 0x4000000, base + 0x4100000};
    p.enqueue(prepared, in, out, base + 0x5000000, prepared.workspace_bytes(), nullptr);
    ASSERT_EQ(gpu_->launches.size(), 2u);
    EXPECT_EQ(gpu_->launches[0].grid[0], static_cast<unsigned>(splits)) << "step 1: one program per chunk";
    EXPECT_EQ(gpu_->launches[0].grid[1], static_cast<unsigned>(kB * kHkv));
    EXPECT_EQ(gpu_->launches[0].params.at(14) & 0xffffffffu, static_cast<uint64_t>(splits)) << "the kernel's splits";
    // Step 2: four query rows a program (the spec's BLOCK_R).
    EXPECT_EQ(gpu_->launches[1].grid[0], static_cast<unsigned>((kB * kHq * kSq + 3) / 4)) << "step 2";
  }
  EXPECT_NE(workspaces[0], workspaces[1]);
}

// Planning without the GPU (set_target_arch): the arch's common count, or set_target_sm_count's;
// the plan says which it took.
TEST_F(SmCountDimTest, PlanningForAnArchTakesItsCommonCountOrTheGivenOne) {
  PluginCore p = core();
  p.set_target_arch(90);
  EXPECT_EQ(p.plan(decode_inputs()).sm_count, 132u);
  EXPECT_EQ(p.plan(decode_inputs()).workspace_bytes, workspace_for(splits_for(132)));
  p.set_target_arch(80);
  EXPECT_EQ(p.plan(decode_inputs()).sm_count, 108u);
  p.set_target_sm_count(114);
  const PluginPlan plan = p.plan(decode_inputs());
  EXPECT_EQ(plan.sm_count, 114u);
  EXPECT_EQ(plan.workspace_bytes, workspace_for(splits_for(114)));
  EXPECT_EQ(p.clone().target_sm_count(), 114u);
  // Each step's grid, as the runtime gives it for that count.
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].front().grid[0], splits_for(114));
}

// An output's shape never needs the device: output_shapes and the symbolic shapes (an engine's
// build) work with no CUDA context at all.
TEST_F(SmCountDimTest, OutputShapesNeedNoDevice) {
  const PluginCore p = core();
  const int64_t calls = gpu_->calls;
  const std::vector<Shape> shapes = p.output_shapes(std::vector<Shape>{{kB, kHq, kSq, kD}, {kB, kHkv, kSkv, kD},
                                                                      {kB, kHkv, kSkv, kD}});
  EXPECT_EQ(shapes, (std::vector<Shape>{{kB, kHq, kSq, kD}, {kB, kHq, kSq}}));
  symbolic::TextBuilder text;
  const std::vector<std::vector<std::string>> dims = {{"b", "hq", "sq", "d"}, {"b", "hkv", "skv", "d"},
                                                      {"b", "hkv", "skv", "d"}};
  const auto sym = p.symbolic_output_shapes<std::string>(text, dims);
  ASSERT_EQ(sym.size(), 2u);
  EXPECT_EQ(sym[1], (std::vector<std::string>{"b", "hq", "sq"}));
  EXPECT_EQ(gpu_->calls, calls) << "no driver call";
}

// A launch prepared for another SM count is refused where it would run, before anything runs: the
// runtime checks splits against its device, as it checks every dim-size argument against the
// shapes.
TEST_F(SmCountDimTest, ALaunchPreparedForAnotherSmCountIsRefusedOnTheDevice) {
  FakeGpu::set_current(gpu_->make_context(0));  // 132 SMs
  PluginCore p = core();
  p.set_target_arch(90);
  p.set_target_sm_count(20);
  const PreparedLaunch prepared = p.prepare(decode_inputs());
  const CUdeviceptr base = 0x7300'0000'0000ull;
  const CUdeviceptr in[] = {base, base + 0x100000, base + 0x2000000}, out[] = {base + 0x4000000, base + 0x4100000};
  const std::string message = error_of(
      [&] { p.enqueue(prepared, in, out, base + 0x5000000, prepared.workspace_bytes(), nullptr); },
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(message, "kernel 'attention_decode' argument 'splits' = " + std::to_string(splits_for(20)) +
                         ", but the shapes and SM_COUNT = 132 give " + kFormula + " = " + std::to_string(splits_for(132)) +
                         " ('splits' is the dim-size argument " + kFormula + ")");
  EXPECT_TRUE(gpu_->launches.empty());
}

// The C++ runtime alone: a caller that gives the shapes must give the splits of the device's count;
// one that does not give those splits depends on (K's) chooses splits freely, and sizes the
// partials for it.
TEST_F(SmCountDimTest, TheRuntimeChecksSplitsAgainstItsDeviceWhenGivenTheShapes) {
  gpu_->devices[0].sm_count = 20;
  FakeGpu::set_current(gpu_->make_context(0));
  Kernel k(pack_, "attention_decode", fake_driver());
  const Shape q{kB, kHq, kSq, kD}, kv{kB, kHkv, kSkv, kD}, lse{kB, kHq, kSq};
  const auto args = [&](int64_t splits, const Shape& op, const Shape& lp, bool shapes) {
    const CUdeviceptr base = 0x7400'0000'0000ull;
    const auto tensor = [&](int i, DType t, const Shape& s) {  // Q's always: the rules need D
      return shapes || i == 0 ? Arg::tensor(base + 0x1000000 * i, t, s) : Arg::tensor(base + 0x1000000 * i, t);
    };
    return std::vector<Arg>{tensor(0, DType::kFp16, q),   tensor(1, DType::kFp16, kv), tensor(2, DType::kFp16, kv),
                            tensor(3, DType::kFp16, q),   tensor(4, DType::kFp32, lse), tensor(5, DType::kFp32, op),
                            tensor(6, DType::kFp32, lp),  Arg::real(0.125),           Arg::integer(kB),
                            Arg::integer(kHq),            Arg::integer(kHkv),          Arg::integer(kSq),
                            Arg::integer(kSkv),           Arg::integer(0),             Arg::integer(splits)};
  };
  const int64_t right = splits_for(20), wrong = splits_for(132);
  const Shape op_right{right, kB, kHq, kSq, kD}, lp_right{right, kB, kHq, kSq};
  const Shape op_wrong{wrong, kB, kHq, kSq, kD}, lp_wrong{wrong, kB, kHq, kSq};
  // Shapes in the vector: they are borrowed by the Args.
  const std::vector<Arg> good = args(right, op_right, lp_right, true);
  k.launch(good, nullptr);
  ASSERT_EQ(gpu_->launches.size(), 2u);
  EXPECT_EQ(gpu_->launches[0].grid[0], static_cast<unsigned>(right));
  const std::vector<Arg> bad = args(wrong, op_wrong, lp_wrong, true);
  EXPECT_NE(error_of([&] { k.launch(bad, nullptr); }, ErrorCode::kInvalidArgument)
                .find("argument 'splits' = " + std::to_string(wrong) + ", but the shapes and SM_COUNT = 20 give"),
            std::string::npos);
  EXPECT_EQ(gpu_->launches.size(), 2u) << "nothing more ran";
  const std::vector<Arg> unshaped = args(wrong, op_wrong, lp_wrong, false);
  k.launch(unshaped, nullptr);
  ASSERT_EQ(gpu_->launches.size(), 4u);
  EXPECT_EQ(gpu_->launches[2].grid[0], static_cast<unsigned>(wrong)) << "the caller's own splits";
  // Explaining for an arch: the count it assumed and the value it checked.
  const Kernel::Explanation e = k.explain(args(splits_for(132), op_wrong, lp_wrong, true), {}, 90);
  EXPECT_NE(e.summary.find(std::string("SM_COUNT = 132 (assumed for an sm_90 GPU; --sm-count or LaunchOptions::sm_count "
                                       "sets another): splits = ") +
                           kFormula + " = " + std::to_string(splits_for(132))),
            std::string::npos)
      << e.summary;
  EXPECT_EQ(k.sm_count(), 20u);
  EXPECT_EQ(k.sm_count({}, 90), 132u);
}

// A device whose SM count is not known: refused with the argument that needs it, not run with 0.
TEST_F(SmCountDimTest, AnUnknownSmCountIsRefused) {
  gpu_->devices[0].sm_count = 0;
  FakeGpu::set_current(gpu_->make_context(0));
  PluginCore p = core();
  EXPECT_EQ(error_of([&] { (void)p.prepare(decode_inputs()); }, ErrorCode::kUnsupported),
            std::string("plugin 'tritonpack_attention_decode': the dim-size argument 'splits' = '") + kFormula +
                "' needs the device's SM count (SM_COUNT), which the driver gave as 0");
}

// `tritonpack run`'s plan: splits from the run's device count (RunPlan::sm_count); without one it
// waits for it, and a run refuses such a plan; a given -a splits must agree with the count.
TEST_F(SmCountDimTest, TheRunPlanTakesTheRunsDeviceCount) {
  const KernelInfo& k = pack_->kernel("attention_decode");
  harness::RunRequest request;
  request.values = {{"B", std::to_string(kB)},     {"HQ", std::to_string(kHq)},   {"HKV", std::to_string(kHkv)},
                    {"SQ", std::to_string(kSq)},   {"SKV", std::to_string(kSkv)}, {"D", std::to_string(kD)},
                    {"sm_scale", "0.125"},         {"causal", "0"}};
  request.verify = false;
  const harness::RunPlan waiting = harness::plan_run(k, request);
  EXPECT_EQ(waiting.awaiting_sm_count, (std::vector<std::string>{"splits"}));
  EXPECT_FALSE(waiting.integers.count("splits"));
  for (const uint32_t sm_count : {132u, 20u}) {
    const harness::RunPlan plan = harness::plan_run(k, request, sm_count);
    EXPECT_TRUE(plan.awaiting_sm_count.empty());
    EXPECT_EQ(plan.integers.at("splits"), splits_for(sm_count));
  }
  harness::RunRequest given = request;
  given.values["splits"] = "3";
  EXPECT_EQ(error_of([&] { (void)harness::plan_run(k, given, 20); }, ErrorCode::kInvalidArgument),
            std::string("-a splits=3 disagrees with its dim: ") + kFormula + " = " + std::to_string(splits_for(20)) +
                " with SM_COUNT = 20");
  EXPECT_TRUE(harness::plan_run(k, given).awaiting_sm_count.empty()) << "given: checked once the count is known";

  // On a device of 20 SMs: run_kernel plans with its count; a plan made without one is refused.
  gpu_->devices[0].sm_count = 20;
  gpu_->back_memory = true;
  harness::DeviceContext device(fake_driver(), 0);
  EXPECT_EQ(device.sm_count(), 20u);
  Kernel kernel(pack_, "attention_decode", fake_driver());
  const harness::RunResult r = harness::run_kernel(device, kernel, request);
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[0].grid[0], splits_for(20));
  EXPECT_NE(error_of([&] { (void)harness::run_kernel(device, kernel, request, waiting); }, ErrorCode::kInvalidArgument)
                .find("the plan was made without the device's SM count, which kernel 'attention_decode' needs for "
                      "'splits'"),
            std::string::npos);
}

// A pack written before SM_COUNT was reserved may name a dim so: a dim-size argument over it keeps
// meaning that dim, in the plugin core and in the runtime's check.
TEST_F(SmCountDimTest, ADimNamedSmCountInAnOlderPackKeepsItsMeaning) {
  tritonpack_test::TestPack t = tritonpack_test::make_test_pack();
  std::vector<ParamInfo>& params = t.manifest.kernels[0].params;
  params[0].dims = {"SM_COUNT"};
  params[1].dims = {"SM_COUNT"};
  params[2].dims = {"SM_COUNT"};
  params[3].dim = "SM_COUNT";
  for (VariantInfo& v : t.manifest.kernels[0].variants) v.args[3].divisibility = 1;
  const auto pack = Pack::from_bytes(serialize_pack(t.manifest, t.blobs), "old.tpack");
  constexpr CUdeviceptr kX = 0x7500'0000'0000ull;
  FakeGpu::set_current(gpu_->make_context(0));
  PluginCore p = PluginCore::create(pack, "vector_add", {}, fake_driver());
  const std::vector<TensorDesc> in{{DType::kFp16, {1000}, {}}, {DType::kFp16, {1000}, {}}};
  const PluginPlan plan = p.plan(in);
  EXPECT_EQ(plan.dim_args, (std::vector<std::pair<std::string, int64_t>>{{"n", 1000}}));
  EXPECT_EQ(plan.sm_count, 0u) << "no dim-size argument names the device's count";
  Kernel k(pack, "vector_add", fake_driver());
  const int64_t shape[] = {1000};
  const Arg args[] = {Arg::tensor(kX, DType::kFp16, shape), Arg::tensor(kX + 0x100000, DType::kFp16, shape),
                      Arg::tensor(kX + 0x200000, DType::kFp16, shape), Arg::integer(1000)};
  EXPECT_NO_THROW(k.launch(args, nullptr));
}

}  // namespace
}  // namespace tritonpack::testing
