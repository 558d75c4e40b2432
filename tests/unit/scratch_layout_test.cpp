// Triton's scratch rule (runtime::scratch_layout), shared by the launch path and the plugin
// core's workspace size.
#include <gtest/gtest.h>

#include "runtime/selection.h"

namespace tritonpack::runtime {
namespace {

TEST(ScratchLayout, SizePerProgramTimesProgramsTimesCtas) {
  VariantInfo v;
  EXPECT_EQ(scratch_layout(v, {1000, 1, 1}).bytes, 0u);  // no scratch, no bytes
  v.global_scratch_size = 256;
  v.num_ctas = 2;
  const ScratchLayout a = scratch_layout(v, {3, 2, 1});
  EXPECT_EQ(a.bytes, 256u * 3 * 2 * 2);
  EXPECT_EQ(scratch_layout(v, {0, 5, 1}).bytes, 0u);  // empty grid
  v.profile_scratch_size = 8;
  v.profile_scratch_align = 1024;
  v.num_ctas = 1;
  const ScratchLayout b = scratch_layout(v, {5, 1, 1});
  EXPECT_EQ(b.profile_offset, 2048u);  // 1280 rounded up to the profile alignment
  EXPECT_EQ(b.bytes, 2048u + 40u);
  EXPECT_FALSE(b.too_large);
}

TEST(ScratchLayout, MoreThan256TiBIsReportedNotWrapped) {
  VariantInfo v;
  v.global_scratch_size = 1u << 20;
  EXPECT_TRUE(scratch_layout(v, {int64_t{1} << 31, 1 << 16, 1}).too_large);
  EXPECT_FALSE(scratch_layout(v, {1 << 20, 1, 1}).too_large);
}

}  // namespace
}  // namespace tritonpack::runtime
