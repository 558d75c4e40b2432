// Manifest <-> JSON: round trips, forward compatibility and one golden message per schema rule.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "test_manifest.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"

namespace tritonpack {
namespace {

using Json = nlohmann::ordered_json;
using tritonpack_test::make_test_manifest;

Json test_json() { return Json::parse(manifest_to_json(make_test_manifest())); }

// Applies `mutate` to the test manifest's JSON and returns the error manifest_from_json throws.
std::string error_after(const std::function<void(Json&)>& mutate) {
  Json j = test_json();
  mutate(j);
  try {
    (void)manifest_from_json(j.dump());
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack);
    return e.what();
  }
  ADD_FAILURE() << "manifest accepted: " << j.dump(1);
  return "";
}

std::string error_of_text(const std::string& text) {
  try {
    (void)manifest_from_json(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack);
    return e.what();
  }
  ADD_FAILURE() << "manifest accepted";
  return "";
}

#define EXPECT_MANIFEST_ERROR(mutation, golden) \
  EXPECT_THAT_STR(error_after([](Json& j) { mutation; }), golden)
#define EXPECT_THAT_STR(text, golden) EXPECT_NE((text).find(golden), std::string::npos) << (text)

Json& kernel(Json& j) { return j["kernels"][0]; }
Json& variant(Json& j, int i = 0) { return j["kernels"][0]["variants"][i]; }

TEST(ManifestJson, RoundTripIsExact) {
  const Manifest m = make_test_manifest();
  const std::string text = manifest_to_json(m);
  const Manifest back = manifest_from_json(text);
  EXPECT_EQ(manifest_to_json(back), text);
  EXPECT_EQ(manifest_to_json(back, 2), manifest_to_json(m, 2));
  // Spot-check fields to_json might silently drop.
  const VariantInfo& v = back.kernels[0].variants[0];
  EXPECT_EQ(v.bindings.at("T"), DType::kFp16);
  EXPECT_EQ(v.entry, "vector_add_fp16");
  EXPECT_EQ(v.args[3].divisibility, 16u);
  EXPECT_EQ(v.args[3].type, ArgType::kI32);
  EXPECT_EQ(back.kernels[0].grid[0], "n /// BLOCK");
  EXPECT_EQ(back.kernels[0].params[2].is_output, true);
  EXPECT_EQ(back.kernels[0].params[4].kind, ParamKind::kConstexpr);
  EXPECT_EQ(back.blobs[1].kind, "ptx");
}

TEST(ManifestJson, EveryFieldSurvivesRoundTrip) {
  Manifest m = make_test_manifest();
  VariantInfo& v = m.kernels[0].variants[1];
  v.num_warps = 8;
  v.num_stages = 5;
  v.num_ctas = 2;
  v.cluster_dims = {2, 1, 1};
  v.shared = 49152;
  v.global_scratch_size = 4096;
  v.global_scratch_align = 128;
  v.profile_scratch_size = 64;
  v.profile_scratch_align = 8;
  v.launch_cooperative_grid = true;
  v.launch_pdl = true;
  v.ptx_blob = -1;
  const Manifest back = manifest_from_json(manifest_to_json(m));
  const VariantInfo& b = back.kernels[0].variants[1];
  EXPECT_EQ(b.num_warps, 8u);
  EXPECT_EQ(b.num_stages, 5u);
  EXPECT_EQ(b.num_ctas, 2u);
  EXPECT_EQ(b.cluster_dims, (std::array<uint32_t, 3>{2, 1, 1}));
  EXPECT_EQ(b.shared, 49152u);
  EXPECT_EQ(b.global_scratch_size, 4096u);
  EXPECT_EQ(b.global_scratch_align, 128u);
  EXPECT_EQ(b.profile_scratch_size, 64u);
  EXPECT_EQ(b.profile_scratch_align, 8u);
  EXPECT_TRUE(b.launch_cooperative_grid);
  EXPECT_TRUE(b.launch_pdl);
  EXPECT_EQ(b.ptx_blob, -1);
  EXPECT_EQ(b.triton_version, "3.2.0");
  EXPECT_EQ(manifest_to_json(back), manifest_to_json(m));
}

TEST(ManifestJson, ConstexprsKeepParameterOrder) {
  Manifest m = make_test_manifest();
  KernelInfo& k = m.kernels[0];
  k.params.push_back(tritonpack_test::make_param("NUM_ITERS", ParamKind::kConstexpr, "", false, ""));
  k.params.push_back(tritonpack_test::make_param("A_BLOCK", ParamKind::kConstexpr, "", false, ""));
  for (auto& v : k.variants) v.constexprs = {{"BLOCK", 1024}, {"NUM_ITERS", 2}, {"A_BLOCK", -7}};
  const std::string text = manifest_to_json(m);
  EXPECT_NE(text.find(R"("constexprs":{"BLOCK":1024,"NUM_ITERS":2,"A_BLOCK":-7})"), std::string::npos) << text;
  const Manifest back = manifest_from_json(text);
  ASSERT_EQ(back.kernels[0].variants[0].constexprs.size(), 3u);
  EXPECT_EQ(back.kernels[0].variants[0].constexprs[2].name, "A_BLOCK");
  EXPECT_EQ(back.kernels[0].variants[0].constexprs[2].value, -7);
}

TEST(Manifest, CompiledValuesAreTheVariantsDistinctValuesInOrder) {
  KernelInfo k = tritonpack_test::make_test_kernel();  // two variants, both BLOCK = 1024
  EXPECT_EQ(compiled_values(k, "BLOCK"), (std::vector<Constant>{1024}));
  k.variants.push_back(k.variants[0]);
  k.variants.back().constexprs = {{"BLOCK", 256}, {"ACTIVATION", "leaky_relu"}};
  k.variants.push_back(k.variants[0]);
  k.variants.back().constexprs = {{"BLOCK", 1024}, {"ACTIVATION", ""}};
  EXPECT_EQ(compiled_values(k, "BLOCK"), (std::vector<Constant>{1024, 256}));
  EXPECT_EQ(compiled_values(k, "ACTIVATION"), (std::vector<Constant>{"leaky_relu", ""}));
  EXPECT_TRUE(compiled_values(k, "n").empty());  // a scalar, not a constexpr
  EXPECT_TRUE(compiled_values(k, "NOPE").empty());
}

TEST(ManifestJson, UnknownFieldsAreIgnored) {
  Json j = test_json();
  j["added_in_1_1"] = {{"anything", Json::array({1, 2, 3})}};
  kernel(j)["future_kernel_field"] = "x";
  variant(j)["future_variant_field"] = 42;
  const Manifest m = manifest_from_json(j.dump());
  EXPECT_EQ(manifest_to_json(m), manifest_to_json(make_test_manifest()));
}

TEST(ManifestJson, ErrorsSayCorruptManifest) {
  EXPECT_EQ(error_after([](Json& j) { variant(j, 1)["num_warps"] = 3; }),
            "corrupt manifest: kernels[0].variants[1].num_warps: expected one of 1, 2, 4, 8, 16, 32, got 3");
}

TEST(ManifestSchema, TopLevel) {
  EXPECT_MANIFEST_ERROR(j["format"] = "tritonpack-manifesto",
                        R"(format: expected "tritonpack-manifest", got "tritonpack-manifesto")");
  EXPECT_MANIFEST_ERROR(j["manifest_version"] = 2,
                        "manifest_version: manifest version 2 is newer than this tritonpack supports (1); "
                        "upgrade tritonpack");
  EXPECT_MANIFEST_ERROR(j["manifest_version"] = 0, "manifest_version: expected a positive integer, got 0");
  EXPECT_MANIFEST_ERROR(j["manifest_version"] = "1", R"(manifest_version: expected a positive integer, got string "1")");
  EXPECT_MANIFEST_ERROR(j.erase("created_by"), "corrupt manifest: missing required field 'created_by'");
  EXPECT_MANIFEST_ERROR(j["created_by"] = 5, "created_by: expected a string, got 5");
  EXPECT_MANIFEST_ERROR(j["created_by"] = std::string(300, 'x'), "created_by: string of 300 bytes is longer than the limit of 256");
  EXPECT_MANIFEST_ERROR(j["kernels"] = Json::object(), "kernels: expected an array, got an object");
  EXPECT_THAT_STR(error_of_text("[]"), "manifest: expected an object, got an array");
  EXPECT_THAT_STR(error_of_text("{\"format\": "), "manifest is not valid JSON");
  EXPECT_THAT_STR(error_of_text(""), "manifest is not valid JSON");
  EXPECT_THAT_STR(error_of_text("{} trailing"), "manifest is not valid JSON");
  // nlohmann reports a number too large for a double as out_of_range, not as a parse error.
  EXPECT_THAT_STR(error_of_text(R"({"format": 6e2636})"), "manifest is not valid JSON: ");
  EXPECT_THAT_STR(error_of_text(R"({"a": "\ud800"})"), "manifest is not valid JSON: ");
}

TEST(ManifestSchema, NestingDepthIsLimitedBeforeParsing) {
  EXPECT_THAT_STR(error_of_text(std::string(100000, '[')), "JSON nests deeper than 32 levels (at byte 32)");
  EXPECT_THAT_STR(error_of_text(std::string(100000, '{')), "JSON nests deeper than 32 levels");
  // Depth 32 exactly (the manifest object + 31 arrays) is fine in an unknown field; 33 is not.
  auto with_unknown_depth = [](int arrays) {
    std::string text = manifest_to_json(make_test_manifest());
    text.pop_back();  // the closing '}'
    return text + ",\"deep\":" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  EXPECT_NO_THROW(manifest_from_json(with_unknown_depth(31)));
  EXPECT_THAT_STR(error_of_text(with_unknown_depth(32)), "JSON nests deeper than 32 levels");
  // Brackets inside strings (with escaped quotes) do not count.
  Json j = test_json();
  j["note"] = "\\\"" + std::string(1000, '[');
  EXPECT_NO_THROW(manifest_from_json(j.dump()));
}

TEST(ManifestSchema, ArrayLimits) {
  EXPECT_MANIFEST_ERROR(j["blobs"] = Json(std::vector<int>(65537, 0)),
                        "blobs: has 65537 entries, over the limit of 65536");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"] = Json(std::vector<int>(65537, 0)),
                        "kernels[0].params: has 65537 entries, over the limit of 65536");
}

TEST(ManifestSchema, Blobs) {
  EXPECT_MANIFEST_ERROR(j["blobs"][1]["offset"] = 100, "blobs[1].offset: expected a multiple of 256, got 100");
  EXPECT_MANIFEST_ERROR(j["blobs"][1]["size"] = 0, "blobs[1].size: expected an integer in 1..4294967296, got 0");
  EXPECT_MANIFEST_ERROR(j["blobs"][1]["size"] = -5, "blobs[1].size: expected an integer in 1..4294967296, got -5");
  EXPECT_MANIFEST_ERROR(j["blobs"][0]["sha256"] = std::string(64, 'A'),
                        "blobs[0].sha256: expected 64 lower-case hex digits");
  EXPECT_MANIFEST_ERROR(j["blobs"][0]["kind"] = "elf", R"(blobs[0].kind: expected "cubin", "ptx", "ttir", "ttgir" or "llir", got "elf")");
}

TEST(ManifestSchema, KernelNames) {
  EXPECT_MANIFEST_ERROR(kernel(j).erase("name"), "kernels[0]: missing required field 'name'");
  EXPECT_MANIFEST_ERROR(kernel(j)["name"] = "9lives",
                        "kernels[0].name: expected an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 "
                        "characters), got string \"9lives\"");
  EXPECT_MANIFEST_ERROR(kernel(j)["name"] = std::string(129, 'k'), "kernels[0].name: expected an identifier");
  EXPECT_MANIFEST_ERROR(kernel(j)["function"] = "add-kernel", "kernels[0].function: expected an identifier");
  EXPECT_MANIFEST_ERROR(j["kernels"].push_back(j["kernels"][0]),
                        R"(kernels[1].name: duplicate kernel name "vector_add" (also kernels[0]))");
  EXPECT_MANIFEST_ERROR(kernel(j)["source_sha256"] = "abc",
                        "kernels[0].source_sha256: expected empty or 64 lower-case hex digits");
  EXPECT_MANIFEST_ERROR(kernel(j)["reference"] = "numpy.add",
                        "kernels[0].reference: expected empty or an identifier");
}

TEST(ManifestSchema, Params) {
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][1]["name"] = "x",
                        R"(kernels[0].params[1].name: duplicate parameter name "x" (also params[0]))");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][0]["kind"] = "pointer",
                        R"(kernels[0].params[0].kind: expected "tensor", "scalar", "constexpr" or "tensordesc", got "pointer")");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][0]["dtype"] = "fp17",
                        R"(kernels[0].params[0].dtype: "fp17" is neither a dtype nor a declared type variable)");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][3]["dtype"] = "u8",
                        R"(kernels[0].params[3].dtype: a scalar parameter needs one of i32, i64, fp32, fp16, bf16, got "u8")");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][3]["dtype"] = "T",
                        "kernels[0].params[3].dtype: a scalar parameter needs one of");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][4]["dtype"] = "i32",
                        R"(kernels[0].params[4].dtype: a constexpr parameter has no dtype, got "i32")");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][3]["is_output"] = true,
                        "kernels[0].params[3].is_output: only a tensor or descriptor parameter can be an output");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][3]["numel"] = "n", "kernels[0].params[3].numel: only a tensor or descriptor parameter has a numel");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][0]["is_output"] = 1, "kernels[0].params[0].is_output: expected true or false, got 1");
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][0]["numel"] = "n *", "kernels[0].params[0].numel: invalid expression:");
}

