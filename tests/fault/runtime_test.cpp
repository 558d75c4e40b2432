// The runtime on the fake driver: selection, ABI packing, module lifetime, scratch, clusters.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/runtime_fixture.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"
#include "tritonpack/tritonpack.h"

namespace tritonpack::testing {
namespace {

constexpr CUdeviceptr kX = 0x7000'0000'0000ull, kY = 0x7000'0010'0000ull, kOut = 0x7000'0020'0000ull;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gpu_ = &reset_fake_gpu();
    ctx0_ = gpu_->make_context(0);  // sm_90
    ctx1_ = gpu_->make_context(1);  // sm_80
    FakeGpu::set_current(ctx0_);
    pack_ = runtime_test_pack();
  }
  std::vector<Arg> axpy_args(DType t, int64_t n, CUdeviceptr x = kX) {
    return {Arg::tensor(x, t), Arg::tensor(kY, t), Arg::tensor(kOut, t), Arg::integer(n),
            Arg::real(0.5), Arg::real(-2.0)};
  }
  FakeGpu* gpu_ = nullptr;
  CUcontext ctx0_ = nullptr, ctx1_ = nullptr;
  std::shared_ptr<const Pack> pack_;
};


TEST_F(RuntimeTest, LaunchPacksTheExactScalarAbi) {
  Kernel k(pack_, "axpy", fake_driver());
  gpu_->params_to_record = 8;
  auto args = axpy_args(DType::kFp16, 1000);  // 1000 % 16 != 0 -> the plain-n variant
  k.launch(args, reinterpret_cast<CUstream>(0x55));
  ASSERT_EQ(gpu_->launches.size(), 1u);
  const FakeLaunch& l = gpu_->launches[0];
  EXPECT_EQ(l.entry, "axpy_kernel");
  EXPECT_EQ(l.grid[0], 4u);  // ceil(1000 / 256), config "small" comes first
  EXPECT_EQ(l.block[0], 128u);
  EXPECT_EQ(l.stream, reinterpret_cast<CUstream>(0x55));
  EXPECT_FALSE(l.used_launch_ex);
  EXPECT_EQ(l.params[0], kX);
  EXPECT_EQ(l.params[1], kY);
  EXPECT_EQ(l.params[2], kOut);
  EXPECT_EQ(static_cast<uint32_t>(l.params[3]), 1000u);
  float alpha;
  const uint32_t alpha_bits = static_cast<uint32_t>(l.params[4]);
  std::memcpy(&alpha, &alpha_bits, 4);
  EXPECT_EQ(alpha, 0.5f);  // 4-byte float, not half of a double
  EXPECT_EQ(static_cast<uint16_t>(l.params[5]), 0xc000);  // -2.0 in fp16
  EXPECT_EQ(l.params[6], 0u);  // hidden global scratch
  EXPECT_EQ(l.params[7], 0u);  // hidden profile scratch
  EXPECT_EQ(gpu_->live_modules(), 1u);
  EXPECT_FALSE(gpu_->modules.begin()->second.ptx);
}

TEST_F(RuntimeTest, DivisibilitySelectsTheSpecializedVariant) {
  Kernel k(pack_, "axpy", fake_driver());
  auto args = axpy_args(DType::kFp16, 1024);
  EXPECT_EQ(k.select(args).variant->id, 0u);  // n % 16 == 0
  args = axpy_args(DType::kFp16, 1000);
  EXPECT_EQ(k.select(args).variant->id, 1u);
  LaunchOptions large;
  large.config = "large";
  EXPECT_EQ(k.select(args, large).variant->id, 4u);
  EXPECT_EQ(k.select(args, large).grid[0], 1);
  const ConstexprValue pin[] = {{"BLOCK", 1024}};
  LaunchOptions pinned;
  pinned.pinned = pin;
  EXPECT_EQ(k.select(args, pinned).variant->id, 4u);
}

