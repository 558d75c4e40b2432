// The host references of the run harness (src/harness/references.cpp) on cases small enough to
// compute by hand: they are the truth the GPU tests compare kernels with, so they are tested first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>

#include "common/error_of.h"
#include "harness/references.h"

namespace tritonpack::harness {
namespace {

using testing::error_of;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A launch as a reference sees it, built operand by operand.
class Launch {
 public:
  explicit Launch(std::string reference) { in_.reference = std::move(reference); in_.kernel = &kernel_; in_.variant = &variant_; }
  Launch& input(const std::string& name, std::vector<double> values, std::vector<int64_t> shape = {},
                std::vector<int64_t> strides = {}, DType dtype = DType::kFp32) {
    add(name, false, std::move(values), std::move(shape), std::move(strides));
    in_.operands.back().dtype = dtype;
    return *this;
  }
  Launch& output(const std::string& name, size_t numel, DType dtype = DType::kFp32, std::vector<int64_t> shape = {},
                 std::vector<int64_t> strides = {}) {
    add(name, true, std::vector<double>(numel, kNaN), std::move(shape), std::move(strides));
    in_.operands.back().dtype = dtype;
    return *this;
  }
  Launch& integer(const std::string& name, int64_t v) {
    in_.integers[name] = v;
    return *this;
  }
  Launch& real(const std::string& name, double v) {
    in_.reals[name] = v;
    return *this;
  }
  Launch& constexpr_value(const std::string& name, Constant v) {
    variant_.constexprs.push_back({name, std::move(v)});
    return *this;
  }
  std::vector<Expected> run() {
    kernel_.name = "k";
    return find_reference(in_.reference)->compute(in_);
  }

 private:
  Launch& add(const std::string& name, bool written, std::vector<double> values, std::vector<int64_t> shape,
              std::vector<int64_t> strides) {
    ParamInfo& p = params_.emplace_back();
    p.name = name;
    Operand op;
    op.param = &p;
    op.written = written;
    op.values = std::move(values);
    op.shape = std::move(shape);
    op.strides = std::move(strides);
    in_.operands.push_back(std::move(op));
    return *this;
  }
  std::deque<ParamInfo> params_;  // stable addresses for Operand::param
  KernelInfo kernel_;
  VariantInfo variant_;
  ReferenceInputs in_;
};

TEST(References, TheTableIsSortedAndComplete) {
  EXPECT_EQ(reference_names(),
            "attention, attention_causal, copy, desc_scale, layernorm, matmul, scale3_in_steps, softmax_rows, vector_add");
  EXPECT_EQ(find_reference("nonesuch"), nullptr);
  for (const Reference& r : references()) EXPECT_FALSE(r.summary.empty()) << r.name;
}

TEST(References, Scale3InStepsChecksTheScratchAndTheOutputWithinN) {
  // tests/kernels/two_step: x, tmp (scratch), out; the elements past n are no one's.
  Launch l("scale3_in_steps");
  l.input("x", {1, -0.5, 2, 9}).output("tmp", 4).output("out", 4, DType::kFp16).integer("n", 3);
  const std::vector<Expected> e = l.run();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].operand, 1u);
  EXPECT_EQ(e[1].operand, 2u);
  EXPECT_EQ(e[0].tolerance, 0.0);  // doubling is exact
  EXPECT_DOUBLE_EQ(e[1].tolerance, 2e-3);
  const double x[] = {1, -0.5, 2};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(e[0].values[i], 2 * x[i]);
    EXPECT_DOUBLE_EQ(e[1].values[i], 3 * x[i]);
  }
  EXPECT_EQ(e[0].checked[3], 0);
  EXPECT_EQ(e[1].checked[3], 0);
  Launch big("scale3_in_steps");
  big.input("x", {1}).output("tmp", 1).output("out", 1).integer("n", 2);
  EXPECT_EQ(error_of([&] { big.run(); }, ErrorCode::kInvalidSpec),
            "reference 'scale3_in_steps' for kernel 'k' needs x, tmp and out to hold n = 2 elements");
}