TEST(ManifestSchema, TypeVars) {
  EXPECT_MANIFEST_ERROR(kernel(j)["type_vars"][0]["name"] = "fp16",
                        R"(kernels[0].type_vars[0].name: type variable "fp16" shadows the dtype of that name)");
  EXPECT_MANIFEST_ERROR(kernel(j)["type_vars"].push_back(kernel(j)["type_vars"][0]),
                        R"(kernels[0].type_vars[1].name: duplicate type variable "T")");
  EXPECT_MANIFEST_ERROR(kernel(j)["type_vars"][0]["dtypes"][1] = "float",
                        R"(kernels[0].type_vars[0].dtypes[1]: unknown dtype "float")");
  EXPECT_MANIFEST_ERROR(kernel(j)["type_vars"][0]["dtypes"][1] = "fp16",
                        R"(kernels[0].type_vars[0].dtypes[1]: duplicate dtype "fp16")");
  EXPECT_MANIFEST_ERROR(kernel(j)["type_vars"][0]["dtypes"] = Json::array(),
                        "kernels[0].type_vars[0].dtypes: a type variable needs at least one dtype");
}

TEST(ManifestSchema, GridBenchAndConfigs) {
  EXPECT_MANIFEST_ERROR(kernel(j)["grid"].erase(2), "kernels[0].grid: expected an array of 3 expressions, got 2");
  EXPECT_MANIFEST_ERROR(kernel(j)["grid"][1] = "(n", "kernels[0].grid[1]: invalid expression:");
  EXPECT_MANIFEST_ERROR(kernel(j)["grid"][2] = "", "kernels[0].grid[2]: invalid expression:");
  EXPECT_MANIFEST_ERROR(kernel(j)["bench"]["flops"] = "n $ 2", "kernels[0].bench.flops: invalid expression:");
  EXPECT_MANIFEST_ERROR(kernel(j)["bench"] = "n", "kernels[0].bench: expected an object, got string \"n\"");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["num_warps"] = 64,
                        "kernels[0].configs[0].num_warps: expected one of 1, 2, 4, 8, 16, 32, got 64");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["num_ctas"] = 0,
                        "kernels[0].configs[0].num_ctas: expected an integer in 1..16, got 0");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["num_stages"] = 3.0,
                        "kernels[0].configs[0].num_stages: expected an integer in 0..32, got 3.0");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["constexprs"]["n"] = 4,
                        R"(kernels[0].configs[0].constexprs.n: "n" is not a constexpr parameter of kernel "vector_add")");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"].push_back(kernel(j)["configs"][0]),
                        R"(kernels[0].configs[1].name: duplicate config name "default")");
}

