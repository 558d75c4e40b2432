// The plugin core without a GPU: describe, supports, shapes (concrete and symbolic), workspace,
// tactics, serialization, and rejection of every kind of bad input; enqueue on the fake driver.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "common/constexpr_of.h"
#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/attention_fixture.h"
#include "fault/runtime_fixture.h"
#include "fault/spec_pack.h"
#include "plugin/model.h"
#include "runtime/args.h"
#include "tritonpack/plugin.h"
#include "tritonpack/spec.h"
#include "tritonpack/symbolic.h"

namespace tritonpack::testing {
namespace {


class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    FakeGpu::set_current(gpu_->make_context(0));
    pack_ = attention_pack();
  }
  PluginCore plugingen() { return PluginCore::create(pack_, "attn_plugingen", {{"sm_scale", 0.125}, {"num_heads", 4}}, fake_driver()); }
  PluginCore native() { return PluginCore::create(pack_, "attn", {}, fake_driver()); }
  FakeGpu* gpu_ = nullptr;
  std::shared_ptr<const Pack> pack_;
};

TEST_F(PluginTest, DescribeListsInputsOutputsFieldsAndTactics) {
  const PluginCore pg = plugingen();
  const PluginDescription& d = pg.describe();
  EXPECT_EQ(d.name, "attn_plugingen");
  EXPECT_EQ(d.plugin_namespace, "tritonpack");
  ASSERT_EQ(d.inputs.size(), 3u);
  EXPECT_EQ(d.inputs[0].name, "Q");
  ASSERT_EQ(d.outputs.size(), 3u);
  EXPECT_EQ(d.outputs[1].name, "L");
  ASSERT_EQ(d.fields.size(), 2u);
  EXPECT_EQ(d.fields[0].name, "sm_scale");
  EXPECT_EQ(d.fields[1].dtype, DType::kI32);
  EXPECT_EQ(d.tactics, (std::vector<std::string>{"m128", "m64"}));
  const PluginCore nat = native();
  const PluginDescription& n = nat.describe();
  EXPECT_EQ(n.name, "tritonpack_fmha");
  EXPECT_EQ(n.outputs.size(), 1u);
  EXPECT_EQ(n.scratch.size(), 2u);
  EXPECT_TRUE(n.fields[0].has_default);
}

TEST_F(PluginTest, PluginGenRulesGiveShapesAndDimArgs) {
  PluginCore p = plugingen();
  const std::vector<Shape> in{{2, 4, 100, 64}, {2, 4, 100, 64}, {2, 4, 100, 64}};
  EXPECT_EQ(p.output_shapes(in), (std::vector<Shape>{{2, 4, 100, 64}, {2, 4, 100}, {2, 4, 100}}));
  const PluginPlan plan = p.plan({{{DType::kFp16, in[0]}, {DType::kFp16, in[1]}, {DType::kFp16, in[2]}}});
  EXPECT_EQ(plan.dim_args, (std::vector<std::pair<std::string, int64_t>>{{"batch_size", 2}, {"seq_len", 100}}));
  EXPECT_EQ(plan.output_dtypes, (std::vector<DType>{DType::kFp16, DType::kFp32, DType::kFp32}));
  EXPECT_EQ(plan.workspace_bytes, 0u);
}

TEST_F(PluginTest, NativeSpecPlacesScratchInTheWorkspaceAndOnlyMatchingVariantsAreCandidates) {
  PluginCore p = native();
  const Shape q{2, 3, 100, 128};
  const PluginPlan plan = p.plan({{{DType::kBf16, q}, {DType::kBf16, q}, {DType::kBf16, q}}});
  ASSERT_EQ(plan.scratch.size(), 2u);
  EXPECT_EQ(plan.scratch[0].shape, (Shape{6, 100}));
  EXPECT_EQ(plan.scratch[0].bytes, 6u * 100 * 4);
  EXPECT_EQ(plan.scratch[1].offset, 2560u);  // 2400 rounded up to 256
  EXPECT_EQ(plan.workspace_bytes, 2560u * 2);
  // The runtime's candidates: bf16 variants whose BLOCK_DMODEL is D (its rule), one per config.
  ASSERT_EQ(plan.candidates.size(), 2u);
  for (const Selection& c : plan.candidates) {
    EXPECT_EQ(constexpr_of(*c.variant, "BLOCK_DMODEL"), Constant(int64_t{128}));
    EXPECT_EQ(c.variant->bindings.at("T"), DType::kBf16);
    EXPECT_EQ(c.device_arch, 90u);
  }
  EXPECT_EQ(plan.output_dtypes, (std::vector<DType>{DType::kBf16}));
}

TEST_F(PluginTest, SymbolicShapesAgreeWithConcreteShapes) {
  for (const char* kernel : {"attn_plugingen", "attn"}) {
    PluginCore p = std::string(kernel) == "attn" ? native() : plugingen();
    symbolic::TextBuilder text;
    const std::vector<std::vector<std::string>> dims(3, std::vector<std::string>{"b", "h", "s", "d"});
    const auto sym = p.symbolic_output_shapes<std::string>(text, dims);
    const std::vector<Shape> concrete = p.output_shapes(std::vector<Shape>(3, Shape{2, 3, 77, 64}));
    ASSERT_EQ(sym.size(), concrete.size());
    for (size_t o = 0; o < sym.size(); ++o) {
      ASSERT_EQ(sym[o].size(), concrete[o].size());
      for (size_t i = 0; i < sym[o].size(); ++i) {
        const int64_t v = expr::Expr::parse(sym[o][i]).eval([](std::string_view n, int64_t& x) {
          x = n == "b" ? 2 : n == "h" ? 3 : n == "s" ? 77 : 64;
          return true;
        });
        EXPECT_EQ(v, concrete[o][i]) << kernel << " output " << o << " dim " << i << ": " << sym[o][i];
      }
    }
  }
}