TEST(References, MatmulWithLeakyReluThroughStrideScalarsOrShapes) {
  // A = [[1, 2], [3, 4]] row-major, B = [[1, -1], [0, -2]] given transposed, C with a padding column.
  Launch l("matmul");
  l.input("a", {1, 2, 3, 4}).input("b", {1, 0, -1, -2}).output("c", 6, DType::kFp16);
  l.integer("M", 2).integer("N", 2).integer("K", 2);
  l.integer("stride_am", 2).integer("stride_ak", 1).integer("stride_bk", 1).integer("stride_bn", 2);
  l.integer("stride_cm", 3).integer("stride_cn", 1);
  l.constexpr_value("ACTIVATION", Constant("leaky_relu"));
  const std::vector<Expected> e = l.run();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].operand, 2u);
  // A @ B = [[1, -5], [3, -11]]; leaky_relu scales the negatives by 0.01.
  EXPECT_DOUBLE_EQ(e[0].values[0], 1);
  EXPECT_DOUBLE_EQ(e[0].values[1], -0.05);
  EXPECT_TRUE(std::isnan(e[0].values[2]));
  EXPECT_EQ(e[0].checked[2], 0);  // the padding column must stay untouched
  EXPECT_DOUBLE_EQ(e[0].values[3], 3);
  EXPECT_DOUBLE_EQ(e[0].values[4], -0.11);
  EXPECT_DOUBLE_EQ(e[0].tolerance, 2e-3 + 2 * std::ldexp(1.0, -24));

  // The descriptor kernel: no stride scalars, the operands' own shapes and strides; no ACTIVATION.
  Launch d("matmul");
  d.input("a", {1, 2, 3, 4}, {2, 2}, {2, 1}).input("b", {1, -1, 0, -2}, {2, 2}, {2, 1});
  d.output("c", 4, DType::kFp32, {2, 2}, {2, 1});
  d.integer("M", 2).integer("N", 2).integer("K", 2);
  const std::vector<Expected> f = d.run();
  EXPECT_EQ(f[0].values, (std::vector<double>{1, -5, 3, -11}));
  EXPECT_DOUBLE_EQ(f[0].tolerance, 1e-5 + 2 * std::ldexp(1.0, -24));
}

TEST(References, MatmulWithoutStrideScalarsReadsContiguousOperandsByTheirShapes) {
  // The shipped kernels/matmul: no stride params; A, B, C carry their shapes (dims in the spec),
  // row-major and contiguous. Not square, so a transposed reading would go out of range or differ.
  // A = [[1, 2, 3], [4, 5, 6]] (2 x 3), B = [[1], [10], [100]] (3 x 1).
  Launch l("matmul");
  l.input("A", {1, 2, 3, 4, 5, 6}, {2, 3}, {3, 1}).input("B", {1, 10, 100}, {3, 1}, {1, 1});
  l.output("C", 2, DType::kBf16, {2, 1}, {1, 1});
  l.integer("M", 2).integer("N", 1).integer("K", 3);
  const std::vector<Expected> e = l.run();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].values, (std::vector<double>{321, 654}));
  EXPECT_EQ(e[0].checked, (std::vector<char>{1, 1}));
  EXPECT_DOUBLE_EQ(e[0].tolerance, 1.6e-2 + 3 * std::ldexp(1.0, -24));

  // Without the shapes there is nothing to read the layout from: the reference says what it needs.
  Launch bare("matmul");
  bare.input("A", {1, 2, 3, 4, 5, 6}).input("B", {1, 10, 100}).output("C", 2);
  bare.integer("M", 2).integer("N", 1).integer("K", 3);
  EXPECT_EQ(error_of([&] { bare.run(); }, ErrorCode::kInvalidSpec),
            "reference 'matmul' for kernel 'k' needs the strides of 'A': scalar 'stride_am' and 'stride_ak', or a "
            "2-D shape (dims in the spec)");
}

TEST(References, MatmulSaysWhatItNeeds) {
  Launch l("matmul");
  l.input("a", {1}).input("b", {1}).output("c", 1).integer("M", 1).integer("N", 1);
  EXPECT_EQ(error_of([&] { l.run(); }, ErrorCode::kInvalidSpec),
            "reference 'matmul' for kernel 'k' needs an integer 'K' (a scalar, launch variable or dim of the kernel)");
  Launch small("matmul");
  small.input("a", {1, 2, 3}).input("b", {1, 2}).output("c", 4).integer("M", 2).integer("N", 2).integer("K", 2);
  small.integer("stride_am", 2).integer("stride_ak", 1);
  EXPECT_NE(error_of([&] { small.run(); }, ErrorCode::kInvalidSpec).find("'a' to hold 2 x 2 elements"),
            std::string::npos);
  Launch act("matmul");
  act.input("a", {1}, {1, 1}, {1, 1}).input("b", {1}, {1, 1}, {1, 1}).output("c", 1, DType::kFp32, {1, 1}, {1, 1});
  act.integer("M", 1).integer("N", 1).integer("K", 1).constexpr_value("ACTIVATION", Constant("gelu"));
  EXPECT_NE(error_of([&] { act.run(); }, ErrorCode::kInvalidSpec).find("got 'gelu'"), std::string::npos);
}

