// A kernel's "tuning" object in the manifest (src/pack/tuning_json.cpp): the round trip, and every
// hostile table refused with a message naming its JSON path; the runtime's model refusing a key it
// cannot evaluate before a variant is chosen (src/runtime/model.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/model.h"
#include "test_manifest.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "tritonpack/tuning.h"

namespace tritonpack {
namespace {

using Json = nlohmann::ordered_json;

// The test pack's vector_add (T in fp16, fp32; n; BLOCK) with a second and third config and a
// tuning table: key n (pow2) and n / 4 (edges 16, 256), one shape, two tables.
Manifest tuned_manifest() {
  Manifest m = tritonpack_test::make_test_manifest();
  KernelInfo& k = m.kernels[0];
  ConfigInfo big = k.configs[0];
  big.name = "big";
  ConfigInfo small = k.configs[0];
  small.name = "small";
  k.configs = {k.configs[0], big, small};
  TuningInfo& t = k.tuning;
  t.key = {"n", "n / 4"};
  t.bins = {TuningBins{}, TuningBins{{16, 256}}};
  t.shapes = {TuningShape{{{"T", DType::kFp16}}, {{"n", 1000}}, {}},
              TuningShape{{{"T", DType::kFp32}}, {{"n", 100}}, {{"scale", 0.5}}}};
  TuningTable a;
  a.device = "GPU A";
  a.arch = 90;
  a.driver = "13.0";
  a.triton_version = "3.6.0";
  a.date = "2026-11-29T16:40:00Z";
  a.tool = "tritonpack 0.1.0";
  a.entries = {TuningEntry{{{"T", DType::kFp16}}, {10, 1}, {"big", "default"}, {1.25, 2.5}, {{"n", 1000}}},
               TuningEntry{{{"T", DType::kFp32}}, {7, 1}, {"small"}, {0.75}, {{"n", 100}}}};
  TuningTable b = a;
  b.device = "GPU B";
  b.arch = 80;
  b.entries.pop_back();
  t.tables = {a, b};
  return m;
}

Json tuned_json() { return Json::parse(manifest_to_json(tuned_manifest())); }
Json& tuning(Json& j) { return j["kernels"][0]["tuning"]; }
Json& entry(Json& j, int i = 0) { return j["kernels"][0]["tuning"]["tables"][0]["entries"][i]; }

std::string error_after(const std::function<void(Json&)>& mutate) {
  Json j = tuned_json();
  mutate(j);
  try {
    (void)manifest_from_json(j.dump());
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack);
    return e.what();
  }
  ADD_FAILURE() << "manifest accepted: " << j["kernels"][0]["tuning"].dump(1);
  return "";
}

#define EXPECT_TUNING_ERROR(mutation, golden)                                        \
  do {                                                                               \
    const std::string message_ = error_after([](Json& j) { mutation; });             \
    EXPECT_NE(message_.find(golden), std::string::npos) << message_;                 \
  } while (0)

TEST(TuningManifest, RoundTrip) {
  const Manifest m = tuned_manifest();
  const std::string text = manifest_to_json(m);
  const Manifest back = manifest_from_json(text);
  EXPECT_EQ(manifest_to_json(back), text);
  const TuningInfo& t = back.kernels[0].tuning;
  ASSERT_EQ(t.key, m.kernels[0].tuning.key);
  ASSERT_EQ(t.bins.size(), 2u);
  EXPECT_TRUE(t.bins[0].edges.empty());
  EXPECT_EQ(t.bins[1].edges, (std::vector<int64_t>{16, 256}));
  ASSERT_EQ(t.shapes.size(), 2u);
  EXPECT_EQ(t.shapes[1].bindings.at("T"), DType::kFp32);
  EXPECT_EQ(t.shapes[1].values.at("n"), 100);
  EXPECT_EQ(t.shapes[1].reals.at("scale"), 0.5);
  EXPECT_TRUE(t.shapes[0].reals.empty());
  ASSERT_EQ(t.tables.size(), 2u);
  const TuningTable& a = t.tables[0];
  EXPECT_EQ(a.device, "GPU A");
  EXPECT_EQ(a.arch, 90u);
  EXPECT_EQ(a.driver, "13.0");
  EXPECT_EQ(a.triton_version, "3.6.0");
  EXPECT_EQ(a.date, "2026-11-29T16:40:00Z");
  EXPECT_EQ(a.tool, "tritonpack 0.1.0");
  ASSERT_EQ(a.entries.size(), 2u);
  EXPECT_EQ(a.entries[0].bindings.at("T"), DType::kFp16);
  EXPECT_EQ(a.entries[0].bin, (std::vector<uint32_t>{10, 1}));
  EXPECT_EQ(a.entries[0].configs, (std::vector<std::string>{"big", "default"}));
  EXPECT_EQ(a.entries[0].times_us, (std::vector<double>{1.25, 2.5}));
  EXPECT_EQ(a.entries[0].values.at("n"), 1000);
  EXPECT_EQ(t.tables[1].arch, 80u);
  EXPECT_EQ(t.tables[1].entries.size(), 1u);

  // A kernel without a key writes no "tuning" object, and reads back without one.
  const std::string plain = manifest_to_json(tritonpack_test::make_test_manifest());
  EXPECT_EQ(Json::parse(plain)["kernels"][0].count("tuning"), 0u);
  EXPECT_TRUE(manifest_from_json(plain).kernels[0].tuning.key.empty());
  // A key with no table (compiled, not tuned yet) is kept.
  Manifest untuned = tuned_manifest();
  untuned.kernels[0].tuning.tables.clear();
  EXPECT_EQ(manifest_from_json(manifest_to_json(untuned)).kernels[0].tuning.key, untuned.kernels[0].tuning.key);
}

TEST(TuningManifest, VersionKeyAndBins) {
  EXPECT_TUNING_ERROR(tuning(j)["version"] = 2,
                      "kernels[0].tuning.version: tuning version 2 is newer than this tritonpack reads (1); upgrade "
                      "tritonpack");
  EXPECT_TUNING_ERROR(tuning(j)["version"] = 0, "kernels[0].tuning.version: expected a version number >= 1, got 0");
  EXPECT_TUNING_ERROR(tuning(j).erase("version"), "kernels[0].tuning: missing required field 'version'");
  EXPECT_TUNING_ERROR(tuning(j)["key"] = Json::array(), "kernels[0].tuning.key: expected 1 to 4 expressions, got 0");
  EXPECT_TUNING_ERROR(tuning(j)["key"] = Json::array({"n", "n", "n", "n", "n"}),
                      "kernels[0].tuning.key: expected 1 to 4 expressions, got 5");
  EXPECT_TUNING_ERROR(tuning(j)["key"][1] = "n /", "kernels[0].tuning.key[1]: invalid expression: ");
  EXPECT_TUNING_ERROR(tuning(j)["key"][1] = 4, "kernels[0].tuning.key[1]: expected a string");
  EXPECT_TUNING_ERROR(tuning(j)["bins"].erase(1), "kernels[0].tuning.bins: has 1 entries, the key has 2");
  EXPECT_TUNING_ERROR(tuning(j)["bins"][1]["edges"] = Json::array({16, 16}),
                      "kernels[0].tuning.bins[1].edges[1]: 16 is not above the edge before it; edges ascend strictly");
  EXPECT_TUNING_ERROR(tuning(j)["bins"][1]["edges"] = Json::array({256, 16}),
                      "kernels[0].tuning.bins[1].edges[1]: 16 is not above the edge before it");
  EXPECT_TUNING_ERROR(tuning(j)["bins"][1]["edges"] = Json(std::vector<int>(65, 0)),
                      "kernels[0].tuning.bins[1].edges: has 65 edges, over the limit of 64");
  EXPECT_TUNING_ERROR(tuning(j)["bins"][1]["edges"][0] = 1.5, "kernels[0].tuning.bins[1].edges[0]: expected an integer");
}

TEST(TuningManifest, Shapes) {
  EXPECT_TUNING_ERROR(tuning(j)["shapes"][0]["bindings"] = Json::object(),
                      "kernels[0].tuning.shapes[0].bindings: missing type variable \"T\"");
  EXPECT_TUNING_ERROR(tuning(j)["shapes"][0]["bindings"]["U"] = "fp16",
                      "kernels[0].tuning.shapes[0].bindings.U: \"U\" is not a type variable of kernel \"vector_add\"");
  EXPECT_TUNING_ERROR(tuning(j)["shapes"][0]["values"]["n"] = "many", "kernels[0].tuning.shapes[0].values.n: expected an integer");
  EXPECT_TUNING_ERROR(tuning(j)["shapes"][0]["values"]["not a name"] = 1,
                      "kernels[0].tuning.shapes[0].values.not a name: expected an identifier");
  EXPECT_TUNING_ERROR(tuning(j)["shapes"][1]["reals"]["scale"] = nullptr,
                      "kernels[0].tuning.shapes[1].reals.scale: expected a finite number, got null");
  EXPECT_TUNING_ERROR(tuning(j)["shapes"] = Json(std::vector<Json>(4097, tuning(j)["shapes"][0])),
                      "kernels[0].tuning.shapes: more than 4096 shapes");
}

TEST(TuningManifest, Entries) {
  const std::string e0 = "kernels[0].tuning.tables[0].entries[0]";
  EXPECT_TUNING_ERROR(entry(j)["bin"] = Json::array({10}), e0 + ".bin: has 1 bins, the key has 2 values");
  EXPECT_TUNING_ERROR(entry(j)["bin"] = Json::array({10, 1, 1}), e0 + ".bin: has 3 bins, the key has 2 values");
  // pow2: bins 0..63; edges 16, 256: bins 0..2.
  EXPECT_TUNING_ERROR(entry(j)["bin"][0] = 64, e0 + ".bin[0]: expected an integer in 0..63, got 64");
  EXPECT_TUNING_ERROR(entry(j)["bin"][1] = 3, e0 + ".bin[1]: expected an integer in 0..2, got 3");
  EXPECT_TUNING_ERROR(entry(j)["bin"][1] = -1, e0 + ".bin[1]: expected an integer in 0..2, got -1");
  EXPECT_TUNING_ERROR(entry(j)["configs"][0] = "huge",
                      e0 + ".configs[0]: unknown config \"huge\"; the kernel's configs are default, big, small");
  EXPECT_TUNING_ERROR(entry(j)["configs"][1] = "big", e0 + ".configs[1]: config \"big\" is listed twice");
  EXPECT_TUNING_ERROR(entry(j)["configs"] = Json::array(), e0 + ".configs: an entry names at least one config");
  EXPECT_TUNING_ERROR(entry(j)["times_us"].erase(1), e0 + ".times_us: has 1 times for 2 configs");
  EXPECT_TUNING_ERROR(entry(j)["times_us"][1] = -0.5, e0 + ".times_us[1]: expected a finite time >= 0, got -0.5");
  // JSON has no NaN: a NaN written by nlohmann is null (and 1e999 is refused by the JSON parser).
  EXPECT_TUNING_ERROR(entry(j)["times_us"][0] = std::nan(""), e0 + ".times_us[0]: expected a finite time >= 0, got null");
  EXPECT_TUNING_ERROR(entry(j)["times_us"][0] = "1", e0 + ".times_us[0]: expected a finite time >= 0");
  EXPECT_TUNING_ERROR(entry(j)["bindings"] = Json::object(), e0 + ".bindings: missing type variable \"T\"");
  EXPECT_TUNING_ERROR(entry(j)["bindings"]["T"] = "bf16",
                      e0 + ".bindings.T: \"bf16\" is not one of T's dtypes (fp16, fp32)");
  EXPECT_TUNING_ERROR(entry(j)["bindings"]["T"] = "fp99",
                      e0 + ".bindings.T: \"fp99\" is not one of T's dtypes (fp16, fp32)");
  EXPECT_TUNING_ERROR(entry(j).erase("values"), e0 + ": missing required field 'values'");
  // The same bin and dtypes twice; the same bin with other dtypes is another entry.
  EXPECT_TUNING_ERROR(entry(j, 1)["bin"] = entry(j, 0)["bin"]; entry(j, 1)["bindings"] = entry(j, 0)["bindings"],
                      "kernels[0].tuning.tables[0].entries[1].bin: a second entry for the same bin and dtypes");
  Json j = tuned_json();
  entry(j, 1)["bin"] = entry(j, 0)["bin"];
  EXPECT_NO_THROW((void)manifest_from_json(j.dump()));
}

TEST(TuningManifest, Tables) {
  const std::string t0 = "kernels[0].tuning.tables[0]";
  EXPECT_TUNING_ERROR(tuning(j)["tables"][1]["device"] = "GPU A",
                      "kernels[0].tuning.tables[1].device: a second table for device \"GPU A\"");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0]["device"] = "", t0 + ".device: expected the GPU's name");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0]["device"] = "GPU\nA", t0 + ".device: expected printable ASCII");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0]["date"] = std::string(257, 'x'), t0 + ".date: ");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0]["arch"] = 49, t0 + ".arch: expected an integer in 50..200, got 49");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0]["arch"] = 201, t0 + ".arch: expected an integer in 50..200, got 201");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0].erase("tool"), t0 + ": missing required field 'tool'");
  EXPECT_TUNING_ERROR(tuning(j)["tables"] = Json(std::vector<Json>(65, Json::object())),
                      "kernels[0].tuning.tables: more than 64 tables");
  EXPECT_TUNING_ERROR(tuning(j)["tables"][0]["entries"] = Json(std::vector<Json>(4097, Json::object())),
                      t0 + ".entries: more than 4096 entries");
}

