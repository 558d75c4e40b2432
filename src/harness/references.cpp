#include "harness/references.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "tritonpack/error.h"

namespace tritonpack::harness {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void need(const ReferenceInputs& in, const std::string& what) {
  throw Error(ErrorCode::kInvalidSpec, "reference '" + in.reference + "' for kernel '" +
                                           (in.kernel ? in.kernel->name : std::string("?")) + "' needs " + what);
}

// Expected values for operand `index`: NaN everywhere, nothing checked yet.
Expected expect(const ReferenceInputs& in, size_t index, double tolerance) {
  const Operand& op = in.operand(index);
  if (!op.written) {
    need(in, "operand " + std::to_string(index) + " ('" + op.param->name +
                 "') to be an output (io = \"out\" or \"scratch\"): it is the one the reference computes");
  }
  Expected e;
  e.operand = index;
  e.values.assign(op.values.size(), kNaN);
  e.checked.assign(op.values.size(), 0);
  e.tolerance = tolerance;
  return e;
}

// A 2-D view (rows x cols) of an operand through strides in elements; the reference never reads or
// writes outside the operand's elements.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::array<int64_t, 2> stride{0, 0};

  size_t at(int64_t i, int64_t j) const { return static_cast<size_t>(i * stride[0] + j * stride[1]); }
};

// The strides: both named scalars when the kernel has them (matmul's stride_am, stride_ak); a named
// row stride with contiguous columns when only `stride0` is named; else the operand's own 2-D
// strides (a descriptor, or a tensor with dims), else contiguous rows of `cols`.
Matrix matrix(const ReferenceInputs& in, size_t index, int64_t rows, int64_t cols, std::string_view stride0,
              std::string_view stride1) {
  const Operand& op = in.operand(index);
  Matrix m{rows, cols, {cols, 1}};
  const auto s0 = in.find_integer(stride0), s1 = in.find_integer(stride1);
  if (s0 && (s1 || stride1.empty())) {
    m.stride = {*s0, s1.value_or(1)};
  } else if (op.strides.size() == 2) {
    m.stride = {op.strides[0], op.strides[1]};
  } else if (!stride0.empty()) {
    need(in, "the strides of '" + op.param->name + "': scalar '" + std::string(stride0) + "'" +
                 (stride1.empty() ? std::string() : " and '" + std::string(stride1) + "'") +
                 ", or a 2-D shape (dims in the spec)");
  }
  if (rows < 0 || cols < 0 || m.stride[0] < 0 || m.stride[1] < 0) {
    need(in, "non-negative sizes and strides for '" + op.param->name + "'");
  }
  if (rows > 0 && cols > 0) {
    const int64_t last = (rows - 1) * m.stride[0] + (cols - 1) * m.stride[1];
    if (last >= static_cast<int64_t>(op.values.size())) {
      need(in, "'" + op.param->name + "' to hold " + std::to_string(rows) + " x " + std::to_string(cols) +
                   " elements with strides (" + std::to_string(m.stride[0]) + ", " + std::to_string(m.stride[1]) +
                   "): the last is at " + std::to_string(last) + ", it has " + std::to_string(op.values.size()));
    }
  }
  return m;
}