// The candidates query is selection's own test for every variant: its first entry is what
// select picks, and it shrinks exactly as the launch's conditions do.
TEST_F(RuntimeTest, CandidatesAreSelectionForEveryVariant) {
  Kernel k(pack_, "axpy", fake_driver());
  auto ids = [](const std::vector<Selection>& c) {
    std::vector<uint32_t> out;
    for (const Selection& s : c) out.push_back(s.variant->id);
    return out;
  };
  for (const int64_t n : {1024, 1000}) {
    const auto args = axpy_args(DType::kFp16, n);
    const std::vector<Selection> all = k.candidates(args);
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front().variant->id, k.select(args).variant->id) << n;
    EXPECT_EQ(all.front().grid, k.select(args).grid) << n;
    for (const Selection& c : all) EXPECT_EQ(c.device_arch, 90u);
  }
  // n % 16 != 0 removes the specialized variant; a config keeps only its own.
  const auto odd = axpy_args(DType::kFp16, 1000);
  const auto even = axpy_args(DType::kFp16, 1024);
  EXPECT_LT(k.candidates(odd).size(), k.candidates(even).size());
  LaunchOptions large;
  large.config = "large";
  EXPECT_EQ(ids(k.candidates(odd, large)), std::vector<uint32_t>{4u});
  // Misaligned x: nothing can run it, and select says why.
  EXPECT_TRUE(k.candidates(axpy_args(DType::kFp16, 1000, kX + 2)).empty());
  // Dtypes only: fp16 and fp32 variants exist, i8 none; an unknown dtype allows every variant.
  std::vector<std::optional<DType>> dtypes(k.info().params.size());
  dtypes[0] = DType::kFp16;
  const auto fp16 = k.dtype_candidates(dtypes);
  EXPECT_FALSE(fp16.empty());
  for (const Selection& c : fp16) EXPECT_EQ(c.variant->bindings.at("T"), DType::kFp16);
  dtypes[0] = DType::kI8;
  EXPECT_TRUE(k.dtype_candidates(dtypes).empty());
  dtypes[0] = std::nullopt;
  EXPECT_EQ(k.dtype_candidates(dtypes).size(), k.info().variants.size());
}

