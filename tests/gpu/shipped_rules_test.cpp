// The shipped kernels' rules on a GPU: a launch outside them is refused with the rule and the
// values, and its output is left as it was (poison intact); a launch inside them picks the variant
// the rules allow and is right.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "common/constexpr_of.h"
#include "common/error_of.h"
#include "gpu/gpu_fixture.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"

namespace tritonpack {
namespace {

using testing::error_of;

class ShippedRules : public Gpu {
 protected:
  // Fresh random fp32 values in [-2, 2), as bytes of fp16.
  std::vector<uint16_t> random_half(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::vector<uint16_t> out(n);
    for (auto& v : out) v = runtime::float_to_fp16_bits(u(rng));
    return out;
  }
  static bool all_bytes(const std::vector<uint8_t>& bytes, uint8_t value) {
    for (uint8_t b : bytes) {
      if (b != value) return false;
    }
    return true;
  }
};

TEST_F(ShippedRules, SoftmaxRefusesRowsLongerThanEveryBlockAndServesTheOthers) {
  auto p = pack("softmax");
  Kernel k(p, "softmax", device_->driver_ptr());
  const driver::Driver& d = device_->driver();
  const int64_t rows = 37, cols = 5000;
  harness::DeviceBuffer in(d, rows * cols * 2), out(d, rows * cols * 2);
  const std::vector<uint16_t> host = random_half(rows * cols, 11);
  in.upload(host.data(), host.size() * 2);
  out.fill(0xff);
  auto args = [&](int64_t n_cols) {
    return std::vector<Arg>{Arg::tensor(out.get(), DType::kFp16), Arg::tensor(in.get(), DType::kFp16),
                            Arg::integer(n_cols), Arg::integer(n_cols), Arg::integer(rows), Arg::integer(n_cols),
                            Arg::real(0.5)};
  };
  const std::string what = error_of([&] { k.launch(args(cols), nullptr); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(what.find("rule 'n_cols <= BLOCK_SIZE' does not hold: n_cols=5000, BLOCK_SIZE=4096"), std::string::npos)
      << what;
  EXPECT_NE(what.find("rule 'n_cols <= BLOCK_SIZE' does not hold: n_cols=5000, BLOCK_SIZE=1024"), std::string::npos)
      << what;
  std::vector<uint8_t> after(rows * cols * 2);
  out.download(after.data(), after.size());
  EXPECT_TRUE(all_bytes(after, 0xff)) << "a refused launch wrote its output";

  // 2000 columns: the 1024 variant is refused, the 4096 one runs, every column is right.
  const int64_t n = 2000;
  const Selection s = k.select(args(n));
  EXPECT_EQ(testing::constexpr_of(*s.variant, "BLOCK_SIZE"), Constant(4096));
  harness::Stream stream(d);
  k.launch(args(n), stream.get());
  stream.synchronize();
  std::vector<uint16_t> got(rows * n);
  out.download(got.data(), got.size() * 2);
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -std::numeric_limits<double>::infinity(), sum = 0;
    for (int64_t c = 0; c < n; ++c) mx = std::max(mx, 0.5 * runtime::fp16_bits_to_float(host[r * n + c]));
    for (int64_t c = 0; c < n; ++c) sum += std::exp(0.5 * runtime::fp16_bits_to_float(host[r * n + c]) - mx);
    for (int64_t c = 0; c < n; ++c) {
      const double want = std::exp(0.5 * runtime::fp16_bits_to_float(host[r * n + c]) - mx) / sum;
      const double have = runtime::fp16_bits_to_float(got[r * n + c]);
      ASSERT_TRUE(std::isfinite(have)) << "row " << r << " column " << c << " not written";
      worst = std::max(worst, std::fabs(have - want) / (want + 1e-3));
    }
  }
  EXPECT_LT(worst, 1e-2);
}

TEST_F(ShippedRules, AttentionRunsOnlyTheVariantOfTheHeadSize) {
  auto p = pack("fmha");
  Kernel k(p, "fmha", device_->driver_ptr());
  const driver::Driver& d = device_->driver();
  const int64_t b = 1, h = 2, s = 64;
  for (int64_t dim : {64, 128, 96}) {
    SCOPED_TRACE("D=" + std::to_string(dim));
    const int64_t elements = b * h * s * dim;
    harness::DeviceBuffer q(d, elements * 2), kk(d, elements * 2), v(d, elements * 2), o(d, elements * 2),
        l(d, b * h * s * 4), m(d, b * h * s * 4);
    q.upload(random_half(elements, 7 + dim).data(), elements * 2);
    kk.upload(random_half(elements, 8 + dim).data(), elements * 2);
    v.upload(random_half(elements, 9 + dim).data(), elements * 2);
    o.fill(0xff);
    l.fill(0xff);
    m.fill(0xff);
    const int64_t shape[] = {b, h, s, dim}, rows[] = {b * h, s};
    std::vector<Arg> args = {Arg::tensor(o.get(), DType::kFp16, shape),  Arg::tensor(l.get(), DType::kFp32, rows),
                             Arg::tensor(m.get(), DType::kFp32, rows),   Arg::tensor(q.get(), DType::kFp16, shape),
                             Arg::tensor(kk.get(), DType::kFp16, shape), Arg::tensor(v.get(), DType::kFp16, shape),
                             Arg::real(0.125), Arg::integer(b), Arg::integer(h), Arg::integer(s)};
    if (dim == 96) {
      const std::string what = error_of([&] { k.launch(args, nullptr); }, ErrorCode::kNoMatchingVariant);
      EXPECT_NE(what.find("rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=64"), std::string::npos) << what;
      EXPECT_NE(what.find("rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=128"), std::string::npos) << what;
    } else {
      const Selection sel = k.select(args);
      EXPECT_EQ(testing::constexpr_of(*sel.variant, "BLOCK_DMODEL"), Constant(dim));
      harness::Stream stream(d);
      k.launch(args, stream.get());
      stream.synchronize();
      std::vector<uint16_t> got(elements);
      o.download(got.data(), elements * 2);
      size_t unwritten = 0;
      for (uint16_t x : got) unwritten += !std::isfinite(runtime::fp16_bits_to_float(x));
      for (harness::DeviceBuffer* stats : {&l, &m}) {
        std::vector<float> row(b * h * s);
        stats->download(row.data(), row.size() * 4);
        for (float x : row) unwritten += !std::isfinite(x);
      }
      EXPECT_EQ(unwritten, 0u);  // the values themselves: PluginGpu.NativeFmhaSpecKeepsLAndMInTheWorkspace
      o.fill(0xff);
      l.fill(0xff);
      m.fill(0xff);
    }
    // Without the shapes the head size is unknown: refused, never guessed. (Any one tensor's shape
    // would do: Out's binds D as Q's does.)
    for (size_t i = 0; i < 6; ++i) args[i] = Arg::tensor(args[i].pointer, args[i].dtype);
    const std::string what = error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(what.find("rule 'D == BLOCK_DMODEL' needs the shape of Q (dim 'D')"), std::string::npos) << what;
    std::vector<uint8_t> after(elements * 2);
    o.download(after.data(), after.size());
    EXPECT_TRUE(all_bytes(after, 0xff)) << "a refused launch wrote its output";
  }
}

}  // namespace
}  // namespace tritonpack