// C = act(A @ B): operands A, B, C in this order; M, N, K by name; strides from the scalars of
// Triton's tutorial (stride_am, ...) or the operands' shapes; ACTIVATION "" or "leaky_relu".
std::vector<Expected> matmul(const ReferenceInputs& in) {
  const int64_t M = in.integer("M"), N = in.integer("N"), K = in.integer("K");
  const Matrix a = matrix(in, 0, M, K, "stride_am", "stride_ak");
  const Matrix b = matrix(in, 1, K, N, "stride_bk", "stride_bn");
  const Matrix c = matrix(in, 2, M, N, "stride_cm", "stride_cn");
  std::string activation;
  if (const Constant* act = in.find_constexpr("ACTIVATION")) {
    if (act->kind() != Constant::Kind::kString) need(in, "ACTIVATION to be a string, got " + act->text());
    activation = act->as_string();
  }
  if (activation != "" && activation != "leaky_relu") {
    need(in, "ACTIVATION '' or 'leaky_relu' (the ones it knows), got '" + activation + "'");
  }
  const Operand& C = in.operand(2);
  // Inputs are fp16/bf16 and the kernel accumulates in fp32: the products are exact in fp32 and
  // each of the K additions rounds by at most 2^-24 of the running sum. With inputs of random
  // sign those errors add up like a random walk, and the rounding of C to its dtype comes on top,
  // so K * 2^-24 on top of the dtype's tolerance covers the accumulation with room to spare (it is
  // 1.2e-4 at K = 2048, next to fp16's 2e-3), and grows with K as the accumulation error can.
  const double tolerance = rounding_tolerance(C.dtype) + static_cast<double>(K) * std::ldexp(1.0, -24);
  Expected e = expect(in, 2, tolerance);
  const std::vector<double>& av = in.operand(0).values;
  const std::vector<double>& bv = in.operand(1).values;
  std::vector<double> row(static_cast<size_t>(std::max<int64_t>(N, 0)));
  for (int64_t i = 0; i < M; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int64_t k = 0; k < K; ++k) {
      const double aik = av[a.at(i, k)];
      for (int64_t j = 0; j < N; ++j) row[static_cast<size_t>(j)] += aik * bv[b.at(k, j)];
    }
    for (int64_t j = 0; j < N; ++j) {
      const double v = row[static_cast<size_t>(j)];
      const size_t o = c.at(i, j);
      e.values[o] = activation == "leaky_relu" && v < 0 ? 0.01 * v : v;
      e.checked[o] = 1;
    }
  }
  return {std::move(e)};
}

// Layer norm forward: operands X, Y, W, B, Mean, Rstd; M rows (a launch variable), N columns,
// X's and Y's row stride, eps.
std::vector<Expected> layernorm(const ReferenceInputs& in) {
  const int64_t M = in.integer("M"), N = in.integer("N");
  const double eps = in.real("eps");
  const Matrix x = matrix(in, 0, M, N, "stride", "");
  const Matrix y = matrix(in, 1, M, N, "stride", "");
  const Matrix w = matrix(in, 2, 1, N, "", "");
  const Matrix bias = matrix(in, 3, 1, N, "", "");
  Expected ey = expect(in, 1, rounding_tolerance(in.operand(1).dtype));
  Expected emean = expect(in, 4, rounding_tolerance(in.operand(4).dtype));
  Expected erstd = expect(in, 5, rounding_tolerance(in.operand(5).dtype));
  if (static_cast<int64_t>(emean.values.size()) < M || static_cast<int64_t>(erstd.values.size()) < M) {
    need(in, "Mean and Rstd to hold M = " + std::to_string(M) + " values");
  }
  const auto& xv = in.operand(0).values;
  const auto& wv = in.operand(2).values;
  const auto& bv = in.operand(3).values;
  double squares = 0;  // sum over rows of mean(x^2): the scale of the means' rounding errors
  for (int64_t r = 0; r < M; ++r) {
    double sum = 0, sum2 = 0;
    for (int64_t j = 0; j < N; ++j) {
      sum += xv[x.at(r, j)];
      sum2 += xv[x.at(r, j)] * xv[x.at(r, j)];
    }
    squares += sum2 / static_cast<double>(N);
    const double mean = sum / static_cast<double>(N);
    double var = 0;
    for (int64_t j = 0; j < N; ++j) var += (xv[x.at(r, j)] - mean) * (xv[x.at(r, j)] - mean);
    var /= static_cast<double>(N);
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < N; ++j) {
      const size_t o = y.at(r, j);
      ey.values[o] = (xv[x.at(r, j)] - mean) * rstd * wv[w.at(0, j)] + bv[bias.at(0, j)];
      ey.checked[o] = 1;
    }
    emean.values[static_cast<size_t>(r)] = mean;
    emean.checked[static_cast<size_t>(r)] = 1;
    erstd.values[static_cast<size_t>(r)] = rstd;
    erstd.checked[static_cast<size_t>(r)] = 1;
  }
  // A row's mean may be near zero (random data is centered) while the rounding of the fp32 sum
  // behind it is relative to the row's values: measure Mean's error against their size.
  emean.scale = std::sqrt(squares);
  return {std::move(ey), std::move(emean), std::move(erstd)};
}