TEST_F(RuntimeTest, NoMatchListsEveryCandidateWithItsReason) {
  Kernel k(pack_, "axpy", fake_driver());
  auto args = axpy_args(DType::kFp16, 1000, kX + 2);  // misaligned x
  const std::string msg = error_of([&] { k.launch(args, nullptr); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(msg.find("no variant of kernel 'axpy' in pack 'runtime-test.tpack' can run this launch on an sm_90 device"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x=fp16 tensor at 0x700000000002"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs x aligned to 16 bytes, got 0x700000000002 (2 past)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x is fp16, variant needs fp32"), std::string::npos) << msg;
  // one line per variant
  size_t lines = 0;
  for (char c : msg) lines += c == '\n';
  EXPECT_EQ(lines, 1u + pack_->manifest().kernels[0].variants.size());
  EXPECT_TRUE(gpu_->launches.empty());
}

TEST_F(RuntimeTest, ArchSelectionUsesCubinThenPtxAndExplainsArchSpecificCode) {
  Kernel k(pack_, "axpy", fake_driver());
  FakeGpu::set_current(ctx1_);  // sm_80
  auto args16 = axpy_args(DType::kFp16, 64);
  const std::string msg = error_of([&] { k.launch(args16, nullptr); }, ErrorCode::kNoMatchingVariant);
  EXPECT_NE(msg.find("built for sm_90a, the device is sm_80 (arch-specific code runs only on its own arch)"), std::string::npos) << msg;
  auto args32 = axpy_args(DType::kFp32, 64);
  Selection s = k.select(args32);
  EXPECT_EQ(s.device_arch, 80u);
  EXPECT_FALSE(s.uses_ptx);
  // A newer device of another major arch runs the portable sm_80 PTX.
  gpu_->devices.push_back(FakeDevice{120, 101376, true});
  CUcontext ctx2 = gpu_->make_context(2);
  FakeGpu::set_current(ctx2);
  s = k.select(args32);
  EXPECT_TRUE(s.uses_ptx);
  k.launch(args32, nullptr);
  EXPECT_TRUE(gpu_->modules.begin()->second.ptx);
}

TEST_F(RuntimeTest, EmptyGridLaunchesNothingAndLoadsNothing) {
  Kernel k(pack_, "axpy", fake_driver());
  auto args = axpy_args(DType::kFp16, 0);
  k.launch(args, nullptr);
  EXPECT_TRUE(gpu_->launches.empty());
  EXPECT_EQ(gpu_->live_modules(), 0u);
}

TEST_F(RuntimeTest, BadArgumentsAreRefusedBeforeAnythingLaunches) {
  Kernel k(pack_, "axpy", fake_driver());
  auto args = axpy_args(DType::kFp16, int64_t{1} << 31);
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument)
                .find("argument 'n' = 2147483648 does not fit its type i32"),
            std::string::npos);
  args = axpy_args(DType::kFp16, 64);
  args[5] = Arg::real(1e6);
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument).find("does not fit its type fp16"),
            std::string::npos);
  args = axpy_args(DType::kFp16, 64);
  args.pop_back();
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument)
                .find("takes 6 arguments (x, y, out, n, alpha, beta), got 5"),
            std::string::npos);
  args = axpy_args(DType::kFp16, 64);
  args[3] = Arg::real(3.0);
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument)
                .find("argument 3 'n' must be an integer (i32), got a float"),
            std::string::npos);
  args = axpy_args(DType::kFp16, 64);
  args[0] = Arg::tensor(CUdeviceptr{0}, DType::kFp16);
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument).find("null device pointer"),
            std::string::npos);
  args = axpy_args(DType::kFp16, 64);
  LaunchOptions bad;
  bad.config = "huge";
  EXPECT_NE(error_of([&] { k.launch(args, nullptr, bad); }, ErrorCode::kNotFound).find("configs: small, large"),
            std::string::npos);
  EXPECT_TRUE(gpu_->launches.empty());
}

// A blob is checked when a launch first loads it: a corrupt one fails that launch and every later
// one with the pack's message, loads no module and launches nothing; the pack's good blobs run.
TEST_F(RuntimeTest, CorruptBlobFailsTheLaunchThatWouldLoadIt) {
  const auto pack = with_corrupt_blobs(*pack_, {0});  // the sm_90a cubin of the fp16 variants
  Kernel k(pack, "axpy", fake_driver());
  auto args = axpy_args(DType::kFp16, 1000);
  const std::string expected = "corrupt pack 'runtime-test.tpack': blobs[0]: hash mismatch: the manifest says " +
                               pack->manifest().blobs[0].sha256 + ", the bytes hash to ";
  for (int attempt = 0; attempt < 2; ++attempt) {
    EXPECT_EQ(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kCorruptPack).rfind(expected, 0), 0u)
        << "attempt " << attempt;
    EXPECT_EQ(gpu_->live_modules(), 0u);
    EXPECT_TRUE(gpu_->launches.empty());
  }
  FakeGpu::set_current(ctx1_);  // sm_80: the fp32 variants' blobs are intact
  auto args32 = axpy_args(DType::kFp32, 64);
  k.launch(args32, nullptr);
  EXPECT_EQ(gpu_->launches.size(), 1u);
  EXPECT_EQ(gpu_->live_modules(), 1u);
}

TEST_F(RuntimeTest, NoCurrentContextIsAClearError) {
  Kernel k(pack_, "axpy", fake_driver());
  FakeGpu::set_current(nullptr);
  auto args = axpy_args(DType::kFp16, 64);
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kInvalidArgument).find("no current CUDA context"),
            std::string::npos);
}