TEST(ManifestSchema, VariantBindings) {
  EXPECT_MANIFEST_ERROR(variant(j)["bindings"] = Json::object(),
                        R"(kernels[0].variants[0].bindings: missing type variable "T")");
  EXPECT_MANIFEST_ERROR(variant(j)["bindings"]["U"] = "fp16",
                        R"(kernels[0].variants[0].bindings.U: "U" is not a type variable of kernel "vector_add")");
  EXPECT_MANIFEST_ERROR(variant(j)["bindings"]["T"] = "i8",
                        R"(kernels[0].variants[0].bindings.T: "i8" is not one of T's dtypes (fp16, fp32))");
}

TEST(ManifestSchema, VariantIndicesAndConstexprs) {
  EXPECT_MANIFEST_ERROR(variant(j)["config_index"] = 1,
                        "kernels[0].variants[0].config_index: expected an integer in 0..0, got 1");
  EXPECT_MANIFEST_ERROR(variant(j, 1)["id"] = 0,
                        "kernels[0].variants[1].id: duplicate variant id 0 (also variants[0])");
  EXPECT_MANIFEST_ERROR(variant(j)["constexprs"] = Json::object(),
                        "kernels[0].variants[0].constexprs: expected the kernel's constexpr params in order (BLOCK), got ()");
  EXPECT_MANIFEST_ERROR(variant(j)["constexprs"]["BLOCK"] = 512,
                        R"(kernels[0].variants[0].constexprs.BLOCK: 512 disagrees with configs[0] ("default"), which sets 1024)");
  EXPECT_MANIFEST_ERROR(variant(j)["constexprs"]["BLOCK"] = "1024",
                        R"(kernels[0].variants[0].constexprs.BLOCK: '1024' disagrees with configs[0] ("default"), which sets 1024)");
  EXPECT_MANIFEST_ERROR(variant(j)["constexprs"]["BLOCK"] = uint64_t{1} << 63,
                        "kernels[0].variants[0].constexprs.BLOCK: an integer beyond the 64-bit range, got 9223372036854775808");
}

