// "sm_NN": the one arch parser the spec reader, `compile --arch` and `run --explain` share.
#include <gtest/gtest.h>

#include <string>

#include "cli/text.h"
#include "common/error_of.h"
#include "util/text.h"

namespace tritonpack {
namespace {

using testing::error_of;

TEST(ArchText, TakesSmFrom50To200) {
  EXPECT_EQ(text::parse_arch("sm_50"), 50u);
  EXPECT_EQ(text::parse_arch("sm_90"), 90u);
  EXPECT_EQ(text::parse_arch("sm_120"), 120u);
  EXPECT_EQ(text::parse_arch("sm_200"), 200u);
}

TEST(ArchText, RefusesAnythingElse) {
  for (const char* bad : {"", "sm_", "sm_9", "sm_49", "sm_201", "sm_999", "sm_090", "sm_0090", "sm_90a", "sm_+90",
                          "sm_-90", "sm_ 90", "SM_90", "90", "sm90", "compute_90", "sm_99999999999999999999999",
                          "sm_4294967386"}) {
    EXPECT_EQ(text::parse_arch(bad), std::nullopt) << bad;
  }
}

TEST(ArchText, OptionErrorNamesTheOption) {
  EXPECT_EQ(cli::parse_arch_option("sm_80", "--arch"), 80u);
  EXPECT_EQ(error_of([] { cli::parse_arch_option("sm_99999999999999999999999", "--explain"); },
                     ErrorCode::kInvalidArgument),
            "--explain sm_99999999999999999999999: expected sm_NN, e.g. sm_90");
  EXPECT_EQ(error_of([] { cli::parse_arch_option("sm_090", "--arch"); }, ErrorCode::kInvalidArgument),
            "--arch sm_090: expected sm_NN, e.g. sm_90");
}

}  // namespace
}  // namespace tritonpack
