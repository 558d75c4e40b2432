// Manifest <-> JSON: round trips, forward compatibility and one golden message per schema rule.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error_of.h"
#include "pack/constant_json.h"
#include "test_manifest.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"

namespace tritonpack {
namespace {

using Json = nlohmann::ordered_json;
using tritonpack_test::make_test_manifest;

Json test_json() { return Json::parse(manifest_to_json(make_test_manifest())); }

// The test pack's manifest with a tensor descriptor, launch variable, IR stages and the other
// optional keys (tritonpack_test::make_features_pack).
Json features_json() { return Json::parse(manifest_to_json(tritonpack_test::make_features_pack().manifest)); }

// Applies `mutate` to the test manifest's JSON (or `base`) and returns the error manifest_from_json
// throws.
std::string error_after(const std::function<void(Json&)>& mutate, Json j = test_json()) {
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
// The same on the features manifest: params x, y, out, n, BLOCK, ACT, SCALE, BIAS, OUT_T, x_desc
// (params[9], a tensordesc with block ["64", "BLOCK / 16"]); variant 0's descriptor is lowered to TMA,
// variant 1's is not; blobs 4, 5, 6 are variant 0's ttir and ttgir and variant 1's llir.
#define EXPECT_FEATURES_ERROR(mutation, golden) \
  EXPECT_THAT_STR(error_after([](Json& j) { mutation; }, features_json()), golden)
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
  ConfigInfo pdl = m.kernels[0].configs[0];  // a second config, with programmatic dependent launch
  pdl.name = "pdl";
  pdl.launch_pdl = true;
  m.kernels[0].configs.push_back(pdl);
  VariantInfo& v = m.kernels[0].variants[1];
  v.config_index = 1;
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
  EXPECT_TRUE(back.kernels[0].configs[1].launch_pdl);
  EXPECT_FALSE(back.kernels[0].configs[0].launch_pdl);
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
            "corrupt manifest: kernels[0].variants[1].num_warps: expected 1, 2 or a multiple of 4 up to 32, got 3");
}

TEST(ManifestSchema, TopLevel) {
  EXPECT_MANIFEST_ERROR(j["format"] = "tritonpack-manifesto",
                        R"(format: expected "tritonpack-manifest", got "tritonpack-manifesto")");
  EXPECT_MANIFEST_ERROR(j["manifest_version"] = 3,
                        "manifest_version: manifest version 3 is newer than this tritonpack supports (2); "
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
                        "kernels[0].variants[1].num_warps: expected 1, 2 or a multiple of 4 up to 32, got 3");
  EXPECT_MANIFEST_ERROR(variant(j)["num_warps"] = -4,
                        "kernels[0].variants[0].num_warps: expected 1, 2 or a multiple of 4 up to 32, got -4");
  EXPECT_MANIFEST_ERROR(variant(j)["num_warps"] = 36,
                        "kernels[0].variants[0].num_warps: expected 1, 2 or a multiple of 4 up to 32, got 36");
  // A warp-specialized kernel launches whole warpgroups: a 4-warp config with a 4-warp and a
  // 1-warp worker runs 12 warps (its config still asks for 4).
  Json ws = test_json();
  variant(ws)["num_warps"] = 12;
  EXPECT_EQ(manifest_from_json(ws.dump()).kernels[0].variants[0].num_warps, 12u);
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
  // A variant launches with programmatic dependent launch exactly when its config asks for it.
  EXPECT_MANIFEST_ERROR(variant(j)["launch_pdl"] = true,
                        R"(kernels[0].variants[0].launch_pdl: true, but configs[0] ("default") does not set launch_pdl)");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["launch_pdl"] = true,
                        R"(kernels[0].variants[0].launch_pdl: false, but configs[0] ("default") sets launch_pdl)");
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["launch_pdl"] = 1,
                        R"(kernels[0].configs[0].launch_pdl: expected true or false, got 1)");
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

