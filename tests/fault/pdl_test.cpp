// Programmatic dependent launch ([[configs]] launch_pdl, docs/spec-format.md): a config that asks
// for it has variants only from sm_90 on, and its launches carry the stream-serialization
// attribute; on an sm_80 device the next config runs, launched plainly.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "tritonpack/plugin.h"
#include "runtime/args.h"
#include "tritonpack/runtime.h"
#include "tritonpack/spec.h"

namespace tritonpack::testing {
namespace {

constexpr const char* kSpec = R"toml(
spec_version = 1

[kernel]
name = "chained"
source = "two_step.py"  # a file that exists; nothing compiles it
function = "two_step_kernel"
archs = ["sm_80", "sm_90"]
grid = ["cdiv(n, BLOCK)", "1", "1"]

[[params]]
name = "x"
kind = "tensor"
dtype = "fp32"
numel = "n"
dims = ["n"]

[[params]]
name = "y"
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
name = "pdl"
launch_pdl = true
constexprs = { BLOCK = 256 }

[[configs]]
name = "plain"
constexprs = { BLOCK = 128 }
)toml";

TEST(ProgrammaticDependentLaunch, OnlyTheConfigsSm90VariantsLaunchWithIt) {
  FakeGpu& gpu = reset_fake_gpu();
  gpu.devices = {FakeDevice{}, FakeDevice{}};
  gpu.devices[1].arch = 80;
  const CUcontext sm90 = gpu.make_context(0), sm80 = gpu.make_context(1);
  const spec::Spec s = spec::parse_spec(kSpec, std::string(TRITONPACK_SOURCE_DIR) + "/tests/kernels/two_step/chained.toml");
  Kernel k(pack_from_spec(s, {80, 90}), "chained", fake_driver());
  ASSERT_EQ(k.info().variants.size(), 3u);  // pdl on sm_90; plain on both
  const std::vector<Arg> args = {Arg::tensor(0x7000'0000'0000ull, DType::kFp32),
                                 Arg::tensor(0x7000'0001'0000ull, DType::kFp32), Arg::integer(1000)};

  FakeGpu::set_current(sm90);
  k.launch(args, nullptr);
  ASSERT_EQ(gpu.launches.size(), 1u);
  EXPECT_TRUE(gpu.launches[0].used_launch_ex);
  EXPECT_TRUE(gpu.launches[0].pdl);
  EXPECT_EQ(gpu.launches[0].grid[0], 4u);  // cdiv(1000, 256): the pdl config

  FakeGpu::set_current(sm80);
  k.launch(args, nullptr);
  ASSERT_EQ(gpu.launches.size(), 2u);
  EXPECT_FALSE(gpu.launches[1].used_launch_ex);
  EXPECT_FALSE(gpu.launches[1].pdl);
  EXPECT_EQ(gpu.launches[1].grid[0], 8u);  // cdiv(1000, 128): the plain config

  LaunchOptions plain;
  plain.config = "plain";
  FakeGpu::set_current(sm90);
  k.launch(args, nullptr, plain);
  ASSERT_EQ(gpu.launches.size(), 3u);
  EXPECT_FALSE(gpu.launches[2].pdl);
}

// The shipped split-KV decode member: both of its steps launch with it on sm_90 (its first config)
// and plainly on sm_80, through the plugin core as an engine runs it.
TEST(ProgrammaticDependentLaunch, TheShippedDecodeAttentionsStepsUseItFromSm90) {
  FakeGpu& gpu = reset_fake_gpu();
  gpu.devices = {FakeDevice{}, FakeDevice{}};
  gpu.devices[1].arch = 80;
  const CUcontext sm90 = gpu.make_context(0), sm80 = gpu.make_context(1);
  PluginCore p = PluginCore::create(
      pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/attention/attention_decode.toml", {80, 90}), "attention_decode",
      {{"sm_scale", 0.125}, {"causal", 0}}, fake_driver());
  const std::vector<TensorDesc> in{{DType::kFp16, {4, 8, 1, 64}, {}}, {DType::kFp16, {4, 4, 4096, 64}, {}},
                                   {DType::kFp16, {4, 4, 4096, 64}, {}}};
  const CUdeviceptr ins[] = {0x7000'0000'0000ull, 0x7000'0010'0000ull, 0x7000'0200'0000ull};
  const CUdeviceptr outs[] = {0x7100'0000'0000ull, 0x7100'0010'0000ull};
  const CUdeviceptr ws = 0x7200'0000'0000ull;
  for (const CUcontext c : {sm90, sm80}) {
    FakeGpu::set_current(c);
    const size_t before = gpu.launches.size();
    const PreparedLaunch prepared = p.prepare(in);
    p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
    ASSERT_EQ(gpu.launches.size(), before + 2);  // the partials step, then the combine
    for (size_t i = before; i < gpu.launches.size(); ++i) {
      EXPECT_EQ(gpu.launches[i].pdl, c == sm90) << "launch " << i;
      EXPECT_EQ(gpu.launches[i].used_launch_ex, c == sm90) << "launch " << i;
    }
    EXPECT_EQ(gpu.launches[before + 1].grid[0], 8u);  // the combine: 32 query rows, four a program
  }
  // 6 query rows: the combine's last program has two rows past the end (cdiv, not a floor).
  FakeGpu::set_current(sm90);
  const std::vector<TensorDesc> six{{DType::kFp16, {1, 6, 1, 64}, {}}, {DType::kFp16, {1, 3, 700, 64}, {}},
                                    {DType::kFp16, {1, 3, 700, 64}, {}}};
  const PreparedLaunch prepared = p.prepare(six);
  p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  EXPECT_EQ(gpu.launches.back().grid[0], 2u);
}

}  // namespace
}  // namespace tritonpack::testing
