// Kernels in steps ([kernel] steps, tests/kernels/two_step): the spec's and the manifest's refusals,
// the manifest version that makes older readers refuse such a pack, and the runtime, the plugin
// core and the run harness on the fake driver with the kernel played on the CPU by step (its two
// grids tell the steps apart): every step runs, in order, or none does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "tritonpack/plugin.h"
#include "tritonpack/runtime.h"
#include "tritonpack/spec.h"

namespace tritonpack::testing {
namespace {

constexpr const char* kSpec = "tests/kernels/two_step/two_step.toml";

std::string source(const std::string& relative) { return std::string(TRITONPACK_SOURCE_DIR) + "/" + relative; }

std::string spec_text() {
  std::ifstream in(source(kSpec));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The message of the spec error `text` gives, from the point after "<path>:<line>:<column>: ".
std::string spec_error(const std::string& text) {
  const std::string message = error_of([&] { (void)spec::parse_spec(text, source(kSpec)); }, ErrorCode::kInvalidSpec);
  const size_t key = message.find(": kernel.steps");
  return key == std::string::npos ? message : message.substr(key + 2);
}

TEST(StepsSpec, ReadsTheStepsInParamOrder) {
  const spec::Spec s = spec::load_spec(source(kSpec));
  ASSERT_EQ(s.kernel.steps.size(), 2u);
  EXPECT_EQ(step_text(s.kernel.steps[0]), "PHASE=0");
  EXPECT_EQ(step_text(s.kernel.steps[1]), "PHASE=1");
}

TEST(StepsSpec, RefusesStepsItCannotServe) {
  const std::string text = spec_text();
  const std::string steps = "steps = [{ PHASE = 0 }, { PHASE = 1 }]";
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }]")), "kernel.steps: expected 2 to 8 steps, got 1");
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }, {}]")),
            "kernel.steps[1]: a step names at least one constexpr, e.g. { PHASE = 0 }");
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }, 1]")),
            "kernel.steps[1]: expected a table, got an integer");
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }, { PHASE = 2 }]")),
            "kernel.steps[1].PHASE: 2 is not one of the values of 'PHASE' (0, 1)");
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }, { PHASE = 0 }]")),
            "kernel.steps[1]: the same values as kernel.steps[0] (PHASE=0); each step runs different ones");
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }, { PHSE = 1 }]")),
            "kernel.steps[1].PHSE: there is no param 'PHSE'");
  EXPECT_EQ(spec_error(replaced(text, steps, "steps = [{ PHASE = 0 }, { n = 1 }]")),
            "kernel.steps[1].n: 'n' is not a constexpr param");
  // Another constexpr with values: every step must name the same ones.
  const std::string other = replaced(text, "values = [0, 1]", "values = [0, 1]\n\n[[params]]\nname = \"EXTRA\"\n"
                                                                 "kind = \"constexpr\"\nvalues = [1, 2]");
  EXPECT_EQ(spec_error(replaced(other, steps, "steps = [{ PHASE = 0 }, { PHASE = 1, EXTRA = 2 }]")),
            "kernel.steps[1]: names PHASE, EXTRA, kernel.steps[0] names PHASE; every step names the same constexprs");
  // A step constexpr is a variant axis that no heuristic chooses.
  EXPECT_EQ(spec_error(replaced(text, "values = [0, 1]", "value = 0")),
            "kernel.steps[0].PHASE: 'PHASE' has one 'value'; a step constexpr needs 'values' in [[params]], a variant "
            "for each step");
  EXPECT_EQ(spec_error(replaced(text, "values = [0, 1]", "values = [0, 1]\nheuristic = \"n > 0\"")),
            "kernel.steps[0].PHASE: 'PHASE' has a heuristic; a step constexpr takes its step's value");
  const std::string by_configs =
      replaced(text, "values = [0, 1]", "") + "\n[[configs]]\nname = \"p0\"\nconstexprs = { PHASE = 0 }\n";
  EXPECT_EQ(spec_error(by_configs),
            "kernel.steps[0].PHASE: 'PHASE' is set by [[configs]]; a step constexpr needs 'values' in [[params]], a "
            "variant for each step");
  EXPECT_NE(spec_error(replaced(text, steps, "steps = 3")).find("kernel.steps: expected an array of 2 to 8 tables"),
            std::string::npos);
}

