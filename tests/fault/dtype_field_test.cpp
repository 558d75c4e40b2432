// Dtype fields, on the fake driver: a type variable that no input binds (the shipped FP8 attention,
// kernels/attention/attention_fp8_vt.toml: Q, K, V of T in {fp8e4nv, fp8e5}, O of TO in {fp16,
// bf16}) becomes a plugin field named after it. Its value, static_cast<double>(DType), chooses the
// output dtype and so the variants; the spec's first dtype is its default. The plugin core, the
// serialized plugin, gen-cpp and `tritonpack shapes` all take it; a value outside its dtypes is
// refused with the ones it takes.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error_of.h"
#include "compiler/gen_cpp.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "tritonpack/plugin.h"
#include "tritonpack/spec.h"

namespace tritonpack::testing {
namespace {

const char* const kSpec = TRITONPACK_SOURCE_DIR "/kernels/attention/attention_fp8_vt.toml";
const char* const kKernel = "attention_fp8_vt";

constexpr int64_t kB = 2, kH = 4, kS = 256, kD = 64;

// Q [B, H, S, D], K [B, H, S, D], V transposed [B, H, D, S], all e4m3.
std::vector<TensorDesc> fp8_inputs(DType t = DType::kFp8e4nv) {
  return {{t, {kB, kH, kS, kD}, {}}, {t, {kB, kH, kS, kD}, {}}, {t, {kB, kH, kD, kS}, {}}};
}

class DTypeFieldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    FakeGpu::set_current(gpu_->make_context(0));
    pack_ = pack_from_spec(kSpec, {90});
  }
  PluginCore core(std::map<std::string, double, std::less<>> fields = {}) const {
    fields.emplace("sm_scale", 0.125);
    fields.emplace("causal", 1);
    return PluginCore::create(pack_, kKernel, fields, fake_driver());
  }
  FakeGpu* gpu_ = nullptr;
  std::shared_ptr<const Pack> pack_;
};

double code(DType t) { return static_cast<double>(t); }

TEST_F(DTypeFieldTest, AnOutputOnlyTypeVariableIsAFieldAfterTheKernelsOwn) {
  const PluginCore p = core();
  const PluginDescription& d = p.describe();
  ASSERT_FALSE(d.fields.empty());
  const PluginFieldInfo& to = d.fields.back();
  EXPECT_EQ(to.name, "TO");
  EXPECT_EQ(to.dtypes, (std::vector<DType>{DType::kFp16, DType::kBf16}));
  EXPECT_EQ(to.dtype, DType::kI32);
  EXPECT_TRUE(to.has_default);
  EXPECT_EQ(to.default_value, code(DType::kFp16)) << "the spec's first dtype";
  // The kernel's own fields keep their order before it; T (bound by the inputs) is no field.
  EXPECT_EQ(d.fields[0].name, "sm_scale");
  EXPECT_TRUE(d.fields[0].dtypes.empty());
  EXPECT_EQ(std::count_if(d.fields.begin(), d.fields.end(), [](const PluginFieldInfo& f) { return f.name == "T"; }), 0);
}

TEST_F(DTypeFieldTest, TheFieldChoosesTheOutputDtypeAndTheVariants) {
  for (const DType out : {DType::kFp16, DType::kBf16}) {
    SCOPED_TRACE(std::string(dtype_name(out)));
    PluginCore p = core({{"TO", code(out)}});
    const std::vector<DType> ins(3, DType::kFp8e4nv);
    EXPECT_EQ(p.output_dtypes(ins), (std::vector<DType>{out, DType::kFp32})) << "O is TO, LSE fp32";
    const PreparedLaunch prepared = p.prepare(fp8_inputs());
    EXPECT_EQ(prepared.output_dtypes()[0], out);
    EXPECT_EQ(prepared.plan().bindings.at("TO"), out);
    ASSERT_FALSE(prepared.plan().candidates.empty());
    for (const Selection& c : prepared.plan().candidates) {
      EXPECT_EQ(c.variant->bindings.at("TO"), out) << "only variants compiled for this output dtype";
      EXPECT_EQ(c.variant->bindings.at("T"), DType::kFp8e4nv);
    }
    // Per call (an engine passing attributes): the fields given to prepare win.
    std::vector<double> fields(p.fields().begin(), p.fields().end());
    fields.back() = code(out == DType::kFp16 ? DType::kBf16 : DType::kFp16);
    EXPECT_NE(p.prepare(fp8_inputs(), fields).output_dtypes()[0], out);
  }
  EXPECT_EQ(core().prepare(fp8_inputs()).output_dtypes()[0], DType::kFp16) << "the default";
}

