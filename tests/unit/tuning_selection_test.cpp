// Selection with a tuning table (src/runtime/selection.cpp: plan_tuning, tuned_entry,
// for_each_tuned_config, describe_tuning), through Kernel's tool queries for a device of a given arch
// and GPU model (LaunchOptions::tuning_device): no driver, no GPU. The kernel is tests/fault/
// tuned_fixture.h's: configs c0, c1, c2, spec order c0 first; key n (pow2) and M (bins < 64,
// 64..255, >= 256).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault/tuned_fixture.h"
#include "runtime/model.h"
#include "runtime/selection.h"
#include "tritonpack/error.h"

namespace tritonpack::testing {
namespace {

// The config `k` runs for `launch` on an sm_`arch` device of GPU model `device`.
std::string chosen(const Kernel& k, const TunedLaunch& launch, uint32_t arch = 90, LaunchOptions options = {},
                   std::string_view device = "") {
  options.tuning_device = device;
  return config_of(k, k.select_for_arch(launch.args, arch, options));
}

// The explanation's tuning line ("tuning: ...").
std::string tuning_line(Kernel& k, const TunedLaunch& launch, uint32_t arch = 90, LaunchOptions options = {},
                        std::string_view device = "") {
  options.tuning_device = device;
  const std::string summary = k.explain(launch.args, options, arch).summary;
  const size_t at = summary.find("tuning: ");
  if (at == std::string::npos) return "(no tuning line) " + summary;
  return summary.substr(at, summary.find('\n', at) - at);
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(TunedSelection, TheEntrysFirstConfigRuns) {
  const TunedLaunch launch(1000, 100);  // bins n 512..1023 (10), M 64..255 (1)
  Kernel untuned(tuned_pack({}), "tuned");
  EXPECT_EQ(chosen(untuned, launch), "c0");
  EXPECT_EQ(tuning_line(untuned, launch),
            "tuning: no table for this device (sm_90; the pack has 0); configs in spec order");

  Kernel k(tuned_pack({tuned_table("GPU B", 90, {entry_at(10, 1, {"c2", "c0", "c1"})})}), "tuned");
  EXPECT_EQ(chosen(k, launch), "c2");
  EXPECT_EQ(chosen(k, launch, 90, {}, "GPU B"), "c2");
  EXPECT_EQ(k.explain(launch.args, {}, 90).chosen->config_index, 2u);
  EXPECT_EQ(tuning_line(k, launch, 90, {}, "GPU B"),
            "tuning: table 'GPU B' (sm_90, this GPU model, tuned 2026-11-29T16:40:00Z); key n = 1000 (bin "
            "512..1023), M = 100 (bin 64..255); entry 0 (n 512..1023, M 64..255): c2 1 us, c0 2 us, c1 3 us");

  // Candidates (what the plugin core plans with) come in the same order: the entry's ranking, each
  // config's variants in plan order.
  const std::vector<Selection> candidates = k.candidates(launch.args, {}, 90);
  std::vector<std::string> order;
  for (const Selection& s : candidates) order.push_back(config_of(k, s));
  EXPECT_EQ(order, (std::vector<std::string>{"c2", "c0", "c1"}));
  // A config the entry does not rank still runs after those it does, in spec order.
  Kernel partial(tuned_pack({tuned_table("GPU B", 90, {entry_at(10, 1, {"c1"})})}), "tuned");
  order.clear();
  for (const Selection& s : partial.candidates(launch.args, {}, 90)) order.push_back(config_of(partial, s));
  EXPECT_EQ(order, (std::vector<std::string>{"c1", "c0", "c2"}));
}

TEST(TunedSelection, ALaunchInAnUnmeasuredBinTakesTheNearestEntry) {
  // Entries at n bins 12 (2048..4095) and 18 (262144..524287), M bin 1.
  Kernel k(tuned_pack({tuned_table("GPU", 90, {entry_at(12, 1, {"c1"}), entry_at(18, 1, {"c2"})})}), "tuned");
  EXPECT_EQ(chosen(k, TunedLaunch(3000, 100)), "c1");   // bin 12: exact
  EXPECT_HAS(tuning_line(k, TunedLaunch(3000, 100)), "; entry 0 (n 2048..4095, M 64..255): c1 1 us");
  EXPECT_EQ(chosen(k, TunedLaunch(20000, 100)), "c1");  // bin 15: 3 bins from each, the first entry
  EXPECT_HAS(tuning_line(k, TunedLaunch(20000, 100)), "; nearest entry 0 (n 2048..4095, M 64..255)");
  EXPECT_EQ(chosen(k, TunedLaunch(40000, 100)), "c2");  // bin 16: 2 from entry 1
  EXPECT_HAS(tuning_line(k, TunedLaunch(40000, 100)), "; nearest entry 1 (n 131072..262143, M 64..255)");
  EXPECT_EQ(chosen(k, TunedLaunch(300, 100)), "c1");    // bin 9: below every entry
  EXPECT_EQ(chosen(k, TunedLaunch(int64_t{1} << 30, 100)), "c2");  // above every entry
  EXPECT_EQ(chosen(k, TunedLaunch(3000, 1000)), "c1");  // M in a bin no entry has: n decides
  EXPECT_HAS(tuning_line(k, TunedLaunch(3000, 1000)), "M = 1000 (bin >= 256); nearest entry 0");

  // The distance is summed over the keys: entry 1 is nearer to (n bin 15, M bin 2) than entry 0,
  // 4 bins against 3 + 2, though n alone is nearer to entry 0.
  Kernel two(tuned_pack({tuned_table("GPU", 90, {entry_at(12, 0, {"c1"}), entry_at(19, 2, {"c2"})})}), "tuned");
  EXPECT_EQ(chosen(two, TunedLaunch(20000, 1000)), "c2");
  EXPECT_HAS(tuning_line(two, TunedLaunch(20000, 1000)), "; nearest entry 1 (n 262144..524287, M >= 256)");
  EXPECT_EQ(chosen(two, TunedLaunch(20000, 10)), "c1");  // (15, 0): 3 against 4 + 2
  // Ties anywhere in the grid go to the first entry, whatever the order of the bins.
  Kernel tie(tuned_pack({tuned_table("GPU", 90, {entry_at(18, 1, {"c2"}), entry_at(12, 1, {"c1"})})}), "tuned");
  EXPECT_EQ(chosen(tie, TunedLaunch(20000, 100)), "c2");
}

TEST(TunedSelection, ALaunchWhoseDtypesHaveNoEntryRunsInSpecOrder) {
  Kernel k(tuned_pack({tuned_table("GPU", 90, {entry_at(10, 1, {"c2"})})}), "tuned");
  const TunedLaunch fp32(1000, 100, DType::kFp32);
  EXPECT_EQ(chosen(k, fp32), "c0");
  EXPECT_HAS(tuning_line(k, fp32), "; no entry for these dtypes: configs in spec order");
  // An fp32 entry serves fp32 launches only.
  Kernel both(tuned_pack({tuned_table("GPU", 90, {entry_at(10, 1, {"c2"}), entry_at(3, 0, {"c1"}, "fp32")})}), "tuned");
  EXPECT_EQ(chosen(both, fp32), "c1");
  EXPECT_EQ(chosen(both, TunedLaunch(1000, 100)), "c2");
}

TEST(TunedSelection, WhichTableADeviceUses) {
  Kernel k(tuned_pack({tuned_table("GPU A", 90, {entry_at(10, 1, {"c1"})}),
                       tuned_table("GPU B", 90, {entry_at(10, 1, {"c2"})}),
                       tuned_table("GPU C", 80, {entry_at(10, 1, {"c2", "c1"})})}),
           "tuned");
  const TunedLaunch launch(1000, 100);
  EXPECT_EQ(chosen(k, launch, 90, {}, "GPU B"), "c2");  // its own GPU model's table
  EXPECT_HAS(tuning_line(k, launch, 90, {}, "GPU B"), "table 'GPU B' (sm_90, this GPU model,");
  EXPECT_EQ(chosen(k, launch, 90, {}, "GPU Z"), "c1");  // another model: the first table of its arch
  EXPECT_HAS(tuning_line(k, launch, 90, {}, "GPU Z"), "table 'GPU A' (sm_90, same arch,");
  EXPECT_EQ(chosen(k, launch, 90), "c1");
  EXPECT_EQ(chosen(k, launch, 80), "c2");               // the sm_80 variants, GPU C's table
  EXPECT_HAS(tuning_line(k, launch, 80), "table 'GPU C' (sm_80, same arch,");
  EXPECT_EQ(chosen(k, launch, 89), "c0");               // no sm_89 table: spec order
  EXPECT_EQ(tuning_line(k, launch, 89, {}, "GPU Y"),
            "tuning: no table for this device ('GPU Y', sm_89; the pack has 3); configs in spec order");

  // The same answers from the planning functions themselves.
  const runtime::KernelModel model = runtime::build_model(k.info());
  runtime::DeviceCaps caps = runtime::caps_for_arch(90);
  caps.name = "GPU B";
  EXPECT_EQ(runtime::plan_tuning(model, caps).table, 1);
  EXPECT_TRUE(runtime::plan_tuning(model, caps).by_device);
  caps.name = "GPU Z";
  EXPECT_EQ(runtime::plan_tuning(model, caps).table, 0);
  EXPECT_FALSE(runtime::plan_tuning(model, caps).by_device);
  EXPECT_EQ(runtime::plan_tuning(model, runtime::caps_for_arch(80)).table, 2);
  caps = runtime::caps_for_arch(80);
  caps.name = "GPU B";  // a name is its table's only on the table's arch
  EXPECT_EQ(runtime::plan_tuning(model, caps).table, 2);
  EXPECT_FALSE(runtime::plan_tuning(model, caps).by_device);
  EXPECT_EQ(runtime::plan_tuning(model, runtime::caps_for_arch(89)).table, -1);
}

TEST(TunedSelection, AnExplicitChoiceOverridesTheTable) {
  Kernel k(tuned_pack({tuned_table("GPU", 90, {entry_at(10, 1, {"c2", "c0", "c1"})})}), "tuned");
  const TunedLaunch launch(1000, 100);
  LaunchOptions config;
  config.config = "c1";
  EXPECT_EQ(chosen(k, launch, 90, config), "c1");
  config.config = "c0";
  EXPECT_EQ(chosen(k, launch, 90, config), "c0");
  EXPECT_HAS(tuning_line(k, launch, 90, config), "; an explicit config or variant overrides it");

  LaunchOptions variant;
  variant.variant_id = 3;  // c1, fp16, sm_90a
  EXPECT_EQ(k.select_for_arch(launch.args, 90, variant).variant->id, 3u);
  EXPECT_HAS(tuning_line(k, launch, 90, variant), "; an explicit config or variant overrides it");

  LaunchOptions ignore;
  ignore.use_tuning = false;
  EXPECT_EQ(chosen(k, launch, 90, ignore), "c0");
  EXPECT_HAS(tuning_line(k, launch, 90, ignore), "; ignored (use_tuning = false): configs in spec order");
  std::vector<std::string> order;
  for (const Selection& s : k.candidates(launch.args, ignore, 90)) order.push_back(config_of(k, s));
  EXPECT_EQ(order, (std::vector<std::string>{"c0", "c1", "c2"}));
}

TEST(TunedSelection, APinRestrictsTheTunedOrder) {
  // c0 ranked first; c2 before c1. SPLIT is 1 in c0, 2 in c1 and c2; BLOCK differs in each.
  Kernel k(tuned_pack({tuned_table("GPU", 90, {entry_at(10, 1, {"c0", "c2", "c1"})})}), "tuned");
  const TunedLaunch launch(1000, 100);
  const ConstexprValue split2[] = {{"SPLIT", 2}};
  LaunchOptions pinned;
  pinned.pinned = split2;
  EXPECT_EQ(chosen(k, launch, 90, pinned), "c2");  // the entry's next config with SPLIT=2
  pinned.use_tuning = false;
  EXPECT_EQ(chosen(k, launch, 90, pinned), "c1");  // spec order's first with SPLIT=2
  const ConstexprValue block128[] = {{"BLOCK", 128}};
  LaunchOptions block;
  block.pinned = block128;
  EXPECT_EQ(chosen(k, launch, 90, block), "c1");
  // The tuning line still names the entry: the pin only filters its ranking.
  EXPECT_HAS(tuning_line(k, launch, 90, block), "; entry 0 (n 512..1023, M 64..255): c0 1 us, c2 2 us, c1 3 us");
}

TEST(TunedSelection, AConfigThatRefusesTheLaunchGivesWayToTheNextInTheRanking) {
  // n = 200: c2's BLOCK 256 breaks the rule BLOCK <= n.
  Kernel k(tuned_pack({tuned_table("GPU", 90, {entry_at(8, 1, {"c2", "c1", "c0"})})}), "tuned");
  const TunedLaunch launch(200, 100);
  EXPECT_EQ(chosen(k, launch), "c1");
  const Kernel::Explanation e = k.explain(launch.args, {}, 90);
  ASSERT_GE(e.lines.size(), 4u);
  EXPECT_HAS(e.lines[0], "config c2");  // the entry's order: c2's variants first
  EXPECT_HAS(e.lines[0], "rule 'BLOCK <= n' does not hold: BLOCK=256, n=200");
  EXPECT_HAS(e.text(), "config c1, x%16, y%16, sm_90): chosen");
  // The tuning line on its own, without the label (tritonpack shapes prints it as is).
  EXPECT_EQ(e.tuning.rfind("table 'GPU' (sm_90", 0), 0u) << e.tuning;
  EXPECT_HAS(e.summary, "\n  tuning: " + e.tuning);
  EXPECT_EQ(Kernel(tuned_pack({}), "tuned").explain(launch.args, {}, 90).tuning.rfind("no table for this device", 0), 0u);
  // Nothing in the ranking can run it: the no-match error shows the tuning line too.
  const TunedLaunch tiny(10, 100);
  Kernel small(tuned_pack({tuned_table("GPU", 90, {entry_at(3, 1, {"c2", "c1", "c0"})})}), "tuned");
  try {
    (void)small.select_for_arch(tiny.args, 90);
    ADD_FAILURE() << "n = 10 selected a variant";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kNoMatchingVariant);
    EXPECT_HAS(std::string(err.what()), "tuning: table 'GPU' (sm_90, same arch, tuned 2026-11-29T16:40:00Z); key n = 10");
  }
}

TEST(TunedSelection, AKeyThatCannotBeEvaluatedLeavesSpecOrder) {
  Kernel k(tuned_pack({tuned_table("GPU", 90, {entry_at(10, 1, {"c2"}), entry_at(10, 0, {"c1"})})}), "tuned");
  // Without the tensors' shapes M is unknown.
  const TunedLaunch unshaped(1000, 100, DType::kFp16, false);
  EXPECT_EQ(chosen(k, unshaped), "c0");
  EXPECT_HAS(tuning_line(k, unshaped),
             "; the key needs the shapes of the tensors (not given): configs in spec order");
  EXPECT_EQ(chosen(k, TunedLaunch(1000, 100)), "c2");

  // A key that divides by zero for this launch.
  Manifest m = tuned_manifest({tuned_table("GPU", 90, {entry_at(10, 1, {"c2"})})});
  m.kernels[0].tuning.key[1] = "M / (n - 1000)";
  Kernel divides(fake_pack(m, "tuned.tpack"), "tuned");
  EXPECT_EQ(chosen(divides, TunedLaunch(1000, 100)), "c0");
  EXPECT_HAS(tuning_line(divides, TunedLaunch(1000, 100)), "M / (n - 1000) = ? (cannot be evaluated): configs in spec order");
}

}  // namespace
}  // namespace tritonpack::testing
