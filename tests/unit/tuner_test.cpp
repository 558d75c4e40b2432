// The entries `tritonpack tune` makes from its measurements (harness::entries_from, pure): one per
// dtype binding and bins, the configs right on every launch of it, fastest first by the geometric
// mean of their times. The kernel is tests/fault/tuned_fixture.h's (configs c0, c1, c2).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault/tuned_fixture.h"
#include "harness/tuner.h"

namespace tritonpack::testing {
namespace {

struct Measured {
  uint32_t config;
  double us;          // 0: did not run
  bool correct = true;
};

harness::ShapeMeasurement shape(const char* t, std::vector<uint32_t> bin, int64_t n, std::vector<Measured> configs,
                                std::string skipped = "") {
  harness::ShapeMeasurement s;
  s.shape.bindings = {{"T", *parse_dtype(t)}};
  s.shape.values = {{"n", n}, {"M", 100}};
  s.bin = std::move(bin);
  for (const Measured& m : configs) {
    harness::ConfigMeasurement c;
    c.config = m.config;
    c.ran = m.us > 0;
    c.correct = m.correct && m.us > 0;
    c.median_us = m.us;
    s.configs.push_back(c);
  }
  s.skipped = std::move(skipped);
  return s;
}

TEST(TunerEntries, OneEntryPerBindingAndBinsInTheOrderFirstReached) {
  const KernelInfo k = tuned_kernel();
  const std::vector<TuningEntry> entries = harness::entries_from(
      k, {shape("fp16", {10, 1}, 1000, {{0, 3}, {1, 2}, {2, 1}}), shape("fp32", {10, 1}, 1000, {{0, 1}}),
          shape("fp16", {11, 1}, 2000, {{0, 1}}), shape("fp16", {10, 1}, 600, {{0, 3}, {1, 2}, {2, 1}})});
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].bindings.at("T"), DType::kFp16);
  EXPECT_EQ(entries[0].bin, (std::vector<uint32_t>{10, 1}));
  EXPECT_EQ(entries[0].values.at("n"), 1000) << "the first launch of the entry";
  EXPECT_EQ(entries[0].configs, (std::vector<std::string>{"c2", "c1", "c0"}));
  EXPECT_EQ(entries[0].times_us, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(entries[1].bindings.at("T"), DType::kFp32);
  EXPECT_EQ(entries[1].bin, (std::vector<uint32_t>{10, 1}));
  EXPECT_EQ(entries[2].bin, (std::vector<uint32_t>{11, 1}));
  EXPECT_EQ(entries[2].configs, (std::vector<std::string>{"c0"}));
}

TEST(TunerEntries, RankedByTheGeometricMeanOfTheConfigsRightOnEveryLaunch) {
  const KernelInfo k = tuned_kernel();
  // Two launches in one bin. c0: 4 and 16 us (geometric mean 8, arithmetic 10); c1: 9 and 9;
  // c2 is the fastest on the first launch and wrong on the second.
  std::vector<TuningEntry> entries = harness::entries_from(
      k, {shape("fp16", {10, 1}, 1000, {{0, 4}, {1, 9}, {2, 1}}),
          shape("fp16", {10, 1}, 700, {{0, 16}, {1, 9}, {2, 1, false}})});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].configs, (std::vector<std::string>{"c0", "c1"}));
  ASSERT_EQ(entries[0].times_us.size(), 2u);
  EXPECT_DOUBLE_EQ(entries[0].times_us[0], 8);
  EXPECT_DOUBLE_EQ(entries[0].times_us[1], 9);

  // A config that did not run on one launch, or was not measured on it, is not right everywhere.
  entries = harness::entries_from(k, {shape("fp16", {10, 1}, 1000, {{0, 4}, {1, 9}, {2, 1}}),
                                      shape("fp16", {10, 1}, 700, {{0, 16}, {2, 0}})});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].configs, (std::vector<std::string>{"c0"}));

  // Equal times keep spec order; times are rounded to the nanosecond.
  entries = harness::entries_from(k, {shape("fp16", {10, 1}, 1000, {{0, 5}, {1, 2.00004}, {2, 2.00004}})});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].configs, (std::vector<std::string>{"c1", "c2", "c0"}));
  EXPECT_EQ(entries[0].times_us, (std::vector<double>{2, 2, 5}));
}

