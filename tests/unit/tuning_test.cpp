// Ahead-of-time tuning, the parts without a GPU or a pack: how key values fall into bins
// (src/runtime/tuning_bins.cpp) and the [tuning] table of a spec (src/spec/spec_parse.cpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/spec.h"
#include "tritonpack/tuning.h"

namespace tritonpack {
namespace {

namespace fs = std::filesystem;

const TuningBins kPow2{};
const TuningBins kEdges{{64, 256, 1024}};

// ---------------------------------------------------------------------------------------------
// Binning

TEST(TuningBins, PowersOfTwo) {
  EXPECT_EQ(tuning::bin_count(kPow2), 64u);
  struct Case {
    int64_t value;
    uint32_t bin;
  };
  for (const Case& c : {Case{std::numeric_limits<int64_t>::min(), 0}, Case{-5, 0}, Case{0, 0}, Case{1, 1},
                        Case{2, 2}, Case{3, 2}, Case{4, 3}, Case{255, 8}, Case{256, 9}, Case{511, 9}, Case{512, 10},
                        Case{int64_t{1} << 62, 63}, Case{std::numeric_limits<int64_t>::max(), 63}}) {
    EXPECT_EQ(tuning::bin_of(kPow2, c.value), c.bin) << c.value;
    EXPECT_LT(tuning::bin_of(kPow2, c.value), tuning::bin_count(kPow2));
  }
  // Every bin's low value falls in that bin, and the value below it in the bin before.
  for (uint32_t bin = 1; bin < 64; ++bin) {
    const int64_t low = tuning::bin_low(kPow2, bin);
    EXPECT_EQ(tuning::bin_of(kPow2, low), bin) << bin;
    EXPECT_EQ(tuning::bin_of(kPow2, low - 1), bin - 1) << bin;
  }
  EXPECT_EQ(tuning::bin_low(kPow2, 0), 0);
  EXPECT_EQ(tuning::bin_low(kPow2, 1), 1);
  EXPECT_EQ(tuning::bin_low(kPow2, 9), 256);
  EXPECT_EQ(tuning::bin_low(kPow2, 63), int64_t{1} << 62);
  EXPECT_EQ(tuning::bin_low(kPow2, 64), std::numeric_limits<int64_t>::max());  // no such bin
}

TEST(TuningBins, ExplicitEdges) {
  EXPECT_EQ(tuning::bin_count(kEdges), 4u);
  struct Case {
    int64_t value;
    uint32_t bin;
  };
  for (const Case& c : {Case{std::numeric_limits<int64_t>::min(), 0}, Case{63, 0},  // below the first edge
                        Case{64, 1}, Case{100, 1}, Case{255, 1},                     // on an edge, between
                        Case{256, 2}, Case{1023, 2}, Case{1024, 3},                  // on the last edge
                        Case{std::numeric_limits<int64_t>::max(), 3}}) {             // above it
    EXPECT_EQ(tuning::bin_of(kEdges, c.value), c.bin) << c.value;
  }
  EXPECT_EQ(tuning::bin_low(kEdges, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(tuning::bin_low(kEdges, 1), 64);
  EXPECT_EQ(tuning::bin_low(kEdges, 2), 256);
  EXPECT_EQ(tuning::bin_low(kEdges, 3), 1024);
  const TuningBins one{{0}};
  EXPECT_EQ(tuning::bin_count(one), 2u);
  EXPECT_EQ(tuning::bin_of(one, -1), 0u);
  EXPECT_EQ(tuning::bin_of(one, 0), 1u);
}

TEST(TuningBins, Text) {
  EXPECT_EQ(tuning::bin_text(kPow2, 0), "< 1");
  EXPECT_EQ(tuning::bin_text(kPow2, 1), "1");
  EXPECT_EQ(tuning::bin_text(kPow2, 2), "2..3");
  EXPECT_EQ(tuning::bin_text(kPow2, 9), "256..511");
  // The last bin ends at INT64_MAX: its upper end must not be computed as 2 * 2^62 - 1 (overflow).
  EXPECT_EQ(tuning::bin_text(kPow2, 63), "4611686018427387904..9223372036854775807");
  EXPECT_EQ(tuning::bin_text(kPow2, 64), "none");

  EXPECT_EQ(tuning::bin_text(kEdges, 0), "< 64");
  EXPECT_EQ(tuning::bin_text(kEdges, 1), "64..255");
  EXPECT_EQ(tuning::bin_text(kEdges, 2), "256..1023");
  EXPECT_EQ(tuning::bin_text(kEdges, 3), ">= 1024");
  EXPECT_EQ(tuning::bin_text(TuningBins{{4, 5}}, 1), "4");  // a bin of one value

  EXPECT_EQ(tuning::bins_text(kPow2), "pow2");
  EXPECT_EQ(tuning::bins_text(kEdges), "edges 64, 256, 1024");
  EXPECT_EQ(tuning::bins_text(TuningBins{{-3}}), "edges -3");
}

// ---------------------------------------------------------------------------------------------
// [tuning] in a spec

// Lines 1..30; [tuning] follows on line 31.
constexpr const char* kSpec = R"toml(spec_version = 1
[kernel]
name = "k"
source = "k.py"
function = "f"
grid = ["cdiv(n, BLOCK)"]
[types]
T = ["fp16", "bf16"]
U = ["fp32", "fp16"]
[[params]]
name = "x"
kind = "tensor"
dtype = "T"
dims = ["M", "K"]
[[params]]
name = "y"
kind = "tensor"
dtype = "U"
[[params]]
name = "n"
kind = "scalar"
dtype = "i32"
[[params]]
name = "scale"
kind = "scalar"
dtype = "fp32"
[[params]]
name = "BLOCK"
kind = "constexpr"
values = [64]
)toml";

class SpecTuningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tritonpack_tuning_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ / "k.py") << "# dummy kernel source\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path() const { return (dir_ / "spec.toml").string(); }
  TuningInfo parse(const std::string& tuning) const {
    return spec::parse_spec(std::string(kSpec) + tuning, path()).kernel.tuning;
  }
  // The kInvalidSpec message for the spec with `tuning` appended, without the path.
  std::string error_of(const std::string& tuning) const {
    try {
      (void)spec::parse_spec(std::string(kSpec) + tuning, path());
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidSpec) << e.what();
      std::string message = e.what();
      if (message.rfind(path(), 0) == 0) message.erase(0, path().size());
      return message;
    }
    ADD_FAILURE() << "accepted:\n" << tuning;
    return "";
  }