// ---- the manifest ----

nlohmann::json manifest_json(const Pack& pack) { return nlohmann::json::parse(manifest_to_json(pack.manifest())); }

std::string manifest_error(const nlohmann::json& j) {
  const std::string message = error_of([&] { (void)manifest_from_json(j.dump()); }, ErrorCode::kCorruptPack);
  return message.substr(std::string("corrupt manifest: ").size());
}

TEST(StepsManifest, RoundTripsUnderVersionTwoAndPacksWithoutStepsStayVersionOne) {
  const auto pack = pack_from_spec(source(kSpec), {80, 90});
  const nlohmann::json j = manifest_json(*pack);
  EXPECT_EQ(j["manifest_version"], 2);
  EXPECT_EQ(j["kernels"][0]["steps"], nlohmann::json::parse(R"([{"PHASE": 0}, {"PHASE": 1}])"));
  const Manifest back = manifest_from_json(j.dump());
  EXPECT_EQ(back.manifest_version, 2u);
  ASSERT_EQ(back.kernels[0].steps.size(), 2u);
  EXPECT_EQ(step_text(back.kernels[0].steps[1]), "PHASE=1");

  // The same kernel without steps is written as version 1, without the key, as before steps.
  spec::Spec one = spec::load_spec(source(kSpec));
  one.kernel.steps.clear();
  const nlohmann::json plain = manifest_json(*pack_from_spec(one, {90}));
  EXPECT_EQ(plain["manifest_version"], 1);
  EXPECT_FALSE(plain["kernels"][0].contains("steps"));
}

TEST(StepsManifest, RefusesStepsItCannotServeAndStepsUnderVersionOne) {
  const nlohmann::json good = manifest_json(*pack_from_spec(source(kSpec), {90}));
  auto with = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json j = good;
    change(j);
    return manifest_error(j);
  };
  // What an older reader would ignore is refused when the version does not announce it.
  EXPECT_EQ(with([](nlohmann::json& j) { j["manifest_version"] = 1; }),
            "kernels[0].steps: a kernel in steps needs manifest_version 2 (older readers would launch one step), the "
            "manifest has 1");
  EXPECT_EQ(with([](nlohmann::json& j) { j["kernels"][0]["steps"] = nlohmann::json::parse(R"([{"PHASE": 0}])"); }),
            "kernels[0].steps: expected 2 to 8 steps, got 1");
  EXPECT_EQ(with([](nlohmann::json& j) { j["kernels"][0]["steps"][1] = nlohmann::json::parse(R"({"PHASE": 2})"); }),
            "kernels[0].steps[1]: no variant is compiled with PHASE=2");
  EXPECT_EQ(with([](nlohmann::json& j) { j["kernels"][0]["steps"][1] = nlohmann::json::parse(R"({"PHASE": 0})"); }),
            "kernels[0].steps[1]: the same values as steps[0] (PHASE=0)");
  EXPECT_EQ(with([](nlohmann::json& j) { j["kernels"][0]["steps"][1] = nlohmann::json::object(); }),
            "kernels[0].steps[1]: a step names at least one constexpr");
  EXPECT_EQ(with([](nlohmann::json& j) { j["kernels"][0]["steps"][1] = nlohmann::json::parse(R"({"n": 1})"); }),
            "kernels[0].steps[1].n: \"n\" is not a constexpr parameter of kernel \"two_step\"");
  EXPECT_EQ(with([](nlohmann::json& j) { j["kernels"][0]["params"][4]["heuristic"] = "n > 0"; }),
            "kernels[0].steps[0].PHASE: \"PHASE\" has a heuristic; a step constexpr takes the step's value");
}

// ---- the runtime, the plugin core and the harness on the fake driver ----

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

