// Kernel specs: parsing, every validation rule with its message, the compile plan, the job file
// and the check of the compile step's meta.json (src/spec/spec_parse.cpp, spec_plan.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/spec_internal.h"
#include "tritonpack/error.h"
#include "tritonpack/spec.h"

namespace tritonpack::spec {
namespace {

namespace fs = std::filesystem;

// A spec whose lines the validation tests count on (line numbers in comments).
constexpr const char* kMinimal = R"(spec_version = 1
[kernel]
name = "k"
source = "k.py"
function = "f"
grid = ["n"]
[[params]]
name = "x"
kind = "tensor"
dtype = "fp32"
[[params]]
name = "n"
kind = "scalar"
dtype = "i32"
)";  // 1..14

constexpr const char* kFull = R"toml(spec_version = 1

[kernel]
name = "vector_add"
source = "sub/../k.py"
function = "add_kernel"
archs = ["sm_90", "sm_80"]
grid = ["n_elements /// BLOCK_SIZE", "2"]
reference = "vector_add"

[types]
U = ["fp32"]
T = ["fp16", "bf16"]

[[params]]
name = "x_ptr"
kind = "tensor"
dtype = "T"
divisibility = [16, 1]
numel = "n_elements"

[[params]]
name = "y_ptr"
kind = "tensor"
dtype = "U"

[[params]]
name = "out_ptr"
kind = "tensor"
dtype = "fp32"
io = "out"
numel = "n_elements"

[[params]]
name = "n_elements"
kind = "scalar"
dtype = "i32"
divisibility = 16

[[params]]
name = "alpha"
kind = "scalar"
dtype = "fp32"

[[params]]
name = "BLOCK_SIZE"
kind = "constexpr"

[[params]]
name = "EVEN"
kind = "constexpr"
value = true

[[params]]
name = "UNROLL"
kind = "constexpr"
values = [1, 2]

[[configs]]
name = "small"
num_warps = 2
num_stages = 2
constexprs = { BLOCK_SIZE = 256 }

[[configs]]
num_warps = 8
num_ctas = 2
constexprs = { BLOCK_SIZE = 1024 }

[bench]
bytes = "n_elements * (T.size + U.size + 4)"
flops = "n_elements"
)toml";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the spec";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class SpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tritonpack_spec_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = fs::canonical(pattern);
    std::ofstream(dir_ / "k.py") << "# dummy kernel source\n";
    fs::create_directory(dir_ / "sub");
    fs::create_directory(dir_ / "folder.py");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string spec_path() const { return (dir_ / "spec.toml").string(); }
  Spec parse(const std::string& text) const { return parse_spec(text, spec_path()); }

  // The message of the kInvalidSpec error that parsing (and planning) `text` gives.
  std::string error_of(const std::string& text) const {
    try {
      Spec spec = parse(text);
      plan_jobs(spec);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidSpec) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
  }

  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------
// Parsing

TEST_F(SpecTest, ParseFullSpec) {
  Spec spec = parse(kFull);
  const KernelInfo& k = spec.kernel;
  EXPECT_EQ(spec.spec_version, 1u);
  EXPECT_EQ(spec.path, spec_path());
  EXPECT_EQ(k.name, "vector_add");
  EXPECT_EQ(k.function, "add_kernel");
  EXPECT_EQ(k.source_file, (dir_ / "k.py").string());
  EXPECT_EQ(k.reference, "vector_add");
  EXPECT_EQ(spec.archs, (std::vector<uint32_t>{90, 80}));
  EXPECT_EQ(k.grid, (std::array<std::string, 3>{"n_elements /// BLOCK_SIZE", "2", "1"}));

  ASSERT_EQ(k.type_vars.size(), 2u);  // declaration order, not key order
  EXPECT_EQ(k.type_vars[0].name, "U");
  EXPECT_EQ(k.type_vars[0].dtypes, (std::vector<DType>{DType::kFp32}));
  EXPECT_EQ(k.type_vars[1].name, "T");
  EXPECT_EQ(k.type_vars[1].dtypes, (std::vector<DType>{DType::kFp16, DType::kBf16}));

  ASSERT_EQ(k.params.size(), 8u);
  struct Expected {
    const char* name;
    ParamKind kind;
    const char* dtype;
    bool is_output;
    const char* numel;
  };
  const Expected expected[] = {
      {"x_ptr", ParamKind::kTensor, "T", false, "n_elements"},
      {"y_ptr", ParamKind::kTensor, "U", false, ""},
      {"out_ptr", ParamKind::kTensor, "fp32", true, "n_elements"},
      {"n_elements", ParamKind::kScalar, "i32", false, ""},
      {"alpha", ParamKind::kScalar, "fp32", false, ""},
      {"BLOCK_SIZE", ParamKind::kConstexpr, "", false, ""},
      {"EVEN", ParamKind::kConstexpr, "", false, ""},
      {"UNROLL", ParamKind::kConstexpr, "", false, ""},
  };
  for (size_t i = 0; i < 8; ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(k.params[i].name, expected[i].name);
    EXPECT_EQ(k.params[i].kind, expected[i].kind);
    if (k.params[i].kind != ParamKind::kConstexpr) EXPECT_EQ(k.params[i].dtype.text(), expected[i].dtype);
    EXPECT_EQ(k.params[i].is_output, expected[i].is_output);
    EXPECT_EQ(k.params[i].numel, expected[i].numel);
  }

  ASSERT_EQ(k.configs.size(), 2u);
  EXPECT_EQ(k.configs[0].name, "small");
  EXPECT_EQ(k.configs[0].num_warps, 2u);
  EXPECT_EQ(k.configs[0].num_stages, 2u);
  EXPECT_EQ(k.configs[0].num_ctas, 1u);
  ASSERT_EQ(k.configs[0].constexprs.size(), 1u);
  EXPECT_EQ(k.configs[0].constexprs[0].name, "BLOCK_SIZE");
  EXPECT_EQ(k.configs[0].constexprs[0].value, 256);
  EXPECT_EQ(k.configs[1].name, "c1");
  EXPECT_EQ(k.configs[1].num_warps, 8u);
  EXPECT_EQ(k.configs[1].num_stages, 3u);
  EXPECT_EQ(k.configs[1].num_ctas, 2u);
  EXPECT_EQ(k.configs[1].constexprs[0].value, 1024);

  EXPECT_EQ(k.bench.bytes, "n_elements * (T.size + U.size + 4)");
  EXPECT_EQ(k.bench.flops, "n_elements");
  EXPECT_TRUE(k.variants.empty());
  EXPECT_TRUE(k.source_sha256.empty());

  using Div = std::map<std::string, std::vector<uint32_t>>;
  EXPECT_EQ(spec.divisibility_choices, (Div{{"x_ptr", {16, 1}}, {"n_elements", {16}}}));
  using Values = std::map<std::string, std::vector<Constant>>;
  EXPECT_EQ(spec.constexpr_choices, (Values{{"EVEN", {1}}, {"UNROLL", {1, 2}}}));
}

TEST_F(SpecTest, ParseDefaults) {
  Spec spec = parse(kMinimal);
  const KernelInfo& k = spec.kernel;
  EXPECT_EQ(spec.archs, (std::vector<uint32_t>{80, 90}));
  EXPECT_EQ(k.grid, (std::array<std::string, 3>{"n", "1", "1"}));
  ASSERT_EQ(k.configs.size(), 1u);
  EXPECT_EQ(k.configs[0].name, "default");
  EXPECT_EQ(k.configs[0].num_warps, 4u);
  EXPECT_EQ(k.configs[0].num_stages, 3u);
  EXPECT_EQ(k.configs[0].num_ctas, 1u);
  EXPECT_TRUE(k.configs[0].constexprs.empty());
  EXPECT_FALSE(k.params[0].is_output);
  EXPECT_TRUE(k.reference.empty());
  EXPECT_TRUE(k.bench.bytes.empty());
  EXPECT_TRUE(k.bench.flops.empty());
  EXPECT_TRUE(k.type_vars.empty());
  EXPECT_TRUE(spec.divisibility_choices.empty());
  EXPECT_TRUE(spec.constexpr_choices.empty());
}

TEST_F(SpecTest, ParseConfigConstexprsInParamOrder) {
  // B is declared after A but set first; [configs.constexprs] is the long form of the inline table.
  std::string text = std::string(kMinimal) + R"([[params]]
name = "A"
kind = "constexpr"
[[params]]
name = "B"
kind = "constexpr"
[[configs]]
constexprs = { B = 2, A = false }
[[configs]]
[configs.constexprs]
B = 3
A = 4
)";
  Spec spec = parse(text);
  for (const ConfigInfo& c : spec.kernel.configs) {
    ASSERT_EQ(c.constexprs.size(), 2u);
    EXPECT_EQ(c.constexprs[0].name, "A");
    EXPECT_EQ(c.constexprs[1].name, "B");
  }
  EXPECT_EQ(spec.kernel.configs[0].constexprs[0].value, 0);
  EXPECT_EQ(spec.kernel.configs[1].constexprs[0].value, 4);
}

TEST_F(SpecTest, ParseLoadSpecReadsTheFile) {
  std::ofstream(spec_path()) << kMinimal;
  Spec spec = load_spec(spec_path());
  EXPECT_EQ(spec.kernel.name, "k");
  EXPECT_EQ(spec.kernel.source_file, (dir_ / "k.py").string());
  try {
    load_spec((dir_ / "missing.toml").string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("missing.toml"), std::string::npos);
  }
}

TEST_F(SpecTest, ParseSourceRelativeToTheSpecFolder) {
  fs::create_directory(dir_ / "kernels");
  std::ofstream(dir_ / "kernels" / "k.py") << "\n";
  Spec spec = parse_spec(kMinimal, (dir_ / "kernels" / "spec.toml").string());
  EXPECT_EQ(spec.kernel.source_file, (dir_ / "kernels" / "k.py").string());
  std::string absolute = (dir_ / "k.py").string();
  spec = parse_spec(replace(kMinimal, "\"k.py\"", "\"" + absolute + "\""), (dir_ / "kernels" / "spec.toml").string());
  EXPECT_EQ(spec.kernel.source_file, absolute);
}

// ---------------------------------------------------------------------------------------------
// Validation: each rule with its message, line and column.

struct Case {
  const char* name;
  std::string text;
  std::string message;  // a substring of the error
};