TEST(ManifestSchema, VariantArgs) {
  EXPECT_MANIFEST_ERROR(variant(j)["args"].erase(3),
                        "kernels[0].variants[0].args: expected 4 arguments (the kernel's non-constexpr params x, y, out, n), got 3");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][1]["param_index"] = 2,
                        R"(kernels[0].variants[0].args[1].param_index: expected 1 (param "y"), got 2)");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][1]["param_index"] = 5,
                        "kernels[0].variants[0].args[1].param_index: expected an integer in 0..4, got 5");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][1]["name"] = "z",
                        R"(kernels[0].variants[0].args[1].name: expected "y" (the name of params[1]), got "z")");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][0]["type"] = "i32",
                        R"(kernels[0].variants[0].args[0].type: expected "ptr" for tensor param "x", got "i32")");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][3]["type"] = "i64",
                        R"(kernels[0].variants[0].args[3].type: expected "i32" for scalar param "n", got "i64")");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][3]["divisibility"] = 3,
                        "kernels[0].variants[0].args[3].divisibility: expected a power of two up to 4096, got 3");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][3]["divisibility"] = 8192,
                        "kernels[0].variants[0].args[3].divisibility: expected a power of two up to 4096, got 8192");
  EXPECT_MANIFEST_ERROR(variant(j)["args"][3]["divisibility"] = 0, "expected a power of two up to 4096, got 0");
  // A floating-point scalar has no divisibility to assume.
  EXPECT_MANIFEST_ERROR({
    kernel(j)["params"][3]["dtype"] = "fp32";
    for (auto& v : kernel(j)["variants"]) v["args"][3]["type"] = "fp32";
  }, R"(kernels[0].variants[0].args[3].divisibility: must be 1 for floating-point argument "n")");
}

