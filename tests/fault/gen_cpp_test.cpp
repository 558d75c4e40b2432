// tritonpack gen-cpp: the header for the attention test pack is exactly tests/golden/attention_ops.h
// (TRITONPACK_UPDATE_GOLDEN=1 rewrites it), and that header compiles here and launches through the
// plugin core on the fake driver with named arguments.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "compiler/gen_cpp.h"
#include "fault/attention_fixture.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "golden/attention_ops.h"

namespace tritonpack::testing {
namespace {

TEST(GenCpp, HeaderMatchesTheGolden) {
  const std::string path = std::string(TRITONPACK_SOURCE_DIR) + "/tests/golden/attention_ops.h";
  const std::string header = plugin::generate_cpp_header(*attention_pack(), "attention-test.tpack", "attention_ops");
  const char* update = std::getenv("TRITONPACK_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << header;
    return;
  }
  std::ifstream in(path);
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(header, golden.str());
}

// A dim-size argument that names SM_COUNT (the decode attention's splits): the header says the
// count is the current device's when the op plans or runs (the class calls the core, which reads it).
TEST(GenCpp, HeaderSaysWhichSmCountADimSizeArgumentTakes) {
  const std::string header = plugin::generate_cpp_header(
      *pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/attention/attention_decode.toml", {90}), "decode.tpack", "ops");
  EXPECT_NE(header.find("//   dim-size argument: batch = B\n"), std::string::npos) << header;
  EXPECT_NE(header.find("//   dim-size argument: splits = clamp(2 * SM_COUNT / (B * HKV), 1, cdiv(SKV, 256))\n"
                        "//     (SM_COUNT: the SM count of the current CUDA context's device when plan() or\n"
                        "//     operator() runs; the workspace of the scratch tensors it sizes follows it)\n"),
            std::string::npos)
      << header;
}

TEST(GenCpp, GeneratedClassLaunchesWithNamedArguments) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  gpu.params_to_record = 10;
  // The class takes the driver through the pack-level API only; the fake one is installed as
  // the process driver for this test by creating the core through the generated constructor's
  // PluginCore and re-creating it with the fake driver.
  attention_ops::attn op(attention_pack());  // sm_scale has a default in this pack
  op.core() = PluginCore::create(attention_pack(), "attn", {{"sm_scale", 0.125}}, fake_driver());
  const Shape shape{1, 2, 40, 64};
  const TensorDesc desc{DType::kFp16, shape, {}};
  const PluginPlan plan = op.plan(desc, desc, desc);
  EXPECT_EQ(plan.output_shapes, (std::vector<Shape>{shape}));
  const CUdeviceptr base = 0x7200'0000'0000ull;
  op(TensorRef{base, desc}, TensorRef{base + 0x10000, desc}, TensorRef{base + 0x20000, desc},
     TensorRef{base + 0x30000, desc}, base + 0x40000, plan.workspace_bytes, nullptr);
  ASSERT_EQ(gpu.launches.size(), 1u);
  EXPECT_EQ(gpu.launches[0].params[3], base);  // Q
  EXPECT_THROW(op(TensorRef{base, desc}, TensorRef{base + 0x10000, desc}, TensorRef{base + 0x20000, desc},
                  TensorRef{base + 0x30000, {DType::kFp16, {1, 2, 40, 32}, {}}}, base + 0x40000, plan.workspace_bytes,
                  nullptr),
               Error);
}

}  // namespace
}  // namespace tritonpack::testing
