// The pack the C API test (capi_test.c) runs on the fake driver. Two kernels:
//
// "rownorm"(x: T[M, N], y: T[M, N] out, stride: i32, scale: fp32, constexprs BLOCK_N (heuristic
// next_power_of_2(N)), ACT (string), HAS_BIAS (bool), EPS (float), OUT_DTYPE (dtype), BIAS (None)),
// launch variable rows (i32, >= 1), grid (rows, 1, 1), constraints N <= BLOCK_N and rows <= M.
// Variants, all sm_90a:
//   0: T=fp16 BLOCK_N=64  ACT='relu' HAS_BIAS=False EPS=1e-05 OUT_DTYPE=fp16 BIAS=None
//   1: T=fp16 BLOCK_N=128 ACT='relu' HAS_BIAS=False EPS=1e-05 OUT_DTYPE=fp16 BIAS=None
//   2: T=fp16 BLOCK_N=64  ACT='gelu' HAS_BIAS=True  EPS=1e-06 OUT_DTYPE=fp32 BIAS=None
//   3: T=fp16 BLOCK_N=128 ACT='gelu' HAS_BIAS=True  EPS=1e-06 OUT_DTYPE=fp32 BIAS=None
//   4: T=fp32 BLOCK_N=128 ACT='relu' HAS_BIAS=False EPS=1e-05 OUT_DTYPE=fp32 BIAS=None
//
// "desc_copy"(src: tensordesc fp16 [M, K] with block [BLOCK_M, BLOCK_K], dst: fp16 out), one
// variant lowered to TMA (block and box 64x64, 128-byte swizzle), grid (1, 1, 1).
//
// "tuned": a kernel with a tuning table (capi_tuned_kernel below).
#pragma once

#include <cstdint>
#include <vector>

#include "fault/runtime_fixture.h"
#include "fault/tuned_fixture.h"

namespace tritonpack::testing {

inline KernelInfo capi_rownorm_kernel() {
  KernelInfo k = kernel_named("rownorm");
  ParamInfo y = param("y", ParamKind::kTensor, "T", {"M", "N"});
  y.is_output = true;
  ParamInfo block = param("BLOCK_N", ParamKind::kConstexpr);
  block.heuristic = "next_power_of_2(N)";
  k.params = {param("x", ParamKind::kTensor, "T", {"M", "N"}),
              y,
              param("stride", ParamKind::kScalar, "i32"),
              param("scale", ParamKind::kScalar, "fp32"),
              block,
              param("ACT", ParamKind::kConstexpr),
              param("HAS_BIAS", ParamKind::kConstexpr),
              param("EPS", ParamKind::kConstexpr),
              param("OUT_DTYPE", ParamKind::kConstexpr),
              param("BIAS", ParamKind::kConstexpr)};
  k.type_vars = {{"T", {DType::kFp16, DType::kFp32}}};
  k.launch_vars = {LaunchVarInfo{"rows", DType::kI32, 1, std::nullopt}};
  k.grid = {"rows", "1", "1"};
  k.constraints = {"N <= BLOCK_N", "rows <= M"};
  k.configs = {ConfigInfo{"w4", {}, 4, 2, 1}};
  struct Row {
    DType t;
    int64_t block;
    const char* act;
    bool bias;
    double eps;
    DType out;
  };
  const Row rows[] = {{DType::kFp16, 64, "relu", false, 1e-5, DType::kFp16},
                      {DType::kFp16, 128, "relu", false, 1e-5, DType::kFp16},
                      {DType::kFp16, 64, "gelu", true, 1e-6, DType::kFp32},
                      {DType::kFp16, 128, "gelu", true, 1e-6, DType::kFp32},
                      {DType::kFp32, 128, "relu", false, 1e-5, DType::kFp32}};
  uint32_t id = 0;
  for (const Row& r : rows) {
    VariantInfo v = make_variant(k, id++, dtype_name(r.t), 90, 1, 0, 0, -1);
    v.constexprs = {{"BLOCK_N", r.block},
                    {"ACT", r.act},
                    {"HAS_BIAS", r.bias},
                    {"EPS", r.eps},
                    {"OUT_DTYPE", Constant::dtype(r.out)},
                    {"BIAS", Constant::none()}};
    k.variants.push_back(v);
  }
  return k;
}

inline KernelInfo capi_desc_copy_kernel() {
  KernelInfo k = kernel_named("desc_copy");
  ParamInfo src = param("src", ParamKind::kTensorDesc, "fp16", {"M", "K"});
  src.block = {"BLOCK_M", "BLOCK_K"};
  ParamInfo dst = param("dst", ParamKind::kTensor, "fp16");
  dst.is_output = true;
  k.params = {src, dst, param("BLOCK_M", ParamKind::kConstexpr), param("BLOCK_K", ParamKind::kConstexpr)};
  k.grid = {"1", "1", "1"};
  k.configs = {ConfigInfo{"default", {}, 4, 2, 1}};
  VariantInfo v = make_variant(k, 0, "", 90, 1, 0, 0, -1);
  v.num_stages = 0;  // this variant records no stage count
  v.constexprs = {{"BLOCK_M", 64}, {"BLOCK_K", 64}};
  v.tensordescs = {tma_desc({64, 64}, {64, 64})};
  k.variants.push_back(v);
  return k;
}

// "tuned": tests/fault/tuned_fixture.h's kernel with a table for "Fake GPU" (sm_90) whose entry
// for n 512..1023, M 64..255 ranks c2 (BLOCK 256), c0, c1.
inline KernelInfo capi_tuned_kernel() {
  KernelInfo k = tuned_kernel();
  k.tuning.tables = {tuned_table("Fake GPU", 90, {entry_at(10, 1, {"c2", "c0", "c1"})})};
  return k;
}

// The serialized pack (blob 0: a fake sm_90a cubin; blob 2 a fake sm_80 cubin, for "tuned").
inline std::vector<uint8_t> capi_test_pack_bytes() {
  Manifest m;
  m.created_by = "tritonpack tests";
  m.kernels = {capi_rownorm_kernel(), capi_desc_copy_kernel(), capi_tuned_kernel()};
  return fake_pack_bytes(m, {{"cubin", "\x7f" "ELF fake cubin sm_90a"},
                             {"ptx", "//\n.version 8.7\n.target sm_90a\n"},
                             {"cubin", "\x7f" "ELF fake cubin sm_80"}});
}

}  // namespace tritonpack::testing