TEST_F(PluginTest, SupportsAnswersFromTheVariants) {
  PluginCore p = native();
  const DType fp16 = DType::kFp16, bf16 = DType::kBf16, fp32 = DType::kFp32;
  EXPECT_TRUE(p.supports(0, std::vector<DType>{fp16}));
  EXPECT_TRUE(p.supports(0, std::vector<DType>{bf16}));
  EXPECT_FALSE(p.supports(0, std::vector<DType>{fp32}));
  EXPECT_TRUE(p.supports(1, std::vector<DType>{fp16, fp16}));
  EXPECT_FALSE(p.supports(1, std::vector<DType>{fp16, bf16}));  // K must match Q
  EXPECT_TRUE(p.supports(3, std::vector<DType>{bf16, bf16, bf16, bf16}));
  EXPECT_FALSE(p.supports(4, std::vector<DType>{bf16, bf16, bf16, bf16, bf16}));  // only 4 positions
  EXPECT_EQ(p.output_dtypes(std::vector<DType>{fp16, fp16, fp16}), (std::vector<DType>{fp16}));
  const TensorFormat linear = TensorFormat::kLinear, other = TensorFormat::kOther;
  EXPECT_TRUE(p.supports(1, std::vector<DType>{fp16, fp16}, std::vector<TensorFormat>{linear, linear}));
  EXPECT_FALSE(p.supports(1, std::vector<DType>{fp16, fp16}, std::vector<TensorFormat>{linear, other}));
}

// supports() and prepare() ask the runtime's selection about the device: a dtype that some
// variant has but that no variant can run on this GPU is not supported.
TEST_F(PluginTest, SupportsAndPrepareAskTheRuntimeAboutTheDevice) {
  const DType fp16 = DType::kFp16;
  const TensorDesc q{fp16, {2, 3, 100, 64}, {}};
  {
    // An sm_80 device: the variants are sm_90a cubins (no image an sm_80 can load).
    FakeGpu::set_current(gpu_->make_context(1));
    PluginCore p = native();
    EXPECT_FALSE(p.supports(0, std::vector<DType>{fp16}));
    const std::string why = error_of([&] { (void)p.prepare(std::vector<TensorDesc>{q, q, q}); }, ErrorCode::kNoMatchingVariant);
    EXPECT_NE(why.find("sm_80 device"), std::string::npos) << why;
    // The same plugin planned for sm_90 (a tool without that GPU) has them.
    p.set_target_arch(90);
    EXPECT_TRUE(p.supports(0, std::vector<DType>{fp16}));
    EXPECT_EQ(p.prepare(std::vector<TensorDesc>{q, q, q}).plan().candidates.size(), 2u);
  }
  {
    // Too little shared memory for any variant.
    gpu_->devices[0].max_shared_optin = 1024;
    FakeGpu::set_current(gpu_->make_context(0));
    PluginCore p = native();
    EXPECT_FALSE(p.supports(0, std::vector<DType>{fp16}));
    const std::string why = error_of([&] { (void)p.prepare(std::vector<TensorDesc>{q, q, q}); }, ErrorCode::kNoMatchingVariant);
    EXPECT_NE(why.find("bytes of shared memory, the sm_90 device allows 1024"), std::string::npos) << why;
  }
}

// A tactic narrows supports() and prepare() to its config.
TEST_F(PluginTest, TacticNarrowsTheCandidates) {
  PluginCore p = native();
  const TensorDesc q{DType::kBf16, {2, 3, 100, 64}, {}};
  EXPECT_EQ(p.prepare(std::vector<TensorDesc>{q, q, q}).plan().candidates.size(), 2u);
  p.set_tactic(2);
  const PreparedLaunch prepared = p.prepare(std::vector<TensorDesc>{q, q, q});
  ASSERT_EQ(prepared.plan().candidates.size(), 1u);
  EXPECT_EQ(prepared.plan().candidates[0].variant->config_index, 1u);
}

// Fields are an input of planning: an engine that passes attributes per call (PyTorch) prepares
// with them; the values bound at create are only the default.
TEST_F(PluginTest, PrepareTakesFieldsPerCall) {
  PluginCore p = plugingen();  // sm_scale 0.125, num_heads 4
  const TensorDesc q{DType::kFp16, {2, 4, 100, 64}, {}};
  const std::vector<TensorDesc> in{q, q, q};
  const PreparedLaunch bound = p.prepare(in);
  EXPECT_EQ(bound.plan().fields, (std::vector<std::pair<std::string, double>>{{"sm_scale", 0.125}, {"num_heads", 4}}));
  const double per_call[] = {0.5, 8};
  const PreparedLaunch other = p.prepare(in, per_call);
  EXPECT_EQ(other.plan().fields, (std::vector<std::pair<std::string, double>>{{"sm_scale", 0.5}, {"num_heads", 8}}));
  EXPECT_EQ(other.plan().args[8].int_value, 8);  // num_heads, an i32 argument
  EXPECT_EQ(bound.plan().args[8].int_value, 4);
  const double too_few[] = {0.5};
  EXPECT_NE(error_of([&] { (void)p.prepare(in, too_few); }, ErrorCode::kInvalidArgument).find("has 2 fields, got 1 values"),
            std::string::npos);
  const double fractional[] = {0.5, 2.5};
  EXPECT_NE(error_of([&] { (void)p.prepare(in, fractional); }, ErrorCode::kInvalidArgument)
                .find("field 'num_heads' of plugin 'attn_plugingen' is 2.5"),
            std::string::npos);
}