TEST(References, LayernormGivesYMeanAndRstd) {
  Launch l("layernorm");
  // One row of 4 in a stride of 5; W = 2, B = 1 everywhere.
  l.input("X", {1, 2, 3, 4, 99}).output("Y", 5).input("W", {2, 2, 2, 2}).input("B", {1, 1, 1, 1});
  l.output("Mean", 1).output("Rstd", 1);
  l.integer("M", 1).integer("N", 4).integer("stride", 5).real("eps", 0.0);
  const std::vector<Expected> e = l.run();
  ASSERT_EQ(e.size(), 3u);
  const double rstd = 1 / std::sqrt(1.25);
  EXPECT_DOUBLE_EQ(e[0].values[0], (1 - 2.5) * rstd * 2 + 1);
  EXPECT_DOUBLE_EQ(e[0].values[3], (4 - 2.5) * rstd * 2 + 1);
  EXPECT_EQ(e[0].checked[4], 0);
  EXPECT_DOUBLE_EQ(e[1].values[0], 2.5);
  EXPECT_DOUBLE_EQ(e[2].values[0], rstd);
  EXPECT_EQ(e[1].operand, 4u);
  EXPECT_EQ(e[2].operand, 5u);
  // The mean's error is measured against the size of the row's values: sqrt(mean(x^2)).
  EXPECT_DOUBLE_EQ(e[1].scale, std::sqrt(30.0 / 4));
  EXPECT_EQ(e[0].scale, 0);
}

TEST(References, SoftmaxRowsFindsItsOperandsByRoleAndDefaultsTheScale) {
  Launch l("softmax_rows");  // the output first, as softmax.py and softmax_h.py take them
  l.output("out", 4).input("in", {0, std::log(3.0), 7, 7});
  l.integer("n_rows", 2).integer("n_cols", 1).integer("input_row_stride", 2).integer("output_row_stride", 2);
  const std::vector<Expected> e = l.run();
  EXPECT_EQ(e[0].operand, 0u);
  EXPECT_DOUBLE_EQ(e[0].values[0], 1.0);
  EXPECT_EQ(e[0].checked, (std::vector<char>{1, 0, 1, 0}));
  Launch two("softmax_rows");
  two.output("out", 2).input("in", {0, std::log(3.0)});
  two.integer("n_rows", 1).integer("n_cols", 2).integer("input_row_stride", 2).integer("output_row_stride", 2);
  two.real("scale", 1.0);
  const std::vector<Expected> f = two.run();
  EXPECT_DOUBLE_EQ(f[0].values[0], 0.25);
  EXPECT_DOUBLE_EQ(f[0].values[1], 0.75);
}

TEST(References, CausalAttentionOutLAndM) {
  // B = H = 1, S = 2, D = 1: row 0 sees key 0 only; row 1 sees both.
  Launch l("attention_causal");
  l.output("Out", 2, DType::kFp16).output("L", 2).output("M", 2);
  l.input("Q", {1, 2}).input("K", {3, -1}).input("V", {10, 20});
  l.integer("batch_size", 1).integer("num_heads", 1).integer("seq_len", 2).real("sm_scale", 0.5);
  l.constexpr_value("BLOCK_DMODEL", Constant(1));
  const std::vector<Expected> e = l.run();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_DOUBLE_EQ(e[0].values[0], 10);  // one key: its value
  EXPECT_DOUBLE_EQ(e[1].values[0], 1);   // L = exp(0)
  EXPECT_DOUBLE_EQ(e[2].values[0], 1.5);  // M = 0.5 * 1 * 3
  // Row 1: scores 0.5 * 2 * 3 = 3 and 0.5 * 2 * -1 = -1; M = 3, L = 1 + e^-4.
  const double l1 = 1 + std::exp(-4.0);
  EXPECT_DOUBLE_EQ(e[2].values[1], 3);
  EXPECT_DOUBLE_EQ(e[1].values[1], l1);
  EXPECT_NEAR(e[0].values[1], (10 + 20 * std::exp(-4.0)) / l1, 1e-12);
  EXPECT_DOUBLE_EQ(e[0].tolerance, 2e-3 + std::ldexp(1.0, -11));
  EXPECT_DOUBLE_EQ(e[1].tolerance, 1e-5);
}

