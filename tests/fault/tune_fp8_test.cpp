// `tritonpack tune` on the fake driver for a kernel with FP8 inputs: two right FP8 configs round
// what they compute to FP8 at different points, so the tuner lets them differ by twice the
// inputs' unit roundoff on top of the output dtype's agreement; with fp16 inputs the same
// difference makes a config wrong, and with FP8 inputs a larger one still does.
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

// y = x * SCALE (fp16 out) over n elements; each config is its own entry here, and the play below
// gives config "near" a result 3% off the first config's and config "far" one 40% off.
constexpr const char* kSpec = R"toml(
spec_version = 1

[kernel]
name = "widen"
source = "two_step.py"  # a file that exists; nothing compiles it
function = "two_step_kernel"
archs = ["sm_90"]
grid = ["cdiv(n, BLOCK)", "1", "1"]

[types]
T = ["fp8e4nv", "fp16"]

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
name = "far"
constexprs = { BLOCK = 256 }

[tuning]
key = ["n"]

[[tuning.shapes]]
n = 1000
T = ["fp8e4nv", "fp16"]
)toml";

const std::map<std::string, double> kFactor = {{"first", 1.0}, {"near", 1.03}, {"far", 1.4}};

TEST(TuneFp8, ConfigsOfFp8InputsMayDifferByTheirFp8Rounding) {
  FakeGpu& gpu = reset_fake_gpu();
  gpu.back_memory = true;
  gpu.params_to_record = 3;  // x, y, n
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
    const DType t = l.entry.substr(end + 2) == "fp16" ? DType::kFp16 : DType::kFp8e4nv;
    const int64_t n = static_cast<int32_t>(l.params[2]);
    for (int64_t i = 0; i < n; ++i) {
      const double x = harness::decode(t, g.host(l.params[0] + static_cast<CUdeviceptr>(i * dtype_size(t)), dtype_size(t)));
      const uint16_t h = runtime::float_to_fp16_bits(static_cast<float>(x * kFactor.at(config)));
      std::memcpy(g.host(l.params[1] + static_cast<CUdeviceptr>(i) * 2, 2), &h, 2);
    }
  };
  harness::TuneRequest request;
  request.runs = 3;
  request.warmup = 1;
  request.flush_bytes = 4096;
  request.seed = 9;
  harness::DeviceContext device(fake_driver(), 0);
  const harness::TuneResult result = harness::tune_kernel(device, k, request);

  ASSERT_EQ(result.shapes.size(), 2u);
  for (const harness::ShapeMeasurement& shape : result.shapes) {
    const bool fp8 = shape.shape.bindings.at("T") == DType::kFp8e4nv;
    SCOPED_TRACE(fp8 ? "fp8e4nv inputs" : "fp16 inputs");
    ASSERT_EQ(shape.configs.size(), 3u);
    for (const harness::ConfigMeasurement& c : shape.configs) {
      const std::string& name = k.info().configs[c.config].name;
      SCOPED_TRACE(name);
      EXPECT_TRUE(c.ran) << c.message;
      if (name == "near") EXPECT_NEAR(c.relative_error, 0.03, 0.002);
      // fp16: 4e-3; e4m3 inputs: 4e-3 + 2 * 2^-4.
      EXPECT_EQ(c.correct, name == "first" || (name == "near" && fp8)) << c.message;
      if (!c.correct) {
        EXPECT_NE(c.message.find("y differs from the reference config's: relative error"), std::string::npos)
            << c.message;
        EXPECT_NE(c.message.find(fp8 ? "> 0.129" : "> 0.004"), std::string::npos) << c.message;
      }
    }
  }
}

}  // namespace
}  // namespace tritonpack::testing