TEST(ManifestSchema, VariantLaunchLimits) {
  EXPECT_MANIFEST_ERROR(variant(j, 1)["num_warps"] = 3,
                        "kernels[0].variants[1].num_warps: expected one of 1, 2, 4, 8, 16, 32, got 3");
  EXPECT_MANIFEST_ERROR(variant(j)["num_warps"] = -4, "kernels[0].variants[0].num_warps: expected one of 1, 2, 4, 8, 16, 32, got -4");
  EXPECT_MANIFEST_ERROR(variant(j)["num_ctas"] = 17, "kernels[0].variants[0].num_ctas: expected an integer in 1..16, got 17");
  EXPECT_MANIFEST_ERROR(variant(j)["num_stages"] = 33, "kernels[0].variants[0].num_stages: expected an integer in 0..32, got 33");
  EXPECT_MANIFEST_ERROR(variant(j)["cluster_dims"] = Json::array({1, 1}),
                        "kernels[0].variants[0].cluster_dims: expected 3 integers, got 2");
  EXPECT_MANIFEST_ERROR(variant(j)["cluster_dims"][2] = 0,
                        "kernels[0].variants[0].cluster_dims[2]: expected an integer in 1..16, got 0");
  EXPECT_MANIFEST_ERROR(variant(j)["shared"] = 16777217,
                        "kernels[0].variants[0].shared: expected an integer in 0..16777216, got 16777217");
  EXPECT_MANIFEST_ERROR(variant(j)["global_scratch_size"] = 1073741825,
                        "kernels[0].variants[0].global_scratch_size: expected an integer in 0..1073741824, got 1073741825");
  EXPECT_MANIFEST_ERROR(variant(j)["profile_scratch_size"] = -1,
                        "kernels[0].variants[0].profile_scratch_size: expected an integer in 0..1073741824, got -1");
  EXPECT_MANIFEST_ERROR(variant(j)["global_scratch_align"] = 48,
                        "kernels[0].variants[0].global_scratch_align: expected a power of two up to 4096, got 48");
  EXPECT_MANIFEST_ERROR(variant(j)["profile_scratch_align"] = 8192,
                        "kernels[0].variants[0].profile_scratch_align: expected a power of two up to 4096, got 8192");
  EXPECT_MANIFEST_ERROR(variant(j)["arch"] = 49, "kernels[0].variants[0].arch: expected an integer in 50..200, got 49");
  EXPECT_MANIFEST_ERROR(variant(j)["arch"] = 201, "kernels[0].variants[0].arch: expected an integer in 50..200, got 201");
  EXPECT_MANIFEST_ERROR(variant(j)["launch_pdl"] = "yes", R"(kernels[0].variants[0].launch_pdl: expected true or false, got string "yes")");
  EXPECT_MANIFEST_ERROR(variant(j)["triton_version"] = "3.2\n", "kernels[0].variants[0].triton_version: expected printable ASCII");
}

