// The TensorRT adapter without TensorRT's builder or a GPU: the harness plays TensorRT's build and
// runtime calls on the fake CUDA driver for the shipped attention (kernels/fmha) and PluginGen's
// FMHA config (tests/plugingen), both packed from their specs without Triton.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "tensorrt_harness.h"
#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt::testing {
namespace {

using nvinfer1::DataType;
using tritonpack::testing::FakeGpu;
using tritonpack::testing::fake_driver;
using tritonpack::testing::pack_from_spec;
using tritonpack::testing::reset_fake_gpu;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class TensorRTPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    context_ = gpu_->make_context(0);
    FakeGpu::set_current(context_);
    set_logger_finder(&finder_);
  }
  void TearDown() override { set_logger_finder(nullptr); }

  static std::shared_ptr<const PackSource> fmha_source() {
    static auto source = PackSource::from_pack(pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/fmha/fmha.toml", {80, 90}),
                                               "fmha.tpack");
    return source;
  }
  static std::shared_ptr<const PackSource> plugingen_source() {
    static auto source = PackSource::from_pack(
        pack_from_spec(TRITONPACK_SOURCE_DIR "/tests/plugingen/fmha_expected.toml", {80, 90}), "fmha_plugingen.tpack");
    return source;
  }
  Creator fmha_creator() { return Creator(fmha_source(), "fmha", fake_driver()); }
  Creator plugingen_creator() { return Creator(plugingen_source(), "fused_attention_kernel", fake_driver()); }

  // Q, K, V of [B, H, S, D]: B, H and S dynamic in the profile, D static.
  static std::vector<InputUse> attention_inputs(DataType t, int64_t d, std::vector<int64_t> lo = {1, 1, 1},
                                                std::vector<int64_t> opt = {2, 4, 200}, std::vector<int64_t> hi = {4, 8, 1024}) {
    const InputUse q{t, {lo[0], lo[1], lo[2], d}, {opt[0], opt[1], opt[2], d}, {hi[0], hi[1], hi[2], d}};
    return {q, q, q};
  }
  static FieldSet fmha_fields(double scale = 0.125) {
    FieldSet f;
    f.f32("sm_scale", static_cast<float>(scale));
    return f;
  }
  static FieldSet plugingen_fields(int32_t heads = 4) {
    FieldSet f;
    f.f32("sm_scale", 0.125f).i32("num_heads", heads);
    return f;
  }
  static Plugin& adapter(nvinfer1::IPluginV3& p) { return static_cast<Plugin&>(p); }

  FakeGpu* gpu_ = nullptr;
  CUcontext context_ = nullptr;
  RecordingLogger logger_;
  TestLoggerFinder finder_{&logger_};
};

TEST_F(TensorRTPluginTest, CreatorsDescribeTheKernelsAsTensorRTFindsThem) {
  Creator fmha = fmha_creator();
  EXPECT_STREQ(fmha.getPluginName(), "tritonpack_fmha");  // the spec's [plugin] name and version
  EXPECT_STREQ(fmha.getPluginVersion(), "1");
  EXPECT_STREQ(fmha.getPluginNamespace(), "tritonpack");
  const nvinfer1::PluginFieldCollection* f = fmha.getFieldNames();
  ASSERT_EQ(f->nbFields, 1);
  EXPECT_STREQ(f->fields[0].name, "sm_scale");
  EXPECT_EQ(f->fields[0].type, nvinfer1::PluginFieldType::kFLOAT32);
  EXPECT_EQ(f->fields[0].length, 1);
  Creator pg = plugingen_creator();
  EXPECT_STREQ(pg.getPluginName(), "fused_attention_kernel");
  EXPECT_STREQ(pg.getPluginVersion(), "0");
  const nvinfer1::PluginFieldCollection* g = pg.getFieldNames();
  ASSERT_EQ(g->nbFields, 2);
  EXPECT_STREQ(g->fields[1].name, "num_heads");
  EXPECT_EQ(g->fields[1].type, nvinfer1::PluginFieldType::kINT32);
}

// The symbolic output shapes, evaluated for concrete shapes, are the core's concrete shapes.
TEST_F(TensorRTPluginTest, SymbolicShapesAgreeWithConcreteShapes) {
  struct Case {
    const char* what;
    bool plugingen;
    DataType type;
  };
  for (const Case c : {Case{"fmha", false, DataType::kHALF}, Case{"fmha bf16", false, DataType::kBF16},
                       Case{"PluginGen FMHA", true, DataType::kHALF}}) {
    Creator creator = c.plugingen ? plugingen_creator() : fmha_creator();
    FieldSet fields = c.plugingen ? plugingen_fields() : fmha_fields();
    Harness harness(creator);
    const auto inputs = attention_inputs(c.type, 64);
    BuildReport r = harness.build("attention", fields, inputs);
    ASSERT_EQ(r.output_dims.size(), c.plugingen ? 3u : 1u) << c.what;
    EXPECT_EQ(r.output_types[0], c.type);
    if (c.plugingen) {
      EXPECT_EQ(r.output_types[1], DataType::kFLOAT);
    }
    const PluginCore& core = adapter(*r.plugin).core();
    for (const std::vector<int64_t>& bhs : std::vector<std::vector<int64_t>>{{1, 1, 1}, {2, 4, 77}, {3, 8, 1000}, {4, 1, 1024}}) {
      const Shape q{bhs[0], bhs[1], bhs[2], 64};
      const std::vector<Shape> want = core.output_shapes(std::vector<Shape>{q, q, q});
      const auto got = r.output_shapes({q, q, q});
      ASSERT_EQ(got.size(), want.size());
      for (size_t o = 0; o < want.size(); ++o) {
        std::string text;
        for (const DimExprNode* d : r.output_dims[o]) text += d->text() + " ";
        EXPECT_EQ(got[o], want[o]) << c.what << " output " << o << ": " << text;
      }
    }
    // The static head size stays a constant; the dynamic dims are expressions of the inputs.
    EXPECT_TRUE(r.output_dims[0][3]->isConstant()) << c.what;
    EXPECT_EQ(r.output_dims[0][3]->getConstantValue(), 64);
    EXPECT_FALSE(r.output_dims[0][2]->isConstant());
  }
  // A fully static network: every output dim is a constant TensorRT can fold.
  Creator creator = plugingen_creator();
  FieldSet fields = plugingen_fields();
  Harness harness(creator);
  const auto inputs = attention_inputs(DataType::kHALF, 64, {2, 3, 50}, {2, 3, 50}, {2, 3, 50});
  BuildReport r = harness.build("static", fields, inputs);
  for (const auto& dims : r.output_dims) {
    for (const DimExprNode* d : dims) EXPECT_TRUE(d->isConstant()) << d->text();
  }
  EXPECT_EQ(r.output_dims[1][2]->getConstantValue(), 50);
}