TEST_F(SpecTest, ValidationRules) {
  const std::string m = kMinimal;
  auto append = [&](const std::string& extra) { return m + extra; };
  auto in_kernel = [&](const std::string& extra) { return replace(m, "grid = [\"n\"]\n", "grid = [\"n\"]\n" + extra); };
  auto in_x = [&](const std::string& extra) { return replace(m, "dtype = \"fp32\"\n", "dtype = \"fp32\"\n" + extra); };
  auto in_n = [&](const std::string& extra) { return replace(m, "dtype = \"i32\"\n", "dtype = \"i32\"\n" + extra); };
  const std::string with_block = append("[[params]]\nname = \"BLOCK\"\nkind = \"constexpr\"\n");  // 15..17
  const std::vector<Case> cases = {
      // spec_version
      {"newer version", replace(m, "spec_version = 1", "spec_version = 2"),
       ":1:16: spec_version 2 is newer than this tritonpack supports (1)"},
      {"version zero", replace(m, "spec_version = 1", "spec_version = 0"), ":1:16: spec_version 0 is not a version"},
      {"version string", replace(m, "spec_version = 1", "spec_version = \"1\""),
       ":1:16: spec_version: expected an integer, got a string"},
      {"no version", replace(m, "spec_version = 1\n", ""), "the spec is missing the required key 'spec_version'"},
      // [kernel]
      {"no kernel", "spec_version = 1\n", ":1:1: the spec is missing the required key 'kernel' (a table)"},
      {"kernel not a table", "spec_version = 1\nkernel = 3\n", ":2:10: kernel: expected a table, got an integer"},
      {"name not identifier", replace(m, "name = \"k\"", "name = \"my kernel\""),
       ":3:8: kernel.name: 'my kernel' is not an identifier"},
      {"name not string", replace(m, "name = \"k\"", "name = 5"), ":3:8: kernel.name: expected a string, got an integer"},
      {"no function", replace(m, "function = \"f\"\n", ""), ":2:1: [kernel] is missing the required key 'function'"},
      {"no source", replace(m, "source = \"k.py\"\n", ""), "[kernel] is missing the required key 'source'"},
      {"missing source", replace(m, "\"k.py\"", "\"nope.py\""),
       ":4:10: kernel.source: the source file " + (dir_ / "nope.py").string() + " does not exist"},
      {"source is a folder", replace(m, "\"k.py\"", "\"folder.py\""), "folder.py is not a file"},
      {"arch with suffix", in_kernel("archs = [\"sm_90a\"]\n"),
       ":7:10: kernel.archs[0]: 'sm_90a' is not an arch; write sm_NN with NN from 50 to 200"},
      {"arch too old", in_kernel("archs = [\"sm_80\", \"sm_49\"]\n"), ":7:19: kernel.archs[1]: 'sm_49' is not an arch"},
      {"arch too new", in_kernel("archs = [\"sm_201\"]\n"), "'sm_201' is not an arch"},
      {"arch leading zero", in_kernel("archs = [\"sm_090\"]\n"), "'sm_090' is not an arch"},
      {"arch number", in_kernel("archs = [90]\n"), "kernel.archs[0]: expected a string, got an integer"},
      {"arch twice", in_kernel("archs = [\"sm_90\", \"sm_90\"]\n"), ":7:19: kernel.archs[1]: 'sm_90' is listed twice"},
      {"no archs", in_kernel("archs = []\n"), ":7:9: kernel.archs: list at least one arch"},
      {"archs string", in_kernel("archs = \"sm_90\"\n"), "kernel.archs: expected an array of strings"},
      {"no grid", replace(m, "grid = [\"n\"]\n", ""), "[kernel] is missing the required key 'grid'"},
      {"empty grid", replace(m, "grid = [\"n\"]", "grid = []"), ":6:8: kernel.grid: expected 1 to 3 expressions, got 0"},
      {"four grid", replace(m, "grid = [\"n\"]", "grid = [\"1\", \"1\", \"1\", \"1\"]"), "expected 1 to 3 expressions, got 4"},
      {"grid number", replace(m, "grid = [\"n\"]", "grid = [\"n\", 1]"),
       ":6:14: kernel.grid[1]: expected a string, got an integer"},
      {"grid syntax", replace(m, "grid = [\"n\"]", "grid = [\"n +\"]"), ":6:9: kernel.grid[0]: "},
      {"grid unknown name", replace(m, "grid = [\"n\"]", "grid = [\"m + 1\"]"),
       ":6:9: kernel.grid[0]: 'm' in 'm + 1': unknown name; this expression may use i32/i64 scalar params, launch "
       "variables, SM_COUNT (the device's SM count), and constexpr params with integer or boolean values"},
      {"grid tensor", replace(m, "grid = [\"n\"]", "grid = [\"x\"]"), "'x' in 'x': 'x' is a tensor param"},
      {"grid fp scalar", replace(in_n("[[params]]\nname = \"alpha\"\nkind = \"scalar\"\ndtype = \"fp32\"\n"),
                                 "grid = [\"n\"]", "grid = [\"alpha\"]"),
       "'alpha' is an fp32 scalar param, not an integer"},
      {"grid type size", replace(m, "grid = [\"n\"]", "grid = [\"T.size\"]"),
       "'T.size' in 'T.size': <TypeVar>.size may only be used in [bench]"},
      {"reference number", in_kernel("reference = 1\n"), ":7:13: kernel.reference: expected a string, got an integer"},
      // [types]
      {"type var is a dtype", replace(append("[types]\nfp16 = [\"fp32\"]\n"), "\"fp32\"\n[[params]]", "\"fp16\"\n[[params]]"),
       ":16:1: types.fp16: 'fp16' is a dtype; a type variable needs another name"},
      {"type var not identifier", append("[types]\n\"a-b\" = [\"fp32\"]\n"), "types.a-b: a type variable's name must be an identifier"},
      {"type var empty", append("[types]\nT = []\n"), ":16:5: types.T: list at least one dtype"},
      {"type var bad dtype", append("[types]\nT = [\"fp32\", \"float\"]\n"),
       ":16:14: types.T[1]: 'float' is not a dtype; expected one of fp16, bf16, fp32"},
      {"type var twice", append("[types]\nT = [\"fp32\", \"fp32\"]\n"), "types.T[1]: 'fp32' is listed twice"},
      {"type var not array", append("[types]\nT = \"fp32\"\n"), "types.T: expected an array of dtype names, got a string"},
      {"types not table", replace(m, "spec_version = 1\n", "spec_version = 1\ntypes = 1\n"),
       ":2:9: types: expected a table, got an integer"},
      {"unused type var", append("[types]\nT = [\"fp32\"]\n"), ":16:5: types.T: no tensor param has dtype 'T'"},
      // [[params]]
      {"no params", "spec_version = 1\n[kernel]\nname = \"k\"\nsource = \"k.py\"\nfunction = \"f\"\ngrid = [\"1\"]\n",
       "the spec has no [[params]]"},
      {"empty params", "spec_version = 1\nparams = []\n[kernel]\nname = \"k\"\nsource = \"k.py\"\nfunction = \"f\"\ngrid = [\"1\"]\n",
       ":2:10: params: list at least one parameter"},
      {"no tensor", replace(replace(m, "kind = \"tensor\"", "kind = \"scalar\""), "dtype = \"fp32\"", "dtype = \"i64\""),
       "params: a kernel needs at least one tensor or tensordesc param"},
      {"param twice", replace(m, "name = \"n\"", "name = \"x\""), ":12:8: params[1].name: 'x' is already a param"},
      {"param name", replace(m, "name = \"n\"", "name = \"1n\""), "params[1].name: '1n' is not an identifier"},
      {"param no name", replace(m, "name = \"n\"\n", ""), ":11:1: params[1] is missing the required key 'name'"},
      {"param no kind", replace(m, "kind = \"scalar\"\n", ""), "params[1] is missing the required key 'kind'"},
      {"param bad kind", replace(m, "kind = \"scalar\"", "kind = \"int\""),
       ":13:8: params[1].kind: 'int' is not a kind; expected \"tensor\", \"scalar\", \"constexpr\" or \"tensordesc\""},
      {"tensor bad dtype", replace(m, "dtype = \"fp32\"", "dtype = \"T\""),
       ":10:9: params[0].dtype: 'T' is neither a dtype (fp16, bf16"},
      {"tensor no dtype", replace(m, "dtype = \"fp32\"\n", ""), "params[0] is missing the required key 'dtype'"},
      {"scalar bad dtype", replace(m, "dtype = \"i32\"", "dtype = \"u8\""),
       ":14:9: params[1].dtype: a scalar param's dtype is i32, i64, fp32, fp16 or bf16, not 'u8'"},
      {"scalar type var", replace(append("[types]\nT = [\"fp32\"]\n"), "dtype = \"i32\"", "dtype = \"T\""),
       "params[1].dtype: type variables are for tensor params"},
      {"constexpr dtype", append("[[params]]\nname = \"B\"\nkind = \"constexpr\"\ndtype = \"i32\"\nvalue = 1\n"),
       ":18:9: params[2].dtype: only tensor, descriptor and scalar params may set 'dtype'; 'B' is a constexpr param"},
      {"io on scalar", in_n("io = \"out\"\n"), ":15:6: params[1].io: only tensor and tensordesc params may set 'io'"},
      {"descriptor scratch", append("[[params]]\nname = \"d\"\nkind = \"tensordesc\"\ndtype = \"fp16\"\n"
                                    "block = [64]\nio = \"scratch\"\n"),
       "params[2].io: 'scratch' must be \"in\", \"out\" (a descriptor the kernel stores through)"},
      {"bad io", in_x("io = \"inout\"\n"), ":11:6: params[0].io: 'inout' must be \"in\", \"out\" or \"scratch\""},
      {"divisibility fp scalar", replace(in_n("divisibility = 16\n"), "dtype = \"i32\"", "dtype = \"fp16\""),
       "params[1].divisibility: only tensor params and i32/i64 scalar params may set 'divisibility'"},
      {"divisibility constexpr", append("[[params]]\nname = \"B\"\nkind = \"constexpr\"\nvalue = 1\ndivisibility = 16\n"),
       "params[2].divisibility: only tensor params and i32/i64 scalar params"},
      {"divisibility not power", in_x("divisibility = 12\n"),
       ":11:16: params[0].divisibility: 12 is out of range; expected a power of two from 1 to 4096"},
      {"divisibility too big", in_x("divisibility = 8192\n"), "8192 is out of range"},
      {"divisibility zero", in_x("divisibility = [16, 0]\n"), ":11:21: params[0].divisibility[1]: 0 is out of range"},
      {"divisibility twice", in_x("divisibility = [16, 16]\n"), "params[0].divisibility[1]: 16 is listed twice"},
      {"divisibility empty", in_x("divisibility = []\n"), "params[0].divisibility: list at least one value"},
      {"divisibility float", in_x("divisibility = 16.0\n"),
       "params[0].divisibility: expected an integer or an array of integers, got a float"},
      {"numel on scalar", in_n("numel = \"n\"\n"), "params[1].numel: only tensor params may set 'numel'"},
      {"numel tensor name", in_x("numel = \"x * 2\"\n"), ":11:9: params[0].numel: 'x' in 'x * 2': 'x' is a tensor param"},
      {"numel number", in_x("numel = 4\n"), "params[0].numel: expected a string, got an integer"},
      {"value on tensor", in_x("value = 4\n"), ":11:9: params[0].value: only constexpr params may set 'value'"},
      {"values on scalar", in_n("values = [4]\n"), "params[1].values: only constexpr params may set 'values'"},
      {"value and values", with_block + "value = 1\nvalues = [1, 2]\n", ":19:10: params[2]: set 'value' or 'values', not both"},
      {"value array", with_block + "value = [1]\n",
       ":18:9: params[2].value: expected an integer, boolean, float, string, { dtype = \"fp16\" } or { none = true }, "
       "got an array"},
      {"value nan", with_block + "value = nan\n", ":18:9: params[2].value: a float constexpr must be finite"},
      {"value bad dtype", with_block + "value = { dtype = \"fp99\" }\n",
       "params[2].value.dtype: 'fp99' is not a dtype; expected one of fp16, bf16"},
      {"value none false", with_block + "value = { none = false }\n", "params[2].value.none: expected true, got a boolean"},
      {"value two keys", with_block + "value = { none = true, dtype = \"fp16\" }\n",
       "params[2].value: expected an integer, boolean, float, string"},
      {"grid string constexpr", replace(with_block + "value = \"relu\"\n", "grid = [\"n\"]", "grid = [\"BLOCK\"]"),
       "kernel.grid[0]: 'BLOCK' in 'BLOCK': 'BLOCK' is a constexpr with a string value ('relu'), not an integer or a "
       "boolean"},
      {"heuristic on scalar", in_n("heuristic = \"n\"\n"), "params[1].heuristic: only constexpr params may set 'heuristic'"},
      {"heuristic on strings", with_block + "values = [\"a\", \"b\"]\nheuristic = \"n\"\n",
       "params '" "BLOCK'.heuristic: the heuristic gives an integer, but 'BLOCK' takes a string value ('a')"},
      {"heuristic unknown name", with_block + "values = [1, 2]\nheuristic = \"next_power_of_2(q)\"\n",
       "params[2].heuristic: 'q' in 'next_power_of_2(q)': unknown name"},
      {"constraint unknown name", replace(m, "grid = [\"n\"]", "grid = [\"n\"]\nconstraints = [\"n <= Z\"]"),
       "kernel.constraints[0]: 'Z' in 'n <= Z': unknown name"},
      {"constraint not string", replace(m, "grid = [\"n\"]", "grid = [\"n\"]\nconstraints = [1]"),
       "kernel.constraints[0]: expected a string, got an integer"},
      {"launch var clashes", append("[[launch_vars]]\nname = \"n\"\n"),
       "launch_vars[0].name: 'n' is already a param of the kernel"},
      {"launch var twice", append("[[launch_vars]]\nname = \"M\"\n[[launch_vars]]\nname = \"M\"\n"),
       "launch_vars[1].name: 'M' is already a launch variable"},
      {"launch var dtype", append("[[launch_vars]]\nname = \"M\"\ndtype = \"fp32\"\n"),
       "launch_vars[0].dtype: a launch variable is i32 or i64, not 'fp32'"},
      {"launch var range", append("[[launch_vars]]\nname = \"M\"\nmin = 5\nmax = 1\n"),
       "launch_vars[0]: min 5 is above max 1"},
      {"launch var unknown key", append("[[launch_vars]]\nname = \"M\"\nsize = 1\n"),
       "unknown key 'size' in launch_vars[0]"},
      {"descriptor without block", append("[[params]]\nname = \"d\"\nkind = \"tensordesc\"\ndtype = \"fp16\"\n"),
       "params[2]: a tensordesc param needs 'block', its block shape"},
      {"descriptor block rank", append("[[params]]\nname = \"d\"\nkind = \"tensordesc\"\ndtype = \"fp16\"\n"
                                        "block = [1, 1, 1, 1, 1, 1]\n"),
       "params[2].block: a block shape has 1 to 5 dims, got 6"},
      {"descriptor block scalar", append("[[params]]\nname = \"d\"\nkind = \"tensordesc\"\ndtype = \"fp16\"\n"
                                          "block = [\"n\"]\n"),
       "params[2].block[0]: 'n' in 'n': 'n' is a scalar param, known only at launch"},
      {"descriptor dims count", append("[[params]]\nname = \"d\"\nkind = \"tensordesc\"\ndtype = \"fp16\"\n"
                                        "block = [64, 64]\ndims = [\"M\"]\n"),
       "params[2].dims: 1 dims, the block shape has 2"},
      {"layout on tensor", in_x("layout = \"L\"\n"), "params[0].layout: only tensordesc params may set 'layout'"},
      {"values empty", with_block + "values = []\n", "params[2].values: list at least one value"},
      {"values twice", with_block + "values = [1, true]\n", "params[2].values[1]: True is listed twice"},
      {"values twice string", with_block + "values = [\"a\", \"a\"]\n", "params[2].values[1]: 'a' is listed twice"},
      {"values not array", with_block + "values = 4\n",
       "params[2].values: expected an array of constexpr values, got an integer"},
      {"constexpr without value", with_block,
       ":15:1: constexpr 'BLOCK' has no value: give it 'value' or 'values' in [[params]], or set it in every [[configs]]"},
      {"params not array", replace(m, "[[params]]\nname = \"n\"\nkind = \"scalar\"\ndtype = \"i32\"\n", "").replace(
                               m.find("[[params]]"), 10, "[params]"),
       ":7:1: params: expected an array of tables ([[params]]), got a table"},
      // [[configs]]
      {"config num_warps", append("[[configs]]\nnum_warps = 3\n"),
       ":16:13: configs[0].num_warps: 3 is out of range; expected a power of two from 1 to 32"},
      {"config num_warps big", append("[[configs]]\nnum_warps = 64\n"), "configs[0].num_warps: 64 is out of range"},
      {"config num_stages", append("[[configs]]\nnum_stages = 0\n"),
       "configs[0].num_stages: 0 is out of range; expected an integer from 1 to 8"},
      {"config num_stages big", append("[[configs]]\nnum_stages = 9\n"), "configs[0].num_stages: 9 is out of range"},
      {"config num_ctas", append("[[configs]]\nnum_ctas = 17\n"), "configs[0].num_ctas: 17 is out of range; expected an integer from 1 to 16"},
      {"config num_warps string", append("[[configs]]\nnum_warps = \"4\"\n"), "configs[0].num_warps: expected an integer, got a string"},
      {"config name twice", append("[[configs]]\nname = \"a\"\n[[configs]]\nname = \"a\"\n"),
       ":18:8: configs[1].name: config name 'a' is already taken"},
      {"config default name taken", append("[[configs]]\nname = \"c1\"\n[[configs]]\n"), "configs[1].name: config name 'c1' is already taken"},
      {"config name", append("[[configs]]\nname = \"big one\"\n"), "configs[0].name: 'big one' is not an identifier"},
      {"config sets unknown", append("[[configs]]\nconstexprs = { Q = 1 }\n"),
       ":16:16: configs[0].constexprs.Q: there is no param 'Q'"},
      {"config sets scalar", append("[[configs]]\nconstexprs = { n = 1 }\n"), "configs[0].constexprs.n: 'n' is not a constexpr param"},
      {"config sets fixed", with_block + "value = 128\n[[configs]]\nconstexprs = { BLOCK = 1 }\n",
       ":20:16: configs[0].constexprs.BLOCK: 'BLOCK' has a fixed value in [[params]]; a config cannot set it"},
      {"config misses constexpr", with_block + "[[configs]]\nconstexprs = { BLOCK = 1 }\n[[configs]]\nname = \"b\"\n",
       ":20:1: configs[1] ('b') does not set constexpr 'BLOCK'; every config must set the constexprs that have no value"},
      {"config constexpr array", with_block + "[[configs]]\nconstexprs = { BLOCK = [1] }\n",
       "configs[0].constexprs.BLOCK: expected an integer, boolean, float, string"},
      {"config constexprs not table", append("[[configs]]\nconstexprs = 1\n"), "configs[0].constexprs: expected a table, got an integer"},
      {"configs empty", replace(m, "spec_version = 1\n", "spec_version = 1\nconfigs = []\n"),
       ":2:11: configs: list at least one config, or leave [[configs]] out"},
      // [bench]
      {"bench undeclared type", append("[bench]\nbytes = \"n * U.size\"\n"),
       ":16:9: bench.bytes: 'U.size' in 'n * U.size': 'U' is not a type variable declared in [types]"},
      {"bench attribute", append("[bench]\nflops = \"n.bits\"\n"), "bench.flops: 'n.bits' in 'n.bits': unknown name; the only attribute is <TypeVar>.size"},
      {"bench tensor", append("[bench]\nbytes = \"x\"\n"), "bench.bytes: 'x' in 'x': 'x' is a tensor param"},
      {"bench number", append("[bench]\nbytes = 12\n"), ":16:9: bench.bytes: expected a string, got an integer"},
      // Unknown keys, typos included.
      {"unknown top key", replace(m, "spec_version = 1\n", "spec_version = 1\nextra = 1\n"),
       ":2:1: unknown key 'extra' in the top level; allowed keys: spec_version, kernel, types, params, launch_vars, configs, bench"},
      {"unknown kernel key", in_kernel("nmae = \"k\"\n"),
       ":7:1: unknown key 'nmae' in [kernel] (did you mean 'name'?); allowed keys: name, source, function, archs, grid, "
       "reference"},
      {"unknown param key", in_x("dtyp = \"fp32\"\n"),
       ":11:1: unknown key 'dtyp' in params[0] (did you mean 'dtype'?); allowed keys: name, kind, dtype, io, "
       "divisibility, numel, value, values"},
      {"unknown config key", append("[[configs]]\nnum_warp = 4\n"),
       ":16:1: unknown key 'num_warp' in configs[0] (did you mean 'num_warps'?); allowed keys: name, num_warps, "
       "num_stages, num_ctas, launch_pdl, constexprs"},
      {"unknown bench key", append("[bench]\nflop = \"n\"\n"),
       ":16:1: unknown key 'flop' in [bench] (did you mean 'flops'?); allowed keys: bytes, flops"},
      {"unknown key far off", append("[bench]\nmemory = \"n\"\n"), "unknown key 'memory' in [bench]; allowed keys: bytes, flops"},
      {"unknown subtable", append("[kernel.extra]\na = 1\n"), "unknown key 'extra' in [kernel]"},
      // TOML itself.
      {"toml syntax", replace(m, "grid = [\"n\"]", "grid = [\"n\",,]"), ":6:13: TOML syntax error: "},
      {"toml duplicate key", in_kernel("name = \"k2\"\n"), ":7:8: TOML syntax error: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string message = error_of(c.text);
    EXPECT_EQ(message.rfind(spec_path() + ":", 0), 0u) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << "message: " << message << "\nwanted:  " << c.message;
  }
}

// SM_COUNT, the device's SM count, is a name grids (persistent kernels) and dim-size arguments
// (below) may use, and nothing else may: every other expression refuses it, and no param, launch
// variable or dim may be named so.
TEST_F(SpecTest, SmCountIsAGridNameAndReservedElsewhere) {
  const std::string m = kMinimal;
  const std::string grid = "grid = [\"n\"]";
  const Spec spec = parse(replace(m, grid, "grid = [\"min(SM_COUNT, cdiv(n, 128))\", \"SM_COUNT\"]"));
  EXPECT_EQ(spec.kernel.grid, (std::array<std::string, 3>{"min(SM_COUNT, cdiv(n, 128))", "SM_COUNT", "1"}));
  EXPECT_FALSE(plan_jobs(spec).empty());

  auto in_x = [&](const std::string& extra) { return replace(m, "dtype = \"fp32\"\n", "dtype = \"fp32\"\n" + extra); };
  auto in_n = [&](const std::string& extra) { return replace(m, "dtype = \"i32\"\n", "dtype = \"i32\"\n" + extra); };
  const std::string only_grid =
      "SM_COUNT (the device's SM count) may only be used in kernel.grid and in dim-size arguments (a scalar's dim)";
  const std::string reserved =
      "'SM_COUNT' is reserved: grids and dim-size arguments use it for the device's SM count; choose another name";
  const std::vector<Case> cases = {
      {"param", replace(m, "name = \"n\"", "name = \"SM_COUNT\""), ":12:8: params[1].name: " + reserved},
      {"constexpr param", m + "[[params]]\nname = \"SM_COUNT\"\nkind = \"constexpr\"\nvalue = 1\n",
       ":16:8: params[2].name: " + reserved},
      {"launch variable", m + "[[launch_vars]]\nname = \"SM_COUNT\"\n", ":16:8: launch_vars[0].name: " + reserved},
      {"constraint", replace(m, grid, grid + "\nconstraints = [\"n >= SM_COUNT\"]"),
       ":7:16: kernel.constraints[0]: 'SM_COUNT' in 'n >= SM_COUNT': " + only_grid},
      {"numel", in_x("numel = \"n * SM_COUNT\"\n"),
       ":11:9: params[0].numel: 'SM_COUNT' in 'n * SM_COUNT': " + only_grid},
      {"heuristic", m + "[[params]]\nname = \"B\"\nkind = \"constexpr\"\nvalues = [1, 2]\nheuristic = \"SM_COUNT\"\n",
       "params[2].heuristic: 'SM_COUNT' in 'SM_COUNT': " + only_grid},
      {"input dim", in_x("dims = [\"SM_COUNT\"]\n"),
       ":11:9: params[0].dims[0]: 'SM_COUNT': " + only_grid + ", and no dim may be named so"},
      {"output dim", in_x("io = \"out\"\ndims = [\"cdiv(n, SM_COUNT)\"]\n"),
       "params[0].dims[0]: 'cdiv(n, SM_COUNT)': " + only_grid},
      {"tuning key", m + "[tuning]\nkey = [\"SM_COUNT\"]\n",
       ":16:8: tuning.key[0]: 'SM_COUNT' in 'SM_COUNT': " + only_grid},
      {"tuning shape", m + "[tuning]\nkey = [\"n\"]\n[[tuning.shapes]]\nSM_COUNT = 132\n",
       "tuning.shapes[0].SM_COUNT: 'SM_COUNT' is not a type variable, a scalar param, a launch variable or a dim name"},
      {"bench", m + "[bench]\nflops = \"n * SM_COUNT\"\n",
       ":16:9: bench.flops: 'SM_COUNT' in 'n * SM_COUNT': " + only_grid},
      {"descriptor block",
       m + "[[params]]\nname = \"d\"\nkind = \"tensordesc\"\ndtype = \"fp16\"\nblock = [\"SM_COUNT\"]\n",
       "params[2].block[0]: 'SM_COUNT' in 'SM_COUNT': " + only_grid},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string message = error_of(c.text);
    EXPECT_NE(message.find(c.message), std::string::npos) << "message: " << message << "\nwanted:  " << c.message;
  }
}

// A dim-size argument may name SM_COUNT (a plugin computes it for the device it plans for), and a
// scratch tensor's dims may use that argument; an output's may not (an engine fixes an output's
// shape before it knows the device), neither by dims nor by a rule.
TEST_F(SpecTest, ADimSizeArgumentMayNameSmCountAndSizeScratchButNoOutput) {
  const std::string p =
      replace(kMinimal, "dtype = \"fp32\"\n", "dtype = \"fp32\"\ndims = [\"N\"]\n") +
      "[[params]]\nname = \"y\"\nkind = \"tensor\"\ndtype = \"fp32\"\nio = \"out\"\ndims = [\"N\"]\n"
      "[[params]]\nname = \"parts\"\nkind = \"tensor\"\ndtype = \"fp32\"\nio = \"scratch\"\ndims = [\"splits\", \"N\"]\n"
      "[[params]]\nname = \"splits\"\nkind = \"scalar\"\ndtype = \"i32\"\ndim = \"clamp(2 * SM_COUNT / N, 1, 8)\"\n";
  const std::string with_n = replace(p, "dtype = \"i32\"\n", "dtype = \"i32\"\ndim = \"N\"\n");
  const Spec spec = parse_spec(with_n, spec_path());
  EXPECT_EQ(spec.kernel.params[4].dim, "clamp(2 * SM_COUNT / N, 1, 8)");
  EXPECT_EQ(detail::plugin_model_problem(spec.kernel), std::nullopt);

  const std::string device_dependent =
      "dim-size argument 'splits', which names SM_COUNT: an output's shape cannot depend on the device (an engine "
      "fixes it before it knows the device); use it in a scratch tensor's dims instead";
  const std::vector<Case> cases = {
      {"output dims", replace(with_n, "io = \"out\"\ndims = [\"N\"]", "io = \"out\"\ndims = [\"N * splits\"]"),
       "kernel 'k' as a plugin: output 'y' dim 'N * splits' uses the " + device_dependent},
      {"output rule",
       replace(with_n, "io = \"out\"\ndims = [\"N\"]\n", "io = \"out\"\n") +
           "[plugin]\nrules = [\"x[a] -> y[a + splits]\"]\n",
       "kernel 'k' as a plugin: output 'y' dim 'a + splits' of rule 'x[a] -> y[a + splits]' uses the " +
           device_dependent},
      {"unknown name beside it", replace(with_n, "2 * SM_COUNT", "2 * SMS"),
       "dim-size argument 'splits' = 'clamp(2 * SMS / N, 1, 8)' uses 'SMS', which is neither an input dim name, an "
       "integer field nor SM_COUNT"},
      {"scratch dims", replace(with_n, "dims = [\"splits\", \"N\"]", "dims = [\"SM_COUNT\", \"N\"]"),
       "params[3].dims[0]: 'SM_COUNT': SM_COUNT (the device's SM count) may only be used in kernel.grid and in "
       "dim-size arguments (a scalar's dim), and no dim may be named so"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string message = error_of(c.text);
    EXPECT_NE(message.find(c.message), std::string::npos) << "message: " << message << "\nwanted:  " << c.message;
  }
}

// Plugin keys (docs/spec-format.md, "Plugin keys"): a valid plugin spec, then each error.
TEST_F(SpecTest, PluginKeys) {
  const std::string p = replace(replace(kMinimal, "dtype = \"fp32\"\n", "dtype = \"fp32\"\ndims = [\"N\", 4]\n"),
                                "dtype = \"i32\"\n", "dtype = \"i32\"\ndim = \"N * 4\"\n") +
                        "[[params]]\nname = \"y\"\nkind = \"tensor\"\ndtype = \"fp32\"\nio = \"out\"\ndims = [\"N\", \"4 * s\"]\n"
                        "[[params]]\nname = \"s\"\nkind = \"scalar\"\ndtype = \"i32\"\nfield = true\ndefault = 2\n"
                        "[plugin]\nname = \"scale4\"\nversion = \"3\"\nconstraints = [\"N % 2 == 0\"]\n";
  const Spec spec = parse_spec(p, spec_path());
  EXPECT_EQ(spec.kernel.params[0].dims, (std::vector<std::string>{"N", "4"}));
  EXPECT_EQ(spec.kernel.params[1].dim, "N * 4");
  EXPECT_TRUE(spec.kernel.params[3].is_field);
  EXPECT_TRUE(spec.kernel.params[3].has_default);
  EXPECT_EQ(spec.kernel.params[3].default_value, 2.0);
  EXPECT_EQ(spec.kernel.plugin.name, "scale4");
  EXPECT_EQ(spec.kernel.constraints, (std::vector<std::string>{"N % 2 == 0"}));

  auto in_x = [&](const std::string& extra) { return replace(p, "dims = [\"N\", 4]\n", "dims = [\"N\", 4]\n" + extra); };
  auto in_n = [&](const std::string& extra) { return replace(p, "dim = \"N * 4\"\n", "dim = \"N * 4\"\n" + extra); };
  const std::vector<Case> cases = {
      {"dims on scalar", in_n("dims = [\"N\"]\n"), "params[1].dims: only tensor and tensordesc params may set 'dims'"},
      {"dims not array", replace(p, "dims = [\"N\", 4]", "dims = \"N\""), "params[0].dims: expected an array"},
      {"negative dim", replace(p, "dims = [\"N\", 4]", "dims = [\"N\", -4]"), "params[0].dims[1]: a size is >= 0, got -4"},
      {"dim syntax", replace(p, "dims = [\"N\", 4]", "dims = [\"N +\", 4]"), "params[0].dims[0]: expected an expression"},
      {"input dim expression", replace(p, "dims = [\"N\", 4]", "dims = [\"N + 1\", 4]"),
       "kernel 'k' as a plugin: input 'x' dims[0] is 'N + 1'; an input's dims are names (which bind) or integers"},
      {"field on tensor", in_x("field = true\n"), "params[0].field: only scalar params may set 'field'"},
      {"field not bool", replace(p, "field = true", "field = 1"), "params[3].field: expected true or false"},
      {"default without field", in_n("default = 1\n"), "params[1].default: only a field (field = true) has a default"},
      {"default string", replace(p, "default = 2", "default = \"2\""), "params[3].default: expected a number"},
      {"dim on fp32", replace(in_n(""), "dtype = \"i32\"\ndim", "dtype = \"fp32\"\ndim"),
       "params[1].dim: a dim-size argument is i32 or i64, not fp32"},
      {"field and dim", in_n("field = true\n"), "params[1]: a param is a field or a dim-size argument ('dim'), not both"},
      {"dim unknown name", replace(p, "dim = \"N * 4\"", "dim = \"M\""),
       "dim-size argument 'n' = 'M' uses 'M', which is neither an input dim name, an integer field nor SM_COUNT"},
      {"output without shape", replace(p, "io = \"out\"\ndims = [\"N\", \"4 * s\"]\n", "io = \"out\"\n"),
       "kernel 'k' as a plugin: output 'y' has no shape: give it dims = [...] or a rule 'X[...] -> y[...]'"},
      {"scalar without value", replace(p, "dim = \"N * 4\"\n", ""),
       "scalar 'n' gets no value: make it a field (field = true), a dim-size argument"},
      {"output uses constexpr-free unknown", replace(p, "\"4 * s\"", "\"4 * t\""),
       "'y' dim '4 * t' uses 't', which is not an input dim name, integer field, or dim-size argument"},
      {"unknown plugin key", replace(p, "version = \"3\"", "versoin = \"3\""), "unknown key 'versoin' in [plugin]"},
      {"plugin name", replace(p, "name = \"scale4\"", "name = \"a b\""), "plugin.name: 'a b' is not an identifier"},
      {"rule syntax", replace(p, "constraints", "rules = [\"x -> y[*]\"]\nconstraints"),
       "plugin.rules[0]: expected '[' after 'x' at column 3"},
      {"rule unknown input", replace(replace(p, "constraints", "rules = [\"z[*] -> y[*]\"]\nconstraints"),
                                     "dims = [\"N\", \"4 * s\"]\n", ""),
       "rule 'z[*] -> y[*]': 'z' is not an input tensor (inputs: x)"},
      {"rule and dims", replace(p, "constraints", "rules = [\"x[*] -> y[*]\"]\nconstraints"),
       "'y' has dims and also a shape rule; keep one"},
      {"dim rule and dim", replace(p, "constraints", "rules = [\"x[a, b] : a -> n\"]\nconstraints"),
       "scalar 'n' has dim = \"N * 4\" and is also the target of rule 'x[a, b] : a -> n'"},
      {"constraint syntax", replace(p, "N % 2 == 0", "N %% 2"), "plugin.constraints[0]: expected an expression"},
      {"constraint unknown", replace(p, "N % 2 == 0", "Q > 1"),
       "constraint 'Q > 1' uses 'Q', which is not an input dim name, integer field, dim-size argument or constexpr"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string message = error_of(c.text);
    EXPECT_EQ(message.rfind(spec_path() + ":", 0), 0u) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << "message: " << message << "\nwanted:  " << c.message;
  }
}

TEST_F(SpecTest, ValidationExpressionErrorKeepsTheCaret) {
  std::string message = error_of(replace(kMinimal, "grid = [\"n\"]", "grid = [\"n +\"]"));
  EXPECT_NE(message.find("\n"), std::string::npos) << message;  // the expression parser's echo and caret
  EXPECT_NE(message.find("^"), std::string::npos) << message;
}

// toml++ 3.3 aborts or has undefined behaviour on some bad input (marzer/tomlplusplus#301, #190,
// #295); the reader's pre-pass must catch exactly those places and nothing in valid TOML.
TEST(SpecTomlGuard, FindsHazards) {
  struct Bad {
    std::string text;
    uint32_t line, column;
    const char* message;
  };
  const char* header = "expected a table name after '['";
  const char* non_ascii = "non-ASCII character outside a string or comment";
  const char* escape = "a non-ASCII character after a backslash in a multi-line string";
  const Bad bad[] = {
      {"[[\nx]]", 1, 3, header},
      {"[[[1]]]", 1, 3, header},
      {"[\nx]", 1, 2, header},
      {"[[=", 1, 3, header},
      {"[ =]", 1, 3, header},
      {"a = 1\n  [[ \t,]]", 2, 7, header},
      {"\xEF\xBB\xBF[[\n", 1, 3, header},  // a BOM is not counted
      {"[\r\n", 1, 2, header},
      {"a = \"x\" # [\n[.]", 2, 2, header},
      {"a = '\xC3\xA9' # \xC3\xA9\xC3\xA9\n[ab]\n  [[\xC3\xA9]]", 3, 5, header},
      {"\xCC\xAA", 1, 1, non_ascii},
      {"a = { \xC5\xB3 = 1 }", 1, 7, non_ascii},
      {"a = [1, \xC2\xA7]", 1, 9, non_ascii},
      {"a = \"\xC3\xA9\" \xC2\xA7", 1, 9, non_ascii},
      {"a = 1\"\xC3\xA9\"", 1, 7, non_ascii},  // toml++ reads 1"é" as one (bad) token, not a string
      {"a = 1.\"\xC3\xA9\"", 1, 8, non_ascii},
      {"a = [1\"\xC3\xA9\"]", 1, 8, non_ascii},
      {"s = \"\"\"\\\n\xC2\xA7\"\"\"", 2, 1, escape},
      {"s = \"\"\"a\\\xC2\xA7\"\"\"", 1, 10, escape},
      {"s = \"\"\"\\ \r\n \n\t\xC2\xA7\"\"\"", 3, 2, escape},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.text);
    auto hazard = detail::find_toml_hazard(b.text);
    ASSERT_TRUE(hazard.has_value());
    EXPECT_EQ(hazard->at.line, b.line);
    EXPECT_EQ(hazard->at.column, b.column);
    EXPECT_NE(hazard->message.find(b.message), std::string::npos) << hazard->message;
  }
  const char* fine[] = {
      "[a]\n[[b]]\n[ \"q]\" . c ]\n['lit']\n[-x_1]",
      "a = [\n  [[[1]]],\n  [\n  ],\n]\n",
      "a = \"\"\"\n[[\n\"\"\"\nb = '''\n[=\n'''\n",
      "a = \"\"\"x\"\"\"\"\"\n[ok]\n",
      "a = \"\\\"[\"\n[ok]\n",
      "a = '\\'\n[ok]\n",
      "a = { b = [1, [2]] }\n[ok]\n",
      "# [[\n  # [=\n[ok]",
      "[]",   // toml++ reports a blank name itself
      "[ [",  // and brackets that are not contiguous
      "a = 1\n  \t",
      "",
      // Non-ASCII in strings, quoted keys and comments is fine.
      "a = \"\xC3\xA9\" # \xC2\xA7\nb = '\xC2\xA7'\n\"\xC2\xA7\" = 1\n['\xC2\xA7']\nc = '''\n\xC2\xA7'''\n",
      "a = [\"\xC3\xA9\", '\xC3\xA9',\n \"\xC3\xA9\"]\nb = { \"\xC3\xA9\" = 1, c.\"\xC3\xA9\" = [\"\xC3\xA9\"] }\n",
      "a.'\xC3\xA9' = 1\n[\"\xC3\xA9\".'\xC3\xA9']\n[[ x . \"\xC3\xA9\" ]]\n",
      // An escaped backslash before non-ASCII; a line-ending backslash before ASCII.
      "s = \"\"\"\n\xC2\xA7\\\\\xC2\xA7\\\n  x\xC2\xA7\"\"\"",
  };
  for (const char* text : fine) {
    SCOPED_TRACE(text);
    auto hazard = detail::find_toml_hazard(text);
    EXPECT_FALSE(hazard.has_value()) << hazard->message;
  }
}

TEST_F(SpecTest, ValidationTomlHazardsAreSyntaxErrors) {
  std::string message = error_of(std::string(kMinimal) + "[[\nconfigs]]\n");
  EXPECT_NE(message.find(spec_path() + ":15:3: TOML syntax error: expected a table name after '['"), std::string::npos)
      << message;
  message = error_of(std::string(kMinimal) + "[[configs]]\nconstexprs = { \xC5\xB3 = 1 }\n");
  EXPECT_NE(message.find(spec_path() + ":16:16: TOML syntax error: non-ASCII character outside a string or comment"),
            std::string::npos)
      << message;
}

// ---------------------------------------------------------------------------------------------
// Planning

std::string plan_spec(const std::string& extra_kernel, const std::string& rest) {
  return "spec_version = 1\n[kernel]\nname = \"k\"\nsource = \"k.py\"\nfunction = \"f\"\ngrid = [\"1\"]\n" +
         extra_kernel + rest;
}

TEST_F(SpecTest, PlanCountsAndOrder) {
  // 3 dtypes x 2 divisibilities x 2 configs x 2 archs = 24, nested in that order.
  Spec spec = parse(plan_spec("archs = [\"sm_80\", \"sm_90\"]\n", R"(
[types]
T = ["fp32", "fp16", "bf16"]
[[params]]
name = "x"
kind = "tensor"
dtype = "T"
divisibility = [16, 1]
[[params]]
name = "n"
kind = "scalar"
dtype = "i64"
[[params]]
name = "BLOCK"
kind = "constexpr"
[[configs]]
name = "a"
num_warps = 2
constexprs = { BLOCK = 64 }
[[configs]]
name = "b"
num_warps = 8
num_stages = 4
num_ctas = 2
constexprs = { BLOCK = 128 }
)"));
  std::vector<CompileJob> jobs = plan_jobs(spec);
  ASSERT_EQ(jobs.size(), 24u);
  const char* dtypes[] = {"fp32", "fp16", "bf16"};
  size_t id = 0;
  for (int t = 0; t < 3; ++t) {
    for (uint32_t c = 0; c < 2; ++c) {
      for (uint32_t d : {16u, 1u}) {
        for (uint32_t arch : {80u, 90u}) {
          const CompileJob& job = jobs[id];
          SCOPED_TRACE("job " + std::to_string(id));
          EXPECT_EQ(job.id, id);
          EXPECT_EQ(job.bindings, (TypeBindings{{"T", *parse_dtype(dtypes[t])}}));
          EXPECT_EQ(job.config_index, c);
          EXPECT_EQ(job.arch, arch);
          if (d > 1) {
            EXPECT_EQ(job.divisibility, (std::map<std::string, uint32_t>{{"x", 16}}));
          } else {
            EXPECT_TRUE(job.divisibility.empty());
          }
          ASSERT_EQ(job.constexprs.size(), 1u);
          EXPECT_EQ(job.constexprs[0].name, "BLOCK");
          EXPECT_EQ(job.constexprs[0].value, c == 0 ? 64 : 128);
          using Signature = std::vector<std::pair<std::string, std::string>>;
          EXPECT_EQ(job.signature, (Signature{{"x", std::string("*") + dtypes[t]}, {"n", "i64"}, {"BLOCK", "constexpr"}}));
          EXPECT_EQ(job.num_warps, c == 0 ? 2u : 8u);
          EXPECT_EQ(job.num_stages, c == 0 ? 3u : 4u);
          EXPECT_EQ(job.num_ctas, c == 0 ? 1u : 2u);
          ++id;
        }
      }
    }
  }
}

// A launch_pdl config (programmatic dependent launch) has variants only from sm_90 on: the plan
// skips its sm_80 jobs and numbers the rest densely; its jobs ask Triton for launch_pdl.
TEST_F(SpecTest, PlanALaunchPdlConfigOnlyFromSm90) {
  const std::string params = R"(
[[params]]
name = "x"
kind = "tensor"
dtype = "fp16"
[[params]]
name = "BLOCK"
kind = "constexpr"
[[configs]]
name = "pdl"
launch_pdl = true
constexprs = { BLOCK = 64 }
[[configs]]
name = "plain"
constexprs = { BLOCK = 64 }
)";
  Spec spec = parse(plan_spec("archs = [\"sm_80\", \"sm_90\"]\n", params));
  EXPECT_TRUE(spec.kernel.configs[0].launch_pdl);
  EXPECT_FALSE(spec.kernel.configs[1].launch_pdl);
  const std::vector<CompileJob> jobs = plan_jobs(spec);
  ASSERT_EQ(jobs.size(), 3u);  // pdl on sm_90; plain on sm_80 and sm_90
  const std::vector<std::pair<uint32_t, uint32_t>> want = {{0, 90}, {1, 80}, {1, 90}};
  for (uint32_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(jobs[i].id, i);
    EXPECT_EQ(std::make_pair(jobs[i].config_index, jobs[i].arch), want[i]);
    EXPECT_EQ(jobs[i].launch_pdl, i == 0);
  }
  const nlohmann::json file = nlohmann::json::parse(jobs_to_json(spec, jobs, "/tmp/cache"));
  EXPECT_EQ(file["jobs"][0]["options"]["launch_pdl"], true);
  EXPECT_FALSE(file["jobs"][1]["options"].contains("launch_pdl"));  // jobs without it: as before (cache keys)

  const std::string message = error_of(plan_spec("archs = [\"sm_80\"]\n", params));
  EXPECT_NE(message.find("configs[0].launch_pdl: programmatic dependent launch needs sm_90 or newer and the "
                         "kernel's archs are sm_80: the config would have no variants"),
            std::string::npos)
      << message;
  const std::string not_bool =
      error_of(plan_spec("archs = [\"sm_90\"]\n", replace(params, "launch_pdl = true", "launch_pdl = 1")));
  EXPECT_NE(not_bool.find("configs[0].launch_pdl"), std::string::npos) << not_bool;
}

TEST_F(SpecTest, PlanSpecializationsAndTypeVarsNest) {
  // Type vars (declaration order) outside constexpr values (param order) outside divisibility.
  Spec spec = parse(plan_spec("archs = [\"sm_90\"]\n", R"(
[types]
U = ["fp32", "fp16"]
A = ["i8", "i32"]
[[params]]
name = "x"
kind = "tensor"
dtype = "U"
[[params]]
name = "y"
kind = "tensor"
dtype = "A"
[[params]]
name = "n"
kind = "scalar"
dtype = "i32"
divisibility = [1, 8]
[[params]]
name = "P"
kind = "constexpr"
values = [3, 5]
[[params]]
name = "Q"
kind = "constexpr"
values = [true, false]
[[params]]
name = "R"
kind = "constexpr"
value = -7
)"));
  std::vector<CompileJob> jobs = plan_jobs(spec);
  ASSERT_EQ(jobs.size(), 2u * 2 * 2 * 2 * 2);
  size_t id = 0;
  for (const char* u : {"fp32", "fp16"}) {
    for (const char* a : {"i8", "i32"}) {
      for (int64_t p : {3, 5}) {
        for (int64_t q : {1, 0}) {
          for (uint32_t d : {1u, 8u}) {
            const CompileJob& job = jobs[id++];
            EXPECT_EQ(job.bindings.at("U"), *parse_dtype(u));
            EXPECT_EQ(job.bindings.at("A"), *parse_dtype(a));
            ASSERT_EQ(job.constexprs.size(), 3u);
            EXPECT_EQ(job.constexprs[0].value, p);
            EXPECT_EQ(job.constexprs[1].value, q);
            EXPECT_EQ(job.constexprs[2].name, "R");
            EXPECT_EQ(job.constexprs[2].value, -7);
            EXPECT_EQ(job.divisibility.count("n"), d > 1 ? 1u : 0u);
            EXPECT_EQ(job.signature[1].second, std::string("*") + a);
            EXPECT_EQ(job.config_index, 0u);
            EXPECT_EQ(job.arch, 90u);
          }
        }
      }
    }
  }
}

TEST_F(SpecTest, PlanVariantLimit) {
  std::string values;
  for (int i = 0; i < 700; ++i) values += (i ? ", " : "") + std::to_string(i);
  std::string text = plan_spec("archs = [\"sm_80\", \"sm_90\"]\n", R"(
[types]
T = ["fp32", "fp16", "bf16"]
[[params]]
name = "x"
kind = "tensor"
dtype = "T"
divisibility = [16, 1]
[[params]]
name = "B"
kind = "constexpr"
values = [)" + values + "]\n");
  Spec spec = parse(text);
  try {
    plan_jobs(spec);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidSpec);
    EXPECT_STREQ(e.what(),
                 "the spec asks for 8400 variants (limit 4096): 3 dtypes of T x 700 values of B x 1 configs x "
                 "2 divisibilities of x x 2 archs");
  }
  // Exactly at the limit is fine: 4096 = 2 x 1024 x 2.
  values.clear();
  for (int i = 0; i < 1024; ++i) values += (i ? ", " : "") + std::to_string(i);
  text = plan_spec("archs = [\"sm_80\", \"sm_90\"]\n",
                   "[[params]]\nname = \"x\"\nkind = \"tensor\"\ndtype = \"fp32\"\ndivisibility = [16, 1]\n"
                   "[[params]]\nname = \"B\"\nkind = \"constexpr\"\nvalues = [" + values + "]\n");
  EXPECT_EQ(plan_jobs(parse(text)).size(), kMaxVariants);
}

TEST_F(SpecTest, PlanVariantCountOverflowIsAnError) {
  std::string text = plan_spec("", "[[params]]\nname = \"x\"\nkind = \"tensor\"\ndtype = \"fp32\"\n");
  for (int i = 0; i < 20; ++i) {
    text += "[[params]]\nname = \"C" + std::to_string(i) + "\"\nkind = \"constexpr\"\n"
            "values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n";
  }
  std::string message = error_of(text);
  EXPECT_NE(message.find("the spec asks for more than 18446744073709551615 variants (limit 4096)"), std::string::npos)
      << message;
}

TEST_F(SpecTest, PlanOfAHandMadeSpecWithAnEmptyAxisIsAnError) {
  Spec spec = parse(kMinimal);
  spec.archs.clear();
  try {
    plan_jobs(spec);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidSpec);
    EXPECT_STREQ(e.what(), "the spec plans no variants: it has no archs");
  }
}

// ---------------------------------------------------------------------------------------------
// The job file

constexpr const char* kSmall = R"(spec_version = 1
[kernel]
name = "add"
source = "k.py"
function = "add_kernel"
archs = ["sm_90"]
grid = ["n /// BLOCK_SIZE"]
[[params]]
name = "x_ptr"
kind = "tensor"
dtype = "fp16"
divisibility = 16
[[params]]
name = "n"
kind = "scalar"
dtype = "i32"
divisibility = [16, 1]
[[params]]
name = "BLOCK_SIZE"
kind = "constexpr"
[[params]]
name = "ACC"
kind = "constexpr"
value = false
[[configs]]
name = "b1024"
num_stages = 2
constexprs = { BLOCK_SIZE = 1024 }
)";