// The hot path: prepare once, enqueue with addresses only; a launch prepared by another kernel's
// plugin, wrong counts and bad addresses are refused before anything launches.
TEST_F(PluginTest, PreparedEnqueueLaunchesAndRefusesWhatDoesNotFit) {
  PluginCore p = native();
  gpu_->params_to_record = 10;
  const Shape q{2, 3, 100, 64};
  const std::vector<TensorDesc> in{{DType::kFp16, q, {}}, {DType::kFp16, q, {}}, {DType::kFp16, q, {}}};
  const PreparedLaunch prepared = p.prepare(in);
  EXPECT_TRUE(prepared.prepared_for(0, DType::kFp16, q));
  EXPECT_FALSE(prepared.prepared_for(0, DType::kBf16, q));
  EXPECT_FALSE(prepared.prepared_for(0, DType::kFp16, Shape{2, 3, 101, 64}));
  EXPECT_FALSE(prepared.prepared_for(3, DType::kFp16, q));
  const CUdeviceptr base = 0x7200'0000'0000ull, ws = base + 0x400000;
  const CUdeviceptr ins[] = {base, base + 0x100000, base + 0x200000}, outs[] = {base + 0x300000};
  p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  ASSERT_EQ(gpu_->launches.size(), 2u);
  EXPECT_EQ(gpu_->launches[1].params[0], outs[0]);
  EXPECT_EQ(gpu_->launches[1].params[3], ins[0]);
  EXPECT_EQ(gpu_->launches[1].params[1], ws);  // L, scratch at the workspace's start

  PluginCore other = plugingen();
  const TensorDesc pq{DType::kFp16, {2, 4, 100, 64}, {}};
  const PreparedLaunch foreign = other.prepare(std::vector<TensorDesc>{pq, pq, pq});
  EXPECT_NE(error_of([&] { p.enqueue(foreign, ins, outs, ws, 1 << 20, nullptr); }, ErrorCode::kInvalidArgument)
                .find("the prepared launch is of kernel 'attn_plugingen'"),
            std::string::npos);
  const PreparedLaunch empty;
  EXPECT_NE(error_of([&] { p.enqueue(empty, ins, outs, ws, 1 << 20, nullptr); }, ErrorCode::kInvalidArgument)
                .find("the prepared launch is empty"),
            std::string::npos);
  EXPECT_NE(error_of([&] { p.enqueue(prepared, std::span(ins, 2), outs, ws, 1 << 20, nullptr); }, ErrorCode::kInvalidArgument)
                .find("takes 3 inputs and 1 outputs, got 2 and 1"),
            std::string::npos);
  const CUdeviceptr odd_out[] = {outs[0] + 1};
  EXPECT_NE(error_of([&] { p.enqueue(prepared, ins, odd_out, ws, 1 << 20, nullptr); }, ErrorCode::kInvalidArgument)
                .find("output 'Out' address 0x720000300001 is not aligned to its 2-byte elements"),
            std::string::npos);
  const CUdeviceptr null_in[] = {base, 0, base};
  EXPECT_NE(error_of([&] { p.enqueue(prepared, null_in, outs, ws, 1 << 20, nullptr); }, ErrorCode::kInvalidArgument)
                .find("input 'K' is a null pointer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes() - 1, nullptr); },
                     ErrorCode::kInvalidArgument)
                .find("bytes of workspace for these shapes, got"),
            std::string::npos);
  // An address the runtime's divisibility cannot take (2-byte aligned, variants want 16): the
  // runtime refuses it, naming the variants.
  const CUdeviceptr two_aligned[] = {base + 2, ins[1], ins[2]};
  EXPECT_NE(error_of([&] { p.enqueue(prepared, two_aligned, outs, ws, 1 << 20, nullptr); }, ErrorCode::kNoMatchingVariant)
                .find("needs Q aligned to 16 bytes"),
            std::string::npos);
  EXPECT_EQ(gpu_->launches.size(), 2u) << "nothing refused was launched";
}

// Boundaries that must not throw (C API, engine adapters) convert in one place.
TEST_F(PluginTest, StatusCapturesEveryExceptionAtABoundary) {
  const Status ok = capture([] {});
  EXPECT_TRUE(ok.ok);
  const Status shape = capture([] { throw Error(ErrorCode::kShape, "bad shape"); });
  EXPECT_FALSE(shape.ok);
  EXPECT_EQ(shape.code, ErrorCode::kShape);
  EXPECT_EQ(shape.message, "bad shape");
  const Status memory = capture([] { throw std::bad_alloc(); });
  EXPECT_EQ(memory.code, ErrorCode::kInternal);
  EXPECT_EQ(memory.message, "out of host memory");
  const Status other = capture([] { throw 42; });
  EXPECT_EQ(other.code, ErrorCode::kInternal);
  EXPECT_EQ(other.message, "unknown exception");
  PluginCore p = native();
  const Status refused = capture([&] { (void)p.prepare(std::vector<TensorDesc>{}); });
  EXPECT_EQ(refused.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.message.find("takes 3 inputs (Q, K, V), got 0"), std::string::npos) << refused.message;
}

TEST_F(PluginTest, ConfigureChecksTheProfileAndKeepsItsWorkspace) {
  PluginCore p = native();
  const TensorDesc lo{DType::kFp16, {1, 1, 1, 64}, {}}, hi{DType::kFp16, {4, 8, 1024, 64}, {}};
  p.configure(std::vector<TensorDesc>{lo, lo, lo}, std::vector<TensorDesc>{hi, hi, hi});
  EXPECT_EQ(p.configured_workspace_size(), 2u * 4 * 8 * 1024 * 4);  // L and M, fp32 [B*H, S]
  const TensorDesc bad{DType::kFp16, {4, 8, 1024, 80}, {}};  // no variant for D = 80
  EXPECT_THROW(p.configure(std::vector<TensorDesc>{lo, lo, lo}, std::vector<TensorDesc>{bad, bad, bad}), Error);
}