// softmax(scale * row) over n_cols columns of n_rows rows: the first read operand is the input,
// the first written one the output; scale defaults to 1 for kernels without one.
std::vector<Expected> softmax_rows(const ReferenceInputs& in) {
  const int64_t rows = in.integer("n_rows"), cols = in.integer("n_cols");
  const double scale = in.real_or("scale", 1.0);
  const size_t in_index = in.read(0), out_index = in.written(0);
  const Matrix x = matrix(in, in_index, rows, cols, "input_row_stride", "");
  const Matrix y = matrix(in, out_index, rows, cols, "output_row_stride", "");
  Expected e = expect(in, out_index, rounding_tolerance(in.operand(out_index).dtype));
  const auto& xv = in.operand(in_index).values;
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, scale * xv[x.at(r, c)]);
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(scale * xv[x.at(r, c)] - mx);
    for (int64_t c = 0; c < cols; ++c) {
      e.values[y.at(r, c)] = std::exp(scale * xv[x.at(r, c)] - mx) / sum;
      e.checked[y.at(r, c)] = 1;
    }
  }
  return {std::move(e)};
}

// output = x + y over n_elements: the first two read operands, the first written one.
std::vector<Expected> vector_add(const ReferenceInputs& in) {
  const int64_t n = in.integer("n_elements");
  const size_t x = in.read(0), y = in.read(1), out = in.written(0);
  const Matrix vx = matrix(in, x, 1, n, "", ""), vy = matrix(in, y, 1, n, "", ""), vo = matrix(in, out, 1, n, "", "");
  Expected e = expect(in, out, rounding_tolerance(in.operand(out).dtype));
  for (int64_t i = 0; i < n; ++i) {
    e.values[vo.at(0, i)] = in.operand(x).values[vx.at(0, i)] + in.operand(y).values[vy.at(0, i)];
    e.checked[vo.at(0, i)] = 1;
  }
  return {std::move(e)};
}

// Causal attention, kernels/fmha: operands Out, L, M, Q, K, V ([B, H, S, D], dense), B, H, S from
// batch_size, num_heads, seq_len, D = BLOCK_DMODEL, and sm_scale. For row i of head bh, with
// s_j = sm_scale * Q[bh, i] . K[bh, j] for j <= i: M = max_j s_j, L = sum_j exp(s_j - M),
// Out = sum_j exp(s_j - M) V[bh, j] / L (natural-log units, as fmha.py documents).
std::vector<Expected> attention_causal(const ReferenceInputs& in) {
  const int64_t B = in.integer("batch_size"), H = in.integer("num_heads"), S = in.integer("seq_len");
  int64_t D = 0;
  if (const Constant* d = in.find_constexpr("BLOCK_DMODEL"); d && d->is_integral()) {
    D = d->as_int();
  } else if (in.operand(3).shape.size() == 4) {
    D = in.operand(3).shape[3];
  } else {
    need(in, "the head size: constexpr BLOCK_DMODEL, or Q's shape [B, H, S, D]");
  }
  const double sm_scale = in.real("sm_scale");
  const int64_t heads = B * H;
  for (size_t t : {0, 3, 4, 5}) (void)matrix(in, t, heads * S, D, "", "");
  for (size_t t : {1, 2}) (void)matrix(in, t, 1, heads * S, "", "");
  const DType out_dtype = in.operand(0).dtype;
  // P = softmax numerators is rounded to T before the P @ V product (tensor cores take T), one
  // rounding of T more than a result computed in fp32 and stored once.
  Expected out = expect(in, 0, rounding_tolerance(out_dtype) + unit_roundoff(out_dtype));
  std::vector<Expected> result;
  const bool check_stats = in.operand(1).written && in.operand(2).written;
  Expected lsum, rmax;
  if (check_stats) {
    lsum = expect(in, 1, rounding_tolerance(in.operand(1).dtype));
    rmax = expect(in, 2, rounding_tolerance(in.operand(2).dtype));
  }
  const CausalAttention r = causal_attention(heads, S, D, sm_scale, in.operand(3).values, in.operand(4).values,
                                             in.operand(5).values);
  for (size_t o = 0; o < r.out.size(); ++o) {
    out.values[o] = r.out[o];
    out.checked[o] = 1;
  }
  if (check_stats) {
    for (size_t row = 0; row < r.l.size(); ++row) {
      lsum.values[row] = r.l[row];
      lsum.checked[row] = 1;
      rmax.values[row] = r.m[row];
      rmax.checked[row] = 1;
    }
  }
  result.push_back(std::move(out));
  if (check_stats) {
    result.push_back(std::move(lsum));
    result.push_back(std::move(rmax));
  }
  return result;
}