  fs::path dir_;
};

#define EXPECT_STARTS(text, prefix) EXPECT_EQ((text).substr(0, std::string(prefix).size()), prefix) << (text)

TEST_F(SpecTuningTest, NoTableNoKey) {
  const TuningInfo t = parse("");
  EXPECT_TRUE(t.key.empty());
  EXPECT_TRUE(t.bins.empty());
  EXPECT_TRUE(t.shapes.empty());
}

TEST_F(SpecTuningTest, KeyAndBins) {
  TuningInfo t = parse("[tuning]\nkey = [\"n\", \"M\", \"cdiv(n, 2) + K\"]\n");
  EXPECT_EQ(t.key, (std::vector<std::string>{"n", "M", "cdiv(n, 2) + K"}));
  ASSERT_EQ(t.bins.size(), 3u);
  for (const TuningBins& b : t.bins) EXPECT_TRUE(b.edges.empty()) << "pow2 unless said otherwise";
  EXPECT_TRUE(t.tables.empty());

  // Bins by the key's text, in any order; "pow2" spelled out.
  t = parse("[tuning]\nkey = [\"n\", \"M\"]\nbins = { M = [64, 256], n = \"pow2\" }\n");
  EXPECT_TRUE(t.bins[0].edges.empty());
  EXPECT_EQ(t.bins[1].edges, (std::vector<int64_t>{64, 256}));
}

