// Packs for the selection tests of rules, heuristics, pins of every constexpr kind, launch
// variables, shapes and host tensor descriptors, on the fake driver.
//
// Kernel "rows": x [R, C] (T), out [R] (fp32), n_cols (i32), launch variable M (i32, >= 0),
//   ACT in {'', 'relu'}, BLOCK in {256, 1024} chosen by the heuristic max(256, next_power_of_2(n_cols)),
//   SCALE = 1.5 (a float constexpr); rules "n_cols <= BLOCK" and "C == n_cols"; grid (M).
// Kernel "tile": d, a 2-D tensordesc of T with block [BM, BK] and dims [M, K] (the scalars M and
//   K); out (T); variants for sm_90 (lowered to TMA, box 64x64, 128B swizzle) and sm_80 (not).
#pragma once

#include <memory>

#include "fault/runtime_fixture.h"

namespace tritonpack::testing {

inline ParamInfo with_dims(ParamInfo p, std::vector<std::string> dims) {
  p.dims = std::move(dims);
  return p;
}

inline KernelInfo rows_kernel() {
  KernelInfo k = kernel_named("rows");
  ParamInfo block = constexpr_param("BLOCK");
  block.heuristic = "max(256, next_power_of_2(n_cols))";
  k.params = {with_dims(tensor_param("x", "T"), {"R", "C"}),
              with_dims(tensor_param("out", "fp32", true), {"R"}),
              scalar_param("n_cols", "i32"),
              constexpr_param("ACT"),
              block,
              constexpr_param("SCALE")};
  k.launch_vars = {LaunchVarInfo{"M", DType::kI32, 0, std::nullopt}};
  k.type_vars = {{"T", {DType::kFp16, DType::kFp32}}};
  k.grid = {"M", "1", "1"};
  k.constraints = {"n_cols <= BLOCK", "C == n_cols"};
  k.configs = {ConfigInfo{"default", {}, 4, 2, 1}};
  uint32_t id = 0;
  for (const char* t : {"fp16", "fp32"}) {
    for (const char* act : {"", "relu"}) {
      for (int64_t b : {256, 1024}) {
        VariantInfo v = make_variant(k, id++, t, 90, 1, 0, 0, 1);
        v.constexprs = {{"ACT", Constant(act)}, {"BLOCK", b}, {"SCALE", 1.5}};
        k.variants.push_back(v);
      }
    }
  }
  return k;
}

inline KernelInfo tile_kernel() {
  KernelInfo k = kernel_named("tile");
  ParamInfo d = param("d", ParamKind::kTensorDesc, "T", {"M", "K"});
  d.block = {"BM", "BK"};
  k.params = {d,
              tensor_param("out", "T", true),
              scalar_param("M", "i32"),
              scalar_param("K", "i32"),
              constexpr_param("BM"),
              constexpr_param("BK")};
  k.type_vars = {{"T", {DType::kFp16}}};
  k.grid = {"cdiv(M, BM)", "cdiv(K, BK)", "1"};
  k.configs = {ConfigInfo{"default", {{"BM", 64}, {"BK", 128}}, 4, 2, 1}};
  for (uint32_t arch : {90u, 80u}) {
    VariantInfo v = make_variant(k, arch == 90 ? 0 : 1, "fp16", arch, 1, 0, arch == 90 ? 0 : 2, arch == 90 ? 1 : 3);
    v.constexprs = {{"BM", 64}, {"BK", 128}};
    // sm_90 lowers d to TMA, the inner box halved under the 128-byte swizzle as Triton does; sm_80 does not.
    TensorDescInfo plain;
    plain.block = {64, 128};
    v.tensordescs = {arch == 90 ? tma_desc({64, 128}, {64, 64}) : plain};
    k.variants.push_back(v);
  }
  return k;
}

// Blobs as fake_pack's default: 0 cubin sm_90a, 1 ptx sm_90a, 2 cubin sm_80, 3 ptx sm_80.
inline std::shared_ptr<const Pack> rules_test_pack() {
  Manifest m;
  m.created_by = "tritonpack tests";
  m.kernels = {rows_kernel(), tile_kernel()};
  return fake_pack(m, "rules-test.tpack");
}

}  // namespace tritonpack::testing