// The attention family, kernels/attention: operands Q, K, V, O, LSE; batch, heads_q, heads_kv,
// seq_q, seq_kv, sm_scale; constexprs HEAD_DIM, IS_CAUSAL, BSHD (the tensors' layout: [B, S, H, D]
// when true, else [B, H, S, D]; LSE is [B, heads_q, seq_q] in both) and V_T (V given transposed,
// [B, H, D, S], with BSHD false; a pack compiled before V_T existed has none: false). Query head
// h reads key/value head h / (heads_q / heads_kv). With IS_CAUSAL, key j is visible to row i when
// j <= i + seq_kv - seq_q (bottom-right). O = softmax(sm_scale * Q K^T) V over the visible keys
// and LSE = m + log(l) (natural log); a row that sees no key has O = 0 and LSE = -inf.
std::vector<Expected> attention(const ReferenceInputs& in) {
  const int64_t B = in.integer("batch"), HQ = in.integer("heads_q"), HKV = in.integer("heads_kv");
  const int64_t SQ = in.integer("seq_q"), SKV = in.integer("seq_kv"), D = in.integer("HEAD_DIM");
  if (HKV < 1 || HQ % HKV != 0) need(in, "heads_kv >= 1 dividing heads_q (the spec's rules refuse the others)");
  const Constant* causal_c = in.find_constexpr("IS_CAUSAL");
  const Constant* bshd_c = in.find_constexpr("BSHD");
  if (causal_c == nullptr || bshd_c == nullptr) need(in, "the constexprs IS_CAUSAL and BSHD");
  const bool causal = causal_c->as_int() != 0, bshd = bshd_c->as_int() != 0;
  const Constant* v_t_c = in.find_constexpr("V_T");
  const bool v_t = v_t_c != nullptr && v_t_c->as_int() != 0;
  if (v_t && bshd) need(in, "BSHD false with V_T true (V transposed is [B, H, D, S]; the kernel refuses both)");
  const double sm_scale = in.real("sm_scale");
  const Operand &q = in.operand(0), &k = in.operand(1), &v = in.operand(2);
  for (size_t t : {0, 1, 2}) {
    const int64_t heads = t == 0 ? HQ : HKV, seq = t == 0 ? SQ : SKV;
    if (static_cast<int64_t>(in.operand(t).values.size()) < B * heads * seq * D) {
      need(in, "'" + in.operand(t).param->name + "' to hold batch * heads * seq * HEAD_DIM elements");
    }
  }
  // Element offset of (b, h, s, 0) in a tensor of `heads` heads and `seq` rows.
  auto at = [&](int64_t b, int64_t h, int64_t s, int64_t heads, int64_t seq) {
    return static_cast<size_t>(bshd ? ((b * seq + s) * heads + h) * D : ((b * heads + h) * seq + s) * D);
  };
  // Element (b, h, j, d) of V: its offset and the step to d + 1 (1, or seq_kv when transposed).
  const size_t v_dim_step = v_t ? static_cast<size_t>(SKV) : 1;
  auto v_at = [&](int64_t b, int64_t h, int64_t j) {
    return v_t ? static_cast<size_t>((b * HKV + h) * D * SKV + j) : at(b, h, j, HKV, SKV);
  };
  const DType out_dtype = in.operand(3).dtype;
  // P is rounded to V's dtype before the P @ V product: one rounding of that type more than a
  // result stored once (with FP8 inputs, 2^-4 or 2^-3 of the output's scale).
  Expected out = expect(in, 3, rounding_tolerance(out_dtype) + unit_roundoff(in.operand(2).dtype));
  Expected lse = expect(in, 4, rounding_tolerance(in.operand(4).dtype));
  if (out.values.size() < static_cast<size_t>(B * HQ * SQ * D) || lse.values.size() < static_cast<size_t>(B * HQ * SQ)) {
    need(in, "O to hold batch * heads_q * seq_q * HEAD_DIM elements and LSE batch * heads_q * seq_q");
  }
  const int64_t group = HQ / HKV;
  std::vector<double> scores(static_cast<size_t>(SKV)), acc(static_cast<size_t>(D));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < HQ; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < SQ; ++i) {
        const int64_t visible = causal ? std::clamp<int64_t>(i + SKV - SQ + 1, 0, SKV) : SKV;
        const size_t qi = at(b, h, i, HQ, SQ);
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < visible; ++j) {
          const size_t kj = at(b, hk, j, HKV, SKV);
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += q.values[qi + static_cast<size_t>(d)] * k.values[kj + static_cast<size_t>(d)];
          scores[static_cast<size_t>(j)] = sm_scale * dot;
          m = std::max(m, scores[static_cast<size_t>(j)]);
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        double l = 0;
        for (int64_t j = 0; j < visible; ++j) {
          const double p = std::exp(scores[static_cast<size_t>(j)] - m);
          l += p;
          const size_t vj = v_at(b, hk, j);
          for (int64_t d = 0; d < D; ++d) {
            acc[static_cast<size_t>(d)] += p * v.values[vj + static_cast<size_t>(d) * v_dim_step];
          }
        }
        for (int64_t d = 0; d < D; ++d) {
          out.values[qi + static_cast<size_t>(d)] = visible > 0 ? acc[static_cast<size_t>(d)] / l : 0.0;
          out.checked[qi + static_cast<size_t>(d)] = 1;
        }
        const size_t row = static_cast<size_t>((b * HQ + h) * SQ + i);
        lse.values[row] = visible > 0 ? m + std::log(l) : -std::numeric_limits<double>::infinity();
        lse.checked[row] = 1;
      }
    }
  }
  return {std::move(out), std::move(lse)};
}