TEST_F(DTypeFieldTest, TheFieldLaunchesTheVariantOfItsDtype) {
  PluginCore p = core({{"TO", code(DType::kBf16)}});
  const PreparedLaunch prepared = p.prepare(fp8_inputs(DType::kFp8e5));
  const CUdeviceptr base = 0x7400'0000'0000ull;
  const CUdeviceptr in[] = {base, base + 0x100000, base + 0x200000}, out[] = {base + 0x400000, base + 0x500000};
  p.enqueue(prepared, in, out, prepared.workspace_bytes() ? base + 0x600000 : 0, prepared.workspace_bytes(), nullptr);
  ASSERT_EQ(gpu_->launches.size(), 1u);
  const VariantInfo* v = prepared.plan().candidates.front().variant;
  EXPECT_EQ(v->bindings.at("TO"), DType::kBf16);
  EXPECT_EQ(v->bindings.at("T"), DType::kFp8e5);
}

TEST_F(DTypeFieldTest, AValueOutsideItsDtypesIsRefusedWithTheOnesItTakes) {
  for (const double bad : {code(DType::kFp32), code(DType::kFp8e4nv), 0.5, -1.0, 99.0}) {
    SCOPED_TRACE(std::to_string(bad));
    const std::string message = error_of([&] { (void)core({{"TO", bad}}); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find("dtype field 'TO'"), std::string::npos) << message;
    EXPECT_NE(message.find("fp16 (0), bf16 (1)"), std::string::npos) << message;
  }
  PluginCore p = core();
  std::vector<double> fields(p.fields().begin(), p.fields().end());
  fields.back() = code(DType::kFp32);
  const std::string message = error_of([&] { (void)p.prepare(fp8_inputs(), fields); }, ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("dtype field 'TO'"), std::string::npos) << message;
}

// An engine proposing an output dtype other than the field's is told no (TensorRT's
// supportsFormatCombination): the output would otherwise be written in another dtype than it holds.
TEST_F(DTypeFieldTest, SupportsOnlyTheOutputDtypeTheFieldChose) {
  PluginCore p = core({{"TO", code(DType::kBf16)}});
  p.set_target_arch(90);
  const std::vector<DType> bf16 = {DType::kFp8e4nv, DType::kFp8e4nv, DType::kFp8e4nv, DType::kBf16};
  const std::vector<DType> fp16 = {DType::kFp8e4nv, DType::kFp8e4nv, DType::kFp8e4nv, DType::kFp16};
  EXPECT_TRUE(p.supports(3, bf16));
  EXPECT_FALSE(p.supports(3, fp16));
  PluginCore q = core();
  q.set_target_arch(90);
  EXPECT_TRUE(q.supports(3, fp16));
  EXPECT_FALSE(q.supports(3, bf16));
}

TEST_F(DTypeFieldTest, TheSerializedPluginKeepsTheField) {
  const PluginCore p = core({{"TO", code(DType::kBf16)}});
  const PluginCore back = PluginCore::deserialize(p.serialize(), fake_driver());
  EXPECT_EQ(back.fields().back(), code(DType::kBf16));
  EXPECT_EQ(back.prepare(fp8_inputs()).output_dtypes()[0], DType::kBf16);
  EXPECT_EQ(p.clone().prepare(fp8_inputs()).output_dtypes()[0], DType::kBf16);
}

TEST_F(DTypeFieldTest, GenCppTakesTheFieldAsADType) {
  const std::string header = plugin::generate_cpp_header(*pack_, "fp8.tpack", "ops");
  EXPECT_NE(header.find(", tritonpack::DType TO = tritonpack::DType::kFp16)"), std::string::npos) << header;
  EXPECT_NE(header.find("{\"TO\", static_cast<double>(TO)}"), std::string::npos) << header;
}

// A type variable named like a parameter would give an op two arguments of one name: the spec is
// refused when it loads (its plugin model is built then), naming both.
TEST_F(DTypeFieldTest, ATypeVariableNamedLikeAParameterIsRefused) {
  std::ifstream in(kSpec);
  std::stringstream text;
  text << in.rdbuf();
  std::string spec = text.str();
  // Without the [tuning] table (its launches bind TO and set causal).
  const size_t tuning = spec.find("[tuning]"), bench = spec.find("[bench]");
  ASSERT_TRUE(tuning != std::string::npos && bench != std::string::npos && tuning < bench);
  spec.erase(tuning, bench - tuning);
  // TO -> causal (an i32 field of the kernel): in [types] and as O's dtype.
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"TO = [", "causal = ["},
                                 {"dtype = \"TO\"", "dtype = \"causal\""}}) {
    const size_t at = spec.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    spec.replace(at, from.size(), to);
  }
  ASSERT_NE(spec.find("causal = [\"fp16\", \"bf16\"]"), std::string::npos) << "the type variable is renamed";
  const std::string message = error_of(
      [&] {
        auto pack = pack_from_spec(spec::parse_spec(spec, kSpec), {90});
        (void)PluginCore::create(pack, kKernel, {{"sm_scale", 0.125}}, fake_driver());
      },
      ErrorCode::kInvalidSpec);
  EXPECT_NE(message.find("type variable 'causal' (bound by no input, so a dtype field) has the name of a parameter"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace tritonpack::testing