TEST_F(TensorRTPluginTest, FormatCombinationsAreTheCompiledDtypesInLinearFormat) {
  Creator fmha = fmha_creator();
  FieldSet fields = fmha_fields();
  Harness harness(fmha);
  BuildReport r = harness.build("fmha", fields, attention_inputs(DataType::kHALF, 64));
  using C = std::vector<DataType>;
  EXPECT_EQ(r.combinations, (std::vector<C>{C(4, DataType::kHALF), C(4, DataType::kBF16)}));
  EXPECT_FALSE(r.accepted_non_linear);
  Creator pg = plugingen_creator();
  FieldSet pg_fields = plugingen_fields();
  Harness pg_harness(pg);
  BuildReport p = pg_harness.build("pg", pg_fields, attention_inputs(DataType::kHALF, 64));
  EXPECT_EQ(p.combinations, (std::vector<C>{{DataType::kHALF, DataType::kHALF, DataType::kHALF, DataType::kHALF,
                                             DataType::kFLOAT, DataType::kFLOAT}}));
}

TEST_F(TensorRTPluginTest, WorkspaceTacticsAndTimingRunsFollowThePack) {
  Creator fmha = fmha_creator();
  FieldSet fields = fmha_fields();
  Harness harness(fmha, fake_driver());
  BuildReport r = harness.build("fmha", fields, attention_inputs(DataType::kBF16, 128));
  // L and M: fp32 [B * H, S] at the profile's max (4 x 8 x 1024), each 256-byte aligned.
  EXPECT_EQ(r.workspace, 2u * 4 * 8 * 1024 * 4);
  EXPECT_EQ(r.tactics, (std::vector<int32_t>{1, 2}));  // the configs m64n64, m128n128
  EXPECT_EQ(r.timing_runs, 2u);
  ASSERT_EQ(gpu_->launches.size(), 2u);  // one timing launch per tactic, at the opt shapes
  EXPECT_EQ(gpu_->launches[0].grid[0], 200u / 64 + 1);   // seq_len /// BLOCK_M, m64n64
  EXPECT_EQ(gpu_->launches[1].grid[0], 200u / 128 + 1);  // m128n128
  EXPECT_EQ(gpu_->launches[0].grid[1], 2u * 4);           // batch_size * num_heads
  EXPECT_TRUE(contains(r.timing_cache_id, fmha.source().sha256)) << r.timing_cache_id;
  EXPECT_TRUE(contains(r.timing_cache_id, "sm_scale=0.125")) << r.timing_cache_id;
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();

  Creator pg = plugingen_creator();
  FieldSet pg_fields = plugingen_fields();
  Harness pg_harness(pg, fake_driver());
  BuildReport p = pg_harness.build("pg", pg_fields, attention_inputs(DataType::kHALF, 64));
  EXPECT_EQ(p.workspace, 0u);
  EXPECT_EQ(p.tactics, (std::vector<int32_t>{1}));
}

