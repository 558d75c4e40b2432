// A tuned kernel for selection and launch tests (no GPU): kernel "tuned"(x: T[M, K], y: T[M, K]
// out, n: i32, constexprs BLOCK and SPLIT), grid (cdiv(n, BLOCK), 1, 1), constraint BLOCK <= n.
//   configs: c0 {BLOCK 64, SPLIT 1}, c1 {BLOCK 128, SPLIT 2}, c2 {BLOCK 256, SPLIT 2}
//   variants: per config c, ids 3c, 3c+1, 3c+2: T=fp16 sm_90a, T=fp32 sm_90a, T=fp16 sm_80
//     (cubins only: blob 0 for sm_90a, blob 2 for sm_80)
//   tuning key: n (pow2), M (edges 64, 256: bins < 64, 64..255, >= 256)
// Without a table (or ignoring it) a launch runs c0: the first config in spec order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fault/runtime_fixture.h"
#include "tritonpack/runtime.h"

namespace tritonpack::testing {

inline KernelInfo tuned_kernel() {
  KernelInfo k = kernel_named("tuned");
  ParamInfo x = param("x", ParamKind::kTensor, "T", {"M", "K"});
  ParamInfo y = param("y", ParamKind::kTensor, "T", {"M", "K"});
  y.is_output = true;
  k.params = {x, y, scalar_param("n", "i32"), constexpr_param("BLOCK"), constexpr_param("SPLIT")};
  k.type_vars = {{"T", {DType::kFp16, DType::kFp32}}};
  k.grid = {"cdiv(n, BLOCK)", "1", "1"};
  k.constraints = {"BLOCK <= n"};
  for (int c = 0; c < 3; ++c) {
    k.configs.push_back(ConfigInfo{"c" + std::to_string(c), {{"BLOCK", 64 << c}, {"SPLIT", c == 0 ? 1 : 2}}, 4, 2, 1});
  }
  uint32_t id = 0;
  for (uint32_t c = 0; c < 3; ++c) {
    for (const auto& [t, arch] : {std::pair<const char*, uint32_t>{"fp16", 90}, {"fp32", 90}, {"fp16", 80}}) {
      VariantInfo v = make_variant(k, id++, t, arch, 1, 0, arch == 90 ? 0 : 2, -1);
      v.config_index = c;
      v.constexprs = k.configs[c].constexprs;
      k.variants.push_back(v);
    }
  }
  k.tuning.key = {"n", "M"};
  k.tuning.bins = {TuningBins{}, TuningBins{{64, 256}}};
  return k;
}

// An entry for T=fp16 in bins (n_bin, m_bin) ranking `configs` (times 1, 2, 3 ... us).
inline TuningEntry entry_at(uint32_t n_bin, uint32_t m_bin, std::vector<std::string> configs, const char* t = "fp16") {
  TuningEntry e;
  e.bindings = {{"T", *parse_dtype(t)}};
  e.bin = {n_bin, m_bin};
  for (size_t i = 0; i < configs.size(); ++i) e.times_us.push_back(static_cast<double>(i + 1));
  e.configs = std::move(configs);
  return e;
}

inline TuningTable tuned_table(const std::string& device, uint32_t arch, std::vector<TuningEntry> entries) {
  TuningTable t;
  t.device = device;
  t.arch = arch;
  t.driver = "13.0";
  t.triton_version = "3.6.0";
  t.date = "2026-11-29T16:40:00Z";
  t.tool = "tritonpack tests";
  t.entries = std::move(entries);
  return t;
}

inline Manifest tuned_manifest(std::vector<TuningTable> tables) {
  Manifest m;
  m.created_by = "tritonpack tests";
  m.kernels = {tuned_kernel()};
  m.kernels[0].tuning.tables = std::move(tables);
  return m;
}

inline std::shared_ptr<const Pack> tuned_pack(std::vector<TuningTable> tables) {
  return fake_pack(tuned_manifest(std::move(tables)), "tuned.tpack");
}

// A launch of "tuned": x and y of shape [M, 8] (no shapes: M unknown), n.
struct TunedLaunch {
  int64_t shape[2];
  std::vector<Arg> args;
  TunedLaunch(int64_t n, int64_t m, DType t = DType::kFp16, bool shaped = true) : shape{m, 8} {
    const std::span<const int64_t> dims = shaped ? std::span<const int64_t>(shape, 2) : std::span<const int64_t>();
    args = {Arg::tensor(0x7000'0000'0000ull, t, dims), Arg::tensor(0x7000'0010'0000ull, t, dims), Arg::integer(n)};
  }
  TunedLaunch(const TunedLaunch&) = delete;  // args point into shape
  TunedLaunch& operator=(const TunedLaunch&) = delete;
};

// The name of the config a selection runs.
inline std::string config_of(const Kernel& k, const Selection& s) { return k.info().configs[s.variant->config_index].name; }

}  // namespace tritonpack::testing