TEST_F(PluginTest, BadInputsAreRejectedWithClearErrors) {
  PluginCore p = native();
  const Shape q{2, 3, 100, 64};
  const TensorDesc good{DType::kFp16, q, {}};
  auto plan_with = [&](TensorDesc a, TensorDesc b, TensorDesc c) { (void)p.plan({{a, b, c}}); };
  EXPECT_NE(error_of([&] { plan_with({DType::kFp16, {2, 3, 100}}, good, good); }, ErrorCode::kShape)
                .find("input 'Q' has shape 2x3x100 (rank 3)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { plan_with(good, {DType::kFp16, {2, 3, 99, 64}}, good); }, ErrorCode::kShape)
                .find("input 'K' dim 2 is 99 but 'Q' dim 2 is 100 (both are 'S')"),
            std::string::npos);
  EXPECT_NE(error_of([&] { plan_with(good, {DType::kBf16, q}, good); }, ErrorCode::kInvalidArgument)
                .find("input 'K' is bf16 but 'Q' is fp16 (both have dtype T)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { plan_with({DType::kFp32, q}, good, good); }, ErrorCode::kInvalidArgument)
                .find("takes fp16, bf16 there"),
            std::string::npos);
  const Shape d96{2, 3, 100, 96};
  // No variant: the runtime's refusal, every variant with its reason.
  const std::string d96_error =
      error_of([&] { plan_with({DType::kFp16, d96}, {DType::kFp16, d96}, {DType::kFp16, d96}); },
               ErrorCode::kNoMatchingVariant);
  EXPECT_NE(d96_error.find("rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=64"), std::string::npos) << d96_error;
  EXPECT_NE(d96_error.find("rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=128"), std::string::npos) << d96_error;
  const Shape s0{2, 3, 0, 64};
  EXPECT_NE(error_of([&] { plan_with({DType::kFp16, s0}, {DType::kFp16, s0}, {DType::kFp16, s0}); },
                     ErrorCode::kNoMatchingVariant)
                .find("rule 'S >= 1' does not hold: S=0"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)p.plan({{good, good}}); }, ErrorCode::kInvalidArgument).find("takes 3 inputs (Q, K, V), got 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)p.plan({{{DType::kFp16, {2, 3, -1, 64}}, good, good}}); }, ErrorCode::kShape).find("negative"),
            std::string::npos);
  // Fields.
  EXPECT_NE(error_of([&] { (void)PluginCore::create(pack_, "attn", {{"scale", 1.0}}); }, ErrorCode::kInvalidArgument)
                .find("has no field 'scale' (fields: sm_scale)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)PluginCore::create(pack_, "attn_plugingen", {{"sm_scale", 1.0}}); }, ErrorCode::kInvalidArgument)
                .find("needs field 'num_heads' (i32), which has no default"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)PluginCore::create(pack_, "attn_plugingen", {{"sm_scale", 1.0}, {"num_heads", 2.5}}); },
                     ErrorCode::kInvalidArgument)
                .find("not a finite i32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { p.set_tactic(3); }, ErrorCode::kInvalidArgument).find("has tactics 1..2 (0 = any), got 3"),
            std::string::npos);
}

// The remaining error paths of the plugin core, each with its message.
TEST_F(PluginTest, EveryOtherErrorPathSaysWhatIsWrong) {
  EXPECT_NE(error_of([&] { (void)PluginCore::create(nullptr, "attn"); }, ErrorCode::kInvalidArgument).find("needs a pack"),
            std::string::npos);
  PluginCore p = native();
  EXPECT_NE(error_of([&] { (void)p.output_dtypes(std::vector<DType>{DType::kFp16}); }, ErrorCode::kInvalidArgument)
                .find("takes 3 inputs, got 1 dtypes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)p.output_shapes(std::vector<Shape>{{1}}); }, ErrorCode::kInvalidArgument)
                .find("takes 3 inputs, got 1 shapes"),
            std::string::npos);
  const TensorDesc huge{DType::kFp16, {1, 1, int64_t{3} << 30, 64}, {}};
  EXPECT_NE(error_of([&] { (void)p.plan({{huge, huge, huge}}); }, ErrorCode::kShape)
                .find("dim-size argument 'seq_len' is 3221225472, which does not fit its i32 parameter"),
            std::string::npos);

  // A fixed size in an input's dims: the same pack with Q's last dim fixed to 64.
  Manifest m = pack_->manifest();
  m.kernels[1].params[3].dims[3] = "64";
  std::vector<std::vector<uint8_t>> blobs;
  for (size_t b = 0; b < m.blobs.size(); ++b) {
    const auto bytes = pack_->blob(static_cast<int32_t>(b));
    blobs.emplace_back(bytes.begin(), bytes.end());
  }
  auto fixed = Pack::from_bytes(serialize_pack(m, blobs));
  PluginCore f = PluginCore::create(fixed, "attn", {}, fake_driver());
  const TensorDesc d128{DType::kFp16, {1, 2, 8, 128}, {}};
  EXPECT_NE(error_of([&] { (void)f.plan({{d128, d128, d128}}); }, ErrorCode::kShape)
                .find("input 'Q' dim 3 is 128, plugin 'tritonpack_fmha' wants 64"),
            std::string::npos);

  // enqueue: strides of the wrong rank.
  const TensorDesc q{DType::kFp16, {1, 2, 8, 64}, {}};
  const CUdeviceptr base = 0x7300'0000'0000ull;
  std::vector<TensorRef> in{{base, q}, {base + 0x10000, q}, {base + 0x20000, q}};
  std::vector<TensorRef> out{{base + 0x30000, {DType::kFp16, {1, 2, 8, 64}, {1, 2}}}};
  EXPECT_NE(error_of([&] { p.enqueue(in, out, base + 0x40000, 1 << 20, nullptr); }, ErrorCode::kInvalidArgument)
                .find("output 'Out' has 2 strides for rank 4"),
            std::string::npos);

  // Serialized bytes: magic, version, tactic and a field named twice, each refused by name.
  const std::vector<uint8_t> bytes = plugingen().serialize();
  auto refused = [&](std::vector<uint8_t> b, const std::string& text) {
    EXPECT_NE(error_of([&] { (void)PluginCore::deserialize(b); }, ErrorCode::kCorruptPack).find(text), std::string::npos)
        << text;
  };
  std::vector<uint8_t> b = bytes;
  b[0] = 'X';
  refused(b, "bad magic");
  b = bytes;
  b[8] = 2;
  refused(b, "version 2 (this tritonpack reads 1)");
  const size_t tactic_at = 8 + 4 + 4 + std::string("attn_plugingen").size();
  b = bytes;
  b[tactic_at] = 9;
  refused(b, "tactic 9 is out of range");
  // The fields "sm_scale" and "num_heads": replace the second entry by a copy of the first.
  b = bytes;
  const size_t first_name = tactic_at + 8 + 4;  // after tactic and count: u32 length, name
  const size_t second_len = first_name + 8 + 8;  // "sm_scale" (8 bytes) and its f64
  ASSERT_EQ(b[second_len], 9u);                  // "num_heads"
  std::vector<uint8_t> dup(b.begin(), b.begin() + static_cast<ptrdiff_t>(second_len));
  const std::vector<uint8_t> again(b.begin() + static_cast<ptrdiff_t>(first_name - 4),
                                   b.begin() + static_cast<ptrdiff_t>(second_len));
  dup.insert(dup.end(), again.begin(), again.end());
  dup.insert(dup.end(), b.begin() + static_cast<ptrdiff_t>(second_len + 4 + 9 + 8), b.end());
  refused(dup, "a field is listed twice");
}

TEST_F(PluginTest, KernelsThatCannotBePluginsSayWhatToAdd) {
  // vector-add style kernel with no dims: its output has no shape and its scalar no value.
  EXPECT_NE(error_of([&] { (void)PluginCore::create(runtime_test_pack(), "axpy"); }, ErrorCode::kInvalidArgument)
                .find("scalar 'n' gets no value: make it a field (field = true), a dim-size argument"),
            std::string::npos);
}

TEST_F(PluginTest, EnqueueValidatesThenLaunchesWithScratchInTheWorkspace) {
  PluginCore p = native();
  p.set_tactic(2);  // config m64
  gpu_->params_to_record = 12;
  const Shape q{2, 3, 100, 64};
  const CUdeviceptr base = 0x7100'0000'0000ull;
  std::vector<TensorRef> in{{base, {DType::kFp16, q, {}}}, {base + 0x100000, {DType::kFp16, q, {}}},
                            {base + 0x200000, {DType::kFp16, q, {}}}};
  std::vector<TensorRef> out{{base + 0x300000, {DType::kFp16, q, {}}}};
  const CUdeviceptr ws = base + 0x400000;
  const size_t ws_size = p.workspace_size({{in[0].desc, in[1].desc, in[2].desc}});
  p.enqueue(in, out, ws, ws_size, reinterpret_cast<CUstream>(0x77));
  ASSERT_EQ(gpu_->launches.size(), 1u);
  const FakeLaunch& l = gpu_->launches[0];
  EXPECT_EQ(l.grid[0], 1u);      // (100 + 127) / 128: the spec's grid
  EXPECT_EQ(l.grid[1], 6u);      // batch_size * num_heads
  EXPECT_EQ(l.params[0], base + 0x300000);  // Out
  EXPECT_EQ(l.params[1], ws);               // L at the workspace's start
  EXPECT_EQ(l.params[2], ws + 2560);        // M after L, 256-aligned
  EXPECT_EQ(l.params[3], base);             // Q
  float scale;
  const uint32_t bits = static_cast<uint32_t>(l.params[6]);
  std::memcpy(&scale, &bits, 4);
  EXPECT_EQ(scale, 0.125f);  // the field's default
  EXPECT_EQ(static_cast<uint32_t>(l.params[7]), 2u);    // batch_size
  EXPECT_EQ(static_cast<uint32_t>(l.params[8]), 3u);    // num_heads
  EXPECT_EQ(static_cast<uint32_t>(l.params[9]), 100u);  // seq_len

  // Every kind of bad call, each refused before anything launches.
  auto bad = [&](std::vector<TensorRef> i, std::vector<TensorRef> o, CUdeviceptr w, size_t n, ErrorCode code,
                 const std::string& text) {
    EXPECT_NE(error_of([&] { p.enqueue(i, o, w, n, nullptr); }, code).find(text), std::string::npos) << text;
  };
  auto with = [](std::vector<TensorRef> v, size_t i, auto change) {
    change(v[i]);
    return v;
  };
  bad(in, with(out, 0, [](TensorRef& t) { t.desc.shape[3] = 32; }), ws, ws_size, ErrorCode::kShape,
      "output 'Out' has shape 2x3x100x32, expected 2x3x100x64");
  bad(in, with(out, 0, [](TensorRef& t) { t.desc.dtype = DType::kBf16; }), ws, ws_size, ErrorCode::kInvalidArgument,
      "output 'Out' is bf16, expected fp16");
  bad(with(in, 1, [](TensorRef& t) { t.desc.strides = {19200, 6400, 1, 100}; }), out, ws, ws_size,
      ErrorCode::kInvalidArgument, "input 'K' is not contiguous");
  bad(with(in, 2, [](TensorRef& t) { t.data = 0; }), out, ws, ws_size, ErrorCode::kInvalidArgument,
      "input 'V' is a null pointer");
  bad(with(in, 0, [](TensorRef& t) { t.data += 1; }), out, ws, ws_size, ErrorCode::kInvalidArgument,
      "input 'Q' address 0x");
  bad(in, out, ws, ws_size - 1, ErrorCode::kInvalidArgument, "needs 5120 bytes of workspace for these shapes, got 5119");
  bad(in, out, ws + 8, ws_size, ErrorCode::kInvalidArgument, "needs a 256-byte aligned workspace");
  bad(in, {}, ws, ws_size, ErrorCode::kInvalidArgument, "has 1 outputs, got 0");
  EXPECT_EQ(gpu_->launches.size(), 1u);
}

// The plugin core over a pack with corrupt blobs: created and planned (no blob is needed), and its
// enqueue fails with the pack's message before anything launches.
TEST_F(PluginTest, CorruptBlobFailsTheEnqueueWithThePacksMessage) {
  PluginCore p = PluginCore::create(with_corrupt_blobs(*pack_), "attn", {}, fake_driver());
  const Shape q{2, 3, 100, 64};
  const CUdeviceptr base = 0x7100'0000'0000ull;
  std::vector<TensorRef> in{{base, {DType::kFp16, q, {}}}, {base + 0x100000, {DType::kFp16, q, {}}},
                            {base + 0x200000, {DType::kFp16, q, {}}}};
  std::vector<TensorRef> out{{base + 0x300000, {DType::kFp16, q, {}}}};
  const size_t ws_size = p.workspace_size({{in[0].desc, in[1].desc, in[2].desc}});
  const std::string message =
      error_of([&] { p.enqueue(in, out, base + 0x400000, ws_size, nullptr); }, ErrorCode::kCorruptPack);
  EXPECT_EQ(message.rfind("corrupt pack '" + pack_->origin() + "': blobs[", 0), 0u) << message;
  EXPECT_NE(message.find("]: hash mismatch: the manifest says "), std::string::npos) << message;
  EXPECT_TRUE(gpu_->launches.empty());
  EXPECT_EQ(gpu_->live_modules(), 0u);
}

TEST_F(PluginTest, SerializedPluginIsSelfContainedAndChecked) {
  PluginCore p = PluginCore::create(pack_, "attn_plugingen", {{"sm_scale", 0.25}, {"num_heads", 8}}, fake_driver());
  p.set_tactic(2);
  const std::vector<uint8_t> bytes = p.serialize();
  PluginCore q = PluginCore::deserialize(bytes, fake_driver());
  EXPECT_EQ(q.tactic(), 2);
  EXPECT_EQ(q.describe().name, "attn_plugingen");
  const PluginPlan plan = q.plan({{{DType::kFp16, {1, 8, 5, 64}}, {DType::kFp16, {1, 8, 5, 64}}, {DType::kFp16, {1, 8, 5, 64}}}});
  EXPECT_EQ(plan.fields, (std::vector<std::pair<std::string, double>>{{"sm_scale", 0.25}, {"num_heads", 8}}));
  EXPECT_EQ(q.serialize(), bytes);
  PluginCore c = q.clone();
  EXPECT_EQ(c.serialize(), bytes);
  // Every truncation and a flipped byte in each header field fail cleanly.
  for (size_t n = 0; n < 64; ++n) {
    EXPECT_THROW(PluginCore::deserialize(std::span<const uint8_t>(bytes.data(), n)), Error) << n;
  }
  EXPECT_THROW(PluginCore::deserialize(std::span<const uint8_t>(bytes.data(), bytes.size() - 1)), Error);
  std::vector<uint8_t> extra = bytes;
  extra.push_back(0);
  EXPECT_NE(error_of([&] { (void)PluginCore::deserialize(extra); }, ErrorCode::kCorruptPack).find("trailing bytes"),
            std::string::npos);
  for (size_t i = 0; i < 80; ++i) {
    std::vector<uint8_t> flipped = bytes;
    flipped[i] ^= 0x5a;
    try {
      (void)PluginCore::deserialize(flipped, fake_driver());
    } catch (const Error&) {
      continue;  // refused: fine. Accepted only if the flip hit a field value's bits.
    }
  }
  // The embedded pack is checked as Pack::open checks a file: its manifest at once, ...
  const size_t pack_at = bytes.size() - pack_->bytes().size();
  std::vector<uint8_t> bad_manifest = bytes;
  bad_manifest[pack_at + 96 + 10] ^= 0x20;
  EXPECT_NE(error_of([&] { (void)PluginCore::deserialize(bad_manifest); }, ErrorCode::kCorruptPack)
                .find("corrupt pack '<serialized plugin>': manifest hash mismatch"),
            std::string::npos);
  // ... each blob when it is first used, here all at once.
  std::vector<uint8_t> bad_blob = bytes;
  bad_blob[bytes.size() - 10] ^= 0xff;  // inside the pack's last blob
  const PluginCore from_bad_blob = PluginCore::deserialize(bad_blob, fake_driver());
  EXPECT_NE(error_of([&] { from_bad_blob.pack().verify_blobs(); }, ErrorCode::kCorruptPack)
                .find("]: hash mismatch: the manifest says "),
            std::string::npos);
}

// ---- tensordesc params as engine tensors ----

// desc_scale as an engine op (tests/kernels/desc_scale/desc_scale_op.toml): x_desc, a 2-D
// tensordesc input of T with dims [rows, cols] and block [BM, BN]; out_ptr [rows, cols]; M and N
// dim-size arguments; scale a field. Packed for sm_80 (no TMA) and sm_90 (TMA, a 64x64 box).
const std::string kDescScaleOp = std::string(TRITONPACK_SOURCE_DIR) + "/tests/kernels/desc_scale/desc_scale_op.toml";
constexpr CUdeviceptr kDescX = 0x7400'0000'0000ull, kDescOut = kDescX + 0x100000;

class PluginDescriptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    FakeGpu::set_current(gpu_->make_context(0));
    runtime::clear_tensor_map_cache();  // maps are cached per thread, across tests
  }
  static PluginCore plugin(std::shared_ptr<const Pack> pack) {
    return PluginCore::create(std::move(pack), "desc_scale_op", {{"scale", 0.5}}, fake_driver());
  }
  static std::vector<TensorDesc> x_of(Shape shape, Shape strides = {}) {
    return {{DType::kFp16, std::move(shape), std::move(strides)}};
  }
  FakeGpu* gpu_ = nullptr;
};