TEST(References, CausalAttentionOnPlainArraysKeepsHeadsApart) {
  // Two heads of two rows, D = 1: head 1's row 1 sees its own keys only (scores 2 * 4 * 0.5 = 4 and
  // 2 * 1 * 0.5 = 1).
  const std::vector<double> q{1, 2, 5, 2}, k{3, -1, 4, 1}, v{10, 20, 30, 40};
  const CausalAttention r = causal_attention(2, 2, 1, 0.5, q, k, v);
  ASSERT_EQ(r.out.size(), 4u);
  ASSERT_EQ(r.l.size(), 4u);
  EXPECT_DOUBLE_EQ(r.out[0], 10);
  EXPECT_DOUBLE_EQ(r.out[2], 30);
  EXPECT_DOUBLE_EQ(r.m[2], 0.5 * 5 * 4);
  EXPECT_DOUBLE_EQ(r.m[3], 4);
  EXPECT_DOUBLE_EQ(r.l[3], 1 + std::exp(-3.0));
  EXPECT_NEAR(r.out[3], (30 + 40 * std::exp(-3.0)) / (1 + std::exp(-3.0)), 1e-12);
  const std::vector<double> short_v{1, 2, 3};
  EXPECT_NE(error_of([&] { causal_attention(2, 2, 1, 0.5, q, k, short_v); }, ErrorCode::kInvalidArgument)
                .find("v holds 3 values, fewer than heads * seq * head_size = 4"),
            std::string::npos);
}

// The attention family's reference, as a launch of kernels/attention gives it (Q, K, V, O, LSE),
// batch 1. v_t: nullopt gives no V_T constexpr (a pack compiled before it existed).
std::vector<Expected> family_attention(int64_t hq, int64_t hkv, int64_t sq, int64_t skv, int64_t d, bool causal,
                                       bool bshd, std::vector<double> q, std::vector<double> k, std::vector<double> v,
                                       DType input_dtype = DType::kFp16, std::optional<bool> v_t = std::nullopt,
                                       int64_t batch = 1) {
  Launch l("attention");
  l.input("Q", std::move(q), {}, {}, input_dtype).input("K", std::move(k), {}, {}, input_dtype);
  l.input("V", std::move(v), {}, {}, input_dtype);
  l.output("O", static_cast<size_t>(batch * hq * sq * d), DType::kFp16)
      .output("LSE", static_cast<size_t>(batch * hq * sq));
  l.integer("batch", batch).integer("heads_q", hq).integer("heads_kv", hkv).integer("seq_q", sq);
  l.integer("seq_kv", skv).real("sm_scale", 0.5).constexpr_value("HEAD_DIM", Constant(d));
  l.constexpr_value("IS_CAUSAL", Constant(causal)).constexpr_value("BSHD", Constant(bshd));
  if (v_t) l.constexpr_value("V_T", Constant(*v_t));
  return l.run();
}

TEST(References, AttentionIsCausalAttentionOnSquareHeads) {
  // Two heads, S = 3, D = 2: O equals attention_causal's Out, LSE its M + log(L).
  const std::vector<double> q{1, 2, -1, 0, 3, 1, 2, 2, 0, -2, 1, 1}, k{3, -1, 0, 2, 1, 1, -1, 1, 2, 0, 1, -3},
      v{10, 20, 30, 40, 50, 60, 1, 2, 3, 4, 5, 6};
  const CausalAttention want = causal_attention(2, 3, 2, 0.5, q, k, v);
  const std::vector<Expected> e = family_attention(2, 2, 3, 3, 2, true, false, q, k, v);
  ASSERT_EQ(e.size(), 2u);
  for (size_t i = 0; i < want.out.size(); ++i) EXPECT_NEAR(e[0].values[i], want.out[i], 1e-12) << i;
  for (size_t r = 0; r < want.l.size(); ++r) EXPECT_NEAR(e[1].values[r], want.m[r] + std::log(want.l[r]), 1e-12) << r;
  EXPECT_DOUBLE_EQ(e[0].tolerance, 2e-3 + std::ldexp(1.0, -11));
  EXPECT_DOUBLE_EQ(e[1].tolerance, 1e-5);
}