TEST(ManifestJson, FeaturesRoundTripIsExact) {
  Manifest m = tritonpack_test::make_features_pack().manifest;
  m.kernels[0].params[9].layout = "NVMMASharedLayout(swizzle_byte_width=128, element_bitwidth=16, rank=2)";
  const std::string text = manifest_to_json(m);
  const Manifest back = manifest_from_json(text);
  EXPECT_EQ(manifest_to_json(back), text);
  const KernelInfo& k = back.kernels[0];
  ASSERT_EQ(k.launch_vars.size(), 1u);
  EXPECT_EQ(k.launch_vars[0].name, "M");
  EXPECT_EQ(k.launch_vars[0].max, 1 << 20);
  EXPECT_EQ(k.constraints, (std::vector<std::string>{"n <= M * BLOCK", "R == M"}));
  EXPECT_EQ(k.params[4].heuristic, "min(1024, next_power_of_2(n))");
  EXPECT_EQ(k.params[9].kind, ParamKind::kTensorDesc);
  EXPECT_EQ(k.params[9].dtype, DTypeRef::variable("T"));
  EXPECT_EQ(k.params[9].block, (std::vector<std::string>{"64", "BLOCK / 16"}));
  EXPECT_EQ(k.params[9].layout, m.kernels[0].params[9].layout);
  const VariantInfo& v0 = k.variants[0];
  ASSERT_EQ(v0.tensordescs.size(), 1u);
  EXPECT_TRUE(v0.tensordescs[0].tma);
  EXPECT_EQ(v0.tensordescs[0].block, (std::vector<uint32_t>{64, 64}));
  EXPECT_EQ(v0.tensordescs[0].box, (std::vector<uint32_t>{64, 64}));
  EXPECT_EQ(v0.tensordescs[0].swizzle, 3u);
  EXPECT_EQ(v0.tensordescs[0].elem_size, 2u);
  EXPECT_EQ(v0.tensordescs[0].elem_type, 6u);
  EXPECT_EQ(v0.args[4].type, ArgType::kTensorDesc);
  EXPECT_EQ(v0.args[4].param_index, 9u);
  EXPECT_EQ(v0.ir_blobs, (std::map<std::string, int32_t>{{"ttgir", 5}, {"ttir", 4}}));
  EXPECT_EQ(k.variants[1].ir_blobs, (std::map<std::string, int32_t>{{"llir", 6}}));
  EXPECT_EQ(back.blobs[6].kind, "llir");
  EXPECT_EQ(v0.resources.registers, 40);
  EXPECT_EQ(v0.resources.stack_frame, 8);
  EXPECT_EQ(v0.constexprs[2].value.kind(), Constant::Kind::kFloat);
  EXPECT_EQ(v0.constexprs[4].value, Constant::dtype(DType::kBf16));
  // A descriptor not lowered to TMA is written as its block alone.
  EXPECT_FALSE(k.variants[1].tensordescs[0].tma);
  Json j = Json::parse(text);
  EXPECT_EQ(variant(j, 1)["tensordescs"], Json::parse(R"([{"tma": false, "block": [64, 64]}])"));
}

TEST(ManifestSchema, LaunchVars) {
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"].push_back(kernel(j)["launch_vars"][0]),
                        R"(kernels[0].launch_vars[1].name: duplicate launch variable "M")");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"][0]["name"] = "n",
                        R"(kernels[0].launch_vars[0].name: "n" is also a parameter of the kernel)");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"][0]["name"] = "x_desc",
                        R"(kernels[0].launch_vars[0].name: "x_desc" is also a parameter of the kernel)");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"][0]["name"] = "2M",
                        "kernels[0].launch_vars[0].name: expected an identifier");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"][0]["dtype"] = "fp32",
                        R"(kernels[0].launch_vars[0].dtype: expected "i32" or "i64", got "fp32")");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"][0]["dtype"] = "u32",
                        R"(kernels[0].launch_vars[0].dtype: expected "i32" or "i64", got "u32")");
  EXPECT_FEATURES_ERROR({
    kernel(j)["launch_vars"][0]["min"] = 5;
    kernel(j)["launch_vars"][0]["max"] = 1;
  }, "kernels[0].launch_vars[0]: min 5 is above max 1");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"][0]["min"] = "1",
                        R"(kernels[0].launch_vars[0].min: expected an integer, got string "1")");
  EXPECT_FEATURES_ERROR(kernel(j)["launch_vars"] = Json::object(),
                        "kernels[0].launch_vars: expected an array, got an object");
  auto with_vars = [](size_t count) {
    Json j = features_json();
    for (size_t i = 1; i < count; ++i) {
      kernel(j)["launch_vars"].push_back(Json{{"name", "V" + std::to_string(i)}, {"dtype", "i64"}});
    }
    return j;
  };
  EXPECT_NO_THROW(manifest_from_json(with_vars(16).dump()));
  EXPECT_THAT_STR(error_of_text(with_vars(17).dump()), "kernels[0].launch_vars: at most 16 launch variables, got 17");
}