TEST(ManifestSchema, VariantEntry) {
  EXPECT_MANIFEST_ERROR(variant(j)["entry"] = "", "kernels[0].variants[0].entry: expected a non-empty string");
  EXPECT_MANIFEST_ERROR(variant(j)["entry"] = "add kernel",
                        R"(kernels[0].variants[0].entry: expected a symbol name ([A-Za-z_$.][A-Za-z0-9_$.]*), got "add kernel")");
  EXPECT_MANIFEST_ERROR(variant(j)["entry"] = "0add", "kernels[0].variants[0].entry: expected a symbol name");
  EXPECT_MANIFEST_ERROR(variant(j)["entry"] = std::string(513, 'e'),
                        "kernels[0].variants[0].entry: string of 513 bytes is longer than the limit of 512");
  Json j = test_json();
  variant(j)["entry"] = "_Z10add_kernelPfS_S_i.$tmp";
  EXPECT_NO_THROW(manifest_from_json(j.dump()));
}

TEST(ManifestSchema, VariantBlobs) {
  EXPECT_MANIFEST_ERROR(variant(j)["cubin_blob"] = 4,
                        "kernels[0].variants[0].cubin_blob: expected -1 or a blob index in 0..3, got 4");
  EXPECT_MANIFEST_ERROR(variant(j)["cubin_blob"] = -2,
                        "kernels[0].variants[0].cubin_blob: expected -1 or a blob index in 0..3, got -2");
  EXPECT_MANIFEST_ERROR(variant(j)["cubin_blob"] = 1,
                        R"(kernels[0].variants[0].cubin_blob: blobs[1] has kind "ptx", expected "cubin")");
  EXPECT_MANIFEST_ERROR(variant(j)["ptx_blob"] = 2,
                        R"(kernels[0].variants[0].ptx_blob: blobs[2] has kind "cubin", expected "ptx")");
  EXPECT_MANIFEST_ERROR({
    variant(j)["cubin_blob"] = -1;
    variant(j)["ptx_blob"] = -1;
  }, "kernels[0].variants[0]: neither cubin_blob nor ptx_blob is set");
  EXPECT_MANIFEST_ERROR(j["blobs"] = Json::array(),
                        "kernels[0].variants[0].cubin_blob: expected -1 (the pack has no blobs), got 0");
  // Only a PTX blob is fine (the driver JIT-compiles it).
  Json j = test_json();
  variant(j)["cubin_blob"] = -1;
  EXPECT_NO_THROW(manifest_from_json(j.dump()));
}