TEST_F(SpecTest, JsonExactOutput) {
  Spec spec = parse(kSmall);
  std::vector<CompileJob> jobs = plan_jobs(spec);
  ASSERT_EQ(jobs.size(), 2u);
  std::string source = (dir_ / "k.py").string();
  std::string expected = R"({
  "schema": "tritonpack-compile-jobs",
  "version": 1,
  "source_file": ")" + source + R"(",
  "function": "add_kernel",
  "cache_dir": "/tmp/cache",
  "jobs": [
    {
      "id": 0,
      "signature": [
        [
          "x_ptr",
          "*fp16"
        ],
        [
          "n",
          "i32"
        ],
        [
          "BLOCK_SIZE",
          "constexpr"
        ],
        [
          "ACC",
          "constexpr"
        ]
      ],
      "constexprs": {
        "BLOCK_SIZE": 1024,
        "ACC": false
      },
      "divisibility": {
        "x_ptr": 16,
        "n": 16
      },
      "arch": 90,
      "options": {
        "num_warps": 4,
        "num_stages": 2,
        "num_ctas": 1
      }
    },
    {
      "id": 1,
      "signature": [
        [
          "x_ptr",
          "*fp16"
        ],
        [
          "n",
          "i32"
        ],
        [
          "BLOCK_SIZE",
          "constexpr"
        ],
        [
          "ACC",
          "constexpr"
        ]
      ],
      "constexprs": {
        "BLOCK_SIZE": 1024,
        "ACC": false
      },
      "divisibility": {
        "x_ptr": 16
      },
      "arch": 90,
      "options": {
        "num_warps": 4,
        "num_stages": 2,
        "num_ctas": 1
      }
    }
  ]
}
)";
  EXPECT_EQ(jobs_to_json(spec, jobs, "/tmp/cache"), expected);
}