TEST_F(SpecTuningTest, KeyRefusals) {
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"BLOCK\"]\n"),
                ":32:8: tuning.key[0]: 'BLOCK' in 'BLOCK': 'BLOCK' is a constexpr param, fixed by the variant a tuning "
                "table chooses; this expression may use i32/i64 scalar params, launch variables, dim names of input "
                "tensors");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\", \"scale\"]\n"), ":32:13: tuning.key[1]: 'scale' in 'scale': 'scale' is an fp32 scalar param, not an integer");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"x\"]\n"), ":32:8: tuning.key[0]: 'x' in 'x': 'x' is a tensor param");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"nope\"]\n"), ":32:8: tuning.key[0]: 'nope' in 'nope': unknown name");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n +\"]\n"), ":32:8: tuning.key[0]: ");
  EXPECT_STARTS(error_of("[tuning]\nkey = []\n"), ":32:7: tuning.key: expected 1 to 4 expressions");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\", \"M\", \"K\", \"n + 1\", \"n + 2\"]\n"),
                ":32:7: tuning.key: expected 1 to 4 expressions");
  EXPECT_NE(error_of("[tuning]\nkey = [\"n\", \"n\"]\n").find("tuning.key[1]"), std::string::npos);
  EXPECT_NE(error_of("[tuning]\nbins = { n = \"pow2\" }\n").find("'key'"), std::string::npos);
  EXPECT_NE(error_of("[tuning]\nkey = [\"n\"]\nkeys = 1\n").find("unknown key 'keys' in [tuning]"), std::string::npos);
}

TEST_F(SpecTuningTest, BinRefusals) {
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\"]\nbins = { K = [1] }\n"),
                ":33:10: tuning.bins.K: 'K' is not in tuning.key (n)");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\"]\nbins = { n = [64, 256, 256] }\n"),
                ":33:24: tuning.bins.n[2]: 256 is not above the edge before it; edges ascend strictly");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\"]\nbins = { n = [64, 8] }\n"),
                ":33:19: tuning.bins.n[1]: 8 is not above the edge before it");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\"]\nbins = { n = \"log2\" }\n"),
                ":33:14: tuning.bins.n: expected \"pow2\" or an array of ascending integers");
  EXPECT_STARTS(error_of("[tuning]\nkey = [\"n\"]\nbins = { n = [] }\n"), ":33:14: tuning.bins.n: expected 1 to 64 edges");
  std::string many = "[tuning]\nkey = [\"n\"]\nbins = { n = [";
  for (int i = 0; i < 65; ++i) many += (i ? ", " : "") + std::to_string(i);
  EXPECT_STARTS(error_of(many + "] }\n"), ":33:14: tuning.bins.n: expected 1 to 64 edges");
}

TEST_F(SpecTuningTest, ShapesMultiplyTheFirstNameSlowest) {
  const TuningInfo t = parse("[tuning]\nkey = [\"n\"]\n"
                             "[[tuning.shapes]]\nn = [1, 2]\nM = 8\nT = [\"bf16\", \"fp16\"]\nscale = [0.5, 2]\n");
  ASSERT_EQ(t.shapes.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    const TuningShape& s = t.shapes[i];
    EXPECT_EQ(s.values.at("n"), i < 4 ? 1 : 2);
    EXPECT_EQ(s.values.at("M"), 8);
    EXPECT_EQ(s.values.size(), 2u) << "a float scalar is not among the integer values";
    EXPECT_EQ(s.bindings.at("T"), i % 4 < 2 ? DType::kBf16 : DType::kFp16);
    EXPECT_EQ(s.bindings.at("U"), DType::kFp32) << "a type variable not named takes its first dtype";
    ASSERT_EQ(s.reals.size(), 1u);
    EXPECT_EQ(s.reals.at("scale"), i % 2 == 0 ? 0.5 : 2.0);
  }
  // Tables of the array form add up, in order.
  const TuningInfo two = parse("[tuning]\nkey = [\"n\"]\nshapes = [{ n = 3 }, { n = [4, 5], U = \"fp16\" }]\n");
  ASSERT_EQ(two.shapes.size(), 3u);
  EXPECT_EQ(two.shapes[0].values.at("n"), 3);
  EXPECT_EQ(two.shapes[0].bindings.at("U"), DType::kFp32);
  EXPECT_EQ(two.shapes[2].values.at("n"), 5);
  EXPECT_EQ(two.shapes[2].bindings.at("U"), DType::kFp16);
  EXPECT_TRUE(two.shapes[0].reals.empty());
}