float get(FakeGpu& gpu, CUdeviceptr base, int64_t i) {
  float v = NAN;
  if (const uint8_t* p = gpu.host(base + static_cast<CUdeviceptr>(i) * 4, 4)) std::memcpy(&v, p, 4);
  return v;
}
void set(FakeGpu& gpu, CUdeviceptr base, int64_t i, float v) {
  if (uint8_t* p = gpu.host(base + static_cast<CUdeviceptr>(i) * 4, 4)) std::memcpy(p, &v, 4);
}

// two_step_kernel(x, tmp, out, n) in fp32, the step told by its grid: cdiv(n, 1024) programs for
// PHASE 0 (tmp = 2x), cdiv(n, 256) for PHASE 1 (out = tmp + x). Records the phases in order.
struct TwoStepPlayer {
  std::vector<int> phases;
  void operator()(FakeGpu& g, const FakeLaunch& l) {
    const CUdeviceptr x = l.params[0], tmp = l.params[1], out = l.params[2];
    const int64_t n = static_cast<int32_t>(l.params[3] & 0xffffffffu);
    const int phase = l.grid[0] == cdiv(n, 1024) ? 0 : l.grid[0] == cdiv(n, 256) ? 1 : -1;
    phases.push_back(phase);
    for (int64_t i = 0; i < n; ++i) {
      if (phase == 0) set(g, tmp, i, 2 * get(g, x, i));
      if (phase == 1) set(g, out, i, get(g, tmp, i) + get(g, x, i));
    }
  }
};

constexpr int64_t kN = 3000;  // 3 programs of 1024, 12 of 256

class StepsRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    gpu_->back_memory = true;
    gpu_->params_to_record = 6;  // 4 arguments and the two scratch pointers
    gpu_->on_launch = [this](FakeGpu& g, const FakeLaunch& l) { player_(g, l); };
    device_ = std::make_unique<harness::DeviceContext>(fake_driver(), 0);  // sm_90
    pack_ = pack_from_spec(source(kSpec), {80, 90});
    kernel_ = std::make_unique<Kernel>(pack_, "two_step", fake_driver());
    for (auto* b : {&x_, &tmp_, &out_}) *b = harness::DeviceBuffer(device_->driver(), kN * 4);
    std::vector<float> x(kN);
    for (int64_t i = 0; i < kN; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i % 97) - 48.5f;
    x_.upload(x.data(), kN * 4);
    tmp_.fill(0xff);  // NaN poison
    out_.fill(0xff);
  }
  std::vector<Arg> args(DType t = DType::kFp32) const {
    return {Arg::tensor(x_.get(), t), Arg::tensor(tmp_.get(), t), Arg::tensor(out_.get(), t), Arg::integer(kN)};
  }
  // How many elements of out are 3x (bit for bit: 2x is exact, then one rounding) and how many
  // still hold the poison.
  std::pair<int64_t, int64_t> out_state() {
    int64_t tripled = 0, poisoned = 0;
    for (int64_t i = 0; i < kN; ++i) {
      const float x = get(*gpu_, x_.get(), i), o = get(*gpu_, out_.get(), i);
      tripled += o == 2 * x + x;
      poisoned += std::isnan(o);
    }
    return {tripled, poisoned};
  }
  FakeGpu* gpu_ = nullptr;
  TwoStepPlayer player_;
  std::unique_ptr<harness::DeviceContext> device_;
  std::shared_ptr<const Pack> pack_;
  std::unique_ptr<Kernel> kernel_;
  harness::DeviceBuffer x_, tmp_, out_;
};

TEST_F(StepsRuntimeTest, LaunchRunsEveryStepInOrderWithItsOwnGrid) {
  kernel_->launch(args(), nullptr);
  EXPECT_EQ(player_.phases, (std::vector<int>{0, 1}));
  ASSERT_EQ(gpu_->launches.size(), 2u);
  EXPECT_EQ(gpu_->launches[0].grid[0], 3u);
  EXPECT_EQ(gpu_->launches[1].grid[0], 12u);
  EXPECT_EQ(out_state(), std::make_pair(kN, int64_t{0}));
}

