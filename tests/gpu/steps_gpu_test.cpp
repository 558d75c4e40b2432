// GPU tests of a kernel in steps (tests/kernels/two_step: tmp = 2x, then out = tmp + x): one
// Kernel::launch runs both steps in order, a launch pinned to one step runs that step alone, and
// the plugin core's enqueue runs both; fresh random inputs, poisoned outputs, a poisoned tail after
// out that must stay. Skipped without a GPU (or without the pack: compile_two_step).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "gpu/gpu_fixture.h"
#include "harness/device.h"
#include "tritonpack/plugin.h"
#include "tritonpack/runtime.h"

namespace tritonpack {
namespace {

constexpr uint32_t kPoison = 0xffffffffu;  // an fp32 NaN
constexpr size_t kTail = 1024;             // poisoned elements after out

class Steps : public Gpu {
 protected:
  void SetUp() override {
    Gpu::SetUp();
    if (IsSkipped()) return;
    pack_ = pack("two_step");
  }
  // n fresh random fp32 values (in [-100, 100), so 2x and 2x + x round as the kernel rounds them).
  std::vector<float> random_x(size_t n) {
    std::vector<float> x(n);
    std::uniform_real_distribution<float> dist(-100.f, 100.f);
    for (float& v : x) v = dist(rng_);
    return x;
  }
  // Every element of out is 2x + x as fp32 computes it, and the tail kept its poison.
  void expect_tripled(const harness::DeviceBuffer& out, const std::vector<float>& x) {
    std::vector<uint32_t> all(x.size() + kTail);
    out.download(all.data(), all.size() * 4);
    for (size_t i = 0; i < x.size(); ++i) {
      float got;
      std::memcpy(&got, &all[i], 4);
      ASSERT_EQ(got, 2.0f * x[i] + x[i]) << "element " << i << " of " << x.size();
    }
    for (size_t i = x.size(); i < all.size(); ++i) ASSERT_EQ(all[i], kPoison) << "write past the end at " << i;
  }
  std::shared_ptr<const Pack> pack_;
  std::mt19937 rng_{std::random_device{}()};
};

TEST_F(Steps, OneLaunchRunsBothStepsInOrder) {
  Kernel k(pack_, "two_step", device_->driver_ptr());
  const auto& d = device_->driver();
  harness::Stream stream(d);
  for (const size_t n : {size_t{1}, size_t{1000}, size_t{1000003}}) {
    const std::vector<float> x = random_x(n);
    harness::DeviceBuffer dx(d, n * 4), tmp(d, n * 4), out(d, (n + kTail) * 4);
    dx.upload(x.data(), n * 4);
    tmp.fill(0xff);
    out.fill(0xff);
    const std::vector<Arg> args{Arg::tensor(dx.get(), DType::kFp32), Arg::tensor(tmp.get(), DType::kFp32),
                                Arg::tensor(out.get(), DType::kFp32), Arg::integer(static_cast<int64_t>(n))};
    const std::vector<Selection> steps = k.select_steps(args);
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].grid[0], static_cast<int64_t>((n + 1023) / 1024));
    EXPECT_EQ(steps[1].grid[0], static_cast<int64_t>((n + 255) / 256));
    k.launch(args, stream.get());
    stream.synchronize();
    expect_tripled(out, x);
  }
}

TEST_F(Steps, APinnedStepRunsAlone) {
  Kernel k(pack_, "two_step", device_->driver_ptr());
  const auto& d = device_->driver();
  harness::Stream stream(d);
  const size_t n = 100003;
  const std::vector<float> x = random_x(n);
  harness::DeviceBuffer dx(d, n * 4), tmp(d, n * 4), out(d, (n + kTail) * 4);
  dx.upload(x.data(), n * 4);
  tmp.fill(0xff);
  out.fill(0xff);
  const std::vector<Arg> args{Arg::tensor(dx.get(), DType::kFp32), Arg::tensor(tmp.get(), DType::kFp32),
                              Arg::tensor(out.get(), DType::kFp32), Arg::integer(static_cast<int64_t>(n))};
  const ConstexprValue first[] = {{"PHASE", Constant(int64_t{0})}};
  LaunchOptions options;
  options.pinned = first;
  k.launch(args, stream.get(), options);
  stream.synchronize();
  // Step 1 wrote tmp = 2x and left out as it was: the steps are separate launches.
  std::vector<uint32_t> untouched(n + kTail);
  out.download(untouched.data(), untouched.size() * 4);
  for (size_t i = 0; i < untouched.size(); ++i) ASSERT_EQ(untouched[i], kPoison) << "out written at " << i;
  std::vector<float> doubled(n);
  tmp.download(doubled.data(), n * 4);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(doubled[i], 2.0f * x[i]) << "tmp at " << i;
  // Step 2 alone then finishes the operation.
  const ConstexprValue second[] = {{"PHASE", Constant(int64_t{1})}};
  options.pinned = second;
  k.launch(args, stream.get(), options);
  stream.synchronize();
  expect_tripled(out, x);
}

TEST_F(Steps, PluginEnqueueRunsBothSteps) {
  PluginCore core = PluginCore::create(pack_, "two_step", {}, device_->driver_ptr());
  const auto& d = device_->driver();
  harness::Stream stream(d);
  const size_t n = 777777;
  const std::vector<float> x = random_x(n);
  const PreparedLaunch prepared = core.prepare(std::vector<TensorDesc>{{DType::kFp32, {static_cast<int64_t>(n)}, {}}});
  ASSERT_EQ(prepared.plan().steps.size(), 2u);
  harness::DeviceBuffer dx(d, n * 4), out(d, (n + kTail) * 4), workspace(d, prepared.workspace_bytes());
  dx.upload(x.data(), n * 4);
  out.fill(0xff);
  workspace.fill(0xff);  // tmp lives here: poisoned, so a skipped first step shows
  const CUdeviceptr inputs[] = {dx.get()}, outputs[] = {out.get()};
  core.enqueue(prepared, inputs, outputs, workspace.get(), workspace.size(), stream.get());
  stream.synchronize();
  expect_tripled(out, x);
}

}  // namespace
}  // namespace tritonpack