TEST(ManifestSchema, HeuristicBlockAndLayoutBelongToTheirParamKinds) {
  for (int param : {0, 3, 9}) {  // tensor, scalar, tensordesc
    SCOPED_TRACE(param);
    Json j = features_json();
    kernel(j)["params"][param]["heuristic"] = "n";
    EXPECT_THAT_STR(error_of_text(j.dump()), "kernels[0].params[" + std::to_string(param) +
                                                 "].heuristic: only a constexpr parameter has a heuristic");
  }
  EXPECT_FEATURES_ERROR(kernel(j)["params"][4]["heuristic"] = "n +", "kernels[0].params[4].heuristic: invalid expression:");
  for (int param : {0, 3, 4}) {  // tensor, scalar, constexpr
    SCOPED_TRACE(param);
    const std::string at = "kernels[0].params[" + std::to_string(param) + "]";
    Json j = features_json();
    kernel(j)["params"][param]["block"] = Json::array({"64"});
    EXPECT_THAT_STR(error_of_text(j.dump()), at + ".block: only a tensordesc parameter has a block shape");
    j = features_json();
    kernel(j)["params"][param]["layout"] = "NVMMASharedLayout()";
    EXPECT_THAT_STR(error_of_text(j.dump()), at + ".layout: only a tensordesc parameter has a layout");
  }
  EXPECT_MANIFEST_ERROR(kernel(j)["params"][3]["dims"] = Json::array({"n"}),
                        "kernels[0].params[3].dims: only a tensor or descriptor parameter has dims");
}

TEST(ManifestSchema, DescriptorParams) {
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9].erase("block"),
                        "kernels[0].params[9]: a tensordesc parameter needs 'block', its block shape");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["block"] = Json::array(),
                        "kernels[0].params[9].block: expected 1 to 5 block dims, got 0");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["block"] = Json::array({"1", "1", "1", "1", "1", "1"}),
                        "kernels[0].params[9].block: expected 1 to 5 block dims, got 6");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["block"] = "64",
                        R"(kernels[0].params[9].block: expected an array, got string "64")");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["block"][1] = "BLOCK /",
                        "kernels[0].params[9].block[1]: invalid expression:");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["layout"] = "",
                        "kernels[0].params[9].layout: expected a non-empty string");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["layout"] = "a\nb", "kernels[0].params[9].layout: expected printable ASCII");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["dims"] = Json::array({"R"}),
                        "kernels[0].params[9].dims: has 1 dims, the block shape has 2");
  EXPECT_FEATURES_ERROR(kernel(j)["params"][9]["dtype"] = "U",
                        R"(kernels[0].params[9].dtype: "U" is neither a dtype nor a declared type variable)");
  // A descriptor may be an output and have a numel, like a tensor.
  Json j = features_json();
  kernel(j)["params"][9]["is_output"] = true;
  kernel(j)["params"][9]["numel"] = "R * C";
  EXPECT_NO_THROW(manifest_from_json(j.dump()));
}