TEST_F(SpecTest, JsonNoJobs) {
  Spec spec = parse(kSmall);
  std::string json = jobs_to_json(spec, {}, "c");
  EXPECT_NE(json.find("\"jobs\": []"), std::string::npos) << json;
}

// ---------------------------------------------------------------------------------------------
// make_variant

std::string meta(const std::string& args = R"([{"name": "x_ptr", "type": "ptr"}, {"name": "n", "type": "i32"}])",
                 const std::string& arch = "90") {
  return R"({"entry": "add_kernel", "arch": )" + arch + R"(, "ptx_target": "sm_90a", "num_warps": 4,
    "num_stages": 2, "num_ctas": 1, "cluster_dims": [1, 2, 1], "shared": 2048,
    "global_scratch_size": 128, "global_scratch_align": 16, "profile_scratch_size": 0,
    "profile_scratch_align": 1, "launch_cooperative_grid": false, "launch_pdl": false,
    "triton_version": "3.6.0", "args": )" + args + R"(, "ptx_params": ["u64", "u32", "u64", "u64"],
    "ir": ["ttir", "ttgir", "llir"], "hash": "abc"})";
}

TEST_F(SpecTest, VariantHappyPath) {
  Spec spec = parse(kSmall);
  std::vector<CompileJob> jobs = plan_jobs(spec);
  VariantInfo v = make_variant(spec, jobs[0], meta());
  EXPECT_EQ(v.id, 0u);
  EXPECT_TRUE(v.bindings.empty());
  ASSERT_EQ(v.constexprs.size(), 2u);
  EXPECT_EQ(v.constexprs[0].name, "BLOCK_SIZE");
  EXPECT_EQ(v.constexprs[0].value, 1024);
  EXPECT_EQ(v.config_index, 0u);
  EXPECT_EQ(v.arch, 90u);
  EXPECT_EQ(v.ptx_target, "sm_90a");
  EXPECT_EQ(v.entry, "add_kernel");
  EXPECT_EQ(v.num_warps, 4u);
  EXPECT_EQ(v.num_stages, 2u);
  EXPECT_EQ(v.num_ctas, 1u);
  EXPECT_EQ(v.cluster_dims, (std::array<uint32_t, 3>{1, 2, 1}));
  EXPECT_EQ(v.shared, 2048u);
  EXPECT_EQ(v.global_scratch_size, 128u);
  EXPECT_EQ(v.global_scratch_align, 16u);
  EXPECT_EQ(v.profile_scratch_size, 0u);
  EXPECT_EQ(v.profile_scratch_align, 1u);
  EXPECT_FALSE(v.launch_cooperative_grid);
  EXPECT_FALSE(v.launch_pdl);
  EXPECT_EQ(v.triton_version, "3.6.0");
  ASSERT_EQ(v.args.size(), 2u);
  EXPECT_EQ(v.args[0].name, "x_ptr");
  EXPECT_EQ(v.args[0].type, ArgType::kPointer);
  EXPECT_EQ(v.args[0].param_index, 0u);
  EXPECT_EQ(v.args[0].divisibility, 16u);
  EXPECT_EQ(v.args[1].name, "n");
  EXPECT_EQ(v.args[1].type, ArgType::kI32);
  EXPECT_EQ(v.args[1].param_index, 1u);
  EXPECT_EQ(v.args[1].divisibility, 16u);
  EXPECT_EQ(v.cubin_blob, -1);
  EXPECT_EQ(v.ptx_blob, -1);
  EXPECT_EQ(v.ir_blobs, (std::map<std::string, int32_t>{{"ttir", -1}, {"ttgir", -1}, {"llir", -1}}));

  VariantInfo second = make_variant(spec, jobs[1], meta());
  EXPECT_EQ(second.id, 1u);
  EXPECT_EQ(second.args[1].divisibility, 1u);  // absent from the job: no hint
}