TEST_F(StepsRuntimeTest, EachStepLaunchesItsOwnVariantsFunction) {
  // The grids alone cannot tell a step that launched the other step's function with its own grid:
  // give every variant its own entry name and check which one each launch used.
  spec::Spec spec = spec::load_spec(source(kSpec));
  Manifest m = pack_from_spec(spec, {90})->manifest();
  for (VariantInfo& v : m.kernels[0].variants) v.entry = "two_step_v" + std::to_string(v.id);
  Kernel named(fake_pack(m, "named.tpack", {{"cubin", "\x7f" "ELF fake"}, {"ptx", "//\n.version 8.7\n"}}), "two_step",
               fake_driver());
  const std::vector<Selection> steps = named.select_steps(args());
  ASSERT_EQ(steps.size(), 2u);
  ASSERT_NE(steps[0].variant->id, steps[1].variant->id);
  named.launch(args(), nullptr);
  ASSERT_EQ(gpu_->launches.size(), 2u);
  EXPECT_EQ(gpu_->launches[0].entry, "two_step_v" + std::to_string(steps[0].variant->id));
  EXPECT_EQ(gpu_->launches[1].entry, "two_step_v" + std::to_string(steps[1].variant->id));
  for (size_t i = 0; i < 2; ++i) {
    const auto& c = steps[i].variant->constexprs;
    const auto phase = std::find_if(c.begin(), c.end(), [](const ConstexprValue& x) { return x.name == "PHASE"; });
    ASSERT_NE(phase, c.end());
    EXPECT_EQ(phase->value, Constant(static_cast<int64_t>(i))) << "step " << i + 1 << "'s variant";
  }
  EXPECT_EQ(out_state(), std::make_pair(kN, int64_t{0}));
}

TEST_F(StepsRuntimeTest, PinsThatNameOneStepLaunchThatStepAlone) {
  const ConstexprValue first[] = {{"PHASE", Constant(int64_t{0})}};
  LaunchOptions options;
  options.pinned = first;
  kernel_->launch(args(), nullptr, options);
  EXPECT_EQ(player_.phases, (std::vector<int>{0}));
  EXPECT_EQ(out_state(), std::make_pair(int64_t{0}, kN)) << "step 1 alone leaves out untouched";
  const ConstexprValue second[] = {{"PHASE", Constant(int64_t{1})}};
  options.pinned = second;
  kernel_->launch(args(), nullptr, options);
  EXPECT_EQ(player_.phases, (std::vector<int>{0, 1}));
  EXPECT_EQ(out_state(), std::make_pair(kN, int64_t{0}));
  // A variant id is an explicit choice: that variant alone.
  options = {};
  options.variant_id = static_cast<int32_t>(kernel_->select_steps(args()).back().variant->id);
  kernel_->launch(args(), nullptr, options);
  EXPECT_EQ(player_.phases, (std::vector<int>{0, 1, 1}));
}

TEST_F(StepsRuntimeTest, AStepThatCannotRunRefusesTheWholeLaunchBeforeAnyRuns) {
  // Only PHASE 0 has fp16 variants: step 2 cannot run fp16 tensors, so step 1 must not run either.
  spec::Spec s = spec::load_spec(source(kSpec));
  Manifest m = pack_from_spec(s, {90})->manifest();
  KernelInfo& k = m.kernels[0];
  std::erase_if(k.variants, [](const VariantInfo& v) {
    return v.bindings.at("T") == DType::kFp16 && v.constexprs[0].value == Constant(int64_t{1});
  });
  Kernel half(fake_pack(m, "half.tpack", {{"cubin", "\x7f" "ELF fake"}, {"ptx", "//\n.version 8.7\n"}}), "two_step",
              fake_driver());
  const std::string message =
      error_of([&] { half.launch(args(DType::kFp16), nullptr); }, ErrorCode::kNoMatchingVariant);
  EXPECT_EQ(message.rfind("step 2 of 2 (PHASE=1): no variant of kernel 'two_step'", 0), 0u) << message;
  EXPECT_TRUE(gpu_->launches.empty());
  EXPECT_TRUE(player_.phases.empty());
}

