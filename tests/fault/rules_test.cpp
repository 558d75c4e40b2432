// Selection with rules, heuristics, pins of every constexpr kind, launch variables, shapes, and
// host tensor descriptors, on the fake driver: what runs, what is refused, and what the refusal says.
#include <gtest/gtest.h>

#include <cstring>

#include "common/error_of.h"
#include "fault/attention_fixture.h"
#include "fault/fake_driver.h"
#include "fault/rules_fixture.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"

namespace tritonpack::testing {
namespace {

constexpr CUdeviceptr kX = 0x7000'0000'0000ull, kOut = 0x7000'0020'0000ull;

// A pack of k alone over a fake sm_90a cubin (blob 0) and PTX (blob 1).
std::shared_ptr<const Pack> pack_of(const KernelInfo& k, const std::string& name) {
  Manifest m;
  m.kernels = {k};
  return fake_pack(m, name, {{"cubin", "\x7f" "ELF"}, {"ptx", "//\n.target sm_90a\n"}});
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    ctx90_ = gpu_->make_context(0);
    ctx80_ = gpu_->make_context(1);
    FakeGpu::set_current(ctx90_);
    pack_ = rules_test_pack();
  }
  // rows(x [rows, cols], out [rows], n_cols, M = rows); shapes given unless `shaped` is false.
  std::vector<Arg> rows_args(int64_t rows, int64_t cols, DType t = DType::kFp16, bool shaped = true) {
    x_shape_ = {rows, cols};
    out_shape_ = {rows};
    if (!shaped) return {Arg::tensor(kX, t), Arg::tensor(kOut, DType::kFp32), Arg::integer(cols), Arg::integer(rows)};
    return {Arg::tensor(kX, t, x_shape_), Arg::tensor(kOut, DType::kFp32, out_shape_), Arg::integer(cols),
            Arg::integer(rows)};
  }
  static std::string text_of(const VariantInfo& v, const std::string& name) {
    for (const ConstexprValue& c : v.constexprs) {
      if (c.name == name) return c.value.text();
    }
    return "?";
  }
  FakeGpu* gpu_ = nullptr;
  CUcontext ctx90_ = nullptr, ctx80_ = nullptr;
  std::shared_ptr<const Pack> pack_;
  std::vector<int64_t> x_shape_, out_shape_;
};

TEST_F(RulesTest, TheHeuristicChoosesTheSpecialization) {
  Kernel k(pack_, "rows", fake_driver());
  EXPECT_EQ(text_of(*k.select(rows_args(4, 100)).variant, "BLOCK"), "256");  // max(256, 128)
  EXPECT_EQ(text_of(*k.select(rows_args(4, 256)).variant, "BLOCK"), "256");
  EXPECT_EQ(text_of(*k.select(rows_args(4, 700)).variant, "BLOCK"), "1024");  // next_power_of_2(700)
  EXPECT_EQ(k.select(rows_args(4, 700)).grid[0], 4);                          // grid (M)
}

TEST_F(RulesTest, AHeuristicValueThatWasNotCompiledIsRefusedWithTheCompiledValues) {
  Kernel k(pack_, "rows", fake_driver());
  const std::string what = error_of([&] { k.select(rows_args(4, 1500)); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("heuristic: BLOCK = max(256, next_power_of_2(n_cols)) = 2048 (n_cols=1500); compiled values: "
                      "256, 1024"),
            std::string::npos)
      << what;
  // The 1024 variant fails the rule first; none runs with a block shorter than the row.
  EXPECT_NE(
      what.find("BLOCK=1024, SCALE=1.5, config default, x%16, out%16, sm_90): rule 'n_cols <= BLOCK' does not hold: "
                "n_cols=1500, BLOCK=1024"),
      std::string::npos)
      << what;
  EXPECT_NE(what.find("x is fp16, variant needs fp32"), std::string::npos) << what;
}

TEST_F(RulesTest, ARuleThatNamesADimNeedsTheShape) {
  Kernel k(pack_, "rows", fake_driver());
  EXPECT_EQ(error_of([&] { k.select(rows_args(4, 100, DType::kFp16, false)); }, ErrorCode::kInvalidArgument),
            "kernel 'rows' rule 'C == n_cols' needs the shape of x (dim 'C'): pass it with the argument "
            "(Arg::tensor(pointer, dtype, shape))");
}

TEST_F(RulesTest, ShapesAreCheckedAgainstTheDimsAndTheRules) {
  Kernel k(pack_, "rows", fake_driver());
  std::vector<Arg> args = rows_args(4, 100);
  x_shape_ = {4, 99};  // C != n_cols
  EXPECT_EQ(error_of([&] { k.select(args); }, ErrorCode::kNoMatchingVariant),
            "kernel 'rows' cannot serve this launch: rule 'C == n_cols' does not hold: C=99, n_cols=100");
  x_shape_ = {4, 100};
  out_shape_ = {5};  // R bound by x to 4
  EXPECT_EQ(error_of([&] { k.select(args); }, ErrorCode::kInvalidArgument),
            "kernel 'rows' argument 'out' dim 0 ('R') is 5, but an earlier tensor gives 'R' = 4");
  out_shape_ = {4};
  const int64_t three[] = {4, 100, 1};
  args[0] = Arg::tensor(kX, DType::kFp16, three);
  EXPECT_EQ(error_of([&] { k.select(args); }, ErrorCode::kInvalidArgument),
            "kernel 'rows' argument 'x' has rank 3, the spec gives it 2 dims");
}

TEST_F(RulesTest, PinsOfEveryKind) {
  Kernel k(pack_, "rows", fake_driver());
  const ConstexprValue relu[] = {{"ACT", Constant("relu")}};
  LaunchOptions options;
  options.pinned = relu;
  EXPECT_EQ(text_of(*k.select(rows_args(4, 100), options).variant, "ACT"), "'relu'");
  const ConstexprValue none[] = {{"ACT", Constant("")}};
  options.pinned = none;
  EXPECT_EQ(text_of(*k.select(rows_args(4, 100), options).variant, "ACT"), "''");
  const ConstexprValue scale[] = {{"SCALE", 1.5}, {"ACT", Constant("relu")}};
  options.pinned = scale;
  EXPECT_EQ(text_of(*k.select(rows_args(4, 100), options).variant, "ACT"), "'relu'");
  const ConstexprValue gelu[] = {{"ACT", Constant("gelu")}};
  options.pinned = gelu;
  const std::string what = error_of([&] { k.select(rows_args(4, 100), options); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("pinned: ACT='gelu'"), std::string::npos) << what;
  EXPECT_NE(what.find("ACT='relu', pinned to 'gelu'"), std::string::npos) << what;
  const ConstexprValue unknown[] = {{"ACTIVATION", Constant("relu")}};
  options.pinned = unknown;
  error_of([&] { k.select(rows_args(4, 100), options); }, ErrorCode::kInvalidArgument);
}

TEST_F(RulesTest, LaunchVariablesComeAfterTheArgumentsAndAreRangeChecked) {
  Kernel k(pack_, "rows", fake_driver());
  EXPECT_EQ(runtime_param_names(k.info()), (std::vector<std::string>{"x", "out", "n_cols", "M"}));
  std::vector<Arg> args = rows_args(4, 100);
  args.pop_back();
  EXPECT_EQ(error_of([&] { k.select(args); }, ErrorCode::kInvalidArgument),
            "kernel 'rows' takes 4 arguments (x, out, n_cols, M; the last 1 are launch variables), got 3");
  args = rows_args(4, 100);
  args[3] = Arg::integer(-1);
  EXPECT_EQ(error_of([&] { k.select(args); }, ErrorCode::kInvalidArgument),
            "kernel 'rows' launch variable 'M' = -1 is outside 0..2147483647");
  args[3] = Arg::real(4);
  error_of([&] { k.select(args); }, ErrorCode::kInvalidArgument);
}

TEST_F(RulesTest, ALaunchRunsTheVariantTheRulesChoose) {
  Kernel k(pack_, "rows", fake_driver());
  gpu_->params_to_record = 5;
  k.launch(rows_args(3, 700, DType::kFp32), nullptr);
  ASSERT_EQ(gpu_->launches.size(), 1u);
  EXPECT_EQ(gpu_->launches[0].grid[0], 3u);
  EXPECT_EQ(gpu_->launches[0].params[0], kX);
  EXPECT_EQ(static_cast<uint32_t>(gpu_->launches[0].params[2]), 700u);  // n_cols; M is not a kernel argument
  EXPECT_EQ(gpu_->launches[0].params[3], 0u);                           // global scratch
}

TEST_F(RulesTest, ExplainSaysWhichVariantRunsAndWhyNotTheOthers) {
  Kernel k(pack_, "rows", fake_driver());
  const Kernel::Explanation e = k.explain(rows_args(4, 700), {}, 90);
  ASSERT_NE(e.chosen, nullptr);
  EXPECT_EQ(text_of(*e.chosen, "BLOCK"), "1024");
  ASSERT_EQ(e.lines.size(), 8u);
  EXPECT_NE(e.lines[0].find("rule 'n_cols <= BLOCK' does not hold: n_cols=700, BLOCK=256"), std::string::npos)
      << e.lines[0];
  EXPECT_NE(e.lines[1].find(": chosen"), std::string::npos) << e.lines[1];
  EXPECT_NE(e.lines[3].find(": could run; an earlier variant is preferred"), std::string::npos) << e.lines[3];
  EXPECT_NE(e.lines[4].find("x is fp16, variant needs fp32"), std::string::npos) << e.lines[4];
  EXPECT_NE(e.summary.find("heuristic: BLOCK = max(256, next_power_of_2(n_cols)) = 1024"), std::string::npos);
  // Nothing can serve: explain still answers.
  const Kernel::Explanation none = k.explain(rows_args(4, 5000), {}, 90);
  EXPECT_EQ(none.chosen, nullptr);
  EXPECT_NE(none.text().find("compiled values: 256, 1024"), std::string::npos) << none.text();
}

TEST_F(RulesTest, DimSizeArgumentsMustAgreeWithTheShapesGiven) {
  // The native attention spec: seq_len is the dim-size argument S of Q [B, H, S, D]; the kernel
  // takes no strides, so a seq_len that is not S would read the wrong rows.
  auto pack = attention_pack();
  Kernel k(pack, "attn", fake_driver());
  const int64_t shape[] = {2, 3, 128, 64}, rows[] = {6, 128};
  const CUdeviceptr base = 0x7100'0000'0000ull;
  auto args = [&](int64_t seq_len) {
    return std::vector<Arg>{Arg::tensor(base, DType::kFp16, shape),
                            Arg::tensor(base + 0x1000000, DType::kFp32, rows),
                            Arg::tensor(base + 0x2000000, DType::kFp32, rows),
                            Arg::tensor(base + 0x3000000, DType::kFp16, shape),
                            Arg::tensor(base + 0x4000000, DType::kFp16, shape),
                            Arg::tensor(base + 0x5000000, DType::kFp16, shape),
                            Arg::real(0.125),
                            Arg::integer(2),
                            Arg::integer(3),
                            Arg::integer(seq_len)};
  };
  EXPECT_EQ(k.select(args(128)).grid[1], 6);
  EXPECT_EQ(
      error_of([&] { k.select(args(100)); }, ErrorCode::kInvalidArgument),
      "kernel 'attn' argument 'seq_len' = 100, but the shapes give S = 128 ('seq_len' is the dim-size argument S)");
}

TEST_F(RulesTest, DimsThatNameAConstexprAreCheckedForEachVariant) {
  // x's second dim must be BLOCK: only the variant whose block is the row length may run.
  KernelInfo k = rows_kernel();
  k.params[0].dims = {"R", "BLOCK"};
  k.params[4].heuristic.clear();
  k.constraints.clear();
  auto pack = pack_of(k, "dims.tpack");
  Kernel kernel(pack, "rows", fake_driver());
  EXPECT_EQ(text_of(*kernel.select(rows_args(4, 1024)).variant, "BLOCK"), "1024");
  EXPECT_EQ(text_of(*kernel.select(rows_args(4, 256)).variant, "BLOCK"), "256");
  const ConstexprValue pin[] = {{"BLOCK", 256}};
  LaunchOptions options;
  options.pinned = pin;
  const std::string what = error_of([&] { kernel.select(rows_args(4, 1024), options); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("argument 'x' dim 1 is 1024, the variant needs BLOCK = 256"), std::string::npos) << what;
  // A row no variant's block matches.
  EXPECT_NE(error_of([&] { kernel.select(rows_args(4, 700)); }, ErrorCode::kNoMatchingVariant)
                .find("argument 'x' dim 1 is 700, the variant needs BLOCK = 1024"),
            std::string::npos);
}

TEST_F(RulesTest, AGridBeyondTheDeviceRefusesThatVariantOnly) {
  // "heavy" runs clusters of 2 CTAs: its grid's x counts 2 per program, so 600 programs need 1200.
  gpu_->devices[0].max_grid_x = 1000;
  FakeGpu::set_current(gpu_->make_context(0));
  auto pack = runtime_test_pack();
  Kernel heavy(pack, "heavy", fake_driver());
  EXPECT_EQ(heavy.select(std::vector<Arg>{Arg::tensor(kX, DType::kFp32), Arg::integer(128 * 500)}).grid[0], 500);
  const std::string what =
      error_of([&] { heavy.select(std::vector<Arg>{Arg::tensor(kX, DType::kFp32), Arg::integer(128 * 600)}); },
               ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("grid[0] = 'n /// BLOCK' is 600, the device allows 0..500 (2 CTAs a program)"), std::string::npos)
      << what;
}

// ---- host tensor descriptors ----

class DescriptorTest : public RulesTest {
 protected:
  void SetUp() override {
    RulesTest::SetUp();
    runtime::clear_tensor_map_cache();
  }
  std::vector<Arg> tile_args(CUdeviceptr base, int64_t m, int64_t kdim, int64_t row_stride) {
    shape_ = {m, kdim};
    strides_ = {row_stride, 1};
    return {Arg::descriptor(base, DType::kFp16, shape_, strides_), Arg::tensor(kOut, DType::kFp16), Arg::integer(m),
            Arg::integer(kdim)};
  }
  std::vector<int64_t> shape_, strides_;
};

TEST_F(DescriptorTest, TmaVariantsGetATensorMapThenShapeAndStrides) {
  Kernel k(pack_, "tile", fake_driver());
  gpu_->params_to_record = 9;
  const CUdeviceptr base = kX + 0x10000;  // an address no other test encodes (maps are cached per thread)
  k.launch(tile_args(base, 300, 200, 256), nullptr);
  ASSERT_EQ(gpu_->encodes.size(), 1u);
  const FakeTensorMapEncode& e = gpu_->encodes[0];
  EXPECT_EQ(e.rank, 2u);
  EXPECT_EQ(e.address, base);
  EXPECT_EQ(e.data_type, 6);                                 // CU_TENSOR_MAP_DATA_TYPE_FLOAT16
  EXPECT_EQ(e.dims, (std::vector<uint64_t>{200, 300}));      // innermost first
  EXPECT_EQ(e.strides_bytes, (std::vector<uint64_t>{512}));  // 256 fp16 elements
  EXPECT_EQ(e.box, (std::vector<unsigned>{64, 64}));         // the compiled box, not the block
  EXPECT_EQ(e.element_strides, (std::vector<unsigned>{1, 1}));
  EXPECT_EQ(e.swizzle, 3);
  const FakeLaunch& l = gpu_->launches.at(0);
  EXPECT_EQ(l.grid[0], 5u);                             // cdiv(300, 64)
  EXPECT_EQ(l.grid[1], 2u);                             // cdiv(200, 128)
  EXPECT_EQ(l.params[0], base);                         // the map's first bytes (the fake writes the address there)
  EXPECT_EQ(static_cast<uint32_t>(l.params[1]), 300u);  // shape, i32
  EXPECT_EQ(static_cast<uint32_t>(l.params[2]), 200u);
  EXPECT_EQ(l.params[3], 256u);  // strides, i64
  EXPECT_EQ(l.params[4], 1u);
  EXPECT_EQ(l.params[5], kOut);
  EXPECT_EQ(static_cast<uint32_t>(l.params[6]), 300u);  // M
  EXPECT_EQ(static_cast<uint32_t>(l.params[7]), 200u);  // K
}

TEST_F(DescriptorTest, AMapIsEncodedOncePerDistinctTensor) {
  Kernel k(pack_, "tile", fake_driver());
  gpu_->params_to_record = 1;
  const size_t before = gpu_->encodes.size();
  k.launch(tile_args(kX + 4096, 300, 200, 256), nullptr);
  k.launch(tile_args(kX + 4096, 300, 200, 256), nullptr);
  EXPECT_EQ(gpu_->encodes.size(), before + 1);  // the second launch reuses the map
  k.launch(tile_args(kX + 8192, 300, 200, 256), nullptr);
  k.launch(tile_args(kX + 8192, 300, 200, 512), nullptr);
  EXPECT_EQ(gpu_->encodes.size(), before + 3);  // a new base, then new strides: new maps
  ASSERT_EQ(gpu_->launches.size(), 4u);
  EXPECT_EQ(gpu_->launches[1].params[0], kX + 4096);
  EXPECT_EQ(gpu_->launches[3].params[0], kX + 8192);
}

TEST_F(DescriptorTest, TheCacheKeepsTheLastEightMaps) {
  Kernel k(pack_, "tile", fake_driver());
  for (int i = 0; i < 9; ++i) k.launch(tile_args(kX + 4096 * (i + 1), 300, 200, 256), nullptr);
  EXPECT_EQ(gpu_->encodes.size(), 9u);
  k.launch(tile_args(kX + 4096 * 9, 300, 200, 256), nullptr);  // among the last eight
  EXPECT_EQ(gpu_->encodes.size(), 9u);
  k.launch(tile_args(kX + 4096, 300, 200, 256), nullptr);  // the first, replaced by the ninth
  EXPECT_EQ(gpu_->encodes.size(), 10u);
}

TEST_F(DescriptorTest, AnotherBoxOrSwizzleOnTheSameTensorIsEncodedAgain) {
  // Two packs of the tile kernel that differ only in the compiled box / swizzle: same tensor, new map.
  auto with = [](uint32_t box_inner, uint32_t swizzle) {
    KernelInfo k = tile_kernel();
    k.variants.pop_back();  // the sm_90 TMA variant alone
    k.variants[0].tensordescs[0].box = {64, box_inner};
    k.variants[0].tensordescs[0].swizzle = swizzle;
    return pack_of(k, "t.tpack");
  };
  Kernel a(with(64, 3), "tile", fake_driver()), b(with(32, 3), "tile", fake_driver()), c(with(64, 2), "tile", fake_driver());
  a.launch(tile_args(kX, 300, 200, 256), nullptr);
  b.launch(tile_args(kX, 300, 200, 256), nullptr);
  c.launch(tile_args(kX, 300, 200, 256), nullptr);
  ASSERT_EQ(gpu_->encodes.size(), 3u);
  EXPECT_EQ(gpu_->encodes[1].box, (std::vector<unsigned>{32, 64}));
  EXPECT_EQ(gpu_->encodes[2].swizzle, 2);
}

TEST_F(DescriptorTest, OtherVariantsGetPointerShapeAndStridesTwice) {
  FakeGpu::set_current(ctx80_);
  Kernel k(pack_, "tile", fake_driver());
  gpu_->params_to_record = 15;
  k.launch(tile_args(kX + 2, 300, 200, 201), nullptr);  // no TMA: any alignment and stride
  EXPECT_TRUE(gpu_->encodes.empty());
  const FakeLaunch& l = gpu_->launches.at(0);
  const std::vector<uint64_t> want = {kX + 2, 300, 200, 201, 1, 0, 300, 200, 201, 1, kOut, 300, 200, 0, 0};
  for (size_t i = 0; i < want.size(); ++i) {
    const uint64_t got = i == 5                                     ? static_cast<uint8_t>(l.params[i])
                         : (i == 6 || i == 7 || i == 11 || i == 12) ? static_cast<uint32_t>(l.params[i])
                                                                    : l.params[i];
    EXPECT_EQ(got, want[i]) << "parameter " << i;
  }
}

TEST_F(DescriptorTest, AnUnalignedTensorFallsBackToTheVariantWithoutTma) {
  Kernel k(pack_, "tile", fake_driver());
  const Selection s = k.select(tile_args(kX + 2, 300, 200, 256));
  EXPECT_EQ(s.variant->id, 1u);  // the sm_80 variant, from PTX
  EXPECT_TRUE(s.uses_ptx);
}

TEST_F(DescriptorTest, AStrideWhoseBytesWouldWrapIsRefused) {
  Kernel k(pack_, "tile", fake_driver());
  LaunchOptions tma;
  tma.variant_id = 0;
  const std::string what = error_of([&] { k.launch(tile_args(kX, 300, 200, int64_t{1} << 62), nullptr, tma); },
                                    ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("stride[0] = 4611686018427387904 elements (2^40 or more bytes)"), std::string::npos) << what;
  EXPECT_TRUE(gpu_->encodes.empty());
}

TEST_F(DescriptorTest, WhatTmaCannotTakeIsRefusedBeforeTheDriverSeesIt) {
  Kernel k(pack_, "tile", fake_driver());
  LaunchOptions tma;
  tma.variant_id = 0;
  std::string what =
      error_of([&] { k.launch(tile_args(kX + 2, 300, 200, 256), nullptr, tma); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("descriptor 'd' needs its base aligned to 16 bytes for TMA, got 0x700000000002"),
            std::string::npos)
      << what;
  what = error_of([&] { k.launch(tile_args(kX, 300, 200, 201), nullptr, tma); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("descriptor 'd' stride[0] = 201 elements (402 bytes) must be a multiple of 16 bytes"),
            std::string::npos)
      << what;
  std::vector<Arg> args = tile_args(kX, 300, 200, 256);
  strides_ = {256, 2};
  EXPECT_EQ(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument),
            "kernel 'tile' descriptor 'd' needs its last stride to be 1 (contiguous rows), got 2");
  strides_ = {256, 1};
  shape_ = {301, 200};  // dims [M, K] must agree with the scalars
  EXPECT_EQ(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument),
            "kernel 'tile' argument 'd' dim 0 ('M') is 301, but argument 'M' = 300");
  args[0] = Arg::tensor(kX, DType::kFp16);
  EXPECT_EQ(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument),
            "kernel 'tile' argument 0 'd' must be a tensor descriptor (Arg::descriptor), got a tensor");
  EXPECT_TRUE(gpu_->launches.empty());
  EXPECT_TRUE(gpu_->encodes.empty());
}

}  // namespace
}  // namespace tritonpack::testing
