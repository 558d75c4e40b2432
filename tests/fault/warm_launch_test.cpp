// A warm launch allocates nothing on the heap: plain kernels, kernels with rules, heuristics,
// shapes and launch variables, and host tensor descriptors (the runtime's own work; the fake
// driver is prepared so that it does not allocate either).
#include <gtest/gtest.h>

#include "common/counting_new.h"
#include "fault/fake_driver.h"
#include "fault/attention_fixture.h"
#include "fault/rules_fixture.h"
#include "fault/runtime_fixture.h"
#include "fault/spec_pack.h"
#include "fault/tuned_fixture.h"
#include "runtime/args.h"
#include "tritonpack/plugin.h"
#include "tritonpack/runtime.h"

namespace tritonpack::testing {
namespace {

constexpr CUdeviceptr kX = 0x7000'0000'0000ull, kOut = 0x7000'0020'0000ull;

uint64_t allocations_of(Kernel& k, const std::vector<Arg>& args, int launches, const LaunchOptions& options = {}) {
  for (int i = 0; i < 10; ++i) k.launch(args, nullptr, options);  // warm: modules, contexts, the map cache
  fake_gpu().launches.clear();
  fake_gpu().launches.reserve(static_cast<size_t>(launches));  // the fake's own record
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < launches; ++i) k.launch(args, nullptr, options);
  return heap_allocations.load() - before;
}

TEST(WarmLaunch, AllocatesNothing) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  auto runtime_pack = runtime_test_pack();
  auto rules_pack = rules_test_pack();

  Kernel axpy(runtime_pack, "axpy", fake_driver());
  const std::vector<Arg> axpy_args = {Arg::tensor(kX, DType::kFp16), Arg::tensor(kX + 0x100000, DType::kFp16),
                                      Arg::tensor(kOut, DType::kFp16), Arg::integer(1000), Arg::real(0.5), Arg::real(2)};
  EXPECT_EQ(allocations_of(axpy, axpy_args, 100), 0u) << "plain kernel";

  Kernel rows(rules_pack, "rows", fake_driver());
  const int64_t x_shape[] = {4, 700}, out_shape[] = {4};
  const std::vector<Arg> rows_args = {Arg::tensor(kX, DType::kFp16, x_shape), Arg::tensor(kOut, DType::kFp32, out_shape),
                                      Arg::integer(700), Arg::integer(4)};
  const ConstexprValue pin[] = {{"ACT", Constant("relu")}};
  LaunchOptions pinned;
  pinned.pinned = pin;
  EXPECT_EQ(allocations_of(rows, rows_args, 100), 0u) << "rules, a heuristic, shapes, a launch variable";
  EXPECT_EQ(allocations_of(rows, rows_args, 100, pinned), 0u) << "a pinned string constexpr";

  Kernel tile(rules_pack, "tile", fake_driver());
  const int64_t shape[] = {300, 200}, strides[] = {256, 1};
  const std::vector<Arg> tile_args = {Arg::descriptor(kX, DType::kFp16, shape, strides), Arg::tensor(kOut, DType::kFp16),
                                      Arg::integer(300), Arg::integer(200)};
  EXPECT_EQ(allocations_of(tile, tile_args, 100), 0u) << "a host tensor descriptor (TMA)";
}

// A blob hashes on its first use only; afterwards handing it out allocates nothing (a reload after
// Kernel::unload goes through Pack::blob again).
TEST(WarmLaunch, CheckedBlobsAreHandedOutWithoutAllocating) {
  const auto pack = runtime_test_pack();
  pack->verify_blobs();
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < 100; ++i) {
    for (int32_t b = 0; b < static_cast<int32_t>(pack->manifest().blobs.size()); ++b) (void)pack->blob(b);
  }
  EXPECT_EQ(heap_allocations.load() - before, 0u);
}

// A tuned launch finds its entry (tuned_entry: the key evaluated, a grid cell read) and walks the
// entry's ranking without allocating: in the entry's own bins, in bins it did not measure, with a
// pin that skips the ranking's first config, and past a first config that refuses the launch.
TEST(WarmLaunch, ATunedLaunchAllocatesNothing) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  Kernel k(tuned_pack({tuned_table("Fake GPU", 90, {entry_at(10, 1, {"c2", "c0", "c1"}), entry_at(14, 2, {"c1"})})}),
           "tuned", fake_driver());
  const TunedLaunch exact(1000, 100), nearest(3000, 100);
  ASSERT_EQ(config_of(k, k.select(exact.args)), "c2");    // the table is used: entry 0
  ASSERT_EQ(config_of(k, k.select(nearest.args)), "c2");  // bin 11: nearest entry 0
  EXPECT_EQ(allocations_of(k, exact.args, 100), 0u) << "an exact entry";
  EXPECT_EQ(allocations_of(k, nearest.args, 100), 0u) << "a nearest entry";
  const ConstexprValue pin[] = {{"SPLIT", 1}};
  LaunchOptions pinned;
  pinned.pinned = pin;
  ASSERT_EQ(config_of(k, k.select(exact.args, pinned)), "c0");
  EXPECT_EQ(allocations_of(k, exact.args, 100, pinned), 0u) << "a pin past the ranking's first config";
  const TunedLaunch refused_first(200, 100);  // nearest entry 0; c2's BLOCK 256 > n refuses it
  ASSERT_EQ(config_of(k, k.select(refused_first.args)), "c0");
  EXPECT_EQ(allocations_of(k, refused_first.args, 100), 0u) << "the ranking's first config refusing the launch";
}