TEST(ManifestSchema, EveryRequiredFieldIsRequired) {
  Json base = test_json();
  auto check_all = [&](const std::function<Json&(Json&)>& object_of, const std::string& path) {
    for (const auto& [key, value] : object_of(base).items()) {
      Json j = base;
      object_of(j).erase(key);
      try {
        (void)manifest_from_json(j.dump());
        ADD_FAILURE() << path << "." << key << " is not required";
      } catch (const Error& e) {
        EXPECT_THAT_STR(std::string(e.what()), "missing required field '" + key + "'");
      }
    }
  };
  check_all([](Json& j) -> Json& { return j; }, "manifest");
  check_all([](Json& j) -> Json& { return j["kernels"][0]; }, "kernel");
  check_all([](Json& j) -> Json& { return j["kernels"][0]["params"][0]; }, "param");
  check_all([](Json& j) -> Json& { return j["kernels"][0]["type_vars"][0]; }, "type var");
  check_all([](Json& j) -> Json& { return j["kernels"][0]["configs"][0]; }, "config");
  check_all([](Json& j) -> Json& { return j["kernels"][0]["bench"]; }, "bench");
  check_all([](Json& j) -> Json& { return j["kernels"][0]["variants"][0]; }, "variant");
  check_all([](Json& j) -> Json& { return j["kernels"][0]["variants"][0]["args"][0]; }, "arg");
  check_all([](Json& j) -> Json& { return j["blobs"][0]; }, "blob");
}

}  // namespace
}  // namespace tritonpack