// To the engine a tensordesc input is a tensor: its dtype binds T, its dims bind names, ranks and
// strides are checked, outputs are shaped from it (concretely and symbolically).
TEST_F(PluginDescriptorTest, ATensordescInputIsAnEngineTensor) {
  const PluginCore p = plugin(pack_from_spec(kDescScaleOp, {80, 90}));
  const PluginDescription& d = p.describe();
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].name, "x_desc");
  EXPECT_TRUE(d.inputs[0].descriptor);
  EXPECT_EQ(d.inputs[0].dtypes, (std::vector<std::string>{"fp16", "fp32"}));
  ASSERT_EQ(d.outputs.size(), 1u);
  EXPECT_FALSE(d.outputs[0].descriptor);
  ASSERT_EQ(d.fields.size(), 1u);
  EXPECT_EQ(d.fields[0].name, "scale");

  const DType fp16 = DType::kFp16, fp32 = DType::kFp32, bf16 = DType::kBf16;
  EXPECT_TRUE(p.supports(0, std::vector<DType>{fp16}));
  EXPECT_TRUE(p.supports(1, std::vector<DType>{fp32, fp32}));
  EXPECT_FALSE(p.supports(1, std::vector<DType>{fp16, fp32}));  // out_ptr is T too
  EXPECT_FALSE(p.supports(0, std::vector<DType>{bf16}));
  EXPECT_EQ(p.output_dtypes(std::vector<DType>{fp32}), (std::vector<DType>{fp32}));
  EXPECT_EQ(p.output_shapes(std::vector<Shape>{{300, 200}}), (std::vector<Shape>{{300, 200}}));
  symbolic::TextBuilder text;
  const std::vector<std::vector<std::string>> dims{{"r", "c"}};
  EXPECT_EQ(p.symbolic_output_shapes<std::string>(text, dims), (std::vector<std::vector<std::string>>{{"r", "c"}}));
  const PluginPlan plan = p.plan(x_of({300, 200}));
  EXPECT_EQ(plan.dim_args, (std::vector<std::pair<std::string, int64_t>>{{"M", 300}, {"N", 200}}));
  EXPECT_EQ(plan.args[0].kind, Arg::Kind::kDescriptor);

  EXPECT_NE(error_of([&] { (void)p.plan(x_of({300})); }, ErrorCode::kShape)
                .find("input 'x_desc' has shape 300 (rank 1); plugin 'desc_scale_op' wants rank 2 [rows, cols]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { (void)p.prepare(x_of({300, 200}, {256, 1})); }, ErrorCode::kInvalidArgument)
                .find("input 'x_desc' is not contiguous (dim 0 has stride 256, expected 200)"),
            std::string::npos);
  // An empty tensor: the runtime's refusal (TMA cannot describe it).
  EXPECT_NE(error_of([&] { (void)p.plan(x_of({0, 200})); }, ErrorCode::kInvalidArgument)
                .find("descriptor 'x_desc' shape[0] = 0 is outside 1..2147483647"),
            std::string::npos);
}