TEST_F(SpecTuningTest, ARangeGivesOneValuePerBin) {
  // pow2: 100 is in 64..127, 1000 in 512..1023: the first value is `from`, then each bin's low.
  TuningInfo t = parse("[tuning]\nkey = [\"n\"]\nshapes = [{ n = { from = 100, to = 1000 } }]\n");
  std::vector<int64_t> got;
  for (const TuningShape& s : t.shapes) got.push_back(s.values.at("n"));
  EXPECT_EQ(got, (std::vector<int64_t>{100, 128, 256, 512}));

  // Explicit edges; the first bin has no low end, so `from` is measured.
  t = parse("[tuning]\nkey = [\"n\", \"M\"]\nbins = { M = [64, 256] }\n"
            "shapes = [{ M = { from = 10, to = 300 }, n = [7, 9] }]\n");
  got.clear();
  for (const TuningShape& s : t.shapes) got.push_back(s.values.at("M") * 100 + s.values.at("n"));
  EXPECT_EQ(got, (std::vector<int64_t>{1007, 1009, 6407, 6409, 25607, 25609}));

  // A range inside one bin is one launch, at `from`.
  t = parse("[tuning]\nkey = [\"n\"]\nshapes = [{ n = { from = 300, to = 400 } }]\n");
  ASSERT_EQ(t.shapes.size(), 1u);
  EXPECT_EQ(t.shapes[0].values.at("n"), 300);
}

TEST_F(SpecTuningTest, ShapeRefusals) {
  const std::string head = "[tuning]\nkey = [\"n\"]\n";
  EXPECT_STARTS(error_of(head + "shapes = [{ zz = 1 }]\n"),
                ":33:13: tuning.shapes[0].zz: 'zz' is not a type variable, a scalar param, a launch variable or a dim name");
  EXPECT_STARTS(error_of(head + "shapes = [{ BLOCK = 1 }]\n"), ":33:13: tuning.shapes[0].BLOCK: 'BLOCK' is not");
  EXPECT_STARTS(error_of(head + "shapes = [{ T = \"fp32\" }]\n"),
                ":33:17: tuning.shapes[0].T: 'fp32' is not one of the dtypes of T in [types]");
  EXPECT_STARTS(error_of(head + "shapes = [{ n = [] }]\n"), ":33:17: tuning.shapes[0].n: an empty array gives no launch");
  EXPECT_STARTS(error_of(head + "shapes = [{ M = { from = 1, to = 9 } }]\n"),
                ":33:17: tuning.shapes[0].M: { from, to } takes one value per bin of a key; 'M' is not in tuning.key");
  EXPECT_STARTS(error_of(head + "shapes = [{ n = { from = 9, to = 1 } }]\n"),
                ":33:17: tuning.shapes[0].n: from 9 is above to 1");
  EXPECT_STARTS(error_of(head + "shapes = [{ n = { from = 1, to = 9, by = 2 } }]\n"),
                ":33:37: unknown key 'by' in tuning.shapes[0].n; allowed keys: from, to");
  EXPECT_NE(error_of(head + "shapes = [{ scale = \"x\" }]\n").find("tuning.shapes[0].scale"), std::string::npos);
  EXPECT_NE(error_of(head + "shapes = [{ n = 1.5 }]\n").find("tuning.shapes[0].n"), std::string::npos);
}

TEST_F(SpecTuningTest, MoreThan4096LaunchesAreRefused) {
  auto values = [](int count) {
    std::string out = "[";
    for (int i = 1; i <= count; ++i) out += (i > 1 ? ", " : "") + std::to_string(i);
    return out + "]";
  };
  // 64 x 64 = 4096: the limit itself is allowed.
  EXPECT_EQ(parse("[tuning]\nkey = [\"n\"]\nshapes = [{ n = " + values(64) + ", M = " + values(64) + " }]\n").shapes.size(),
            4096u);
  EXPECT_NE(error_of("[tuning]\nkey = [\"n\"]\nshapes = [{ n = " + values(64) + ", M = " + values(65) + " }]\n")
                .find("tuning.shapes[0]: more than 4096 launches to measure in all"),
            std::string::npos);
  // Counted over every table.
  EXPECT_NE(error_of("[tuning]\nkey = [\"n\"]\nshapes = [{ n = " + values(64) + ", M = " + values(64) + " }, { n = 1 }]\n")
                .find("tuning.shapes[1]: more than 4096 launches"),
            std::string::npos);
}

}  // namespace
}  // namespace tritonpack