// An engine's runtime: deserialize, attach to a context, set the tactic, shapes, enqueue.
TEST_F(TensorRTPluginTest, RuntimePhaseLaunchesWithScratchInTheWorkspace) {
  Creator fmha = fmha_creator();
  FieldSet fields = fmha_fields(0.25);
  Harness harness(fmha);
  BuildReport r = harness.build("fmha", fields, attention_inputs(DataType::kHALF, 64));
  auto engine = harness.deserialize(r.serialized);
  ASSERT_TRUE(engine) << logger_.all_errors();
  RecordingErrorRecorder recorder;
  ResourceContext context(&recorder);
  auto plugin = Harness::attach(*engine, context);
  ASSERT_TRUE(plugin);
  EXPECT_EQ(adapter(*plugin).error_recorder(), &recorder);
  EXPECT_EQ(adapter(*plugin).granted_workspace(), std::optional<size_t>(r.workspace));
  ASSERT_EQ(Harness::set_tactic(*plugin, 2), 0);

  gpu_->params_to_record = 10;
  const std::vector<std::vector<int64_t>> shapes(3, {2, 3, 100, 64});
  const DataType half[] = {DataType::kHALF, DataType::kHALF, DataType::kHALF};
  const auto in = Harness::descs(half, shapes);
  const auto out = Harness::descs(std::span(half, 1), r.output_shapes(shapes));
  ASSERT_EQ(Harness::shape_change(*plugin, in, out), 0) << logger_.all_errors();
  const CUdeviceptr base = 0x7100'0000'0000ull, ws = base + 0x400000;
  const std::vector<CUdeviceptr> ins{base, base + 0x100000, base + 0x200000}, outs{base + 0x300000};
  const auto stream = reinterpret_cast<CUstream>(0x77);
  ASSERT_EQ(Harness::enqueue(*plugin, in, out, ins, outs, ws, stream), 0) << logger_.all_errors();
  EXPECT_TRUE(adapter(*plugin).last_enqueue_was_prepared());
  ASSERT_EQ(gpu_->launches.size(), 1u);
  const auto& l = gpu_->launches[0];
  EXPECT_EQ(l.grid[0], 1u);  // 100 /// 128 (tactic 2: m128n128)
  EXPECT_EQ(l.grid[1], 6u);
  EXPECT_EQ(l.stream, stream);
  EXPECT_EQ(l.params[0], outs[0]);
  EXPECT_EQ(l.params[1], ws);         // L at the workspace's start
  EXPECT_EQ(l.params[2], ws + 2560);  // M after L (6 x 100 fp32 rounded up to 256)
  EXPECT_EQ(l.params[3], ins[0]);
  float scale;
  const uint32_t bits = static_cast<uint32_t>(l.params[6]);
  std::memcpy(&scale, &bits, 4);
  EXPECT_EQ(scale, 0.25f);  // the attribute, through serialization

  // The same shapes again: the prepared launch serves.
  ASSERT_EQ(Harness::enqueue(*plugin, in, out, ins, outs, ws, stream), 0);
  EXPECT_TRUE(adapter(*plugin).last_enqueue_was_prepared());
  // Other shapes without onShapeChange: prepared again in enqueue, and launched right.
  const std::vector<std::vector<int64_t>> longer(3, {2, 3, 300, 64});
  const auto in2 = Harness::descs(half, longer);
  const auto out2 = Harness::descs(std::span(half, 1), r.output_shapes(longer));
  ASSERT_EQ(Harness::enqueue(*plugin, in2, out2, ins, outs, ws, stream), 0) << logger_.all_errors();
  EXPECT_FALSE(adapter(*plugin).last_enqueue_was_prepared());
  ASSERT_EQ(gpu_->launches.size(), 3u);
  EXPECT_EQ(gpu_->launches[2].grid[0], 3u);  // 300 /// 128
  EXPECT_EQ(recorder.getNbErrors(), 0);
}

TEST_F(TensorRTPluginTest, RefusalsReachTheRecorderAndTheLoggerAndLaunchNothing) {
  Creator fmha = fmha_creator();
  FieldSet fields = fmha_fields();
  Harness harness(fmha);
  BuildReport r = harness.build("fmha", fields, attention_inputs(DataType::kHALF, 64));
  auto engine = harness.deserialize(r.serialized);
  ASSERT_TRUE(engine);
  RecordingErrorRecorder recorder;
  ResourceContext context(&recorder);
  auto plugin = Harness::attach(*engine, context);
  const DataType half[] = {DataType::kHALF, DataType::kHALF, DataType::kHALF};
  const std::vector<std::vector<int64_t>> shapes(3, {2, 3, 100, 64});
  const auto in = Harness::descs(half, shapes);
  auto out = Harness::descs(std::span(half, 1), r.output_shapes(shapes));
  const std::vector<CUdeviceptr> ins{0x10000, 0x20000, 0x30000}, outs{0x40000};
  const auto refused = [&](int32_t status, const std::string& message) {
    EXPECT_NE(status, 0) << message;
    EXPECT_TRUE(contains(logger_.all_errors(), message)) << "wanted: " << message << "\nlogged: " << logger_.all_errors();
    logger_.clear();
  };

  // The output TensorRT allocated is not what the kernel writes.
  out[0].dims.d[3] = 32;
  refused(Harness::shape_change(*plugin, in, out), "output 'Out' is fp16 [2, 3, 100, 32], the kernel writes fp16 [2, 3, 100, 64]");
  refused(Harness::enqueue(*plugin, in, out, ins, outs, 0x50000, nullptr),
          "output 'Out' is kHALF [2, 3, 100, 32], the kernel writes fp16 [2, 3, 100, 64]");
  out[0].dims.d[3] = 64;
  // Shapes needing more workspace than the engine was built with (beyond the profile's max).
  const std::vector<std::vector<int64_t>> huge(3, {4, 8, 4096, 64});
  refused(Harness::shape_change(*plugin, Harness::descs(half, huge), Harness::descs(std::span(half, 1), r.output_shapes(huge))),
          "need 1048576 bytes of workspace; the engine was built with 262144");
  // A head size no variant was compiled for: the reason, never a silent skip (seed 01, issue 1).
  const std::vector<std::vector<int64_t>> d96(3, {2, 3, 100, 96});
  refused(Harness::shape_change(*plugin, Harness::descs(half, d96), Harness::descs(std::span(half, 1), r.output_shapes(d96))),
          "onShapeChange: no variant of kernel 'fmha' in pack");
  EXPECT_EQ(recorder.getErrorCode(3), nvinfer1::ErrorCode::kUNSUPPORTED_STATE);
  // The runtime's explanation, every variant with its reason, reaches the logger whole.
  refused(Harness::shape_change(*plugin, Harness::descs(half, d96), Harness::descs(std::span(half, 1), r.output_shapes(d96))),
          "rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=128");
  // Every refusal also reached the execution context's recorder, shortened to what it keeps.
  ASSERT_EQ(recorder.getNbErrors(), 5);
  for (int32_t i = 0; i < recorder.getNbErrors(); ++i) {
    EXPECT_LE(std::strlen(recorder.getErrorDesc(i)), nvinfer1::IErrorRecorder::kMAX_DESC_LENGTH);
  }
  EXPECT_TRUE(gpu_->launches.empty());

  // Build-phase refusals: a dtype the kernel was not compiled for, a profile reaching D = 96.
  auto* build = static_cast<nvinfer1::IPluginV3OneBuild*>(r.plugin->getCapabilityInterface(nvinfer1::PluginCapabilityType::kBUILD));
  DataType types[1];
  const DataType floats[] = {DataType::kFLOAT, DataType::kFLOAT, DataType::kFLOAT};
  refused(build->getOutputDataTypes(types, 1, floats, 3), "input 'Q' is fp32; kernel 'fmha' takes fp16, bf16 there");
  const DataType int4s[] = {DataType::kINT4, DataType::kINT4, DataType::kINT4};
  refused(build->getOutputDataTypes(types, 1, int4s, 3), "input 'Q' is kINT4, which no tritonpack dtype represents");
  FieldSet more = fmha_fields();
  EXPECT_THROW((void)harness.build("fmha", more, attention_inputs(DataType::kHALF, 96)), HarnessError);
  EXPECT_TRUE(contains(logger_.all_errors(), "configurePlugin: no variant of kernel 'fmha' in pack")) << logger_.all_errors();
}