TEST_F(SpecTest, VariantParamIndexSkipsConstexprsAndBindsTypes) {
  Spec spec = parse(plan_spec("archs = [\"sm_80\"]\n", R"(
[types]
T = ["bf16"]
[[params]]
name = "BLOCK"
kind = "constexpr"
value = 8
[[params]]
name = "x"
kind = "tensor"
dtype = "T"
[[params]]
name = "alpha"
kind = "scalar"
dtype = "bf16"
)"));
  CompileJob job = plan_jobs(spec).at(0);
  VariantInfo v = make_variant(spec, job, meta(R"([{"name": "x", "type": "ptr"}, {"name": "alpha", "type": "bf16"}])", "80"));
  EXPECT_EQ(v.bindings, (TypeBindings{{"T", DType::kBf16}}));
  ASSERT_EQ(v.args.size(), 2u);
  EXPECT_EQ(v.args[0].param_index, 1u);
  EXPECT_EQ(v.args[1].param_index, 2u);
  EXPECT_EQ(v.args[1].type, ArgType::kBf16);
}

TEST_F(SpecTest, VariantMismatches) {
  Spec spec = parse(kFull);
  CompileJob job = plan_jobs(spec).at(0);
  ASSERT_EQ(job.arch, 90u);
  const std::string label = "variant 0 (U=fp32, T=fp16, BLOCK_SIZE=256, EVEN=True, UNROLL=1, config small, sm_90): ";
  const std::string good_args =
      R"([{"name": "x_ptr", "type": "ptr"}, {"name": "y_ptr", "type": "ptr"}, {"name": "out_ptr", "type": "ptr"},
          {"name": "n_elements", "type": "i32"}, {"name": "alpha", "type": "fp32"}])";
  EXPECT_EQ(make_variant(spec, job, meta(good_args)).args.size(), 5u);
  const std::string spec_args = "the spec's [x_ptr: ptr, y_ptr: ptr, out_ptr: ptr, n_elements: i32, alpha: fp32]";
  auto with = [&](const std::string& key, const std::string& value) {
    std::string text = meta(good_args);
    size_t at = text.find("\"" + key + "\": ");
    EXPECT_NE(at, std::string::npos) << key;
    size_t start = at + key.size() + 4;
    size_t end = start;
    int depth = 0;
    for (; end < text.size(); ++end) {
      char c = text[end];
      if (c == '[' || c == '{') ++depth;
      if (c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      }
      if (c == ',' && depth == 0) break;
    }
    return text.substr(0, start) + value + text.substr(end);
  };
  auto without = [&](const std::string& key) {
    std::string text = meta(good_args);
    size_t at = text.find("\"" + key + "\": ");
    return text.substr(0, at) + "\"ignored_" + text.substr(at + 1);
  };
  // "ir": the stages the folder holds, any of them (a Gluon kernel has no ttir), or none.
  EXPECT_EQ(make_variant(spec, job, with("ir", R"(["ttgir", "llir"])")).ir_blobs,
            (std::map<std::string, int32_t>{{"ttgir", -1}, {"llir", -1}}));
  EXPECT_TRUE(make_variant(spec, job, with("ir", "[]")).ir_blobs.empty());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "meta.json does not parse"},
      {"[1, 2]", "meta.json is not a JSON object"},
      {meta(good_args, "80"), "meta.json says arch 80, the job asked for sm_90"},
      {without("entry"), "meta.json has no 'entry'"},
      {with("entry", "\"\""), "meta.json: 'entry' is empty"},
      {with("entry", "3"), "meta.json: 'entry' must be a string"},
      {without("ptx_target"), "meta.json has no 'ptx_target'"},
      {with("num_warps", "-4"), "meta.json: 'num_warps' must be an integer from 0 to 4294967295"},
      {with("num_stages", "2.5"), "'num_stages' must be an integer"},
      {with("num_ctas", "4294967296"), "'num_ctas' must be an integer from 0 to 4294967295"},
      {with("cluster_dims", "[1, 1]"), "'cluster_dims' must be an array of 3 integers"},
      {with("cluster_dims", "[1, 1, \"1\"]"), "'cluster_dims[2]' must be an integer"},
      {with("shared", "null"), "'shared' must be an integer"},
      {without("global_scratch_size"), "meta.json has no 'global_scratch_size'"},
      {with("profile_scratch_align", "true"), "'profile_scratch_align' must be an integer"},
      {with("launch_pdl", "0"), "'launch_pdl' must be true or false"},
      {with("launch_pdl", "true"), "meta.json says launch_pdl true, the job asked for false"},
      {without("launch_cooperative_grid"), "has no 'launch_cooperative_grid'"},
      {with("triton_version", "3.6"), "'triton_version' must be a string"},
      {without("ir"), "meta.json has no 'ir'"},
      {with("ir", "\"ttir\""), "meta.json: 'ir' must be a list of stages among ttir, ttgir, llir"},
      {with("ir", "[1]"), "meta.json: 'ir' must be a list of stages among ttir, ttgir, llir"},
      {with("ir", R"(["ttir", "sass"])"), "meta.json: 'ir' must be a list of stages among ttir, ttgir, llir"},
      {with("ir", R"(["ttgir", "ttgir"])"), "meta.json: 'ir' lists 'ttgir' twice"},
      {without("args"), "meta.json has no 'args'"},
      {with("args", "{}"), "'args' must be an array"},
      {with("args", "[1]"), "each of 'args' must be an object with string 'name' and 'type'"},
      {with("args", R"([{"name": "x_ptr"}])"), "each of 'args' must be an object"},
      {meta(R"([{"name": "x_ptr", "type": "ptr"}])"),
       "the compiled kernel's arguments [x_ptr: ptr] differ from " + spec_args},
      {meta(R"([{"name": "y_ptr", "type": "ptr"}, {"name": "x_ptr", "type": "ptr"}, {"name": "out_ptr", "type": "ptr"},
               {"name": "n_elements", "type": "i32"}, {"name": "alpha", "type": "fp32"}])"),
       "the compiled kernel's arguments [y_ptr: ptr, x_ptr: ptr, out_ptr: ptr, n_elements: i32, alpha: fp32] differ"},
      {meta(R"([{"name": "x_ptr", "type": "ptr"}, {"name": "y_ptr", "type": "ptr"}, {"name": "out_ptr", "type": "ptr"},
               {"name": "n_elements", "type": "i64"}, {"name": "alpha", "type": "fp32"}])"),
       "[x_ptr: ptr, y_ptr: ptr, out_ptr: ptr, n_elements: i64, alpha: fp32] differ from " + spec_args},
      {meta(R"([{"name": "x_ptr", "type": "ptr"}, {"name": "y_ptr", "type": "ptr"}, {"name": "out_ptr", "type": "ptr"},
               {"name": "n_elements", "type": "i32"}, {"name": "alpha", "type": "fp32"},
               {"name": "BLOCK_SIZE", "type": "i32"}])"),
       "BLOCK_SIZE: i32] differ from " + spec_args},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    try {
      make_variant(spec, job, text);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCompile);
      std::string what = e.what();
      EXPECT_EQ(what.rfind(label, 0), 0u) << what;
      EXPECT_NE(what.find(message), std::string::npos) << what << "\nwanted: " << message;
    }
  }
}