// out = in, bit for bit: the first read operand (any rank; through its strides when it has a
// shape) into the first written one, contiguous.
std::vector<Expected> copy(const ReferenceInputs& in) {
  const size_t src_index = in.read(0), dst_index = in.written(0);
  const Operand& src = in.operand(src_index);
  Expected e = expect(in, dst_index, 0.0);
  std::vector<int64_t> shape = src.shape, strides = src.strides;
  if (shape.empty()) {
    shape = {static_cast<int64_t>(std::min(src.values.size(), e.values.size()))};
    strides = {1};
  }
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  if (count > static_cast<int64_t>(e.values.size())) need(in, "the output to hold every element of the input");
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < shape.size(); ++d) offset += index[d] * strides[d];
    if (offset < 0 || offset >= static_cast<int64_t>(src.values.size())) need(in, "the input's strides to stay inside it");
    e.values[static_cast<size_t>(flat)] = src.values[static_cast<size_t>(offset)];
    e.checked[static_cast<size_t>(flat)] = 1;
    for (size_t d = shape.size(); d-- > 0;) {  // next index, last dim fastest
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return {std::move(e)};
}

// out[i * N + j] = scale * x[i, j]: x (the first read operand, M x N through its strides), out the
// first written one (contiguous); tests/kernels/desc_scale.
std::vector<Expected> desc_scale(const ReferenceInputs& in) {
  const int64_t M = in.integer("M"), N = in.integer("N");
  const double scale = in.real("scale");
  const size_t x_index = in.read(0), out_index = in.written(0);
  const Matrix x = matrix(in, x_index, M, N, "", "");
  const Matrix out = matrix(in, out_index, M, N, "", "");
  Expected e = expect(in, out_index, rounding_tolerance(in.operand(out_index).dtype));
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      e.values[out.at(i, j)] = scale * in.operand(x_index).values[x.at(i, j)];
      e.checked[out.at(i, j)] = 1;
    }
  }
  return {std::move(e)};
}