// The runtime expands a table into grids, one per dtype binding, over the span of bins the
// entries measured on each key; a table whose grids would have more than kMaxCells cells in all is
// refused when read, so a hostile pack cannot make the runtime allocate them.
TEST(TuningManifest, GridCellsAreLimited) {
  // Four pow2 keys; entries for T=fp16 at the given bins (the same on every key), then for fp32.
  auto with_entries = [](const std::vector<uint32_t>& fp16, const std::vector<uint32_t>& fp32 = {}) {
    Json j = tuned_json();
    Json& t = tuning(j);
    t["key"] = Json::array({"n", "n + 1", "n + 2", "n + 3"});
    t["bins"] = Json::array({Json{{"edges", Json::array()}}, Json{{"edges", Json::array()}},
                             Json{{"edges", Json::array()}}, Json{{"edges", Json::array()}}});
    Json entries = Json::array();
    for (const auto& [bins, dtype] : {std::pair{fp16, "fp16"}, std::pair{fp32, "fp32"}}) {
      for (uint32_t b : bins) {
        Json e = entry(j, 0);
        e["bin"] = Json::array({b, b, b, b});
        e["bindings"]["T"] = dtype;
        entries.push_back(e);
      }
    }
    t["tables"] = Json::array({t["tables"][0]});
    t["tables"][0]["entries"] = entries;
    return j.dump();
  };
  auto refusal = [](const std::string& text) {
    try {
      (void)manifest_from_json(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruptPack);
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted";
    return std::string();
  };
  std::vector<uint32_t> diagonal;
  for (uint32_t b = 0; b < 32; ++b) diagonal.push_back(b);
  // 32 bins on each of 4 keys: 2^20 cells, the limit, whether every bin has an entry or two do.
  EXPECT_NO_THROW((void)manifest_from_json(with_entries(diagonal)));
  EXPECT_NO_THROW((void)manifest_from_json(with_entries({0, 31})));
  diagonal.push_back(32);
  EXPECT_NE(refusal(with_entries(diagonal)).find("kernels[0].tuning.tables[0].entries[32]: the entries span more than 1048576"),
            std::string::npos);
  EXPECT_NE(refusal(with_entries({0, 32})).find("kernels[0].tuning.tables[0].entries[1]: the entries span more than 1048576"),
            std::string::npos);
  // The grids of all dtype bindings count together: fp32's one cell is one too many.
  EXPECT_NE(refusal(with_entries({0, 31}, {5})).find("kernels[0].tuning.tables[0].entries[2]: the entries span more"),
            std::string::npos);
  EXPECT_NO_THROW((void)manifest_from_json(with_entries({0, 30}, {5, 6})));
}

// serialize_pack validates with the reader's rules: a table the reader would refuse is not written.
TEST(TuningManifest, AnInvalidTableIsNotWritten) {
  tritonpack_test::TestPack t = tritonpack_test::make_test_pack();
  t.manifest.kernels = tuned_manifest().kernels;
  EXPECT_NO_THROW((void)serialize_pack(t.manifest, t.blobs));
  t.manifest.kernels[0].tuning.tables[0].entries[0].times_us[0] = std::nan("");
  try {
    (void)serialize_pack(t.manifest, t.blobs);
    ADD_FAILURE() << "a NaN time was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("refusing to write an invalid manifest"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("times_us[0]"), std::string::npos) << e.what();
  }
}

// The manifest reader checks a key's syntax; which names it may use is the runtime's model's to
// know (a constexpr is fixed by the variant, which the key helps choose): a pack whose key names
// one is corrupt.
TEST(TuningManifest, TheModelRefusesAKeyItCannotEvaluateBeforeTheVariant) {
  auto model_error = [](const std::string& key) {
    Manifest m = tuned_manifest();
    m.kernels[0].tuning.key[1] = key;
    const Manifest read = manifest_from_json(manifest_to_json(m));  // the reader lets it through
    try {
      (void)runtime::build_model(read.kernels[0]);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruptPack);
      return std::string(e.what());
    }
    ADD_FAILURE() << "key " << key << " accepted";
    return std::string();
  };
  std::string message = model_error("BLOCK");
  EXPECT_NE(message.find("tuning.key[1]: 'BLOCK' is a constexpr; a key is known before the variant"), std::string::npos)
      << message;
  EXPECT_NE(model_error("n * BLOCK").find("tuning.key[1]: 'BLOCK' is a constexpr"), std::string::npos);
  EXPECT_NE(model_error("nope + 1").find("tuning.key[1]"), std::string::npos);
  // The tensors, by contrast, are fine to look at only through their dims.
  EXPECT_NE(model_error("x").find("tuning.key[1]"), std::string::npos);
  // What the model keeps for a valid key.
  const Manifest m = tuned_manifest();
  const runtime::KernelModel model = runtime::build_model(m.kernels[0]);
  EXPECT_EQ(model.tuning.programs.size(), 2u);
  EXPECT_EQ(model.tuning.dims_needed, 0u);
  EXPECT_EQ(model.tuning.type_var_args, (std::vector<uint32_t>{0}));  // T types x, argument 0
}

}  // namespace
}  // namespace tritonpack