TEST_F(SpecTest, VariantBadConfigIndex) {
  Spec spec = parse(kSmall);
  CompileJob job = plan_jobs(spec).at(0);
  job.config_index = 7;
  try {
    make_variant(spec, job, meta());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCompile);
    EXPECT_NE(std::string(e.what()).find("config index 7 is out of range"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tritonpack::spec

// ---------------------------------------------------------------------------------------------
// Kernels as users write them: constexprs of every kind, launch variables, rules, heuristics and
// host tensor descriptors, from the spec through the job file to the variant.

namespace tritonpack::spec {
namespace {

constexpr const char* kFeatures = R"toml(spec_version = 1
[kernel]
name = "mm"
source = "k.py"
function = "mm_kernel"
archs = ["sm_90"]
grid = ["cdiv(M, BM)", "cdiv(N, 64)"]
constraints = ["K % BK == 0"]
[plugin]
constraints = ["N >= 1"]
[[launch_vars]]
name = "ROWS"
dtype = "i32"
min = 1
[[params]]
name = "a_desc"
kind = "tensordesc"
dtype = "fp16"
block = ["BM", "BK"]
dims = ["M", "K"]
[[params]]
name = "c_ptr"
kind = "tensor"
dtype = "fp16"
io = "out"
numel = "M * N"
[[params]]
name = "M"
kind = "scalar"
dtype = "i32"
[[params]]
name = "N"
kind = "scalar"
dtype = "i32"
[[params]]
name = "K"
kind = "scalar"
dtype = "i32"
[[params]]
name = "ACTIVATION"
kind = "constexpr"
values = ["", "leaky_relu"]
[[params]]
name = "ALPHA"
kind = "constexpr"
value = 0.01
[[params]]
name = "BIAS"
kind = "constexpr"
value = { none = true }
[[params]]
name = "ACC"
kind = "constexpr"
value = { dtype = "fp32" }
[[params]]
name = "EVEN"
kind = "constexpr"
value = true
[[params]]
name = "BM"
kind = "constexpr"
values = [64, 128]
heuristic = "clamp(next_power_of_2(ROWS), 64, 128)"
[[params]]
name = "BK"
kind = "constexpr"
[[configs]]
name = "k32"
constexprs = { BK = 32 }
)toml";

TEST_F(SpecTest, FeaturesParse) {
  const Spec spec = parse(kFeatures);
  const KernelInfo& k = spec.kernel;
  EXPECT_EQ(k.constraints, (std::vector<std::string>{"K % BK == 0", "N >= 1"}));
  ASSERT_EQ(k.launch_vars.size(), 1u);
  EXPECT_EQ(k.launch_vars[0].name, "ROWS");
  EXPECT_EQ(k.launch_vars[0].dtype, DType::kI32);
  EXPECT_EQ(k.launch_vars[0].min, 1);
  EXPECT_FALSE(k.launch_vars[0].max.has_value());
  EXPECT_EQ(k.params[0].kind, ParamKind::kTensorDesc);
  EXPECT_EQ(k.params[0].block, (std::vector<std::string>{"BM", "BK"}));
  EXPECT_EQ(k.params[0].dims, (std::vector<std::string>{"M", "K"}));
  EXPECT_EQ(k.params[10].heuristic, "clamp(next_power_of_2(ROWS), 64, 128)");
  using Values = std::map<std::string, std::vector<Constant>>;
  EXPECT_EQ(spec.constexpr_choices,
            (Values{{"ACTIVATION", {Constant(""), Constant("leaky_relu")}},
                    {"ALPHA", {Constant(0.01)}},
                    {"BIAS", {Constant::none()}},
                    {"ACC", {Constant::dtype(DType::kFp32)}},
                    {"EVEN", {Constant(true)}},
                    {"BM", {Constant(64), Constant(128)}}}));
  EXPECT_EQ(spec.constexpr_choices.at("ACTIVATION")[1].kind(), Constant::Kind::kString);
  EXPECT_EQ(spec.constexpr_choices.at("EVEN")[0].kind(), Constant::Kind::kBool);
}

TEST_F(SpecTest, FeaturesPlanAndJobFile) {
  const Spec spec = parse(kFeatures);
  const std::vector<CompileJob> jobs = plan_jobs(spec);
  ASSERT_EQ(jobs.size(), 4u);  // 2 ACTIVATION x 2 BM
  EXPECT_EQ(jobs[1].signature[0], (std::pair<std::string, std::string>{"a_desc", "tensordesc<fp16[128,32]>"}));
  EXPECT_EQ(jobs[2].signature[0], (std::pair<std::string, std::string>{"a_desc", "tensordesc<fp16[64,32]>"}));
  const nlohmann::json file = nlohmann::json::parse(jobs_to_json(spec, jobs, "/tmp/cache"));
  const nlohmann::json& c = file["jobs"][3]["constexprs"];
  EXPECT_EQ(c["ACTIVATION"], "leaky_relu");
  EXPECT_TRUE(c["ALPHA"].is_number_float());
  EXPECT_DOUBLE_EQ(c["ALPHA"].get<double>(), 0.01);
  EXPECT_TRUE(c["BIAS"].is_null());
  EXPECT_EQ(c["ACC"], (nlohmann::json{{"dtype", "fp32"}}));
  EXPECT_EQ(c["EVEN"], true);
  EXPECT_EQ(c["BM"], 128);
  EXPECT_EQ(c["BK"], 32);
}

TEST_F(SpecTest, AKernelOfDescriptorsOnlyWithOneItStoresThrough) {
  const Spec spec = parse(R"toml(spec_version = 1
[kernel]
name = "copy"
source = "k.py"
function = "copy_kernel"
grid = ["cdiv(M, 64)", "cdiv(N, 64)"]
[[params]]
name = "in_desc"
kind = "tensordesc"
dtype = "fp16"
block = [64, 64]
dims = ["M", "N"]
[[params]]
name = "out_desc"
kind = "tensordesc"
dtype = "fp16"
block = [64, 64]
io = "out"
dims = ["M", "N"]
[[params]]
name = "M"
kind = "scalar"
dtype = "i32"
[[params]]
name = "N"
kind = "scalar"
dtype = "i32"
)toml");
  EXPECT_FALSE(spec.kernel.params[0].is_output);
  EXPECT_TRUE(spec.kernel.params[1].is_output);
  EXPECT_EQ(plan_jobs(spec)[0].signature[1].second, "tensordesc<fp16[64,64]>");
}

TEST_F(SpecTest, GluonDescriptorsCarryTheirLayoutInTheSignature) {
  std::string text = kFeatures;
  const std::string dims = "dims = [\"M\", \"K\"]";
  text.replace(text.find(dims), dims.size(),
               "dims = [\"M\", \"K\"]\nlayout = \"NVMMASharedLayout(swizzle_byte_width=128, element_bitwidth=16, rank=2)\"");
  const Spec spec = parse(text);
  EXPECT_EQ(plan_jobs(spec)[0].signature[0].second,
            "tensordesc<fp16[64,32],NVMMASharedLayout(swizzle_byte_width=128, element_bitwidth=16, rank=2)>");
}

TEST_F(SpecTest, VariantReadsDescriptorMetadataAndResources) {
  const Spec spec = parse(kFeatures);
  const CompileJob job = plan_jobs(spec).at(1);
  const std::string args = R"([{"name": "a_desc", "type": "tensordesc", "ndim": 2, "tma": true},
    {"name": "c_ptr", "type": "ptr"}, {"name": "M", "type": "i32"}, {"name": "N", "type": "i32"},
    {"name": "K", "type": "i32"}])";
  std::string text = meta(args);
  text.insert(text.rfind('}'), R"(, "tensordesc_meta": [{"swizzle": 3, "elem_size": 2, "elem_type": 6,
    "block_size": [128, 32], "fp4_padded": false}], "registers": 168, "spill_stores": 0, "spill_loads": 0,
    "stack_frame": 16)");
  VariantInfo v = make_variant(spec, job, text);
  ASSERT_EQ(v.tensordescs.size(), 1u);
  EXPECT_TRUE(v.tensordescs[0].tma);
  EXPECT_EQ(v.tensordescs[0].block, (std::vector<uint32_t>{128, 32}));
  EXPECT_EQ(v.tensordescs[0].box, (std::vector<uint32_t>{128, 32}));
  EXPECT_EQ(v.tensordescs[0].swizzle, 3u);
  EXPECT_EQ(v.args[0].type, ArgType::kTensorDesc);
  EXPECT_EQ(v.resources.registers, 168);
  EXPECT_EQ(v.resources.stack_frame, 16);

  // Triton's metadata is an empty list when it lowered nothing to TMA (sm_80).
  std::string plain = meta(args);
  plain.insert(plain.rfind('}'), R"(, "tensordesc_meta": [], "registers": null)");
  v = make_variant(spec, job, plain);
  EXPECT_FALSE(v.tensordescs[0].tma);
  EXPECT_EQ(v.tensordescs[0].block, (std::vector<uint32_t>{128, 32}));
  EXPECT_EQ(v.resources.registers, -1);

  std::string missing = meta(args);
  try {
    make_variant(spec, job, missing);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'tensordesc_meta' must list 1 entries, one per tensordesc param"),
              std::string::npos)
        << e.what();
  }
}