TEST(References, AttentionWithFp8InputsAllowsOneRoundingOfPToTheirType) {
  // P is rounded to V's dtype before P @ V: with FP8 inputs (attention_fp8.toml: fp16 O) the
  // output's tolerance grows by that type's unit roundoff; the values themselves do not change.
  const std::vector<double> q{1, 2, -1, 0}, k{0.5, -1, 2, 0.25}, v{1, 2, 3, 4};
  const std::vector<Expected> fp16 = family_attention(1, 1, 2, 2, 2, false, false, q, k, v);
  const std::vector<Expected> e4m3 = family_attention(1, 1, 2, 2, 2, false, false, q, k, v, DType::kFp8e4nv);
  const std::vector<Expected> e5m2 = family_attention(1, 1, 2, 2, 2, false, false, q, k, v, DType::kFp8e5);
  EXPECT_EQ(e4m3[0].values, fp16[0].values);
  EXPECT_DOUBLE_EQ(e4m3[0].tolerance, 2e-3 + std::ldexp(1.0, -4));
  EXPECT_DOUBLE_EQ(e5m2[0].tolerance, 2e-3 + std::ldexp(1.0, -3));
  EXPECT_DOUBLE_EQ(e4m3[1].tolerance, 1e-5);
}

TEST(References, AttentionGroupsQueryHeadsAndReadsEitherLayout) {
  // Four query heads over two key/value heads, S_q = 2, S_kv = 3, D = 1, not causal. Query heads 0
  // and 1 read key/value head 0; 2 and 3 read head 1: the same as four heads with K, V repeated.
  const std::vector<double> q{1, -1, 2, 0, 1, 1, -2, 3}, k{3, 1, -1, 0, 2, 1}, v{10, 20, 30, 1, 2, 3};
  const std::vector<double> k4{3, 1, -1, 3, 1, -1, 0, 2, 1, 0, 2, 1}, v4{10, 20, 30, 10, 20, 30, 1, 2, 3, 1, 2, 3};
  const std::vector<Expected> grouped = family_attention(4, 2, 2, 3, 1, false, false, q, k, v);
  const std::vector<Expected> repeated = family_attention(4, 4, 2, 3, 1, false, false, q, k4, v4);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_DOUBLE_EQ(grouped[0].values[i], repeated[0].values[i]) << i;
    EXPECT_DOUBLE_EQ(grouped[1].values[i], repeated[1].values[i]) << i;
  }
  // [B, S, H, D]: element (h, s) of a [H, S] tensor sits at s * H + h. LSE keeps [H, S_q].
  auto to_bshd = [](const std::vector<double>& x, int64_t heads, int64_t seq) {
    std::vector<double> y(x.size());
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t s = 0; s < seq; ++s) y[static_cast<size_t>(s * heads + h)] = x[static_cast<size_t>(h * seq + s)];
    }
    return y;
  };
  const std::vector<Expected> bshd =
      family_attention(4, 2, 2, 3, 1, false, true, to_bshd(q, 4, 2), to_bshd(k, 2, 3), to_bshd(v, 2, 3));
  EXPECT_EQ(bshd[0].values, to_bshd(grouped[0].values, 4, 2));
  EXPECT_EQ(bshd[1].values, grouped[1].values);
}