// A tensordesc input (tests/kernels/desc_scale/desc_scale_op.toml, TMA variants only) is a plain
// tensor to TensorRT: built, shaped and launched with its map; a base TMA cannot take is refused
// with the runtime's reason, on the logger and the recorder, and nothing launches.
TEST_F(TensorRTPluginTest, ADescriptorInputIsATensorAndWhatTmaCannotTakeIsRefusedWithTheReason) {
  auto source = PackSource::from_pack(
      pack_from_spec(TRITONPACK_SOURCE_DIR "/tests/kernels/desc_scale/desc_scale_op.toml", {90}), "desc_scale_op.tpack");
  Creator creator(source, "desc_scale_op", fake_driver());
  FieldSet fields;
  fields.f32("scale", 0.5f);
  Harness harness(creator);
  const InputUse x{DataType::kHALF, {1, 64}, {300, 200}, {1024, 1024}};
  BuildReport r = harness.build("desc_scale_op", fields, std::vector<InputUse>{x});
  using C = std::vector<DataType>;
  EXPECT_EQ(r.combinations, (std::vector<C>{C(2, DataType::kFLOAT), C(2, DataType::kHALF)}));
  EXPECT_EQ(r.output_shapes({{300, 200}}), (std::vector<std::vector<int64_t>>{{300, 200}}));

  auto engine = harness.deserialize(r.serialized);
  ASSERT_TRUE(engine) << logger_.all_errors();
  RecordingErrorRecorder recorder;
  ResourceContext context(&recorder);
  auto plugin = Harness::attach(*engine, context);
  ASSERT_TRUE(plugin);
  gpu_->params_to_record = 6;
  const DataType half[] = {DataType::kHALF};
  const std::vector<std::vector<int64_t>> shapes{{300, 200}};
  const auto in = Harness::descs(half, shapes), out = Harness::descs(half, shapes);
  ASSERT_EQ(Harness::shape_change(*plugin, in, out), 0) << logger_.all_errors();
  const CUdeviceptr base = 0x7500'0000'0000ull;  // an address no other test encodes (maps are cached per thread)
  const std::vector<CUdeviceptr> ins{base}, outs{base + 0x100000};
  ASSERT_EQ(Harness::enqueue(*plugin, in, out, ins, outs, 0, nullptr), 0) << logger_.all_errors();
  ASSERT_EQ(gpu_->encodes.size(), 1u);
  EXPECT_EQ(gpu_->encodes[0].address, base);
  EXPECT_EQ(gpu_->encodes[0].dims, (std::vector<uint64_t>{200, 300}));
  EXPECT_EQ(gpu_->encodes[0].strides_bytes, (std::vector<uint64_t>{400}));
  ASSERT_EQ(gpu_->launches.size(), 1u);
  EXPECT_EQ(gpu_->launches[0].params[3], 200u);  // the row stride, after the map and the shape
  EXPECT_EQ(gpu_->launches[0].params[5], outs[0]);

  const std::vector<CUdeviceptr> unaligned{base + 2};
  EXPECT_NE(Harness::enqueue(*plugin, in, out, unaligned, outs, 0, nullptr), 0);
  EXPECT_TRUE(contains(logger_.all_errors(), "descriptor 'x_desc' needs its base aligned to 16 bytes for TMA, got 0x750000000002"))
      << logger_.all_errors();
  EXPECT_EQ(recorder.getNbErrors(), 1);
  EXPECT_EQ(gpu_->launches.size(), 1u);
}

