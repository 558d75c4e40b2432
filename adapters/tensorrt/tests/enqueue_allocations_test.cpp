// The plugin's enqueue on a prepared shape allocates nothing: the engine's hot path (issue 8). Every
// heap allocation of this test program is counted (common/counting_new.h; this file alone includes
// it), on the fake driver with launches counted but not recorded.
#include <gtest/gtest.h>

#include <vector>

#include "common/counting_new.h"
#include "fault/fake_driver.h"
#include "fault/spec_pack.h"
#include "tensorrt_harness.h"
#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt::testing {
namespace {

using nvinfer1::DataType;
using tritonpack::testing::heap_allocations;

TEST(TensorRTEnqueue, APreparedShapeEnqueuesWithoutAllocating) {
  tritonpack::testing::FakeGpu& gpu = tritonpack::testing::reset_fake_gpu();
  tritonpack::testing::FakeGpu::set_current(gpu.make_context(0));
  auto source = PackSource::from_pack(
      tritonpack::testing::pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/fmha/fmha.toml", {80, 90}), "fmha.tpack");
  Creator creator(source, "fmha", tritonpack::testing::fake_driver());
  FieldSet fields;
  fields.f32("sm_scale", 0.125f);
  Harness harness(creator);
  const InputUse q{DataType::kHALF, {1, 1, 1, 64}, {2, 4, 256, 64}, {4, 8, 1024, 64}};
  const std::vector<InputUse> inputs{q, q, q};
  BuildReport built = harness.build("fmha", fields, inputs);
  auto engine = harness.deserialize(built.serialized);
  ASSERT_TRUE(engine);
  RecordingErrorRecorder recorder;
  ResourceContext context(&recorder);
  auto plugin = Harness::attach(*engine, context);
  ASSERT_EQ(Harness::set_tactic(*plugin, 1), 0);
  const std::vector<std::vector<int64_t>> shapes(3, {2, 4, 256, 64});
  const DataType half[] = {DataType::kHALF, DataType::kHALF, DataType::kHALF};
  const auto in = Harness::descs(half, shapes);
  const auto out = Harness::descs(std::span(half, 1), built.output_shapes(shapes));
  ASSERT_EQ(Harness::shape_change(*plugin, in, out), 0);
  auto* runtime = static_cast<nvinfer1::IPluginV3OneRuntime*>(plugin->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
  const void* ins[] = {reinterpret_cast<const void*>(0x10000), reinterpret_cast<const void*>(0x20000),
                       reinterpret_cast<const void*>(0x30000)};
  void* outs[] = {reinterpret_cast<void*>(0x40000)};
  void* workspace = reinterpret_cast<void*>(0x100000);
  // The first enqueue loads the module in this context.
  ASSERT_EQ(runtime->enqueue(in.data(), out.data(), ins, outs, workspace, nullptr), 0);
  gpu.record_launches = false;
  const size_t launched = gpu.launch_count;
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(runtime->enqueue(in.data(), out.data(), ins, outs, workspace, nullptr), 0);
  EXPECT_EQ(heap_allocations.load() - before, 0u);
  EXPECT_EQ(gpu.launch_count - launched, 100u);
  EXPECT_TRUE(static_cast<Plugin&>(*plugin).last_enqueue_was_prepared());
  EXPECT_EQ(recorder.getNbErrors(), 0);
}

}  // namespace
}  // namespace tritonpack::tensorrt::testing