TEST(ManifestSchema, DescriptorArgs) {
  EXPECT_FEATURES_ERROR(variant(j)["args"][4]["type"] = "ptr",
                        R"(kernels[0].variants[0].args[4].type: expected "tensordesc" for tensordesc param "x_desc", got "ptr")");
  EXPECT_FEATURES_ERROR(variant(j)["args"][0]["type"] = "tensordesc",
                        R"(kernels[0].variants[0].args[0].type: expected "ptr" for tensor param "x", got "tensordesc")");
  EXPECT_FEATURES_ERROR(variant(j)["args"][4]["divisibility"] = 16,
                        R"(kernels[0].variants[0].args[4].divisibility: must be 1 for descriptor argument "x_desc")");
}

TEST(ManifestSchema, Tensordescs) {
  EXPECT_FEATURES_ERROR(variant(j).erase("tensordescs"),
                        "kernels[0].variants[0]: missing required field 'tensordescs' (the kernel has descriptor parameters)");
  EXPECT_FEATURES_ERROR(variant(j, 1).erase("tensordescs"), "kernels[0].variants[1]: missing required field 'tensordescs'");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"].push_back(variant(j)["tensordescs"][0]),
                        "kernels[0].variants[0].tensordescs: expected 1 entries (one per descriptor parameter), got 2");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"] = Json::array(),
                        "kernels[0].variants[0].tensordescs: expected 1 entries (one per descriptor parameter), got 0");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"] = Json::object(),
                        "kernels[0].variants[0].tensordescs: expected an array, got an object");
  // A kernel without descriptors may list none, but no more.
  EXPECT_MANIFEST_ERROR(variant(j)["tensordescs"] = Json::parse(R"([{"tma": false, "block": [64]}])"),
                        "kernels[0].variants[0].tensordescs: expected 0 entries (one per descriptor parameter), got 1");
  {
    Json j = test_json();
    variant(j)["tensordescs"] = Json::array();
    EXPECT_NO_THROW(manifest_from_json(j.dump()));
  }
  const std::string at = "kernels[0].variants[0].tensordescs[0]";
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0] = 5, "kernels[0].variants[0].tensordescs[0]: expected an object, got 5");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0].erase("tma"),
                        "kernels[0].variants[0].tensordescs[0]: missing required field 'tma'");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["tma"] = 1,
                        "kernels[0].variants[0].tensordescs[0].tma: expected true or false, got 1");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["block"] = Json::array({64}),
                        "kernels[0].variants[0].tensordescs[0].block: expected 2 integers, got 1");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["block"][0] = 0,
                        "kernels[0].variants[0].tensordescs[0].block[0]: expected an integer in 1..65536, got 0");
  EXPECT_FEATURES_ERROR(variant(j, 1)["tensordescs"][0]["block"][1] = 65537,
                        "kernels[0].variants[1].tensordescs[0].block[1]: expected an integer in 1..65536, got 65537");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["swizzle"] = 4,
                        "kernels[0].variants[0].tensordescs[0].swizzle: expected an integer in 0..3, got 4");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["elem_size"] = 0,
                        "kernels[0].variants[0].tensordescs[0].elem_size: expected an integer in 1..16, got 0");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["elem_size"] = 17,
                        "kernels[0].variants[0].tensordescs[0].elem_size: expected an integer in 1..16, got 17");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["elem_type"] = 16,
                        "kernels[0].variants[0].tensordescs[0].elem_type: expected an integer in 0..15, got 16");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["box"] = Json::array({64, 64, 1}),
                        "kernels[0].variants[0].tensordescs[0].box: expected 2 integers, got 3");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["box"][1] = 257,
                        "kernels[0].variants[0].tensordescs[0].box[1]: expected an integer in 1..256, got 257");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["box"][0] = 0,
                        "kernels[0].variants[0].tensordescs[0].box[0]: expected an integer in 1..256, got 0");
  EXPECT_FEATURES_ERROR(variant(j)["tensordescs"][0]["fp4_padded"] = "no",
                        R"(kernels[0].variants[0].tensordescs[0].fp4_padded: expected true or false, got string "no")");
  // Every TMA field is required when tma is true, and none when it is false.
  const Json base = features_json();
  for (const char* key : {"swizzle", "elem_size", "elem_type", "box", "fp4_padded"}) {
    SCOPED_TRACE(key);
    Json j = base;
    variant(j)["tensordescs"][0].erase(key);
    EXPECT_THAT_STR(error_of_text(j.dump()), at + ": missing required field '" + key + "'");
  }
  EXPECT_FEATURES_ERROR(variant(j, 1)["tensordescs"][0]["tma"] = true,
                        "kernels[0].variants[1].tensordescs[0]: missing required field 'swizzle'");
  Json j = base;
  variant(j)["tensordescs"][0]["tma"] = false;
  const Manifest m = manifest_from_json(j.dump());
  EXPECT_FALSE(m.kernels[0].variants[0].tensordescs[0].tma);
  EXPECT_TRUE(m.kernels[0].variants[0].tensordescs[0].box.empty());
}

