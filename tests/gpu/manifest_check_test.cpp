// The shipped kernels' packs (compiled by CTest's compile_* fixtures, no GPU needed): every
// variant the spec plans is there with sane metadata and both images.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "gpu/test_paths.h"
#include "pack/cubin_info.h"
#include "tritonpack/pack.h"
#include "tritonpack/plugin.h"
#include "tritonpack/runtime.h"
#include "tritonpack/spec.h"

namespace tritonpack {
namespace {

std::shared_ptr<const Pack> shipped(const std::string& name) {
  const std::string path = test_packs_dir() + "/" + name + ".tpack";
  if (!std::filesystem::exists(path)) return nullptr;
  return Pack::open(path);
}

// `name`: the folder and spec under kernels/; `pack_name`: the pack the compile fixture wrote, when
// it differs (the shipped matmul's is matmul_shipped, as tests/kernels/matmul has matmul).
void check_against_spec(const std::string& name, const std::string& pack_name = "") {
  auto pack = shipped(pack_name.empty() ? name : pack_name);
  if (!pack) GTEST_SKIP() << "no pack " << name << " (Triton missing: compile fixture skipped)";
  const auto spec = spec::load_spec(source_dir() + "/kernels/" + name + "/" + name + ".toml");
  const auto jobs = spec::plan_jobs(spec);
  const KernelInfo& k = pack->kernel(spec.kernel.name);
  ASSERT_EQ(k.variants.size(), jobs.size());
  std::set<uint32_t> archs;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const VariantInfo& v = k.variants[i];
    EXPECT_EQ(v.arch, jobs[i].arch);
    archs.insert(v.arch);
    EXPECT_EQ(v.entry, spec.kernel.function);
    EXPECT_GE(v.cubin_blob, 0);
    EXPECT_GE(v.ptx_blob, 0);
    EXPECT_GT(pack->blob(v.cubin_blob).size(), 1000u);
    EXPECT_EQ(v.triton_version, "3.6.0");
    EXPECT_TRUE(v.num_warps == 1 || v.num_warps == 2 || v.num_warps == 4 || v.num_warps == 8 || v.num_warps == 16);
    EXPECT_EQ(v.args.size(), runtime_param_names(k).size());
    EXPECT_EQ(v.ptx_target, v.arch >= 90 ? "sm_" + std::to_string(v.arch) + "a" : "sm_" + std::to_string(v.arch));
    // ptxas's report (kept in the manifest) and the cubin's own records agree.
    const auto cubin = pack_format::read_cubin_resources(pack->blob(v.cubin_blob), v.entry);
    ASSERT_TRUE(cubin) << "variant " << v.id;
    EXPECT_EQ(static_cast<int32_t>(cubin->registers), v.resources.registers) << "variant " << v.id;
    EXPECT_EQ(static_cast<int32_t>(cubin->frame_size.value_or(UINT32_MAX)), v.resources.stack_frame)
        << "variant " << v.id;
    EXPECT_GE(v.resources.spill_stores, 0);
    EXPECT_GE(v.resources.spill_loads, 0);
    EXPECT_TRUE(v.ir_blobs.empty()) << "compiled without --keep-ir";
  }
  EXPECT_EQ(archs, std::set<uint32_t>(spec.archs.begin(), spec.archs.end()));
}

TEST(ShippedPacks, VectorAddHoldsEveryPlannedVariant) { check_against_spec("vector_add"); }
TEST(ShippedPacks, SoftmaxHoldsEveryPlannedVariant) { check_against_spec("softmax"); }
TEST(ShippedPacks, MatmulHoldsEveryPlannedVariant) { check_against_spec("matmul", "matmul_shipped"); }

TEST(ShippedPacks, SoftmaxScaleIsAFourByteFloat) {
  auto pack = shipped("softmax");
  if (!pack) GTEST_SKIP() << "no softmax pack (Triton missing)";
  for (const VariantInfo& v : pack->manifest().kernels[0].variants) {
    bool found = false;
    for (const KernelArg& a : v.args) {
      if (a.name == "scale") {
        EXPECT_EQ(a.type, ArgType::kFp32);
        found = true;
      }
    }
    EXPECT_TRUE(found);
  }
}

}  // namespace
}  // namespace tritonpack