TEST(TunerEntries, ABinWhereNothingIsRightGetsNoEntryAndSkippedLaunchesCountForNothing) {
  const KernelInfo k = tuned_kernel();
  const std::vector<TuningEntry> entries = harness::entries_from(
      k, {shape("fp16", {10, 1}, 1000, {{0, 4, false}, {1, 9, false}}),     // wrong everywhere
          shape("fp16", {12, 1}, 3000, {{0, 4}}, "nothing can run it"),     // skipped alone
          shape("fp16", {11, 1}, 2000, {{0, 4}, {1, 3}}),
          shape("fp16", {11, 1}, 2100, {{0, 1, false}}, "skipped: its c0 is not held against c0")});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].bin, (std::vector<uint32_t>{11, 1}));
  EXPECT_EQ(entries[0].configs, (std::vector<std::string>{"c1", "c0"}));
  EXPECT_TRUE(harness::entries_from(k, {}).empty());
}

// What entries_from makes, the manifest reader takes: a table of them is valid.
TEST(TunerEntries, TheEntriesMakeAValidTable) {
  const KernelInfo k = tuned_kernel();
  TuningTable table = tuned_table("GPU", 90, harness::entries_from(
      k, {shape("fp16", {10, 1}, 1000, {{0, 4}, {1, 9}, {2, 1}}), shape("fp32", {3, 0}, 5, {{1, 0.25}})}));
  const Manifest back = fake_pack(tuned_manifest({table}), "tuned.tpack")->manifest();
  ASSERT_EQ(back.kernels[0].tuning.tables.size(), 1u);
  EXPECT_EQ(back.kernels[0].tuning.tables[0].entries.size(), 2u);
}

// `tritonpack tune --shape`: values by name, float scalars apart, dtypes checked, the rest refused.
TEST(TunerShapeText, ParsesWhatTheRunTakesAndRefusesTheRest) {
  KernelInfo k = tuned_kernel();
  ParamInfo scale;
  scale.name = "scale";
  scale.kind = ParamKind::kScalar;
  scale.dtype = DTypeRef::of(DType::kFp32);
  k.params.push_back(scale);
  const std::string integer = [&] {
    for (const ParamInfo& p : k.params) {
      if (p.kind == ParamKind::kScalar && !p.dtype.is_variable() && !is_float(p.dtype.dtype)) return p.name;
    }
    return std::string();
  }();
  ASSERT_FALSE(integer.empty());
  ASSERT_FALSE(k.type_vars.empty());
  const TypeVarInfo& var = k.type_vars.front();
  const TuningShape s = harness::parse_tuning_shape(k, integer + "=4096, scale=0.5 " + var.name + "=" +
                                                           std::string(dtype_name(var.dtypes.back())));
  EXPECT_EQ(s.values.at(integer), 4096);
  EXPECT_DOUBLE_EQ(s.reals.at("scale"), 0.5);
  EXPECT_EQ(s.bindings.at(var.name), var.dtypes.back());
  // Not given: a type variable takes its first dtype.
  EXPECT_EQ(harness::parse_tuning_shape(k, integer + "=1").bindings.at(var.name), var.dtypes.front());
  const auto error = [&](const std::string& text) {
    try {
      (void)harness::parse_tuning_shape(k, text);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("nope=3").find("'nope' is not a scalar, launch variable, dim name or type variable"), std::string::npos);
  EXPECT_NE(error(integer + "=3.5").find("'3.5' is not an integer"), std::string::npos);
  EXPECT_NE(error("scale=x").find("'x' is not a number"), std::string::npos);
  EXPECT_NE(error(integer + "=1," + integer + "=2").find("given twice"), std::string::npos);
  EXPECT_NE(error(var.name + "=i64").find("is not one of the dtypes of type variable"), std::string::npos);
  EXPECT_NE(error(" , ").find("no NAME=VALUE"), std::string::npos);
  EXPECT_NE(error(integer).find("is not NAME=VALUE"), std::string::npos);
}

}  // namespace
}  // namespace tritonpack::testing