TEST(References, AttentionReadsVTransposedWithVT) {
  // Two batches, four query heads over two key/value heads, S_q = 3, S_kv = 5, D = 2, causal and
  // not: the reference on V^T ([B, H, D, S], V_T true) equals the reference on V ([B, H, S, D],
  // V_T false, and no V_T at all). Values differ in every element, so a transposed read of the
  // wrong element shows.
  const int64_t batch = 2, hq = 4, hkv = 2, sq = 3, skv = 5, d = 2;
  std::vector<double> q(static_cast<size_t>(batch * hq * sq * d)), k(static_cast<size_t>(batch * hkv * skv * d));
  std::vector<double> v(k.size()), v_t(k.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = std::sin(0.7 * static_cast<double>(i) + 0.1);
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = std::cos(1.3 * static_cast<double>(i));
    v[i] = static_cast<double>(i) - 0.25 * static_cast<double>(i * i % 7);
  }
  // Element (b, h, j, e) of V at ((b * HKV + h) * S_kv + j) * D + e; of V^T at ((b * HKV + h) * D + e) * S_kv + j.
  for (int64_t bh = 0; bh < batch * hkv; ++bh) {
    for (int64_t j = 0; j < skv; ++j) {
      for (int64_t e = 0; e < d; ++e) {
        v_t[static_cast<size_t>((bh * d + e) * skv + j)] = v[static_cast<size_t>((bh * skv + j) * d + e)];
      }
    }
  }
  for (bool causal : {false, true}) {
    const std::vector<Expected> plain = family_attention(hq, hkv, sq, skv, d, causal, false, q, k, v, DType::kFp8e4nv,
                                                         false, batch);
    const std::vector<Expected> unnamed = family_attention(hq, hkv, sq, skv, d, causal, false, q, k, v,
                                                           DType::kFp8e4nv, std::nullopt, batch);
    const std::vector<Expected> transposed = family_attention(hq, hkv, sq, skv, d, causal, false, q, k, v_t,
                                                              DType::kFp8e4nv, true, batch);
    ASSERT_EQ(transposed.size(), 2u);
    EXPECT_EQ(transposed[0].values, plain[0].values) << "causal " << causal;
    EXPECT_EQ(transposed[1].values, plain[1].values) << "causal " << causal;
    EXPECT_EQ(transposed[0].tolerance, plain[0].tolerance);
    EXPECT_EQ(unnamed[0].values, plain[0].values) << "causal " << causal;
    // Reading V^T as if it were V gives other values: the test can tell the layouts apart.
    const std::vector<Expected> misread = family_attention(hq, hkv, sq, skv, d, causal, false, q, k, v_t,
                                                           DType::kFp8e4nv, false, batch);
    EXPECT_NE(misread[0].values, plain[0].values);
  }
}

TEST(References, AttentionRefusesVTWithBSHD) {
  const std::vector<double> x{1, 2};
  EXPECT_NE(error_of([&] { family_attention(1, 1, 1, 1, 2, false, true, x, x, x, DType::kFp16, true); },
                     ErrorCode::kInvalidSpec)
                .find("BSHD false with V_T true"),
            std::string::npos);
}

TEST(References, CausalAttentionAlignsBottomRightAndRowsWithoutKeysAreZeroAndMinusInfinity) {
  // S_q = 4, S_kv = 2, D = 1, causal: row i sees keys j <= i - 2. Rows 0 and 1 see none (O = 0,
  // LSE = -inf), row 2 sees key 0, row 3 both.
  const std::vector<Expected> e = family_attention(1, 1, 4, 2, 1, true, false, {1, 1, 2, 2}, {3, -1}, {10, 20});
  EXPECT_EQ(e[0].values[0], 0);
  EXPECT_EQ(e[0].values[1], 0);
  EXPECT_EQ(e[1].values[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(e[1].values[1], -std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(e[0].values[2], 10);
  EXPECT_DOUBLE_EQ(e[1].values[2], 0.5 * 2 * 3);
  EXPECT_NEAR(e[0].values[3], (10 + 20 * std::exp(-4.0)) / (1 + std::exp(-4.0)), 1e-12);
  EXPECT_EQ(std::count(e[0].checked.begin(), e[0].checked.end(), 1), 4);
  EXPECT_EQ(std::count(e[1].checked.begin(), e[1].checked.end(), 1), 4);
  // Query longer than keys, not causal: every row sees every key.
  const std::vector<Expected> full = family_attention(1, 1, 4, 2, 1, false, false, {1, 1, 2, 2}, {3, -1}, {10, 20});
  EXPECT_NEAR(full[0].values[0], (10 + 20 * std::exp(-2.0)) / (1 + std::exp(-2.0)), 1e-12);
}

TEST(References, CopyReadsThroughStridesAndIsExact) {
  Launch l("copy");
  l.input("x", {1, 2, 3, -1, 4, 5, 6, -1}, {2, 3}, {4, 1}).output("out", 6, DType::kFp16);
  const std::vector<Expected> e = l.run();
  EXPECT_EQ(e[0].values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(e[0].tolerance, 0);
}

TEST(References, AnOutputTheSpecDoesNotMarkIsRefused) {
  Launch l("vector_add");
  l.input("x", {1}).input("y", {2}).input("out", {0}).integer("n_elements", 1);
  EXPECT_NE(error_of([&] { l.run(); }, ErrorCode::kInvalidSpec).find("needs 1 output tensor(s)"), std::string::npos);
}

}  // namespace
}  // namespace tritonpack::harness