TEST(ManifestSchema, Resources) {
  EXPECT_FEATURES_ERROR(variant(j)["resources"]["registers"] = -2,
                        "kernels[0].variants[0].resources.registers: expected an integer in 0..2147483647, got -2");
  EXPECT_FEATURES_ERROR(variant(j)["resources"]["spill_loads"] = 2147483648,
                        "kernels[0].variants[0].resources.spill_loads: expected an integer in 0..2147483647, got 2147483648");
  EXPECT_FEATURES_ERROR(variant(j)["resources"]["spill_stores"] = 1.5,
                        "kernels[0].variants[0].resources.spill_stores: expected an integer in 0..2147483647, got 1.5");
  EXPECT_FEATURES_ERROR(variant(j)["resources"].erase("stack_frame"),
                        "kernels[0].variants[0].resources: missing required field 'stack_frame'");
  EXPECT_FEATURES_ERROR(variant(j)["resources"] = 40, "kernels[0].variants[0].resources: expected an object, got 40");
  // -1 is "unknown", as is no report at all.
  Json j = features_json();
  variant(j)["resources"]["registers"] = -1;
  variant(j, 1).erase("resources");
  const Manifest m = manifest_from_json(j.dump());
  EXPECT_EQ(m.kernels[0].variants[0].resources.registers, -1);
  EXPECT_EQ(m.kernels[0].variants[0].resources.stack_frame, 8);
  EXPECT_EQ(m.kernels[0].variants[1].resources.spill_loads, -1);
}

TEST(ManifestSchema, IrBlobs) {
  EXPECT_FEATURES_ERROR(variant(j)["ir_blobs"]["ptx"] = 1,
                        "kernels[0].variants[0].ir_blobs.ptx: expected a stage ttir, ttgir or llir");
  EXPECT_FEATURES_ERROR(variant(j)["ir_blobs"]["sass"] = 4,
                        "kernels[0].variants[0].ir_blobs.sass: expected a stage ttir, ttgir or llir");
  EXPECT_FEATURES_ERROR(variant(j)["ir_blobs"]["ttir"] = 1,
                        R"(kernels[0].variants[0].ir_blobs.ttir: blobs[1] has kind "ptx", expected "ttir")");
  EXPECT_FEATURES_ERROR(variant(j)["ir_blobs"]["ttgir"] = 4,
                        R"(kernels[0].variants[0].ir_blobs.ttgir: blobs[4] has kind "ttir", expected "ttgir")");
  EXPECT_FEATURES_ERROR(variant(j, 1)["ir_blobs"]["llir"] = 7,
                        "kernels[0].variants[1].ir_blobs.llir: expected -1 or a blob index in 0..6, got 7");
  EXPECT_FEATURES_ERROR(variant(j)["ir_blobs"] = Json::array({4}),
                        "kernels[0].variants[0].ir_blobs: expected an object, got an array");
  // The PTX and cubin slots take no IR blob either.
  EXPECT_FEATURES_ERROR(variant(j)["ptx_blob"] = 4,
                        R"(kernels[0].variants[0].ptx_blob: blobs[4] has kind "ttir", expected "ptx")");
}