TEST_F(RuntimeTest, UnloadIsIdempotentAndLaunchAfterUnloadReloads) {
  Kernel k(pack_, "axpy", fake_driver());
  auto args16 = axpy_args(DType::kFp16, 64);
  auto args32 = axpy_args(DType::kFp32, 64);
  k.launch(args16, nullptr);
  FakeGpu::set_current(ctx1_);
  k.launch(args32, nullptr);
  EXPECT_EQ(gpu_->live_modules(), 2u);  // one per context
  EXPECT_NE(gpu_->launches[0].context, gpu_->launches[1].context);
  k.unload();
  EXPECT_EQ(gpu_->live_modules(), 0u);
  k.unload();  // second unload: nothing to do, no error (the fake fails a double cuModuleUnload)
  k.launch(args32, nullptr);
  EXPECT_EQ(gpu_->live_modules(), 1u);
}

TEST_F(RuntimeTest, DestroyedContextIsSkippedAtUnload) {
  {
    Kernel k(pack_, "axpy", fake_driver());
    auto args = axpy_args(DType::kFp16, 64);
    k.launch(args, nullptr);
    gpu_->destroy_context(ctx0_);
    EXPECT_NO_THROW(k.unload());
  }
  EXPECT_EQ(gpu_->live_modules(), 0u);
}