// A kernel in two steps (tests/kernels/two_step): tmp = 2 * x, then out = tmp + x over n; operands
// x, tmp (scratch), out in this order. Both are checked, so a step skipped or run out of order
// shows: tmp or out keeps its poison, or out reads a tmp not written yet. Doubling is exact, so
// tmp is bit for bit and out rounds once.
std::vector<Expected> scale3_in_steps(const ReferenceInputs& in) {
  const int64_t n = in.integer("n");
  const size_t x_index = in.read(0), tmp_index = in.written(0), out_index = in.written(1);
  const std::vector<double>& x = in.operand(x_index).values;
  Expected tmp = expect(in, tmp_index, 0.0);
  Expected out = expect(in, out_index, rounding_tolerance(in.operand(out_index).dtype));
  if (n < 0 || static_cast<size_t>(n) > std::min({x.size(), tmp.values.size(), out.values.size()})) {
    need(in, "x, tmp and out to hold n = " + std::to_string(n) + " elements");
  }
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    tmp.values[i] = 2 * x[i];
    out.values[i] = 3 * x[i];
    tmp.checked[i] = out.checked[i] = 1;
  }
  return {std::move(tmp), std::move(out)};
}

constexpr Reference kReferences[] = {
    {"attention",
     "softmax(sm_scale * Q K^T) V, causal (bottom-right) or not, grouped-query heads, [B, H, S, D] or [B, S, H, D] "
     "(BSHD), V as [B, H, D, S] with V_T; operands Q, K, V, O, LSE; batch, heads_q, heads_kv, seq_q, seq_kv, "
     "sm_scale, HEAD_DIM, IS_CAUSAL",
     attention},
    {"attention_causal",
     "causal softmax(sm_scale * Q K^T) V over [B, H, S, D] (Out, and L, M when written); operands Out, L, M, Q, "
     "K, V; batch_size, num_heads, seq_len, sm_scale, BLOCK_DMODEL",
     attention_causal},
    {"copy", "out = in bit for bit (the first input through its strides into the first output)", copy},
    {"desc_scale", "out = scale * x over M x N (x through its strides)", desc_scale},
    {"layernorm", "layer norm forward: Y, Mean, Rstd; operands X, Y, W, B, Mean, Rstd; M, N, stride, eps",
     layernorm},
    {"matmul",
     "C = act(A @ B), fp32 accumulation; operands A, B, C; M, N, K; strides stride_am ... or the operands' "
     "shapes; ACTIVATION '' or 'leaky_relu'",
     matmul},
    {"scale3_in_steps", "tmp = 2 * x, then out = tmp + x over n (a kernel in two steps); operands x, tmp, out",
     scale3_in_steps},
    {"softmax_rows", "row softmax(scale * x); n_rows, n_cols, input_row_stride, output_row_stride, scale (1 if absent)",
     softmax_rows},
    {"vector_add", "output = x + y over n_elements", vector_add},
};

}  // namespace

int64_t ReferenceInputs::integer(std::string_view name) const {
  if (auto v = find_integer(name)) return *v;
  need(*this, "an integer '" + std::string(name) + "' (a scalar, launch variable or dim of the kernel)");
}

std::optional<int64_t> ReferenceInputs::find_integer(std::string_view name) const {
  if (name.empty()) return std::nullopt;
  auto it = integers.find(name);
  if (it != integers.end()) return it->second;
  if (const Constant* c = find_constexpr(name); c && c->is_integral()) return c->as_int();
  return std::nullopt;
}

double ReferenceInputs::real(std::string_view name) const {
  auto it = reals.find(name);
  if (it != reals.end()) return it->second;
  if (auto v = find_integer(name)) return static_cast<double>(*v);
  need(*this, "a number '" + std::string(name) + "' (a scalar of the kernel)");
}

double ReferenceInputs::real_or(std::string_view name, double fallback) const {
  auto it = reals.find(name);
  return it != reals.end() ? it->second : fallback;
}