// A kernel in 8 steps (grid 1 + PHASE tells them apart) with x, out and `scalars` i64 scalars,
// each scalar s<i> given the value 1000 + i.
struct ManyScalars {
  std::shared_ptr<const Pack> pack;
  std::vector<Arg> args;
};
ManyScalars many_scalars(size_t scalars, CUdeviceptr x, CUdeviceptr out) {
  std::string text =
      "spec_version = 1\n[kernel]\nname = \"many\"\nsource = \"two_step.py\"\nfunction = \"many\"\n"
      "archs = [\"sm_90\"]\ngrid = [\"1 + PHASE\", \"1\", \"1\"]\nsteps = [";
  for (int phase = 0; phase < 8; ++phase) text += (phase ? ", " : "") + std::string("{ PHASE = ") + std::to_string(phase) + " }";
  text += "]\n[[params]]\nname = \"x\"\nkind = \"tensor\"\ndtype = \"fp32\"\n"
          "[[params]]\nname = \"out\"\nkind = \"tensor\"\ndtype = \"fp32\"\nio = \"out\"\n";
  for (size_t i = 0; i < scalars; ++i) {
    text += "[[params]]\nname = \"s" + std::to_string(i) + "\"\nkind = \"scalar\"\ndtype = \"i64\"\n";
  }
  text += "[[params]]\nname = \"PHASE\"\nkind = \"constexpr\"\nvalues = [0, 1, 2, 3, 4, 5, 6, 7]\n";
  ManyScalars m;
  m.pack = pack_from_spec(spec::parse_spec(text, source(kSpec)), {90});
  m.args = {Arg::tensor(x, DType::kFp32), Arg::tensor(out, DType::kFp32)};
  for (size_t i = 0; i < scalars; ++i) m.args.push_back(Arg::integer(1000 + static_cast<int64_t>(i)));
  return m;
}

// Every step of a launch gets its own parameters, whether the steps' parameters fit in one buffer
// together (6 scalars: 10 parameters a step) or not (61 scalars: 8 steps of 65 parameters are more
// than runtime::kMaxAbiParams; then each step is packed again just before it launches).
TEST_F(StepsRuntimeTest, EveryStepLaunchesWithItsOwnParametersHoweverManyThereAre) {
  for (const size_t scalars : {size_t{6}, size_t{61}}) {
    SCOPED_TRACE(std::to_string(scalars) + " scalars");
    gpu_->launches.clear();
    gpu_->on_launch = nullptr;
    gpu_->params_to_record = scalars + 4;
    const ManyScalars m = many_scalars(scalars, x_.get(), out_.get());
    Kernel many(m.pack, "many", fake_driver());
    many.launch(m.args, nullptr);
    ASSERT_EQ(gpu_->launches.size(), 8u);
    for (size_t step = 0; step < 8; ++step) {
      const FakeLaunch& l = gpu_->launches[step];
      EXPECT_EQ(l.grid[0], step + 1) << "step " << step + 1 << " launched in order";
      ASSERT_EQ(l.params.size(), scalars + 4);
      EXPECT_EQ(l.params[0], x_.get());
      EXPECT_EQ(l.params[1], out_.get());
      for (size_t i = 0; i < scalars; ++i) EXPECT_EQ(l.params[2 + i], 1000 + i) << "step " << step + 1 << ", s" << i;
      EXPECT_EQ(l.params[scalars + 2], 0u) << "no global scratch";
      EXPECT_EQ(l.params[scalars + 3], 0u) << "no profile scratch";
    }
  }
}

