// Fails every driver call of a full runtime scenario in turn: each failure must surface as a
// kDriver error naming the call, and nothing may leak (modules, device memory).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fault/fake_driver.h"
#include "fault/rules_fixture.h"
#include "fault/runtime_fixture.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"

namespace tritonpack::testing {
namespace {

// Everything the runtime does with the driver: two contexts of two archs, a cluster kernel with
// large shared memory and pooled scratch that grows, a host tensor descriptor encoded for TMA,
// attributes, and unload.
void scenario(const std::shared_ptr<const Pack>& pack, CUcontext ctx0, CUcontext ctx1) {
  runtime::clear_tensor_map_cache();  // so every run encodes the map
  Kernel axpy(pack, "axpy", fake_driver());
  Kernel heavy(pack, "heavy", fake_driver());
  Kernel tile(rules_test_pack(), "tile", fake_driver());
  FakeGpu::set_current(ctx0);
  const int64_t shape[] = {300, 200}, strides[] = {256, 1};
  tile.launch(std::vector<Arg>{Arg::descriptor(CUdeviceptr{0x10000}, DType::kFp16, shape, strides),
                               Arg::tensor(CUdeviceptr{0x20000}, DType::kFp16), Arg::integer(300), Arg::integer(200)},
              nullptr);
  std::vector<Arg> a16 = {Arg::tensor(CUdeviceptr{0x1000}, DType::kFp16), Arg::tensor(CUdeviceptr{0x2000}, DType::kFp16),
                          Arg::tensor(CUdeviceptr{0x3000}, DType::kFp16), Arg::integer(1000), Arg::real(1.0),
                          Arg::real(1.0)};
  axpy.launch(a16, nullptr);
  axpy.attributes(a16);
  std::vector<Arg> h = {Arg::tensor(CUdeviceptr{0x4000}, DType::kFp32), Arg::integer(1000)};
  heavy.launch(h, nullptr);
  h[1] = Arg::integer(5000);
  heavy.launch(h, nullptr);  // pool growth: the old buffer is retired, freed at unload
  FakeGpu::set_current(ctx1);
  std::vector<Arg> a32 = a16;
  for (int i = 0; i < 3; ++i) a32[i].dtype = DType::kFp32;
  axpy.launch(a32, nullptr);
  FakeGpu::set_current(ctx0);
  axpy.unload();
  heavy.unload();
  tile.unload();
}

TEST(FaultInjection, EveryDriverCallFailsCleanly) {
  FakeGpu* gpu = &reset_fake_gpu();
  auto pack = runtime_test_pack();
  CUcontext c0 = gpu->make_context(0), c1 = gpu->make_context(1);
  gpu->primaries[0] = {c0, 1};  // c0 is device 0's primary context, retained once (by "the app")
  gpu->devices[1].arch = 80;
  scenario(pack, c0, c1);
  const int64_t total = gpu->calls;
  const std::set<std::string> used(gpu->called_functions.begin(), gpu->called_functions.end());
  ASSERT_GT(total, 20);
  EXPECT_EQ(gpu->live_modules(), 0u);
  EXPECT_EQ(gpu->live_allocations(), 0u);

  std::set<std::string> failed;
  for (int64_t n = 0; n < total; ++n) {
    gpu = &reset_fake_gpu();
    c0 = gpu->make_context(0);
    c1 = gpu->make_context(1);
    gpu->primaries[0] = {c0, 1};
    gpu->devices[1].arch = 80;
    gpu->fail_at = n;
    std::string message;
    try {
      scenario(pack, c0, c1);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kDriver) << e.what();
      message = e.what();
    }
    const std::string call = *gpu->failed_functions.begin();
    failed.insert(call);
    // The error names the failing call and the driver's error; a failed release may keep its
    // object (the driver refused), nothing else may stay behind.
    if (call != "cuModuleUnload" && call != "cuMemFree" && call != "cuCtxPushCurrent") {
      EXPECT_NE(message.find(call), std::string::npos) << "call " << n << " (" << call << "): " << message;
      EXPECT_NE(message.find("CUDA_ERROR_UNKNOWN"), std::string::npos) << message;
    }
    const size_t allowed = (call == "cuModuleUnload" || call == "cuMemFree") ? 1 : 0;
    EXPECT_LE(gpu->live_modules() + gpu->live_allocations(), allowed)
        << "leak after failing call " << n << " (" << call << ")";
  }
  EXPECT_EQ(failed, used) << "every driver function the runtime uses must have failed once";
  for (const char* f : {"cuModuleLoadDataEx", "cuModuleGetFunction", "cuFuncSetAttribute", "cuLaunchKernel",
                        "cuLaunchKernelEx", "cuMemAlloc", "cuMemFree", "cuTensorMapEncodeTiled", "cuModuleUnload",
                        "cuCtxGetCurrent", "cuCtxGetId", "cuCtxGetDevice", "cuDeviceGetAttribute",
                        "cuCtxPushCurrent", "cuCtxPopCurrent", "cuFuncGetAttribute", "cuDevicePrimaryCtxGetState",
                        "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease"}) {
    EXPECT_TRUE(failed.count(f)) << f << " never failed";
  }
}

}  // namespace
}  // namespace tritonpack::testing