const Constant* ReferenceInputs::find_constexpr(std::string_view name) const {
  if (variant == nullptr) return nullptr;
  for (const ConstexprValue& c : variant->constexprs) {
    if (c.name == name) return &c.value;
  }
  return nullptr;
}

const Operand& ReferenceInputs::operand(size_t index) const {
  if (index >= operands.size()) {
    need(*this, "at least " + std::to_string(index + 1) + " tensor operands; the kernel has " +
                    std::to_string(operands.size()));
  }
  return operands[index];
}

size_t ReferenceInputs::written(size_t index) const {
  size_t seen = 0;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (operands[i].written && seen++ == index) return i;
  }
  need(*this, std::to_string(index + 1) + " output tensor(s) (io = \"out\")");
}

size_t ReferenceInputs::read(size_t index) const {
  size_t seen = 0;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (!operands[i].written && seen++ == index) return i;
  }
  need(*this, std::to_string(index + 1) + " input tensor(s)");
}

std::span<const Reference> references() { return kReferences; }

const Reference* find_reference(std::string_view name) {
  for (const Reference& r : kReferences) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string reference_names() {
  std::string out;
  for (const Reference& r : kReferences) out += (out.empty() ? "" : ", ") + std::string(r.name);
  return out;
}

CausalAttention causal_attention(int64_t heads, int64_t seq, int64_t head_size, double scale, std::span<const double> q,
                                 std::span<const double> k, std::span<const double> v) {
  if (heads < 0 || seq < 0 || head_size < 0) {
    throw Error(ErrorCode::kInvalidArgument, "causal_attention: negative size (heads " + std::to_string(heads) +
                                                 ", seq " + std::to_string(seq) + ", head_size " +
                                                 std::to_string(head_size) + ")");
  }
  const size_t elements = static_cast<size_t>(heads * seq * head_size);
  for (const auto& [name, values] : {std::pair{"q", q}, std::pair{"k", k}, std::pair{"v", v}}) {
    if (values.size() < elements) {
      throw Error(ErrorCode::kInvalidArgument, std::string("causal_attention: ") + name + " holds " +
                                                   std::to_string(values.size()) + " values, fewer than heads * seq * head_size = " +
                                                   std::to_string(elements));
    }
  }
  const size_t S = static_cast<size_t>(seq), D = static_cast<size_t>(head_size);
  CausalAttention r;
  r.out.assign(elements, 0.0);
  r.l.assign(static_cast<size_t>(heads) * S, 0.0);
  r.m.assign(r.l.size(), 0.0);
  std::vector<double> s(S);
  for (size_t bh = 0; bh < static_cast<size_t>(heads); ++bh) {
    const size_t base = bh * S * D;
    for (size_t i = 0; i < S; ++i) {
      double mx = -std::numeric_limits<double>::infinity();
      for (size_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (size_t d = 0; d < D; ++d) dot += q[base + i * D + d] * k[base + j * D + d];
        s[j] = scale * dot;
        mx = std::max(mx, s[j]);
      }
      double l = 0;
      double* out = r.out.data() + base + i * D;
      for (size_t j = 0; j <= i; ++j) {
        const double p = std::exp(s[j] - mx);
        l += p;
        for (size_t d = 0; d < D; ++d) out[d] += p * v[base + j * D + d];
      }
      for (size_t d = 0; d < D; ++d) out[d] /= l;
      r.l[bh * S + i] = l;
      r.m[bh * S + i] = mx;
    }
  }
  return r;
}

double rounding_tolerance(DType t) {
  switch (t) {
    case DType::kFp16: return 2e-3;
    case DType::kBf16: return 1.6e-2;
    case DType::kFp32: return 1e-5;
    case DType::kFp64: return 1e-12;
    default: return 0;
  }
}

double unit_roundoff(DType t) {
  switch (t) {
    case DType::kFp16: return std::ldexp(1.0, -11);
    case DType::kBf16: return std::ldexp(1.0, -8);
    case DType::kFp32: return std::ldexp(1.0, -24);
    case DType::kFp8e4nv: return std::ldexp(1.0, -4);
    case DType::kFp8e5: return std::ldexp(1.0, -3);
    default: return 0;
  }
}

}  // namespace tritonpack::harness