// The prepared launch holds the descriptor with the engine tensor's shape and dense row-major
// strides; enqueue fills the address in, and the runtime encodes the map from them.
TEST_F(PluginDescriptorTest, EnqueuePassesTheTensorAsADescriptorWithDenseStrides) {
  PluginCore p = plugin(pack_from_spec(kDescScaleOp, {80, 90}));
  gpu_->params_to_record = 9;
  const PreparedLaunch prepared = p.prepare(x_of({300, 200}));
  const Arg& x = prepared.args()[0];
  ASSERT_EQ(x.kind, Arg::Kind::kDescriptor);
  ASSERT_EQ(x.rank, 2u);
  EXPECT_EQ(std::vector<int64_t>(x.shape, x.shape + 2), (std::vector<int64_t>{300, 200}));
  EXPECT_EQ(std::vector<int64_t>(x.strides, x.strides + 2), (std::vector<int64_t>{200, 1}));
  const CUdeviceptr ins[] = {kDescX}, outs[] = {kDescOut};
  p.enqueue(prepared, ins, outs, 0, 0, nullptr);
  ASSERT_EQ(gpu_->encodes.size(), 1u);
  const FakeTensorMapEncode& e = gpu_->encodes[0];
  EXPECT_EQ(e.address, kDescX);
  EXPECT_EQ(e.data_type, 6);                                 // CU_TENSOR_MAP_DATA_TYPE_FLOAT16
  EXPECT_EQ(e.dims, (std::vector<uint64_t>{200, 300}));      // innermost first
  EXPECT_EQ(e.strides_bytes, (std::vector<uint64_t>{400}));  // a dense row of 200 fp16
  EXPECT_EQ(e.box, (std::vector<unsigned>{64, 64}));         // BN = 128 for N = 200, halved by the swizzle
  ASSERT_EQ(gpu_->launches.size(), 1u);
  const FakeLaunch l = gpu_->launches[0];  // a copy: more launches follow
  EXPECT_EQ(l.grid[0], 5u);  // cdiv(300, 64)
  EXPECT_EQ(l.grid[1], 2u);  // cdiv(200, 128)
  EXPECT_EQ(l.params[0], kDescX);                       // the map (the fake writes the address there)
  EXPECT_EQ(static_cast<uint32_t>(l.params[1]), 300u);  // shape, i32
  EXPECT_EQ(static_cast<uint32_t>(l.params[2]), 200u);
  EXPECT_EQ(l.params[3], 200u);  // strides, i64
  EXPECT_EQ(l.params[4], 1u);
  EXPECT_EQ(l.params[5], kDescOut);
  EXPECT_EQ(static_cast<uint32_t>(l.params[6]), 300u);  // M
  EXPECT_EQ(static_cast<uint32_t>(l.params[7]), 200u);  // N
  float scale;
  const uint32_t bits = static_cast<uint32_t>(l.params[8]);
  std::memcpy(&scale, &bits, 4);
  EXPECT_EQ(scale, 0.5f);

  // The convenience enqueue: the same launch from tensor references (explicit dense strides).
  std::vector<TensorRef> in{{kDescX, {DType::kFp16, {300, 200}, {200, 1}}}}, out{{kDescOut, {DType::kFp16, {300, 200}, {}}}};
  p.enqueue(in, out, 0, 0, nullptr);
  ASSERT_EQ(gpu_->launches.size(), 2u);
  EXPECT_EQ(gpu_->launches[1].params, l.params);
  EXPECT_EQ(gpu_->encodes.size(), 1u);  // the same tensor: the cached map

  // A device without TMA variants gets pointer, shape and strides.
  FakeGpu::set_current(gpu_->make_context(1));
  PluginCore on80 = plugin(pack_from_spec(kDescScaleOp, {80, 90}));
  on80.enqueue(on80.prepare(x_of({300, 200})), ins, outs, 0, 0, nullptr);
  ASSERT_EQ(gpu_->launches.size(), 3u);
  const std::vector<uint64_t> plain(gpu_->launches[2].params.begin(), gpu_->launches[2].params.begin() + 5);
  EXPECT_EQ(plain, (std::vector<uint64_t>{kDescX, 300, 200, 200, 1}));
  EXPECT_EQ(gpu_->encodes.size(), 1u);
}