// A dtype field (kernels/attention/attention_fp8_vt.toml: O of TO, which no input binds): an
// int32 field holding the DType code after the kernel's fields; it decides the output type, the
// format combinations and the serialized fields.
TEST_F(TensorRTPluginTest, ADtypeFieldChoosesTheOutputTypeAndIsAnInt32Field) {
  auto source = PackSource::from_pack(
      pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/attention/attention_fp8_vt.toml", {90}), "attention_fp8_vt.tpack");
  Creator creator(source, "attention_fp8_vt", fake_driver());
  const nvinfer1::PluginFieldCollection* names = creator.getFieldNames();
  ASSERT_EQ(names->nbFields, 3);
  EXPECT_STREQ(names->fields[2].name, "TO");
  EXPECT_EQ(names->fields[2].type, nvinfer1::PluginFieldType::kINT32);
  // Q, K [B, H, S, 64] and V^T [B, H, 64, S] in e4m3.
  const InputUse q{DataType::kFP8, {1, 1, 1, 64}, {2, 4, 256, 64}, {4, 8, 1024, 64}};
  const InputUse vt{DataType::kFP8, {1, 1, 64, 1}, {2, 4, 64, 256}, {4, 8, 64, 1024}};
  const std::vector<InputUse> inputs{q, q, vt};
  using C = std::vector<DataType>;
  for (const auto& [code, out] : {std::pair{0, DataType::kHALF}, std::pair{1, DataType::kBF16}}) {
    SCOPED_TRACE(code);
    FieldSet fields;
    fields.f32("sm_scale", 0.125f).i32("causal", 1).i32("TO", code);
    Harness harness(creator);
    BuildReport r = harness.build("attention_fp8_vt", fields, inputs);
    EXPECT_EQ(r.output_types, (C{out, DataType::kFLOAT}));
    EXPECT_EQ(r.combinations, (std::vector<C>{C{DataType::kFP8, DataType::kFP8, DataType::kFP8, out, DataType::kFLOAT}}));
    auto engine = harness.deserialize(r.serialized);
    ASSERT_TRUE(engine) << logger_.all_errors();
    auto* build = static_cast<nvinfer1::IPluginV3OneBuild*>(engine->getCapabilityInterface(nvinfer1::PluginCapabilityType::kBUILD));
    ASSERT_NE(build, nullptr);
    const DataType fp8s[] = {DataType::kFP8, DataType::kFP8, DataType::kFP8};
    DataType types[2] = {};
    ASSERT_EQ(build->getOutputDataTypes(types, 2, fp8s, 3), 0) << logger_.all_errors();
    EXPECT_EQ(types[0], out) << "the serialized plugin keeps TO";
    EXPECT_EQ(types[1], DataType::kFLOAT);
  }
  // The default (fp16) when left out; a dtype the pack was not compiled for, refused.
  FieldSet defaults;
  defaults.f32("sm_scale", 0.125f).i32("causal", 0);
  Harness harness(creator);
  EXPECT_EQ(harness.build("attention_fp8_vt", defaults, inputs).output_types, (C{DataType::kHALF, DataType::kFLOAT}));
  logger_.clear();
  FieldSet fp32;
  fp32.f32("sm_scale", 0.125f).i32("causal", 0).i32("TO", 2);
  EXPECT_EQ(creator.createPlugin("node", fp32.collection(), nvinfer1::TensorRTPhase::kBUILD), nullptr);
  EXPECT_TRUE(contains(logger_.all_errors(), "dtype field 'TO' of plugin 'tritonpack_attention_fp8_vt' is fp32 (2), "
                                             "not one of its dtypes: fp16 (0), bf16 (1)"))
      << logger_.all_errors();
  logger_.clear();
  FieldSet named;  // the dtype's name instead of its code
  named.f32("sm_scale", 0.125f).i32("causal", 0).text("TO", "bf16");
  EXPECT_EQ(creator.createPlugin("node", named.collection(), nvinfer1::TensorRTPhase::kBUILD), nullptr);
  EXPECT_TRUE(contains(logger_.all_errors(), "field 'TO' is kCHAR; a kernel field takes a number")) << logger_.all_errors();
  EXPECT_TRUE(contains(logger_.all_errors(), "; dtype field 'TO' takes the code of one of its dtypes: fp16 0, bf16 1"))
      << logger_.all_errors();
}

TEST_F(TensorRTPluginTest, BuildPhaseFieldsAcceptAnyExactNumberAndRefuseTheRest) {
  Creator pg = plugingen_creator();
  const auto made = [&](FieldSet f) {
    std::unique_ptr<nvinfer1::IPluginV3> p(pg.createPlugin("node", f.collection(), nvinfer1::TensorRTPhase::kBUILD));
    return p != nullptr;
  };
  const auto refused = [&](FieldSet f, const std::string& message) {
    logger_.clear();
    EXPECT_FALSE(made(std::move(f))) << message;
    EXPECT_TRUE(contains(logger_.all_errors(), message)) << "wanted: " << message << "\nlogged: " << logger_.all_errors();
    EXPECT_TRUE(contains(logger_.all_errors(), "createPlugin('node', kBUILD)")) << logger_.all_errors();
  };
  // As ONNX attributes arrive: floats as kFLOAT32 or kFLOAT64, integers as kINT32 or kINT64, and
  // an integral float for an integer field.
  EXPECT_TRUE(made(FieldSet().f32("sm_scale", 0.125f).i32("num_heads", 4)));
  EXPECT_TRUE(made(FieldSet().f64("sm_scale", 0.125).i64("num_heads", 4)));
  EXPECT_TRUE(made(FieldSet().f32("sm_scale", 0.125f).f32("num_heads", 4.0f)));
  const uint16_t half_eighth = 0x3000;  // 0.125 in IEEE half
  EXPECT_TRUE(made(FieldSet().add("sm_scale", nvinfer1::PluginFieldType::kFLOAT16, &half_eighth, 1, 2).i32("num_heads", 4)));
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();

  refused(FieldSet().f32("sm_scale", 0.125f).i32("num_heads", 4).i32("heads", 4),
          "plugin 'fused_attention_kernel' has no field 'heads' (fields: sm_scale, num_heads)");
  refused(FieldSet().f32("sm_scale", 0.125f), "plugin 'fused_attention_kernel' needs field 'num_heads' (i32), which has no default");
  refused(FieldSet().f32("sm_scale", 0.125f).f32("num_heads", 2.5f), "field 'num_heads' of plugin 'fused_attention_kernel' is 2.500000, not a finite i32");
  refused(FieldSet().f32("sm_scale", 0.125f).i64("num_heads", int64_t{1} << 40), "not a finite i32");
  refused(FieldSet().text("sm_scale", "0.125").i32("num_heads", 4),
          "field 'sm_scale' is kCHAR; a kernel field takes a number");
  const float two[] = {0.125f, 0.25f};
  refused(FieldSet().add("sm_scale", nvinfer1::PluginFieldType::kFLOAT32, two, 2, 8).i32("num_heads", 4),
          "field 'sm_scale' has 2 values (kFLOAT32); a kernel field takes exactly one");
  refused(FieldSet().f32("sm_scale", 0.125f).i32("num_heads", 4).i32("num_heads", 8), "field 'num_heads' is given twice");
  // A field with a default may be left out (tritonpack's own spec: sm_scale has none, so not here).
  Creator fmha = fmha_creator();
  FieldSet empty;
  EXPECT_EQ(fmha.createPlugin("n", empty.collection(), nvinfer1::TensorRTPhase::kBUILD), nullptr);
  EXPECT_TRUE(contains(logger_.all_errors(), "needs field 'sm_scale' (fp32), which has no default"));
}

TEST_F(TensorRTPluginTest, SerializedFieldsNameThePackAndRefuseAnother) {
  Creator pg = plugingen_creator();
  FieldSet fields = plugingen_fields(8);
  Harness harness(pg);
  BuildReport r = harness.build("pg", fields, attention_inputs(DataType::kHALF, 64));
  FieldSet& s = r.serialized;
  ASSERT_TRUE(s.find(serial::kPackSha256));
  EXPECT_EQ(std::string(s.find(serial::kPackSha256)->data.begin(), s.find(serial::kPackSha256)->data.end()), pg.source().sha256);
  EXPECT_EQ(std::string(s.find(serial::kKernel)->data.begin(), s.find(serial::kKernel)->data.end()), "fused_attention_kernel");
  ASSERT_TRUE(s.find("num_heads"));
  EXPECT_EQ(s.find("num_heads")->type, nvinfer1::PluginFieldType::kFLOAT64);
  double heads;
  std::memcpy(&heads, s.find("num_heads")->data.data(), 8);
  EXPECT_EQ(heads, 8.0);

  // Round trip: the deserialized plugin serializes to the same fields.
  auto engine = harness.deserialize(s);
  ASSERT_TRUE(engine) << logger_.all_errors();
  auto* runtime = static_cast<nvinfer1::IPluginV3OneRuntime*>(engine->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
  FieldSet again = FieldSet::copy_of(*runtime->getFieldsToSerialize());
  ASSERT_EQ(again.fields().size(), s.fields().size());
  for (size_t i = 0; i < s.fields().size(); ++i) {
    EXPECT_EQ(again.fields()[i].name, s.fields()[i].name);
    EXPECT_EQ(again.fields()[i].data, s.fields()[i].data) << s.fields()[i].name;
  }

  const auto refused = [&](Creator& creator, FieldSet f, const std::string& message) {
    logger_.clear();
    std::unique_ptr<nvinfer1::IPluginV3> p(creator.createPlugin("engine", f.collection(), nvinfer1::TensorRTPhase::kRUNTIME));
    EXPECT_EQ(p, nullptr) << message;
    EXPECT_TRUE(contains(logger_.all_errors(), message)) << "wanted: " << message << "\nlogged: " << logger_.all_errors();
  };
  // The same plugin name served from a pack with other bytes: refused, naming both hashes.
  auto other_bytes = pg.source().pack->manifest();
  other_bytes.created_by = "another build";
  std::vector<std::vector<uint8_t>> blobs;
  for (size_t b = 0; b < other_bytes.blobs.size(); ++b) {
    const auto bytes = pg.source().pack->blob(static_cast<int32_t>(b));
    blobs.emplace_back(bytes.begin(), bytes.end());
  }
  auto other = PackSource::from_pack(Pack::from_bytes(serialize_pack(other_bytes, blobs)), "other.tpack");
  Creator other_creator(other, "fused_attention_kernel", fake_driver());
  refused(other_creator, s,
          "the engine was built with kernel 'fused_attention_kernel' of the pack with sha256 " + pg.source().sha256 +
              "; this plugin library serves kernel 'fused_attention_kernel' of other.tpack (sha256 " + other->sha256 + ")");
  refused(pg, s.without(serial::kPackSha256), "has no field 'tritonpack.pack_sha256': the engine was not built with a tritonpack plugin library");
  FieldSet format2 = s;
  const int32_t two = 2;
  std::memcpy(format2.find(serial::kFormat)->data.data(), &two, 4);
  refused(pg, format2, "the serialized plugin has format 2; this plugin library reads format 1");
  FieldSet as_f32 = s.without("sm_scale");
  as_f32.f32("sm_scale", 0.125f);
  refused(pg, as_f32, "serialized field 'sm_scale' is kFLOAT32 with 1 values, expected one kFLOAT64");
  FieldSet tactic9 = s;
  const int32_t nine = 9;
  std::memcpy(tactic9.find(serial::kTactic)->data.data(), &nine, 4);
  refused(pg, tactic9, "has tactics 1..1 (0 = any), got 9");
}

// Seed 01's known issues 2-4 (issue 1, a missing dispatcher branch, is the D = 96 refusal above).
TEST_F(TensorRTPluginTest, SharedMemoryBeyondTheDeviceIsRefusedNotLaunched) {
  Manifest m = fmha_source()->pack->manifest();
  for (VariantInfo& v : m.kernels[0].variants) v.shared = 300000;  // more than any GPU's opt-in
  std::vector<std::vector<uint8_t>> blobs;
  for (size_t b = 0; b < m.blobs.size(); ++b) {
    const auto bytes = fmha_source()->pack->blob(static_cast<int32_t>(b));
    blobs.emplace_back(bytes.begin(), bytes.end());
  }
  Creator creator(PackSource::from_pack(Pack::from_bytes(serialize_pack(m, blobs)), "big.tpack"), "fmha", fake_driver());
  FieldSet fields = fmha_fields();
  Harness harness(creator, fake_driver());
  // The build stops at the first question, with the reason rather than "no format combination".
  EXPECT_THROW((void)harness.build("big", fields, attention_inputs(DataType::kHALF, 64)), HarnessError);
  EXPECT_TRUE(contains(logger_.all_errors(), "getOutputDataTypes: no variant of kernel 'fmha' compiled for inputs fp16, fp16, "
                                             "fp16 can run on this device"))
      << logger_.all_errors();
  // configurePlugin, asked anyway, gives the runtime's reason for each variant.
  std::unique_ptr<nvinfer1::IPluginV3> plugin(creator.createPlugin("big", fields.collection(), nvinfer1::TensorRTPhase::kBUILD));
  ASSERT_TRUE(plugin);
  auto* build = static_cast<nvinfer1::IPluginV3OneBuild*>(plugin->getCapabilityInterface(nvinfer1::PluginCapabilityType::kBUILD));
  std::vector<nvinfer1::DynamicPluginTensorDesc> in(3), out(1);
  for (auto& t : in) {
    t.desc = {{4, {1, 2, 64, 64}}, DataType::kHALF, nvinfer1::TensorFormat::kLINEAR, -1.0f};
    t.min = t.max = t.opt = t.desc.dims;
  }
  out[0] = in[0];
  logger_.clear();
  EXPECT_NE(build->configurePlugin(in.data(), 3, out.data(), 1), 0);
  EXPECT_TRUE(contains(logger_.all_errors(), "needs 300000 bytes of shared memory, the sm_90 device allows 232448"))
      << logger_.all_errors();
  EXPECT_TRUE(gpu_->launches.empty());
}

namespace unload_count {
int loads = 0, unloads = 0, failed_unloads = 0;
decltype(&::cuModuleLoadDataEx) real_load = nullptr;
decltype(&::cuModuleUnload) real_unload = nullptr;
CUresult load(CUmodule* m, const void* image, unsigned n, CUjit_option* o, void** v) {
  const CUresult r = real_load(m, image, n, o, v);
  loads += r == CUDA_SUCCESS;
  return r;
}
CUresult unload(CUmodule m) {
  const CUresult r = real_unload(m);
  ++unloads;
  failed_unloads += r != CUDA_SUCCESS;
  return r;
}
}  // namespace unload_count

TEST_F(TensorRTPluginTest, ThePluginUsedTwiceClonedAndDestroyedInAnyOrderUnloadsEachModuleOnce) {
  driver::DriverApi api = fake_driver()->api();
  unload_count::real_load = api.cuModuleLoadDataEx;
  unload_count::real_unload = api.cuModuleUnload;
  api.cuModuleLoadDataEx = &unload_count::load;
  api.cuModuleUnload = &unload_count::unload;
  auto counting = driver::Driver::from_table(api);
  Creator creator(fmha_source(), "fmha", counting);
  const DataType half[] = {DataType::kHALF, DataType::kHALF, DataType::kHALF};
  const std::vector<std::vector<int64_t>> shapes(3, {1, 2, 64, 64});
  std::vector<int> order(5);
  std::iota(order.begin(), order.end(), 0);
  size_t rounds = 0;
  do {
    unload_count::loads = unload_count::unloads = unload_count::failed_unloads = 0;
    {
      // Two nodes of one network, an engine plugin per node, a clone and a context's copy.
      FieldSet f1 = fmha_fields(), f2 = fmha_fields(0.5);
      Harness harness(creator);
      BuildReport a = harness.build("first", f1, attention_inputs(DataType::kHALF, 64));
      BuildReport b = harness.build("second", f2, attention_inputs(DataType::kHALF, 64));
      std::vector<std::unique_ptr<nvinfer1::IPluginV3>> plugins;
      plugins.push_back(std::move(a.plugin));
      plugins.push_back(std::move(b.plugin));
      plugins.push_back(harness.deserialize(a.serialized));
      plugins.push_back(std::unique_ptr<nvinfer1::IPluginV3>(plugins[2]->clone()));
      RecordingErrorRecorder recorder;
      ResourceContext context(&recorder);
      plugins.push_back(Harness::attach(*plugins[3], context));
      const auto out = Harness::descs(std::span(half, 1), a.output_shapes(shapes));
      const std::vector<CUdeviceptr> ins{0x10000, 0x20000, 0x30000}, outs{0x40000};
      for (auto& p : plugins) {
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(Harness::shape_change(*p, Harness::descs(half, shapes), out), 0) << logger_.all_errors();
        ASSERT_EQ(Harness::enqueue(*p, Harness::descs(half, shapes), out, ins, outs, 0x100000, nullptr), 0) << logger_.all_errors();
      }
      for (int i : order) plugins[static_cast<size_t>(i)].reset();
    }
    EXPECT_EQ(unload_count::failed_unloads, 0);
    EXPECT_EQ(unload_count::unloads, unload_count::loads);
    EXPECT_EQ(gpu_->live_modules(), 0u);
    ++rounds;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(rounds, 120u);
  EXPECT_GE(unload_count::loads, 5);  // each plugin has its own module cache
}

TEST_F(TensorRTPluginTest, ModulesLoadInTheContextThatEnqueues) {
  Creator fmha = fmha_creator();
  FieldSet fields = fmha_fields();
  Harness harness(fmha);
  BuildReport r = harness.build("fmha", fields, attention_inputs(DataType::kHALF, 64));
  auto plugin = harness.deserialize(r.serialized);
  const DataType half[] = {DataType::kHALF, DataType::kHALF, DataType::kHALF};
  const std::vector<std::vector<int64_t>> shapes(3, {1, 2, 64, 64});
  const auto in = Harness::descs(half, shapes);
  const auto out = Harness::descs(std::span(half, 1), r.output_shapes(shapes));
  const std::vector<CUdeviceptr> ins{0x10000, 0x20000, 0x30000}, outs{0x40000};
  const CUcontext second = gpu_->make_context(1);  // device 1: sm_80
  ASSERT_EQ(Harness::shape_change(*plugin, in, out), 0);
  for (CUcontext c : {second, context_, second}) {
    FakeGpu::set_current(c);
    ASSERT_EQ(Harness::enqueue(*plugin, in, out, ins, outs, 0x100000, nullptr), 0) << logger_.all_errors();
    EXPECT_EQ(gpu_->launches.back().context, c);
  }
  size_t in_second = 0, in_first = 0;
  for (const auto& [module, info] : gpu_->modules) (info.context == second ? in_second : in_first)++;
  EXPECT_EQ(in_second, 1u);  // loaded once on device 1, once on device 0
  EXPECT_EQ(in_first, 1u);
}

TEST_F(TensorRTPluginTest, CreatorSetsServeEachPluginOnceAndSayWhatTheyLeaveOut) {
  auto other_manifest = fmha_source()->pack->manifest();
  other_manifest.created_by = "another build";
  std::vector<std::vector<uint8_t>> blobs;
  for (size_t b = 0; b < other_manifest.blobs.size(); ++b) {
    const auto bytes = fmha_source()->pack->blob(static_cast<int32_t>(b));
    blobs.emplace_back(bytes.begin(), bytes.end());
  }
  auto other = PackSource::from_pack(Pack::from_bytes(serialize_pack(other_manifest, blobs)), "other.tpack");
  auto vector_add = PackSource::from_pack(pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/vector_add/vector_add.toml", {90}),
                                          "vector_add.tpack");
  const std::vector<std::shared_ptr<const PackSource>> sources{fmha_source(), plugingen_source(), other, vector_add,
                                                               plugingen_source()};
  CreatorSet set = CreatorSet::from_sources(sources, fake_driver());
  ASSERT_EQ(set.creators().size(), 1u);  // only PluginGen's; tritonpack_fmha is ambiguous
  EXPECT_STREQ(set.creators()[0]->getPluginName(), "fused_attention_kernel");
  EXPECT_EQ(set.interfaces().size(), 1u);
  EXPECT_TRUE(contains(logger_.all_errors(),
                       "plugin 'tritonpack_fmha' version '1' namespace 'tritonpack' is defined 2 times (kernel 'fmha' of "
                       "fmha.tpack, kernel 'fmha' of other.tpack); none of them is served"))
      << logger_.all_errors();
  std::string warnings;
  for (const std::string& w : logger_.warnings()) warnings += w + "\n";
  EXPECT_TRUE(contains(warnings, "kernel 'vector_add' of vector_add.tpack is not served as a plugin: kernel 'vector_add' as a "
                                 "plugin: scalar 'n_elements' gets no value"))
      << warnings;
  EXPECT_TRUE(contains(warnings, "fmha_plugingen.tpack is the same pack")) << warnings;

  logger_.clear();
  const std::vector<std::string> paths{"/nonexistent/a.tpack", TRITONPACK_TENSORRT_TEST_PACKS "/corrupt.tpack",
                                       TRITONPACK_TENSORRT_TEST_PACKS "/fmha_plugingen.tpack"};
  CreatorSet from_files = CreatorSet::from_paths(paths, fake_driver());
  EXPECT_EQ(from_files.creators().size(), 1u);
  EXPECT_TRUE(contains(logger_.all_errors(), "cannot serve the pack '/nonexistent/a.tpack': cannot open pack")) << logger_.all_errors();
  // A corrupt blob (opening alone would not find it) leaves its pack out when the library loads.
  EXPECT_TRUE(contains(logger_.all_errors(), "cannot serve the pack '" TRITONPACK_TENSORRT_TEST_PACKS
                                             "/corrupt.tpack': corrupt pack '" TRITONPACK_TENSORRT_TEST_PACKS
                                             "/corrupt.tpack': blobs["))
      << logger_.all_errors();
  EXPECT_TRUE(contains(logger_.all_errors(), "]: hash mismatch: the manifest says ")) << logger_.all_errors();
  EXPECT_EQ(from_files.problems().size(), 2u);
  EXPECT_EQ(split_pack_list("a.tpack::b.tpack:"), (std::vector<std::string>{"a.tpack", "b.tpack"}));
}

}  // namespace
}  // namespace tritonpack::tensorrt::testing