TEST(ManifestSchema, KernelConstraints) {
  EXPECT_FEATURES_ERROR(kernel(j)["constraints"][1] = "R ==", "kernels[0].constraints[1]: invalid expression:");
  EXPECT_FEATURES_ERROR(kernel(j)["constraints"] = "n > 0",
                        R"(kernels[0].constraints: expected an array, got string "n > 0")");
  // Packs that kept constraints under "plugin" have them added to the kernel's.
  Json j = features_json();
  kernel(j)["plugin"] = Json::parse(R"({"name": "", "version": "1", "namespace": "", "rules": [],
                                        "constraints": ["n >= 1"]})");
  EXPECT_EQ(manifest_from_json(j.dump()).kernels[0].constraints,
            (std::vector<std::string>{"n <= M * BLOCK", "R == M", "n >= 1"}));
  kernel(j)["plugin"]["constraints"][0] = "n >=";
  EXPECT_THAT_STR(error_of_text(j.dump()), "kernels[0].plugin.constraints[0]: invalid expression:");
}

TEST(ManifestSchema, ConstexprValues) {
  const std::string not_a_value =
      R"(not a constexpr value (an integer, boolean, float, string, null or {"dtype": NAME}), got )";
  EXPECT_FEATURES_ERROR(variant(j)["constexprs"]["ACT"] = Json::array({"leaky_relu"}),
                        "kernels[0].variants[0].constexprs.ACT: " + not_a_value + "an array");
  EXPECT_FEATURES_ERROR(variant(j)["constexprs"]["OUT_T"]["extra"] = 1,
                        "kernels[0].variants[0].constexprs.OUT_T: " + not_a_value + "an object");
  EXPECT_FEATURES_ERROR(variant(j)["constexprs"]["OUT_T"]["dtype"] = 16,
                        "kernels[0].variants[0].constexprs.OUT_T: " + not_a_value + "an object");
  EXPECT_FEATURES_ERROR(variant(j)["constexprs"]["OUT_T"]["dtype"] = "float16",
                        "kernels[0].variants[0].constexprs.OUT_T: an unknown dtype, got an object");
  EXPECT_FEATURES_ERROR(variant(j)["constexprs"]["ACT"] = std::string(4097, 'a'),
                        "kernels[0].variants[0].constexprs.ACT: a string longer than 4096 bytes, got string \"aaaa");
  // Configs' constexprs are read the same way.
  EXPECT_MANIFEST_ERROR(kernel(j)["configs"][0]["constexprs"]["BLOCK"] = Json::array(),
                        "kernels[0].configs[0].constexprs.BLOCK: " + not_a_value + "an array");
  Json j = features_json();
  variant(j)["constexprs"]["ACT"] = std::string(4096, 'a');
  EXPECT_EQ(manifest_from_json(j.dump()).kernels[0].variants[0].constexprs[1].value.as_string().size(), 4096u);
  // JSON text has no NaN or infinity, and a number too large for a double does not parse, so a
  // non-finite float reaches constant_from_json only from a JSON value built in memory.
  EXPECT_THAT_STR(error_of_text(R"({"format": "tritonpack-manifest", "x": 1e999})"), "manifest is not valid JSON");
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    std::string why;
    EXPECT_FALSE(pack_format::constant_from_json(Json(bad), why).has_value());
    EXPECT_EQ(why, "a float that is not finite");
  }
  std::string why;
  EXPECT_EQ(pack_format::constant_from_json(Json(0.5), why), Constant(0.5));
  EXPECT_EQ(pack_format::constant_from_json(Json(std::string(4097, 'x')), why), std::nullopt);
  EXPECT_EQ(why, "a string longer than 4096 bytes");
  // Nor is one written: JSON would make it null, read back as None.
  Manifest m = tritonpack_test::make_features_pack().manifest;
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    m.kernels[0].variants[0].constexprs[0].value = Constant(bad);
    EXPECT_THAT_STR(testing::error_of([&] { manifest_to_json(m); }, ErrorCode::kInvalidArgument),
                    "a float constexpr must be finite, got ");
  }
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