namespace tritonpack {
namespace {

TEST(ShippedPacks, FmhaHoldsEveryPlannedVariant) { check_against_spec("fmha"); }

// compile --keep-ir: every variant carries its three stages, and the same code as without it.
TEST(ShippedPacks, SoftmaxKeepsItsIr) {
  auto with_ir = shipped("softmax_ir");
  auto without = shipped("softmax");
  if (!with_ir || !without) GTEST_SKIP() << "no softmax packs (Triton missing)";
  const KernelInfo& k = with_ir->kernel("softmax");
  ASSERT_EQ(k.variants.size(), without->kernel("softmax").variants.size());
  for (size_t i = 0; i < k.variants.size(); ++i) {
    const VariantInfo& v = k.variants[i];
    const VariantInfo& plain = without->kernel("softmax").variants[i];
    EXPECT_EQ(with_ir->manifest().blobs[v.cubin_blob].sha256, without->manifest().blobs[plain.cubin_blob].sha256);
    ASSERT_EQ(v.ir_blobs.size(), 3u) << "variant " << v.id;
    auto text = [&](const char* stage) {
      const auto bytes = with_ir->blob(v.ir_blobs.at(stage));
      EXPECT_EQ(with_ir->manifest().blobs[v.ir_blobs.at(stage)].kind, stage);
      return std::string(bytes.begin(), bytes.end());
    };
    EXPECT_NE(text("ttir").find("tt.func public @softmax_kernel("), std::string::npos) << "variant " << v.id;
    EXPECT_NE(text("ttgir").find("#ttg.blocked<"), std::string::npos) << "variant " << v.id;
    EXPECT_NE(text("llir").find("define ptx_kernel void @softmax_kernel("), std::string::npos) << "variant " << v.id;
  }
}

// What PluginGen's FMHA rules mean, computed from the converted and compiled pack (no GPU).
TEST(ShippedPacks, PluginGenFmhaShapesDimArgsAndGrid) {
  auto pack = shipped("fmha_plugingen");
  if (!pack) GTEST_SKIP() << "no pack fmha_plugingen (Triton missing: compile fixture skipped)";
  PluginCore core = PluginCore::create(pack, "fused_attention_kernel", {{"sm_scale", 0.125}, {"num_heads", 4}});
  core.set_target_arch(90);  // planned for sm_90 without a GPU
  const TensorDesc q{DType::kFp16, {2, 4, 200, 64}, {}};
  const PluginPlan plan = core.plan({{q, q, q}});
  ASSERT_FALSE(plan.candidates.empty());
  EXPECT_EQ(plan.candidates.front().grid, (std::array<int64_t, 3>{2, 8, 1}));
  EXPECT_EQ(plan.output_shapes, (std::vector<Shape>{{2, 4, 200, 64}, {2, 4, 200}, {2, 4, 200}}));
  EXPECT_EQ(plan.dim_args, (std::vector<std::pair<std::string, int64_t>>{{"batch_size", 2}, {"seq_len", 200}}));
  EXPECT_EQ(plan.workspace_bytes, 0u);
  std::vector<Arg> args = plan.args;
  for (Arg& a : args) {
    if (a.kind == Arg::Kind::kTensor) a.pointer = 0x10000;
  }
  Kernel kernel(pack, "fused_attention_kernel");
  const Selection sel = kernel.select_for_arch(args, 90);
  EXPECT_EQ(sel.grid, (std::array<int64_t, 3>{2, 8, 1}));  // (200 + 127) / 128, 2 * 4, 1
  ASSERT_NE(sel.variant, nullptr);
  EXPECT_FALSE(sel.uses_ptx);
  // seq_len 200 is not a multiple of 16: the plain variant; 256 is: the specialized one.
  auto seq_div = [](const VariantInfo& v) {
    for (const KernelArg& a : v.args) {
      if (a.name == "seq_len") return a.divisibility;
    }
    return 0u;
  };
  EXPECT_EQ(seq_div(*sel.variant), 1u);
  for (Arg& a : args) {
    if (a.kind == Arg::Kind::kInt && a.int_value == 200) a.int_value = 256;
  }
  EXPECT_EQ(seq_div(*kernel.select_for_arch(args, 90).variant), 16u);
  EXPECT_TRUE(kernel.select_for_arch(args, 80).variant != nullptr);
}

}  // namespace
}  // namespace tritonpack
