// Host-side data for the GPU tests of 16-bit float tensors (fp16 or bf16): random inputs rounded
// to the dtype (the reference sees exactly what the GPU reads), outputs read back as floats, and
// the error measure the attention tests compare with. Shared by the runtime's plugin and stress
// GPU tests and the TensorRT adapter's GPU tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "harness/device.h"
#include "runtime/args.h"
#include "tritonpack/types.h"

namespace tritonpack::testing {

// The value of 16-bit float `bits` of dtype t (fp16 or bf16), and the bits of v rounded to t.
inline float half_to_float(uint16_t bits, DType t) {
  return t == DType::kFp16 ? runtime::fp16_bits_to_float(bits) : runtime::bf16_bits_to_float(bits);
}
inline uint16_t float_to_half(float v, DType t) {
  return t == DType::kFp16 ? runtime::float_to_fp16_bits(v) : runtime::float_to_bf16_bits(v);
}

// `count` values drawn from [-1, 1) and rounded to t, uploaded into a fresh buffer of `count`
// elements and `slack` bytes more; returns the values as the GPU reads them.
template <class Rng>
std::vector<float> upload_random_half(const driver::Driver& d, size_t count, DType t, Rng& rng,
                                      harness::DeviceBuffer& buffer, size_t slack = 0) {
  std::vector<uint16_t> bits(count);
  std::vector<float> values(count);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < count; ++i) {
    bits[i] = float_to_half(dist(rng), t);
    values[i] = half_to_float(bits[i], t);
  }
  buffer = harness::DeviceBuffer(d, count * 2 + slack);
  buffer.upload(bits.data(), count * 2);
  return values;
}

// The first n 16-bit floats of dtype t in `buffer`, as floats.
inline std::vector<float> download_half(const harness::DeviceBuffer& buffer, size_t n, DType t) {
  std::vector<uint16_t> bits(n);
  buffer.download(bits.data(), n * 2);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = half_to_float(bits[i], t);
  return out;
}

// n fp32 values starting `offset_bytes` (a multiple of 4) into `buffer`.
inline std::vector<float> download_f32(const harness::DeviceBuffer& buffer, size_t n, size_t offset_bytes = 0) {
  std::vector<float> all((offset_bytes + n * 4) / 4);
  buffer.download(all.data(), all.size() * 4);
  return std::vector<float>(all.begin() + static_cast<ptrdiff_t>(offset_bytes / 4), all.end());
}

// The largest |got - want| / (atol + rtol |want|): at most 1 passes. A value that is not finite (a
// poisoned value left) gives infinity.
inline double worst(const std::vector<float>& got, const std::vector<double>& want, double atol, double rtol) {
  double w = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    w = std::max(w, std::abs(double(got[i]) - want[i]) / (atol + rtol * std::abs(want[i])));
  }
  return w;
}

}  // namespace tritonpack::testing
