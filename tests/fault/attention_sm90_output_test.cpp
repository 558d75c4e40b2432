// The sm_90 attention member stores O in 16-byte pieces and tells Triton so (alignment hints
// inside its warp-specialized partition, kernels/attention/attention_sm90.py): the specs require O
// 16-byte aligned (divisibility 16), so an O that is only element-aligned is refused by the runtime
// with the requirement and the address, before anything launches. On the fake driver, both layouts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error_of.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "tritonpack/plugin.h"

namespace tritonpack::testing {
namespace {

TEST(AttentionSm90Output, AnOutputNotSixteenByteAlignedIsRefusedNotLaunched) {
  for (const char* kernel : {"attention_sm90", "attention_sm90_bshd"}) {
    SCOPED_TRACE(kernel);
    FakeGpu& gpu = reset_fake_gpu();
    FakeGpu::set_current(gpu.make_context(0));
    auto pack = pack_from_spec(std::string(TRITONPACK_SOURCE_DIR "/kernels/attention/") + kernel + ".toml", {90});
    PluginCore p = PluginCore::create(pack, kernel, {{"sm_scale", 0.125}, {"causal", 1}}, fake_driver());
    const bool bshd = std::string(kernel).find("bshd") != std::string::npos;
    const Shape q = bshd ? Shape{2, 256, 4, 64} : Shape{2, 4, 256, 64};
    const std::vector<TensorDesc> inputs{{DType::kFp16, q, {}}, {DType::kFp16, q, {}}, {DType::kFp16, q, {}}};
    const PreparedLaunch prepared = p.prepare(inputs);
    const CUdeviceptr base = 0x7600'0000'0000ull;
    const CUdeviceptr in[] = {base, base + 0x100000, base + 0x200000};
    const CUdeviceptr aligned[] = {base + 0x400000, base + 0x500000};
    const CUdeviceptr o_off_by_8[] = {base + 0x400008, base + 0x500000};  // element-aligned, not 16
    p.enqueue(prepared, in, aligned, 0, 0, nullptr);
    ASSERT_EQ(gpu.launches.size(), 1u);
    const std::string message =
        error_of([&] { p.enqueue(prepared, in, o_off_by_8, 0, 0, nullptr); }, ErrorCode::kNoMatchingVariant);
    EXPECT_NE(message.find("needs O aligned to 16 bytes, got 0x760000400008 (8 past)"), std::string::npos) << message;
    EXPECT_EQ(gpu.launches.size(), 1u) << "nothing refused was launched";
  }
}

}  // namespace
}  // namespace tritonpack::testing
