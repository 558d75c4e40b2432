// GPU tests of launch paths no shipped kernel uses (test kernels in tests/kernels/): Triton's
// global scratch (device-side TMA descriptors), from the caller's workspace and from the
// runtime's pool; and thread-block clusters (num_ctas = 2, launched with cuLaunchKernelEx).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "gpu/gpu_fixture.h"
#include "harness/device.h"
#include "tritonpack/runtime.h"

namespace tritonpack {
namespace {

class LaunchPaths : public Gpu {
 protected:
  void SetUp() override {
    Gpu::SetUp();
    if (IsSkipped()) return;
    if (device_->arch() < 90) GTEST_SKIP() << "TMA descriptors and clusters need sm_90 or newer";
  }
  std::mt19937 rng_{std::random_device{}()};
};

TEST_F(LaunchPaths, GlobalScratchFromTheWorkspaceAndFromThePool) {
  auto p = pack("scratch_copy");
  Kernel k(p, "scratch_copy", device_->driver_ptr());
  const auto& d = device_->driver();
  for (const auto& [m, n] : {std::pair<int64_t, int64_t>{33, 72}, {257, 1000}, {1, 4}}) {
    std::vector<float> x(static_cast<size_t>(m * n)), out(x.size());
    std::uniform_real_distribution<float> dist(-100.f, 100.f);
    for (float& v : x) v = dist(rng_);
    harness::DeviceBuffer dx(d, x.size() * 4), dout(d, x.size() * 4 + 4096);
    dx.upload(x.data(), x.size() * 4);
    std::vector<Arg> args{Arg::tensor(dx.get(), DType::kFp32), Arg::tensor(dout.get(), DType::kFp32), Arg::integer(m),
                          Arg::integer(n)};
    const Selection sel = k.select(args);
    ASSERT_GT(sel.variant->global_scratch_size, 0u);
    const size_t need = k.workspace_size(args);
    EXPECT_EQ(need, static_cast<size_t>((m + 31) / 32 * ((n + 63) / 64)) * sel.variant->global_scratch_size);
    harness::Stream stream(d);
    for (const bool caller_workspace : {true, false}) {
      dout.fill(0xff);  // NaN, and a tail of NaN after the matrix that must stay
      harness::DeviceBuffer ws(d, need);
      LaunchOptions options;
      if (caller_workspace) {
        options.workspace = ws.get();
        options.workspace_size = ws.size();
      }
      k.launch(args, stream.get(), options);
      stream.synchronize();
      std::vector<uint32_t> all(x.size() + 1024);
      dout.download(all.data(), all.size() * 4);
      std::memcpy(out.data(), all.data(), out.size() * 4);
      for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(out[i], 2.0f * x[i]) << m << "x" << n << " element " << i;
      for (size_t i = x.size(); i < all.size(); ++i) ASSERT_EQ(all[i], 0xffffffffu) << "write past the end at " << i;
    }
    // A workspace one byte short is refused before launching.
    harness::DeviceBuffer small(d, need - 1);
    LaunchOptions options;
    options.workspace = small.get();
    options.workspace_size = small.size();
    EXPECT_THROW(k.launch(args, nullptr, options), Error);
  }
}

TEST_F(LaunchPaths, ClustersOfTwoCtasCoverEveryElement) {
  auto p = pack("cluster_add");
  Kernel k(p, "cluster_add", device_->driver_ptr());
  const auto& d = device_->driver();
  for (int64_t n : {1, 511, 1025, 100003}) {
    std::vector<float> x(static_cast<size_t>(n)), y(x.size());
    std::uniform_real_distribution<float> dist(-10.f, 10.f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = dist(rng_), y[i] = dist(rng_);
    harness::DeviceBuffer dx(d, x.size() * 4), dy(d, x.size() * 4), dout(d, x.size() * 4 + 8192);
    dx.upload(x.data(), x.size() * 4);
    dy.upload(y.data(), y.size() * 4);
    dout.fill(0xff);
    std::vector<Arg> args{Arg::tensor(dx.get(), DType::kFp32), Arg::tensor(dy.get(), DType::kFp32),
                          Arg::tensor(dout.get(), DType::kFp32), Arg::integer(n)};
    const Selection sel = k.select(args);
    ASSERT_EQ(sel.variant->num_ctas, 2u);
    harness::Stream stream(d);
    k.launch(args, stream.get());
    stream.synchronize();
    std::vector<uint32_t> all(x.size() + 2048);
    dout.download(all.data(), all.size() * 4);
    for (size_t i = 0; i < x.size(); ++i) {
      float v;
      std::memcpy(&v, &all[i], 4);
      ASSERT_EQ(v, x[i] + y[i]) << "n " << n << " element " << i;
    }
    for (size_t i = x.size(); i < all.size(); ++i) ASSERT_EQ(all[i], 0xffffffffu) << "write past the end at " << i;
  }
}

}  // namespace
}  // namespace tritonpack