// Seen on two H200s: a test released GPU 1's primary context, which reset it, and unload then
// called cuModuleUnload on a module that had gone with it (CUDA_ERROR_INVALID_HANDLE).
TEST_F(RuntimeTest, ResetPrimaryContextIsNotUnloadedTwice) {
  const auto driver = fake_driver();  // api() is the driver's: keep it alive (ThreadSanitizer saw it freed)
  const auto& api = driver->api();
  CUcontext primary = nullptr;
  ASSERT_EQ(api.cuDevicePrimaryCtxRetain(&primary, 0), CUDA_SUCCESS);
  FakeGpu::set_current(primary);
  Kernel k(pack_, "axpy", fake_driver());
  auto args = axpy_args(DType::kFp16, 64);
  k.launch(args, nullptr);
  ASSERT_EQ(api.cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);  // the last user: reset
  EXPECT_EQ(gpu_->live_modules(), 0u);
  EXPECT_NO_THROW(k.unload());  // the fake answers a stale module with INVALID_HANDLE
  ASSERT_EQ(api.cuDevicePrimaryCtxRetain(&primary, 0), CUDA_SUCCESS);  // a new incarnation
  k.launch(args, nullptr);
  EXPECT_EQ(gpu_->live_modules(), 1u);
  ASSERT_EQ(api.cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
  ASSERT_EQ(api.cuDevicePrimaryCtxRetain(&primary, 0), CUDA_SUCCESS);  // and another
  EXPECT_NO_THROW(k.unload());  // the old incarnation's module is not unloaded again
  k.launch(args, nullptr);
  EXPECT_NO_THROW(k.unload());
  EXPECT_EQ(gpu_->live_modules(), 0u);
  ASSERT_EQ(api.cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
}

TEST_F(RuntimeTest, SharedMemoryClustersAndScratch) {
  Kernel k(pack_, "heavy", fake_driver());
  gpu_->params_to_record = 4;
  std::vector<Arg> args = {Arg::tensor(kX, DType::kFp32), Arg::integer(1000)};
  k.launch(args, nullptr);
  ASSERT_EQ(gpu_->launches.size(), 1u);
  const FakeLaunch& l = gpu_->launches[0];
  EXPECT_TRUE(l.used_launch_ex);
  EXPECT_EQ(l.cluster_x, 2u);
  EXPECT_EQ(l.grid[0], 16u);  // ceil(1000/128) programs x 2 CTAs
  EXPECT_EQ(l.grid[1], 2u);
  EXPECT_EQ(l.block[0], 256u);
  EXPECT_EQ(l.shared, 100000u);
  EXPECT_EQ(gpu_->functions.begin()->second.max_dynamic_shared, 100000);
  // scratch: 128 B x 8 x 2 programs x 2 CTAs, from the pool
  ASSERT_EQ(gpu_->live_allocations(), 1u);
  EXPECT_EQ(gpu_->allocations.begin()->second, 128u * 8 * 2 * 2);
  EXPECT_EQ(l.params[2], gpu_->allocations.begin()->first);
  EXPECT_EQ(k.workspace_size(args), 4096u);
  k.launch(args, nullptr);  // warm: no new allocation
  EXPECT_EQ(gpu_->live_allocations(), 1u);
  args[1] = Arg::integer(4000);  // bigger grid: the pool grows; the old buffer is retired until unload,
  k.launch(args, nullptr);       // since another thread may still be about to launch with it
  EXPECT_EQ(gpu_->live_allocations(), 2u);
  EXPECT_EQ(gpu_->launches.back().params[2], gpu_->allocations.rbegin()->first);
  EXPECT_EQ(gpu_->allocations.rbegin()->second, 128u * 32 * 2 * 2);
  args[1] = Arg::integer(4200);  // a little more: it at least doubles, so few buffers are ever retired
  k.launch(args, nullptr);
  EXPECT_EQ(gpu_->live_allocations(), 3u);
  EXPECT_EQ(gpu_->allocations.rbegin()->second, 2u * 128 * 32 * 2 * 2);
  LaunchOptions ws;
  ws.workspace = 0x7100'0000'0000ull;
  ws.workspace_size = 100;
  EXPECT_NE(error_of([&] { k.launch(args, nullptr, ws); }, ErrorCode::kInvalidArgument).find("bytes of workspace"),
            std::string::npos);
  ws.workspace_size = 1 << 20;
  k.launch(args, nullptr, ws);
  EXPECT_EQ(gpu_->launches.back().params[2], 0x7100'0000'0000ull);
  k.unload();
  EXPECT_EQ(gpu_->live_allocations(), 0u);
  // A device whose shared memory is too small is refused with the numbers.
  gpu_->devices[1].max_shared_optin = 65536;
  gpu_->devices[1].arch = 90;
  FakeGpu::set_current(ctx1_);
  EXPECT_NE(error_of([&] { k.launch(args, nullptr); }, ErrorCode::kNoMatchingVariant)
                .find("needs 100000 bytes of shared memory, the sm_90 device allows 65536"),
            std::string::npos);
}

TEST_F(RuntimeTest, UnknownKernelNamesTheKernelsThePackHolds) {
  EXPECT_THROW(Kernel(pack_, "nope", fake_driver()), Error);
}

TEST(HalfConversion, RoundsToNearestEven) {
  using runtime::float_to_fp16_bits;
  using runtime::float_to_bf16_bits;
  EXPECT_EQ(float_to_fp16_bits(1.0f), 0x3c00);
  EXPECT_EQ(float_to_fp16_bits(-2.0f), 0xc000);
  EXPECT_EQ(float_to_fp16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16_bits(65520.0f), 0x7c00);
  EXPECT_EQ(float_to_fp16_bits(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_fp16_bits(1.0f + 1.0f / 2048), 0x3c00);       // tie -> even
  EXPECT_EQ(float_to_fp16_bits(1.0f + 3.0f / 2048), 0x3c02);       // tie -> even (up)
  EXPECT_EQ(float_to_bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16_bits(0.125f), 0x3e00);
  // every fp16 value round-trips through float
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads
    EXPECT_EQ(float_to_fp16_bits(runtime::fp16_bits_to_float(static_cast<uint16_t>(h))), h) << h;
  }
}

TEST(CApi, ErrorsBecomeStatusAndMessage) {
  tp_pack* pack = nullptr;
  EXPECT_EQ(tp_pack_open("/nonexistent/x.tpack", &pack), TP_ERROR_IO);
  EXPECT_EQ(pack, nullptr);
  EXPECT_NE(std::string(tp_last_error()).find("/nonexistent/x.tpack"), std::string::npos);
  EXPECT_EQ(tp_pack_open(nullptr, &pack), TP_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tp_status_name(TP_ERROR_NO_MATCHING_VARIANT), "no matching variant");
  tp_pack_close(nullptr);
  tp_kernel_destroy(nullptr);
  EXPECT_EQ(tp_kernel_unload(nullptr), TP_ERROR_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace tritonpack::testing