TEST_F(StepsRuntimeTest, SelectWantsAStepAndSelectStepsGivesEach) {
  const std::string refusal = error_of([&] { (void)kernel_->select(args()); }, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refusal,
            "select: kernel 'two_step' of pack '" + source(kSpec) +
                "' runs in 2 steps (step 1: PHASE=0; step 2: PHASE=1), one launch each: pin a step's constexprs "
                "(LaunchOptions::pinned) to ask about that step, or call select_steps for every step");
  EXPECT_NE(error_of([&] { (void)kernel_->select_for_arch(args(), 90); }, ErrorCode::kInvalidArgument)
                .find("select_for_arch: kernel 'two_step'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)kernel_->candidates(args(), {}, 90); }, ErrorCode::kInvalidArgument)
                .find("candidates: kernel 'two_step'"),
            std::string::npos);

  for (const std::vector<Selection>& steps : {kernel_->select_steps(args()), kernel_->select_steps_for_arch(args(), 80)}) {
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].variant->constexprs[0].value, Constant(int64_t{0}));
    EXPECT_EQ(steps[1].variant->constexprs[0].value, Constant(int64_t{1}));
    EXPECT_EQ(steps[0].grid[0], 3);
    EXPECT_EQ(steps[1].grid[0], 12);
  }
  EXPECT_EQ(kernel_->select_steps_for_arch(args(), 80)[1].variant->arch, 80u);

  const ConstexprValue second[] = {{"PHASE", Constant(int64_t{1})}};
  LaunchOptions pinned;
  pinned.pinned = second;
  EXPECT_EQ(kernel_->select_for_arch(args(), 90, pinned).grid[0], 12);
  const std::vector<Selection> candidates = kernel_->candidates(args(), pinned, 90);
  ASSERT_FALSE(candidates.empty());
  for (const Selection& c : candidates) EXPECT_EQ(c.variant->constexprs[0].value, Constant(int64_t{1}));
  EXPECT_EQ(kernel_->workspace_size(args()), 0u);
}

TEST_F(StepsRuntimeTest, ExplainShowsEachStep) {
  const Kernel::Explanation e = kernel_->explain(args(), {}, 90);
  ASSERT_NE(e.chosen, nullptr);
  const std::string text = e.text();
  EXPECT_NE(text.find("runs in 2 steps, one launch each: step 1: PHASE=0; step 2: PHASE=1"), std::string::npos) << text;
  const size_t first = text.find("\n  step 1 of 2 (PHASE=0): grid (3, 1, 1)\n    variant ");
  const size_t second = text.find("\n  step 2 of 2 (PHASE=1): grid (12, 1, 1)\n    variant ");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_NE(text.find("runs step 2 (PHASE=1), not step 1 (PHASE=0)"), std::string::npos) << text;
}

TEST_F(StepsRuntimeTest, PluginCorePlansEachStepAndEnqueueRunsThemAll) {
  PluginCore core = PluginCore::create(pack_, "two_step", {}, fake_driver());
  core.set_target_arch(90);
  const std::vector<TensorDesc> inputs{{DType::kFp32, {kN}, {}}};
  const PreparedLaunch prepared = core.prepare(inputs);
  const PluginPlan& plan = prepared.plan();
  ASSERT_EQ(plan.steps.size(), 2u);
  ASSERT_FALSE(plan.steps[0].empty());
  ASSERT_FALSE(plan.steps[1].empty());
  EXPECT_EQ(plan.steps[0].front().grid[0], 3);
  EXPECT_EQ(plan.steps[1].front().grid[0], 12);
  for (const Selection& c : plan.steps[1]) EXPECT_EQ(c.variant->constexprs[0].value, Constant(int64_t{1}));
  ASSERT_EQ(plan.scratch.size(), 1u);
  EXPECT_EQ(plan.workspace_bytes, (kN * 4 + 255) / 256 * 256);  // tmp; the kernel needs no global scratch
  const DType fp32[] = {DType::kFp32};
  EXPECT_TRUE(core.supports(0, fp32));

  core.set_target_arch(0);
  const PreparedLaunch here = core.prepare(inputs);
  harness::DeviceBuffer workspace(device_->driver(), here.workspace_bytes());
  workspace.fill(0xff);
  const CUdeviceptr in[] = {x_.get()}, out[] = {out_.get()};
  core.enqueue(here, in, out, workspace.get(), workspace.size(), nullptr);
  EXPECT_EQ(player_.phases, (std::vector<int>{0, 1}));
  EXPECT_EQ(gpu_->launches.at(0).params[1], workspace.get()) << "tmp lives in the workspace";
  EXPECT_EQ(out_state(), std::make_pair(kN, int64_t{0}));
}

