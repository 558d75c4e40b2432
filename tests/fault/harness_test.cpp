// The run harness (src/harness) on the fake driver, with device memory backed by host bytes and the
// kernel played on the CPU: planning from NAME=VALUE texts (missing values, dims, pins), the
// variant chosen before the buffers are sized, arguments in launch order, every output compared
// with its reference, and the failures a GPU test must catch (unwritten outputs, writes outside
// the output or past its end, wrong values) reported as such. The kernels are the real specs'.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <cstring>
#include <utility>

#include "common/constexpr_of.h"
#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "gpu/kernel_cases.h"
#include "gpu/refusals.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "runtime/args.h"

namespace tritonpack::testing {
namespace {

std::string source(const std::string& relative) { return std::string(TRITONPACK_SOURCE_DIR) + "/" + relative; }

int32_t i32_param(const FakeLaunch& l, size_t i) { return static_cast<int32_t>(l.params.at(i) & 0xffffffffu); }
float f32_param(const FakeLaunch& l, size_t i) {
  const uint32_t bits = static_cast<uint32_t>(l.params.at(i) & 0xffffffffu);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Elements of fake device memory, in the storage of a dtype.
struct Memory {
  FakeGpu& gpu;
  DType dtype;
  size_t esize() const { return dtype_size(dtype); }
  float get(CUdeviceptr base, int64_t i) const {
    const uint8_t* p = gpu.host(base + static_cast<CUdeviceptr>(i) * esize(), esize());
    EXPECT_NE(p, nullptr) << "read outside every allocation at element " << i;
    if (p == nullptr) return NAN;
    uint16_t h;
    float f;
    switch (dtype) {
      case DType::kFp16: std::memcpy(&h, p, 2); return runtime::fp16_bits_to_float(h);
      case DType::kBf16: std::memcpy(&h, p, 2); return runtime::bf16_bits_to_float(h);
      case DType::kFp8e4nv:
      case DType::kFp8e5: return static_cast<float>(harness::decode(dtype, p));
      default: std::memcpy(&f, p, 4); return f;
    }
  }
  void set(CUdeviceptr base, int64_t i, float v) const {
    uint8_t* p = gpu.host(base + static_cast<CUdeviceptr>(i) * esize(), esize());
    ASSERT_NE(p, nullptr) << "write outside every allocation at element " << i;
    uint16_t h;
    switch (dtype) {
      case DType::kFp16: h = runtime::float_to_fp16_bits(v); std::memcpy(p, &h, 2); break;
      case DType::kBf16: h = runtime::float_to_bf16_bits(v); std::memcpy(p, &h, 2); break;
      case DType::kFp8e4nv:
      case DType::kFp8e5: harness::encode(dtype, v, p); break;
      default: std::memcpy(p, &v, 4);
    }
  }
  // v rounded to the dtype, as a store and a load would.
  float round(float v) const {
    uint8_t bytes[8];
    return static_cast<float>(harness::encode(dtype, v, bytes));
  }
};

enum class Mischief { kNone, kSkipLastRow, kWritePadding, kWritePastEnd, kWrongSlope };

// matmul_kernel(a, b, c, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn)
// as the GPU computes it: fp32 accumulation, the activation, one rounding to T.
void play_matmul(FakeGpu& gpu, const FakeLaunch& l, DType t, const std::string& activation, Mischief mischief) {
  const Memory mem{gpu, t};
  const CUdeviceptr a = l.params[0], b = l.params[1], c = l.params[2];
  const int64_t M = i32_param(l, 3), N = i32_param(l, 4), K = i32_param(l, 5);
  const int64_t sam = i32_param(l, 6), sak = i32_param(l, 7), sbk = i32_param(l, 8), sbn = i32_param(l, 9);
  const int64_t scm = i32_param(l, 10), scn = i32_param(l, 11);
  const float slope = mischief == Mischief::kWrongSlope ? 0.02f : 0.01f;
  for (int64_t i = 0; i < M - (mischief == Mischief::kSkipLastRow ? 1 : 0); ++i) {
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += mem.get(a, i * sam + k * sak) * mem.get(b, k * sbk + j * sbn);
      if (activation == "leaky_relu" && acc < 0) acc *= slope;
      mem.set(c, i * scm + j * scn, acc);
    }
  }
  if (mischief == Mischief::kWritePadding) mem.set(c, N * scn, 0.0f);  // column N of row 0
  if (mischief == Mischief::kWritePastEnd) mem.set(c, M * scm, 0.0f);  // the first element after C
}

// layernorm_fwd_kernel(X, Y, W, B, Mean, Rstd, stride, N, eps) over grid[0] rows.
void play_layernorm(FakeGpu& gpu, const FakeLaunch& l, DType t) {
  const Memory mem{gpu, t}, f32{gpu, DType::kFp32};
  const CUdeviceptr x = l.params[0], y = l.params[1], w = l.params[2], b = l.params[3];
  const CUdeviceptr mean_p = l.params[4], rstd_p = l.params[5];
  const int64_t stride = i32_param(l, 6), N = i32_param(l, 7);
  const float eps = f32_param(l, 8);
  for (int64_t r = 0; r < static_cast<int64_t>(l.grid[0]); ++r) {
    float sum = 0, var = 0;
    for (int64_t j = 0; j < N; ++j) sum += mem.get(x, r * stride + j);
    const float mean = sum / static_cast<float>(N);
    for (int64_t j = 0; j < N; ++j) var += (mem.get(x, r * stride + j) - mean) * (mem.get(x, r * stride + j) - mean);
    const float rstd = 1.0f / std::sqrt(var / static_cast<float>(N) + eps);
    for (int64_t j = 0; j < N; ++j) {
      mem.set(y, r * stride + j, (mem.get(x, r * stride + j) - mean) * rstd * mem.get(w, j) + mem.get(b, j));
    }
    f32.set(mean_p, r, mean);
    f32.set(rstd_p, r, rstd);
  }
}

// attention_fwd(Q, K, V, O, LSE, sm_scale, batch, heads_q, heads_kv, seq_q, seq_kv, causal) of
// kernels/attention, [B, H, S, D] with heads_q == heads_kv, causal bottom-right: fp32 softmax, the
// numerators rounded to T for the P V product, O rounded once to its dtype (T, or the FP8 specs'
// TO). With `v_transposed`, V is read as [B, H, D, S] (V_T). `skip_empty_rows` leaves the LSE of a
// row that sees no key unwritten (the NaN poison) instead of -inf, as a kernel that forgot those
// rows would.
void play_attention(FakeGpu& gpu, const FakeLaunch& l, DType t, DType out_dtype, int64_t d, bool v_transposed,
                    bool skip_empty_rows) {
  const Memory mem{gpu, t}, out{gpu, out_dtype}, f32{gpu, DType::kFp32};
  const CUdeviceptr q = l.params[0], k = l.params[1], v = l.params[2], o = l.params[3], lse = l.params[4];
  const float scale = f32_param(l, 5);
  const int64_t heads = int64_t{i32_param(l, 6)} * i32_param(l, 7), sq = i32_param(l, 9), skv = i32_param(l, 10);
  const bool causal = i32_param(l, 11) != 0;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < sq; ++i) {
      const int64_t visible = causal ? std::clamp<int64_t>(i + skv - sq + 1, 0, skv) : skv;
      std::vector<float> s(static_cast<size_t>(visible));
      float m = -INFINITY, sum = 0;
      for (int64_t j = 0; j < visible; ++j) {
        float dot = 0;
        for (int64_t c = 0; c < d; ++c) dot += mem.get(q, (h * sq + i) * d + c) * mem.get(k, (h * skv + j) * d + c);
        s[static_cast<size_t>(j)] = scale * dot;
        m = std::max(m, s[static_cast<size_t>(j)]);
      }
      for (float& x : s) sum += (x = std::exp(x - m));
      for (int64_t c = 0; c < d; ++c) {
        float acc = 0;
        for (int64_t j = 0; j < visible; ++j) {
          const int64_t vi = v_transposed ? (h * d + c) * skv + j : (h * skv + j) * d + c;
          acc += mem.round(s[static_cast<size_t>(j)]) * mem.get(v, vi);
        }
        out.set(o, (h * sq + i) * d + c, visible > 0 ? acc / sum : 0.0f);
      }
      if (visible > 0) {
        f32.set(lse, h * sq + i, m + std::log(sum));
      } else if (!skip_empty_rows) {
        f32.set(lse, h * sq + i, -INFINITY);
      }
    }
  }
}

class HarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    gpu_->back_memory = true;
    device_ = std::make_unique<harness::DeviceContext>(fake_driver(), 0);  // the sm_90 fake device
  }
  harness::RunRequest matmul_request(int64_t M, int64_t N, int64_t K, int64_t ldc, const std::string& activation) {
    harness::RunRequest r;
    r.values = {{"M", std::to_string(M)},         {"N", std::to_string(N)},   {"K", std::to_string(K)},
                {"stride_am", std::to_string(K)}, {"stride_ak", "1"},         {"stride_bk", "1"},
                {"stride_bn", std::to_string(K)}, {"stride_cm", std::to_string(ldc)}, {"stride_cn", "1"}};
    r.types["T"] = "fp16";
    r.pinned = {harness::pin_from_text(matmul_->info(), "ACTIVATION", activation)};
    r.seed = 7;
    return r;
  }
  void load_matmul() {
    gpu_->params_to_record = 14;  // 12 arguments and the two scratch pointers
    matmul_ = std::make_unique<Kernel>(pack_from_spec(source("tests/kernels/matmul/matmul.toml"), {90}), "matmul",
                                       fake_driver());
  }
  FakeGpu* gpu_ = nullptr;
  std::unique_ptr<harness::DeviceContext> device_;
  std::unique_ptr<Kernel> matmul_;
};