// A kernel in steps (tests/kernels/two_step): every step selected, loaded and packed before the
// first launches, each step's parameters packed once on the stack; nothing on the heap.
TEST(WarmLaunch, AKernelInStepsAllocatesNothing) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  Kernel k(pack_from_spec(TRITONPACK_SOURCE_DIR "/tests/kernels/two_step/two_step.toml", {90}), "two_step", fake_driver());
  const std::vector<Arg> args = {Arg::tensor(kX, DType::kFp32), Arg::tensor(kX + 0x100000, DType::kFp32),
                                 Arg::tensor(kOut, DType::kFp32), Arg::integer(3000)};
  for (int i = 0; i < 10; ++i) k.launch(args, nullptr);
  gpu.record_launches = false;  // the fake's record of a launch allocates
  const size_t launched = gpu.launch_count;
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < 100; ++i) k.launch(args, nullptr);
  EXPECT_EQ(heap_allocations.load() - before, 0u);
  EXPECT_EQ(gpu.launch_count - launched, 200u);
}

// The plugin core's hot path: a prepared enqueue allocates nothing (an engine calls it per
// inference; TensorRT and CUDA graph capture need it free of allocation).
TEST(WarmLaunch, PreparedPluginEnqueueAllocatesNothing) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  PluginCore p = PluginCore::create(attention_pack(), "attn", {}, fake_driver());
  const Shape q{2, 3, 100, 64};
  const std::vector<TensorDesc> in{{DType::kFp16, q, {}}, {DType::kFp16, q, {}}, {DType::kFp16, q, {}}};
  const PreparedLaunch prepared = p.prepare(in);
  const CUdeviceptr ins[] = {kX, kX + 0x100000, kX + 0x200000}, outs[] = {kOut};
  const CUdeviceptr ws = kOut + 0x100000;
  for (int i = 0; i < 10; ++i) p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  gpu.record_launches = false;  // the fake's record of a launch allocates (its entry name)
  const size_t launched = gpu.launch_count;
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < 100; ++i) p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  EXPECT_EQ(heap_allocations.load() - before, 0u);
  EXPECT_EQ(gpu.launch_count - launched, 100u);
}

// The decode attention: two steps, and a dim-size argument (splits) that the runtime checks
// against the device's SM count at every launch.
TEST(WarmLaunch, PreparedPluginEnqueueOfTheDecodeAttentionAllocatesNothing) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  PluginCore p = PluginCore::create(pack_from_spec(TRITONPACK_SOURCE_DIR "/kernels/attention/attention_decode.toml", {90}),
                                    "attention_decode", {{"sm_scale", 0.125}, {"causal", 0}}, fake_driver());
  const std::vector<TensorDesc> in{{DType::kFp16, {4, 8, 1, 64}, {}}, {DType::kFp16, {4, 4, 4096, 64}, {}},
                                   {DType::kFp16, {4, 4, 4096, 64}, {}}};
  const PreparedLaunch prepared = p.prepare(in);
  ASSERT_EQ(prepared.plan().sm_count, 132u);
  const CUdeviceptr ins[] = {kX, kX + 0x100000, kX + 0x2000000}, outs[] = {kOut, kOut + 0x100000};
  const CUdeviceptr ws = kOut + 0x1000000;
  for (int i = 0; i < 10; ++i) p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  gpu.record_launches = false;
  const size_t launched = gpu.launch_count;
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < 100; ++i) p.enqueue(prepared, ins, outs, ws, prepared.workspace_bytes(), nullptr);
  EXPECT_EQ(heap_allocations.load() - before, 0u);
  EXPECT_EQ(gpu.launch_count - launched, 200u);
}

// The same with a tensordesc input (TMA): its shape and strides live in the prepared launch, and
// the runtime's map cache serves the warm launches.
TEST(WarmLaunch, PreparedPluginEnqueueOfADescriptorAllocatesNothing) {
  FakeGpu& gpu = reset_fake_gpu();
  FakeGpu::set_current(gpu.make_context(0));
  runtime::clear_tensor_map_cache();  // the first enqueues encode the map
  PluginCore p = PluginCore::create(pack_from_spec(TRITONPACK_SOURCE_DIR "/tests/kernels/desc_scale/desc_scale_op.toml", {90}),
                                    "desc_scale_op", {}, fake_driver());
  const std::vector<TensorDesc> in{{DType::kFp16, {300, 200}, {}}};
  const PreparedLaunch prepared = p.prepare(in);
  const CUdeviceptr ins[] = {kX}, outs[] = {kOut};
  for (int i = 0; i < 10; ++i) p.enqueue(prepared, ins, outs, 0, 0, nullptr);
  ASSERT_FALSE(gpu.encodes.empty());
  gpu.record_launches = false;
  const size_t launched = gpu.launch_count, encoded = gpu.encodes.size();
  const uint64_t before = heap_allocations.load();
  for (int i = 0; i < 100; ++i) p.enqueue(prepared, ins, outs, 0, 0, nullptr);
  EXPECT_EQ(heap_allocations.load() - before, 0u);
  EXPECT_EQ(gpu.launch_count - launched, 100u);
  EXPECT_EQ(gpu.encodes.size(), encoded);
}

}  // namespace
}  // namespace tritonpack::testing