TEST_F(StepsRuntimeTest, RunHarnessVerifiesTheWholeOperationAndCatchesASkippedStep) {
  harness::RunRequest request;
  request.values = {{"n", std::to_string(kN)}};
  request.types["T"] = "fp32";
  request.seed = 19;
  const harness::RunResult r = harness::run_kernel(*device_, *kernel_, request);
  EXPECT_TRUE(r.verified);
  EXPECT_TRUE(r.passed) << r.verify_message;
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[1].grid[0], 12);
  EXPECT_EQ(player_.phases, (std::vector<int>{0, 1}));

  // The same launch with a kernel whose second step does nothing: out keeps its poison.
  gpu_->on_launch = [this](FakeGpu& g, const FakeLaunch& l) {
    if (l.grid[0] == cdiv(kN, 1024)) player_(g, l);
  };
  const harness::RunResult lazy = harness::run_kernel(*device_, *kernel_, request);
  EXPECT_TRUE(lazy.verified);
  EXPECT_FALSE(lazy.passed);
}

TEST_F(StepsRuntimeTest, RunHarnessSizesEachTensorForTheLargestStep) {
  // tmp's numel grows with PHASE: the second step's variant needs twice what the first's does, and
  // `run` must allocate that much (it sized for the first step's variant before).
  const std::string text = replaced(spec_text(), "io = \"scratch\"\ndivisibility = 16\nnumel = \"n\"",
                                    "io = \"scratch\"\ndivisibility = 16\nnumel = \"n * (1 + PHASE)\"");
  Kernel grown(pack_from_spec(spec::parse_spec(text, source(kSpec)), {90}), "two_step", fake_driver());
  std::vector<size_t> tmp_bytes;
  gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) {
    tmp_bytes.push_back(g.allocations.at(l.params[1]));
    player_(g, l);
  };
  harness::RunRequest request;
  request.values = {{"n", std::to_string(kN)}};
  request.types["T"] = "fp32";
  request.seed = 21;
  const harness::RunResult r = harness::run_kernel(*device_, grown, request);
  EXPECT_TRUE(r.passed) << r.verify_message;
  ASSERT_EQ(tmp_bytes.size(), 2u);
  EXPECT_GE(tmp_bytes[0], static_cast<size_t>(2 * kN * 4)) << "sized for the second step's numel";
}

TEST_F(StepsRuntimeTest, RunHarnessSaysWhenAPinLaunchesOneStepAlone) {
  harness::RunRequest request;
  request.values = {{"n", std::to_string(kN)}};
  request.types["T"] = "fp32";
  request.seed = 20;
  request.pinned = {{"PHASE", Constant(int64_t{0})}};
  const harness::RunResult first = harness::run_kernel(*device_, *kernel_, request);
  EXPECT_EQ(first.only_step, "step 1 of 2 (PHASE=0)");
  EXPECT_TRUE(first.steps.empty());
  EXPECT_EQ(player_.phases, (std::vector<int>{0}));
  EXPECT_TRUE(first.verified);
  EXPECT_FALSE(first.passed) << "out is never written by step 1 alone";
  request.pinned = {{"PHASE", Constant(int64_t{1})}};
  EXPECT_EQ(harness::run_kernel(*device_, *kernel_, request).only_step, "step 2 of 2 (PHASE=1)");
  request.pinned.clear();
  EXPECT_EQ(harness::run_kernel(*device_, *kernel_, request).only_step, "");
}

}  // namespace
}  // namespace tritonpack::testing