TEST_F(HarnessTest, MatmulPlayedCorrectlyPassesForBothActivations) {
  load_matmul();
  for (const std::string activation : {"", "leaky_relu"}) {
    gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) { play_matmul(g, l, DType::kFp16, activation, Mischief::kNone); };
    // B is given transposed (stride_bk 1), C with two padding columns per row.
    const auto r = harness::run_kernel(*device_, *matmul_, matmul_request(37, 19, 45, 21, activation));
    ASSERT_TRUE(r.verified);
    EXPECT_TRUE(r.passed) << r.verify_message;
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_EQ(r.outputs[0].name, "c_ptr");
    EXPECT_EQ(r.outputs[0].elements, 37u * 19u);
    EXPECT_DOUBLE_EQ(r.outputs[0].tolerance, 2e-3 + 45 * std::ldexp(1.0, -24));
    EXPECT_EQ(constexpr_of(*r.variant, "ACTIVATION"), Constant(activation)) << "the pinned ACTIVATION ran";
    EXPECT_EQ(r.grid[0], 1);  // the first config: one 128 x 128 tile
  }
  EXPECT_EQ(gpu_->live_allocations(), 0u);
}

TEST_F(HarnessTest, RunsThePlanItIsGiven) {
  load_matmul();
  gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) { play_matmul(g, l, DType::kFp16, "", Mischief::kNone); };
  const harness::RunRequest request = matmul_request(37, 19, 45, 21, "");
  const harness::RunPlan plan = harness::plan_run(matmul_->info(), request);
  const auto r = harness::run_kernel(*device_, *matmul_, request, plan);
  EXPECT_TRUE(r.verified);
  EXPECT_TRUE(r.passed) << r.verify_message;
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].elements, 37u * 19u);

  // A plan of another KernelInfo (here a copy) is refused: its pointers are not this kernel's.
  const KernelInfo copy = matmul_->info();
  const harness::RunPlan other = harness::plan_run(copy, request);
  EXPECT_EQ(error_of([&] { harness::run_kernel(*device_, *matmul_, request, other); }, ErrorCode::kInvalidArgument),
            "run_kernel: the plan was not made for kernel 'matmul' of this Kernel's pack (make it with "
            "plan_run(kernel.info(), ...))");
  EXPECT_EQ(gpu_->live_allocations(), 0u);
}

TEST_F(HarnessTest, BenchReadsItsFormulasWithTheRunsValues) {
  load_matmul();
  gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) { play_matmul(g, l, DType::kFp16, "", Mischief::kNone); };
  harness::RunRequest request = matmul_request(37, 19, 45, 21, "");
  request.bench_runs = 3;
  request.warmup_runs = 1;
  const auto r = harness::run_kernel(*device_, *matmul_, request);
  EXPECT_TRUE(r.passed) << r.verify_message;
  EXPECT_EQ(r.times_ms.size(), 3u);
  EXPECT_EQ(r.median_ms, 1.0);                                 // the fake driver's every event pair
  EXPECT_EQ(r.flops, 2.0 * 37 * 19 * 45);                      // 2 * M * N * K
  EXPECT_EQ(r.bytes, (37.0 * 45 + 45.0 * 19 + 37.0 * 19) * 2);  // (M * K + K * N + M * N) * T.size
}