// The errors of reading tensordesc_meta, one per check, and ptxas's report falling back to unknown.
TEST_F(SpecTest, VariantDescriptorMetadataErrors) {
  const Spec spec = parse(kFeatures);
  const CompileJob job = plan_jobs(spec).at(1);  // BM = 128: block [128, 32]
  const std::string args = R"([{"name": "a_desc", "type": "tensordesc", "ndim": 2, "tma": true},
    {"name": "c_ptr", "type": "ptr"}, {"name": "M", "type": "i32"}, {"name": "N", "type": "i32"},
    {"name": "K", "type": "i32"}])";
  auto with_meta = [&](const std::string& tensordesc_meta, const std::string& more = "") {
    std::string text = meta(args);
    text.insert(text.rfind('}'), ", \"tensordesc_meta\": " + tensordesc_meta + more);
    return text;
  };
  // One entry, with `change` applied to the good one.
  auto entry = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json e = nlohmann::json::parse(
        R"({"swizzle": 3, "elem_size": 2, "elem_type": 6, "block_size": [128, 32], "fp4_padded": false})");
    change(e);
    return with_meta("[" + e.dump() + "]");
  };
  EXPECT_TRUE(make_variant(spec, job, entry([](nlohmann::json&) {})).tensordescs.at(0).tma);
  const std::string count = "meta.json: 'tensordesc_meta' must list 1 entries, one per tensordesc param";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with_meta("{}"), count},
      {with_meta("null"), count},
      {with_meta("[null, null]"), count},
      {with_meta("[5]"), "meta.json: tensordesc_meta[0] has no 'swizzle'"},
      {entry([](auto& e) { e.erase("swizzle"); }), "meta.json: tensordesc_meta[0] has no 'swizzle'"},
      {entry([](auto& e) { e.erase("elem_size"); }), "meta.json: tensordesc_meta[0] has no 'elem_size'"},
      {entry([](auto& e) { e.erase("elem_type"); }), "meta.json: tensordesc_meta[0] has no 'elem_type'"},
      {entry([](auto& e) { e["swizzle"] = 4; }), "meta.json: 'tensordesc_meta[0].swizzle' must be an integer from 0 to 3"},
      {entry([](auto& e) { e["elem_size"] = 17; }), "'tensordesc_meta[0].elem_size' must be an integer from 1 to 16"},
      {entry([](auto& e) { e["elem_size"] = 0; }), "'tensordesc_meta[0].elem_size' must be an integer from 1 to 16"},
      {entry([](auto& e) { e["elem_type"] = -1; }), "'tensordesc_meta[0].elem_type' must be an integer from 0 to 15"},
      {entry([](auto& e) { e["elem_type"] = "fp16"; }), "'tensordesc_meta[0].elem_type' must be an integer"},
      {entry([](auto& e) { e.erase("fp4_padded"); }), "meta.json: tensordesc_meta[0].fp4_padded must be true or false"},
      {entry([](auto& e) { e["fp4_padded"] = 0; }), "meta.json: tensordesc_meta[0].fp4_padded must be true or false"},
      {entry([](auto& e) { e.erase("block_size"); }), "meta.json: tensordesc_meta[0].block_size must list 2 dims"},
      {entry([](auto& e) { e["block_size"] = {128}; }), "meta.json: tensordesc_meta[0].block_size must list 2 dims"},
      {entry([](auto& e) { e["block_size"] = "128x32"; }), "meta.json: tensordesc_meta[0].block_size must list 2 dims"},
      {entry([](auto& e) { e["block_size"] = {128, 257}; }),
       "meta.json: 'tensordesc_meta[0].block_size' must be an integer from 1 to 256"},
      {entry([](auto& e) { e["block_size"] = {0, 32}; }),
       "meta.json: 'tensordesc_meta[0].block_size' must be an integer from 1 to 256"},
      {entry([](auto& e) { e["block_size"] = {128, 32.0}; }), "'tensordesc_meta[0].block_size' must be an integer"},
  };
  const std::string label = "variant 1 (";
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    try {
      make_variant(spec, job, text);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCompile);
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(label, 0), 0u) << what;
      EXPECT_NE(what.find(message), std::string::npos) << what << "\nwanted: " << message;
    }
  }

  // null: Triton did not lower this descriptor to TMA; its block still comes from the spec.
  VariantInfo v = make_variant(spec, job, with_meta("[null]"));
  ASSERT_EQ(v.tensordescs.size(), 1u);
  EXPECT_FALSE(v.tensordescs[0].tma);
  EXPECT_EQ(v.tensordescs[0].block, (std::vector<uint32_t>{128, 32}));

  // ptxas's report: anything but an integer in 0..INT32_MAX is unknown (-1), never an error.
  v = make_variant(spec, job, with_meta("[null]", R"(, "registers": -5, "spill_stores": 2147483648,
    "spill_loads": 1.5, "stack_frame": "16")"));
  EXPECT_EQ(v.resources.registers, -1);
  EXPECT_EQ(v.resources.spill_stores, -1);
  EXPECT_EQ(v.resources.spill_loads, -1);
  EXPECT_EQ(v.resources.stack_frame, -1);
  v = make_variant(spec, job, with_meta("[null]", R"(, "registers": 2147483647, "spill_stores": 0)"));
  EXPECT_EQ(v.resources.registers, 2147483647);
  EXPECT_EQ(v.resources.spill_stores, 0);
  EXPECT_EQ(v.resources.spill_loads, -1);
}