// What TMA cannot take is refused with the runtime's reason, before anything launches: a base not
// 16-byte aligned at enqueue, a row that is not a multiple of 16 bytes at prepare. A pack with a
// variant without TMA serves the unaligned base from it instead.
TEST_F(PluginDescriptorTest, WhatTmaCannotTakeIsRefusedWithTheRuntimesReason) {
  PluginCore p = plugin(pack_from_spec(kDescScaleOp, {90}));
  const PreparedLaunch prepared = p.prepare(x_of({300, 200}));
  const CUdeviceptr unaligned[] = {kDescX + 2}, outs[] = {kDescOut};
  const std::string base = error_of([&] { p.enqueue(prepared, unaligned, outs, 0, 0, nullptr); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(base.find("descriptor 'x_desc' needs its base aligned to 16 bytes for TMA, got 0x740000000002"), std::string::npos)
      << base;
  const std::string row = error_of([&] { (void)p.prepare(x_of({300, 201})); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(row.find("descriptor 'x_desc' stride[0] = 201 elements (402 bytes) must be a multiple of 16 bytes"), std::string::npos)
      << row;
  EXPECT_TRUE(gpu_->launches.empty());
  EXPECT_TRUE(gpu_->encodes.empty());

  PluginCore both = plugin(pack_from_spec(kDescScaleOp, {80, 90}));
  gpu_->params_to_record = 1;
  both.enqueue(both.prepare(x_of({300, 200})), unaligned, outs, 0, 0, nullptr);
  ASSERT_EQ(gpu_->launches.size(), 1u);
  EXPECT_EQ(gpu_->launches[0].params.at(0), kDescX + 2);  // the sm_80 variant (from PTX): a plain pointer
  EXPECT_TRUE(gpu_->encodes.empty());
}

// An output descriptor is the engine's output tensor, described the same way.
TEST_F(PluginDescriptorTest, AnOutputDescriptorIsTheOutputTensorWithDenseStrides) {
  spec::Spec s = spec::load_spec(kDescScaleOp);
  ParamInfo& out = s.kernel.params[1];
  ASSERT_EQ(out.name, "out_ptr");
  out.kind = ParamKind::kTensorDesc;
  out.block = {"BM", "BN"};
  s.divisibility_choices.erase("out_ptr");
  PluginCore p = plugin(pack_from_spec(s, {90}));
  EXPECT_TRUE(p.describe().outputs.at(0).descriptor);
  gpu_->params_to_record = 11;
  const PreparedLaunch prepared = p.prepare(x_of({300, 200}));
  const Arg& o = prepared.args()[1];
  ASSERT_EQ(o.kind, Arg::Kind::kDescriptor);
  EXPECT_EQ(std::vector<int64_t>(o.shape, o.shape + o.rank), (std::vector<int64_t>{300, 200}));
  EXPECT_EQ(std::vector<int64_t>(o.strides, o.strides + o.rank), (std::vector<int64_t>{200, 1}));
  const CUdeviceptr ins[] = {kDescX}, outs[] = {kDescOut};
  p.enqueue(prepared, ins, outs, 0, 0, nullptr);
  ASSERT_EQ(gpu_->encodes.size(), 2u);
  EXPECT_EQ(gpu_->encodes[1].address, kDescOut);
  EXPECT_EQ(gpu_->encodes[1].dims, (std::vector<uint64_t>{200, 300}));
  EXPECT_EQ(gpu_->encodes[1].strides_bytes, (std::vector<uint64_t>{400}));
  EXPECT_EQ(gpu_->launches.at(0).params[5], kDescOut);  // out's map, after x's map, shape and strides
  const CUdeviceptr unaligned_out[] = {kDescOut + 8};
  EXPECT_NE(error_of([&] { p.enqueue(prepared, ins, unaligned_out, 0, 0, nullptr); }, ErrorCode::kNoMatchingVariant)
                .find("descriptor 'out_ptr' needs its base aligned to 16 bytes for TMA"),
            std::string::npos);
  EXPECT_EQ(gpu_->launches.size(), 1u);
}

// A tensordesc without dims has no shape an engine could give: the spec reader and the plugin
// core refuse it with the same message, as they do dims that are not one per block dim.
TEST_F(PluginDescriptorTest, ADescriptorWithoutOneDimPerBlockDimIsRefused) {
  std::ifstream file(kDescScaleOp);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string x_dims = "block = [\"BM\", \"BN\"]\ndims = [\"rows\", \"cols\"]\n";
  ASSERT_NE(text.find(x_dims), std::string::npos);
  text.replace(text.find(x_dims), x_dims.size(), "block = [\"BM\", \"BN\"]\n");
  const std::string no_dims = "kernel 'desc_scale_op' as a plugin: tensordesc param 'x_desc' needs dims = [...], one per dim of its block (2)";
  EXPECT_NE(error_of([&] { (void)spec::parse_spec(text, kDescScaleOp); }, ErrorCode::kInvalidSpec).find(no_dims),
            std::string::npos);
  KernelInfo k = spec::load_spec(kDescScaleOp).kernel;
  k.params[0].dims.clear();
  EXPECT_NE(error_of([&] { (void)plugin::build_model(k); }, ErrorCode::kInvalidArgument).find(no_dims), std::string::npos);
  k.params[0].dims = {"rows"};
  EXPECT_NE(error_of([&] { (void)plugin::build_model(k); }, ErrorCode::kInvalidArgument)
                .find("tensordesc param 'x_desc' has 1 dims, its block has 2; a descriptor's rank is its block's"),
            std::string::npos);
}

}  // namespace
}  // namespace tritonpack::testing