TEST(RunRequest, LaunchOptionsCarryConfigPinsAndVariant) {
  harness::RunRequest r;
  r.config = "big";
  r.pinned = {{"ACTIVATION", Constant("leaky_relu")}};
  r.variant_id = 3;
  const LaunchOptions o = r.launch_options();
  EXPECT_EQ(o.config, "big");
  ASSERT_EQ(o.pinned.size(), 1u);
  EXPECT_EQ(o.pinned[0].name, "ACTIVATION");
  EXPECT_EQ(o.pinned[0].value, Constant("leaky_relu"));
  EXPECT_EQ(o.variant_id, 3);
  EXPECT_EQ(harness::RunRequest{}.launch_options().variant_id, -1);
}

TEST_F(HarnessTest, EachWayAKernelCanBeWrongIsReportedAsSuch) {
  load_matmul();
  struct Case {
    Mischief mischief;
    const char* expected;
  };
  for (const Case& c : {Case{Mischief::kSkipLastRow, "19 of 703 elements are not finite (unwritten: still the NaN poison), first at index 756"},
                        Case{Mischief::kWritePadding, "1 elements it must not write were written, first at index 19"},
                        Case{Mischief::kWritePastEnd, "bytes after the buffer's end were written"},
                        Case{Mischief::kWrongSlope, "relative error"}}) {
    gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) { play_matmul(g, l, DType::kFp16, "leaky_relu", c.mischief); };
    const auto r = harness::run_kernel(*device_, *matmul_, matmul_request(37, 19, 45, 21, "leaky_relu"));
    EXPECT_TRUE(r.verified);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.verify_message.find(c.expected), std::string::npos) << r.verify_message;
  }
}

TEST_F(HarnessTest, LayernormChecksYMeanAndRstdAndTakesTheLaunchVariable) {
  auto pack = pack_from_spec(source("tests/kernels/layernorm/layernorm.toml"), {90});
  Kernel k(pack, "layernorm", fake_driver());
  gpu_->params_to_record = 11;
  gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) { play_layernorm(g, l, DType::kBf16); };
  harness::RunRequest r;
  r.types["T"] = "bf16";
  r.values = {{"M", "13"}, {"N", "300"}, {"stride", "301"}, {"eps", "1e-5"}};
  const auto result = harness::run_kernel(*device_, k, r);
  EXPECT_TRUE(result.passed) << result.verify_message;
  ASSERT_EQ(result.outputs.size(), 3u);
  EXPECT_EQ(result.outputs[0].name, "Y");
  EXPECT_EQ(result.outputs[1].name, "Mean");
  EXPECT_EQ(result.outputs[2].name, "Rstd");
  EXPECT_EQ(result.outputs[1].elements, 13u);
  EXPECT_EQ(result.grid[0], 13);  // the launch variable M
  EXPECT_EQ(constexpr_of(*result.variant, "BLOCK_SIZE"), Constant(1024)) << "the heuristic's value for N = 300";
}

