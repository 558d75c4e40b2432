// `tritonpack tune` on the fake driver for a kernel with FP8 inputs: two right FP8 configs round
// what they compute to FP8 at different points, so the tuner lets an output of 16 bits or fewer
// differ by one unit roundoff of the FP8 input more than its dtype's agreement (e4m3 2^-4, e5m2
// 2^-3); with fp16 inputs there is no such allowance, and an fp32 output never gets one.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "harness/device.h"
#include "harness/runner.h"
#include "harness/tuner.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"
#include "tritonpack/spec.h"

namespace tritonpack::testing {
namespace {

// y = x (fp16) and z = x (fp32) over n elements, each config with its own entry. The play below
// scales each config's y and z by its factors: "near" y by 1.03, "mid" y by 1.09, "stat" z by
// 1.01, "far" y by 1.4.
constexpr const char* kSpec = R"toml(
spec_version = 1

[kernel]
name = "widen"
source = "two_step.py"  # a file that exists; nothing compiles it
function = "two_step_kernel"
archs = ["sm_90"]
grid = ["cdiv(n, BLOCK)", "1", "1"]

[types]
T = ["fp8e4nv", "fp8e5", "fp16"]

[[params]]
name = "x"
kind = "tensor"
dtype = "T"
numel = "n"
dims = ["n"]

[[params]]
name = "y"
kind = "tensor"
dtype = "fp16"
io = "out"
numel = "n"
dims = ["n"]

[[params]]
name = "z"
kind = "tensor"
dtype = "fp32"
io = "out"
numel = "n"
dims = ["n"]

[[params]]
name = "n"
kind = "scalar"
dtype = "i32"
dim = "n"

[[params]]
name = "BLOCK"
kind = "constexpr"

[[configs]]
name = "first"
constexprs = { BLOCK = 64 }

[[configs]]
name = "near"
constexprs = { BLOCK = 128 }

[[configs]]
name = "mid"
constexprs = { BLOCK = 256 }

[[configs]]
name = "stat"
constexprs = { BLOCK = 512 }

[[configs]]
name = "far"
constexprs = { BLOCK = 1024 }

[tuning]
key = ["n"]

[[tuning.shapes]]
n = 1000
T = ["fp8e4nv", "fp8e5", "fp16"]
)toml";

struct Factors {
  double y, z;
};
const std::map<std::string, Factors> kFactors = {
    {"first", {1.0, 1.0}}, {"near", {1.03, 1.0}}, {"mid", {1.09, 1.0}}, {"stat", {1.0, 1.01}}, {"far", {1.4, 1.0}}};

TEST(TuneFp8, ConfigsOfFp8InputsMayDifferByTheirFp8Rounding) {
  FakeGpu& gpu = reset_fake_gpu();
  gpu.back_memory = true;
  gpu.params_to_record = 4;  // x, y, z, n
  const spec::Spec s = spec::parse_spec(kSpec, std::string(TRITONPACK_SOURCE_DIR) + "/tests/kernels/two_step/widen.toml");
  const auto base = pack_from_spec(s, {90});
  Manifest m = base->manifest();
  KernelInfo& info = m.kernels[0];
  for (VariantInfo& v : info.variants) {  // function__config__T: the play below reads both
    v.entry = info.function + "__" + info.configs[v.config_index].name + "__" + std::string(dtype_name(v.bindings.at("T")));
  }
  Kernel k(Pack::from_bytes(rewrite_manifest(*base, m), "widen.tpack"), "widen", fake_driver());

  gpu.on_launch = [&](FakeGpu& g, const FakeLaunch& l) {
    const size_t at = l.entry.find("__") + 2, end = l.entry.rfind("__");
    const std::string config = l.entry.substr(at, end - at);
    const DType t = *parse_dtype(l.entry.substr(end + 2));
    const Factors f = kFactors.at(config);
    const int64_t n = static_cast<int32_t>(l.params[3]);
    for (int64_t i = 0; i < n; ++i) {
      const double x = harness::decode(t, g.host(l.params[0] + static_cast<CUdeviceptr>(i * dtype_size(t)), dtype_size(t)));
      const uint16_t h = runtime::float_to_fp16_bits(static_cast<float>(x * f.y));
      std::memcpy(g.host(l.params[1] + static_cast<CUdeviceptr>(i) * 2, 2), &h, 2);
      const float z = static_cast<float>(x * f.z);
      std::memcpy(g.host(l.params[2] + static_cast<CUdeviceptr>(i) * 4, 4), &z, 4);
    }
  };
  harness::TuneRequest request;
  request.runs = 3;
  request.warmup = 1;
  request.flush_bytes = 4096;
  request.seed = 9;
  harness::DeviceContext device(fake_driver(), 0);
  const harness::TuneResult result = harness::tune_kernel(device, k, request);

  // What each config may differ by in y: fp16's agreement (4e-3) plus the FP8 input's unit roundoff.
  const std::map<DType, std::string> y_tolerance = {
      {DType::kFp8e4nv, "> 0.0665"}, {DType::kFp8e5, "> 0.129"}, {DType::kFp16, "> 0.004"}};
  ASSERT_EQ(result.shapes.size(), 3u);
  for (const harness::ShapeMeasurement& shape : result.shapes) {
    const DType t = shape.shape.bindings.at("T");
    SCOPED_TRACE(std::string(dtype_name(t)) + " inputs");
    ASSERT_EQ(shape.configs.size(), 5u);
    for (const harness::ConfigMeasurement& c : shape.configs) {
      const std::string& name = k.info().configs[c.config].name;
      SCOPED_TRACE(name);
      EXPECT_TRUE(c.ran) << c.message;
      const bool right = name == "first" || (name == "near" && t != DType::kFp16) || (name == "mid" && t == DType::kFp8e5);
      EXPECT_EQ(c.correct, right) << c.message;
      if (right) continue;
      if (name == "stat") {  // fp32: its own agreement (1e-4), whatever the inputs
        EXPECT_NE(c.message.find("z differs from the reference config's: relative error 0.01 > 0.0001"),
                  std::string::npos) << c.message;
      } else {
        EXPECT_NE(c.message.find("y differs from the reference config's: relative error"), std::string::npos)
            << c.message;
        EXPECT_NE(c.message.find(y_tolerance.at(t)), std::string::npos) << c.message;
      }
    }
  }
}

}  // namespace
}  // namespace tritonpack::testing