// A block expression is evaluated with each job's constexprs, and must give 1 to 65536.
TEST_F(SpecTest, DescriptorBlockDimsAreCheckedPerJob) {
  auto with_block = [](const std::string& first) {
    std::string text = kFeatures;
    const std::string from = R"(block = ["BM", "BK"])";
    return text.replace(text.find(from), from.size(), "block = [\"" + first + "\", \"BK\"]");
  };
  auto plan_error = [&](const std::string& first) {
    const Spec spec = parse(with_block(first));
    try {
      (void)plan_jobs(spec);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidSpec);
      return std::string(e.what());
    }
    ADD_FAILURE() << "planned";
    return std::string();
  };
  // BM is 64 in the first job, 128 in the second.
  EXPECT_EQ(plan_error("BM - 64"), "param 'a_desc' block[0] = 'BM - 64' is 0; a block dim is 1 to 65536");
  EXPECT_EQ(plan_error("BM - 129"), "param 'a_desc' block[0] = 'BM - 129' is -65; a block dim is 1 to 65536");
  EXPECT_EQ(plan_error("BM * 1024"), "param 'a_desc' block[0] = 'BM * 1024' is 131072; a block dim is 1 to 65536");
  EXPECT_EQ(plan_jobs(parse(with_block("BM * 512")))[1].signature[0].second, "tensordesc<fp16[65536,32]>");
}

// The spec fuzzer's seeds that carry a meta.json after a NUL (tests/fuzz/spec_fuzz.cpp): the
// desc_scale spec and what `tritonpack compile` wrote for its first job, on sm_90 (the descriptor
// lowered to TMA) and on sm_80 (not lowered). They must get through make_variant, so that the
// fuzzer starts inside read_tensordescs and read_resources.
TEST_F(SpecTest, FuzzSeedsWithMetaMakeTheirVariant) {
  const fs::path corpus = fs::path(TRITONPACK_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "spec";
  for (const char* name : {"desc_scale_sm90_meta", "desc_scale_sm80_meta"}) {
    SCOPED_TRACE(name);
    std::ifstream in(corpus / name, std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t nul = input.find('\0');
    ASSERT_NE(nul, std::string::npos);
    const Spec spec = parse(input.substr(0, nul));
    const std::vector<CompileJob> jobs = plan_jobs(spec);
    ASSERT_FALSE(jobs.empty());
    const VariantInfo v = make_variant(spec, jobs.front(), input.substr(nul + 1));
    ASSERT_EQ(v.tensordescs.size(), 1u);
    EXPECT_EQ(v.tensordescs[0].block, (std::vector<uint32_t>{64, 64}));
    EXPECT_GT(v.resources.registers, 0);
    if (std::string(name) == "desc_scale_sm90_meta") {
      EXPECT_EQ(v.arch, 90u);
      EXPECT_TRUE(v.tensordescs[0].tma);
      EXPECT_EQ(v.tensordescs[0].elem_size, 2u);
      EXPECT_EQ(v.tensordescs[0].box, (std::vector<uint32_t>{64, 64}));
    } else {
      EXPECT_EQ(v.arch, 80u);
      EXPECT_FALSE(v.tensordescs[0].tma);
    }
  }
}

}  // namespace
}  // namespace tritonpack::spec