TEST_F(HarnessTest, ARefusedLaunchNamesTheRuleAndAllocatesNothing) {
  auto pack = pack_from_spec(source("tests/kernels/layernorm/layernorm.toml"), {90});
  Kernel k(pack, "layernorm", fake_driver());
  harness::RunRequest r;
  r.values = {{"M", "4"}, {"N", "300"}, {"stride", "200"}, {"eps", "1e-5"}};
  const std::string message = error_of([&] { harness::run_kernel(*device_, k, r); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(message.find("rule 'stride >= N' does not hold: stride=200, N=300"), std::string::npos) << message;
  EXPECT_EQ(gpu_->live_allocations(), 0u);
  EXPECT_TRUE(gpu_->launches.empty());
}

// A row of causal attention that sees no key must hold LSE = -inf exactly: a kernel that leaves it
// unwritten (still the NaN poison) fails the check, though every finite element is right.
TEST_F(HarnessTest, AnExpectedInfinityMustBeWrittenExactly) {
  auto pack = pack_from_spec(source("kernels/attention/attention.toml"), {90});
  Kernel k(pack, "attention", fake_driver());
  gpu_->params_to_record = 14;  // 12 arguments and the two scratch pointers
  harness::RunRequest r;
  r.types["T"] = "fp16";
  r.values = {{"batch", "1"}, {"heads_q", "2"}, {"heads_kv", "2"}, {"seq_q", "5"}, {"seq_kv", "3"},
              {"D", "64"},    {"causal", "1"},  {"sm_scale", "0.125"}};
  r.seed = 3;
  for (bool skip : {false, true}) {
    gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) {
      play_attention(g, l, DType::kFp16, DType::kFp16, 64, false, skip);
    };
    const auto result = harness::run_kernel(*device_, k, r);
    EXPECT_TRUE(result.verified);
    EXPECT_EQ(result.passed, !skip) << result.verify_message;
    if (skip) {
      // Rows 0 and 1 of each head see no key (key j is visible to row i when j <= i - 2).
      EXPECT_NE(result.verify_message.find("4 elements that must be infinite are not, first at index 0"),
                std::string::npos)
          << result.verify_message;
    }
  }
}

// attention_fp8_vt.toml end to end on the fake GPU: `run` sizes V from its dims [B, HKV, D, SKV]
// and the reference reads it transposed (V_T), so a kernel that reads V^T passes and one that
// reads it as [B, HKV, SKV, D] fails; FP8 inputs, an fp16 or bf16 output.
TEST_F(HarnessTest, TheFp8SpecWithVTransposedIsCheckedAgainstVTransposed) {
  auto pack = pack_from_spec(source("kernels/attention/attention_fp8_vt.toml"), {90});
  Kernel k(pack, "attention_fp8_vt", fake_driver());
  gpu_->params_to_record = 14;  // 12 arguments and the two scratch pointers
  const std::pair<DType, DType> types[] = {{DType::kFp8e4nv, DType::kFp16}, {DType::kFp8e5, DType::kBf16}};
  for (const auto& [t, to] : types) {
    harness::RunRequest r;
    r.types["T"] = std::string(dtype_name(t));
    r.types["TO"] = std::string(dtype_name(to));
    r.values = {{"batch", "1"}, {"heads_q", "2"}, {"heads_kv", "2"}, {"seq_q", "5"}, {"seq_kv", "7"},
                {"D", "64"},    {"causal", "1"},  {"sm_scale", "0.125"}};
    r.seed = 4;
    for (bool read_transposed : {true, false}) {
      gpu_->on_launch = [&](FakeGpu& g, const FakeLaunch& l) {
        play_attention(g, l, t, to, 64, read_transposed, false);
      };
      const auto result = harness::run_kernel(*device_, k, r);
      ASSERT_TRUE(result.verified);
      EXPECT_EQ(result.passed, read_transposed) << dtype_name(t) << ": " << result.verify_message;
      EXPECT_EQ(constexpr_of(*result.variant, "V_T"), Constant(true));
    }
  }
  EXPECT_EQ(gpu_->live_allocations(), 0u);
}

TEST_F(HarnessTest, TheHeadSizeDimChoosesTheFmhaVariantThroughTheShapes) {
  auto pack = pack_from_spec(source("kernels/fmha/fmha.toml"), {90});
  Kernel k(pack, "fmha", fake_driver());
  gpu_->params_to_record = 12;
  harness::RunRequest r;
  r.verify = false;  // nothing plays the kernel here: only what is launched is checked
  r.types["T"] = "bf16";
  r.values = {{"B", "2"}, {"H", "3"}, {"S", "100"}, {"D", "128"}, {"sm_scale", "0.1"}};
  const auto result = harness::run_kernel(*device_, k, r);
  EXPECT_EQ(constexpr_of(*result.variant, "BLOCK_DMODEL"), Constant(128));
  const FakeLaunch& l = gpu_->launches.back();
  EXPECT_EQ(i32_param(l, 7), 2);    // batch_size from B
  EXPECT_EQ(i32_param(l, 8), 3);    // num_heads from H
  EXPECT_EQ(i32_param(l, 9), 100);  // seq_len from S
  EXPECT_FLOAT_EQ(f32_param(l, 6), 0.1f);
  r.values["D"] = "96";
  const std::string message = error_of([&] { harness::run_kernel(*device_, k, r); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(message.find("rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=64"), std::string::npos) << message;
}

TEST_F(HarnessTest, DescriptorsAreAllocatedFromTheirDimsWithContiguousStrides) {
  auto pack = pack_from_spec(source("tests/kernels/desc_matmul/desc_matmul.toml"), {80});
  Kernel k(pack, "desc_matmul", fake_driver());
  gpu_->params_to_record = 26;  // two descriptors of 10 parameters, c, M, N, K, two scratch pointers
  harness::DeviceContext sm80(fake_driver(), 1);  // the fake sm_80 device: descriptors without TMA
  harness::RunRequest r;
  r.verify = false;
  r.values = {{"M", "70"}, {"N", "40"}, {"K", "100"}};
  const auto result = harness::run_kernel(sm80, k, r);
  EXPECT_EQ(result.variant->arch, 80u);
  // Not TMA: base, shape (i64) x2, strides (i64) x2, padding flag, shape (i32) x2, strides x2.
  const FakeLaunch& l = gpu_->launches.back();
  EXPECT_EQ(l.params[1], 70u);   // a_desc shape [M, K]
  EXPECT_EQ(l.params[2], 100u);
  EXPECT_EQ(l.params[3], 100u);  // strides [K, 1]
  EXPECT_EQ(l.params[4], 1u);
  EXPECT_EQ(l.params[11], 100u);  // b_desc shape [K, N] (after a_desc's 10 slots)
  EXPECT_EQ(l.params[12], 40u);
  EXPECT_EQ(l.params[13], 40u);  // strides [N, 1]
}

std::string spec_of(const std::string& kernel) {
  return source(kernel == "fmha" ? "kernels/fmha/fmha.toml" : "tests/kernels/" + kernel + "/" + kernel + ".toml");
}

// The GPU tests' runs (tests/gpu/kernel_cases.h) on the fake sm_90 device with packs made from the
// same specs (sm_80 and sm_90 variants, as compiled): each is planned, accepted and launched with the
// variant it means to choose, so no GPU test case is refused for a reason the test did not intend.
TEST_F(HarnessTest, TheGpuTestsRunsChooseTheVariantsTheyMeanTo) {
  for (const char* kernel : {"matmul", "layernorm", "softmax_h", "desc_matmul", "gluon_add", "gluon_tma_copy", "desc_scale", "fmha"}) {
    Kernel k(pack_from_spec(spec_of(kernel), {80, 90}), kernel, fake_driver());
    const std::vector<KernelCase> cases = kernel_cases(k.info());
    EXPECT_FALSE(cases.empty()) << kernel;
    for (const KernelCase& c : cases) {
      harness::RunRequest r = c.request;
      r.verify = false;  // nothing plays the kernel: what runs is the question
      std::string label = std::string(kernel) + " seed " + std::to_string(r.seed);
      SCOPED_TRACE(label);
      const harness::RunResult result = harness::run_kernel(*device_, k, r);
      for (const auto& [name, value] : c.constexprs) EXPECT_EQ(constexpr_of(*result.variant, name), Constant(value)) << name;
      for (const ConstexprValue& pin : c.request.pinned) {
        EXPECT_EQ(constexpr_of(*result.variant, pin.name), pin.value) << pin.name;
      }
      if (!c.request.config.empty()) EXPECT_EQ(k.info().configs[result.variant->config_index].name, c.request.config);
      EXPECT_EQ(result.variant->arch, c.tma_fallback ? 80u : 90u);
      EXPECT_EQ(result.uses_ptx, c.tma_fallback);
    }
  }
}

// The GPU tests' refusal cases (tests/gpu/refusals.h) on the fake sm_90 device with packs made from
// the same specs: each is refused with the code and every text the GPU test expects, before any
// launch, so the GPU test's expectations hold by construction.
TEST_F(HarnessTest, TheGpuTestsRefusalsSayWhatTheyExpect) {
  for (const Refusal& refusal : refusals()) {
    SCOPED_TRACE(refusal.kernel + ": " + refusal.what);
    Kernel k(pack_from_spec(spec_of(refusal.kernel), {80, 90}), refusal.kernel, fake_driver());
    std::vector<harness::DeviceBuffer> buffers;
    std::vector<CUdeviceptr> pointers;
    for (size_t i = 0; i < kRefusalBuffers; ++i) {
      buffers.emplace_back(device_->driver(), kRefusalBufferBytes);
      pointers.push_back(buffers.back().get());
    }
    RefusalLaunch launch;
    refusal.build(k.info(), pointers, launch);
    const std::string message = error_of([&] { k.launch(launch.args, nullptr, launch.options); }, refusal.code);
    for (const std::string& t : refusal.expected) EXPECT_NE(message.find(t), std::string::npos) << t << "\nin: " << message;
  }
  EXPECT_TRUE(gpu_->launches.empty());
}

TEST(RunPlan, LookupReadsIntegersThenTheVariantsIntegralConstexprs) {
  harness::RunPlan plan;
  plan.integers = {{"M", 5}, {"BLOCK", 7}};
  VariantInfo v;
  v.constexprs = {{"BLOCK", Constant(64)}, {"BLOCK_D", Constant(128)}, {"EVEN", Constant(true)},
                  {"ACTIVATION", Constant("relu")}, {"SCALE", Constant(0.5)}};
  const auto lookup = plan.lookup(v);
  int64_t value = -1;
  EXPECT_TRUE(lookup("M", value));
  EXPECT_EQ(value, 5);
  EXPECT_TRUE(lookup("BLOCK", value));
  EXPECT_EQ(value, 7) << "the plan's integer comes first";
  EXPECT_TRUE(lookup("BLOCK_D", value));
  EXPECT_EQ(value, 128);
  EXPECT_TRUE(lookup("EVEN", value));
  EXPECT_EQ(value, 1);
  value = -1;
  EXPECT_FALSE(lookup("ACTIVATION", value));
  EXPECT_FALSE(lookup("SCALE", value));
  EXPECT_FALSE(lookup("N", value));
  EXPECT_EQ(value, -1);
}

TEST(RunPlan, MissingValuesAreNamedAsTheArgumentsToAdd) {
  auto pack = pack_from_spec(source("tests/kernels/matmul/matmul.toml"), {90});
  const KernelInfo& k = pack->manifest().kernels[0];
  harness::RunRequest r;
  r.values = {{"M", "10"}};
  EXPECT_EQ(error_of([&] { harness::plan_run(k, r); }, ErrorCode::kInvalidArgument),
            "kernel 'matmul' needs -a N=<i32>, -a K=<i32>, -a stride_am=<i32>, -a stride_ak=<i32>, -a stride_bk=<i32>, "
            "-a stride_bn=<i32>, -a stride_cm=<i32>, -a stride_cn=<i32>");
  r.values = {{"BLOCK_SIZE_M", "64"}};
  EXPECT_EQ(error_of([&] { harness::plan_run(k, r); }, ErrorCode::kInvalidArgument),
            "-a BLOCK_SIZE_M=64: 'BLOCK_SIZE_M' is a constexpr; choose the compiled value with --pin BLOCK_SIZE_M=64");
  r.values = {{"X", "1"}};
  EXPECT_EQ(error_of([&] { harness::plan_run(k, r); }, ErrorCode::kInvalidArgument),
            "-a X=1: kernel 'matmul' has no scalar, launch variable or dim named 'X' (scalars: M, N, K, stride_am, "
            "stride_ak, stride_bk, stride_bn, stride_cm, stride_cn)");
  r.values = {{"a_ptr", "1"}};
  EXPECT_NE(error_of([&] { harness::plan_run(k, r); }, ErrorCode::kInvalidArgument).find("'a_ptr' is a tensor"),
            std::string::npos);
  r.values = {{"M", "ten"}};
  EXPECT_EQ(error_of([&] { harness::plan_run(k, r); }, ErrorCode::kInvalidArgument), "-a M=ten: expected an integer");
}

TEST(RunPlan, LaunchVariablesAndDimsAreValuesToo) {
  auto layernorm = pack_from_spec(source("tests/kernels/layernorm/layernorm.toml"), {90});
  harness::RunRequest r;
  r.values = {{"N", "100"}, {"stride", "100"}, {"eps", "1e-5"}};
  EXPECT_EQ(error_of([&] { harness::plan_run(layernorm->manifest().kernels[0], r); }, ErrorCode::kInvalidArgument),
            "kernel 'layernorm' needs -a M=<i32> (launch variable)");
  r.values["M"] = "7";
  const harness::RunPlan plan = harness::plan_run(layernorm->manifest().kernels[0], r);
  const std::vector<CUdeviceptr> pointers(plan.operands.size(), 0x1000);
  const std::vector<Arg> args = plan.args(pointers);
  ASSERT_EQ(args.size(), 10u);  // 6 tensors, stride, N, eps, then the launch variable
  EXPECT_EQ(args.back().int_value, 7);
  EXPECT_EQ(args[8].kind, Arg::Kind::kFloat);

  auto fmha = pack_from_spec(source("kernels/fmha/fmha.toml"), {90});
  const KernelInfo& k = fmha->manifest().kernels[0];
  harness::RunRequest f;
  f.values = {{"B", "2"}, {"H", "3"}, {"S", "100"}, {"sm_scale", "0.1"}};
  EXPECT_EQ(error_of([&] { harness::plan_run(k, f); }, ErrorCode::kInvalidArgument),
            "kernel 'fmha' needs -a D=<size> (rule 'D == BLOCK_DMODEL' reads the dim D of Out, Q, K, V)");
  f.values["D"] = "64";
  const harness::RunPlan fp = harness::plan_run(k, f);
  EXPECT_EQ(fp.integers.at("batch_size"), 2);
  EXPECT_EQ(fp.integers.at("seq_len"), 100);
  EXPECT_EQ(fp.reals.at("sm_scale"), static_cast<double>(0.1f));  // as the kernel receives it, for the reference
  ASSERT_EQ(fp.operands.size(), 6u);
  EXPECT_EQ(fp.operands[3].shape, (std::vector<int64_t>{2, 3, 100, 64}));  // Q
  EXPECT_EQ(fp.operands[1].shape, (std::vector<int64_t>{6, 100}));         // L: [B * H, S]
  EXPECT_TRUE(fp.operands[1].written);                                      // scratch: poisoned and checked
  f.values["seq_len"] = "99";
  EXPECT_EQ(error_of([&] { harness::plan_run(k, f); }, ErrorCode::kInvalidArgument),
            "-a seq_len=99 disagrees with its dim: S = 100");

  auto desc = pack_from_spec(source("tests/kernels/desc_matmul/desc_matmul.toml"), {90});
  harness::RunRequest d;
  d.values = {{"M", "70"}, {"N", "40"}, {"K", "104"}};
  const harness::RunPlan dp = harness::plan_run(desc->manifest().kernels[0], d);
  EXPECT_EQ(dp.operands[1].shape, (std::vector<int64_t>{104, 40}));  // b_desc [K, N]
  EXPECT_EQ(dp.operands[1].strides, (std::vector<int64_t>{40, 1}));
}

TEST(RunPlan, PinsMatchTheCompiledValuesOfEveryKind) {
  auto pack = pack_from_spec(source("tests/kernels/matmul/matmul.toml"), {90});
  const KernelInfo& k = pack->manifest().kernels[0];
  EXPECT_EQ(harness::pin_from_text(k, "ACTIVATION", "leaky_relu").value, Constant("leaky_relu"));
  EXPECT_EQ(harness::pin_from_text(k, "ACTIVATION", "").value, Constant(""));
  EXPECT_EQ(harness::pin_from_text(k, "ACTIVATION", "''").value, Constant(""));
  EXPECT_EQ(harness::pin_from_text(k, "BLOCK_SIZE_M", "64").value, Constant(64));
  EXPECT_EQ(error_of([&] { harness::pin_from_text(k, "ACTIVATION", "relu"); }, ErrorCode::kInvalidArgument),
            "--pin ACTIVATION=relu: no variant of kernel 'matmul' is compiled with that value; ACTIVATION has '', "
            "'leaky_relu'");
  EXPECT_EQ(error_of([&] { harness::pin_from_text(k, "BLOCK_SIZE_M", "48"); }, ErrorCode::kInvalidArgument),
            "--pin BLOCK_SIZE_M=48: no variant of kernel 'matmul' is compiled with that value; BLOCK_SIZE_M has 128, "
            "64, 32");
  EXPECT_EQ(error_of([&] { harness::pin_from_text(k, "M", "1"); }, ErrorCode::kInvalidArgument),
            "--pin M=1: kernel 'matmul' has no constexpr 'M' (it has BLOCK_SIZE_M, BLOCK_SIZE_N, BLOCK_SIZE_K, "
            "GROUP_SIZE_M, ACTIVATION)");
}

TEST(RunPlan, AReferenceRunDoesNotKnowIsRefusedBeforeTheGpu) {
  auto pack = pack_from_spec(source("tests/kernels/matmul/matmul.toml"), {90});
  KernelInfo k = pack->manifest().kernels[0];
  k.reference = "nonesuch";
  harness::RunRequest r;
  r.values = {{"M", "1"}, {"N", "1"}, {"K", "1"}, {"stride_am", "1"}, {"stride_ak", "1"},
              {"stride_bk", "1"}, {"stride_bn", "1"}, {"stride_cm", "1"}, {"stride_cn", "1"}};
  const std::string message = error_of([&] { harness::plan_run(k, r); }, ErrorCode::kNotFound);
  EXPECT_NE(message.find("names the reference 'nonesuch', which `tritonpack run` does not know (it knows "
                         "attention, attention_causal, copy, desc_scale, layernorm, matmul, scale3_in_steps, softmax_rows, "
                         "vector_add)"),
            std::string::npos)
      << message;
  r.verify = false;
  EXPECT_NO_THROW(harness::plan_run(k, r));
}

}  // namespace
}  // namespace tritonpack::testing
