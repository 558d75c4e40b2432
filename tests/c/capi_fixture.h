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
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tritonpack/manifest.h"
#include "tritonpack/pack.h"

namespace tritonpack::testing {

inline ParamInfo capi_param(const std::string& name, ParamKind kind, const std::string& dtype = "",
                            std::vector<std::string> dims = {}) {
  ParamInfo p;
  p.name = name;
  p.kind = kind;
  if (!dtype.empty()) p.dtype = DTypeRef::from_text(dtype);
  p.dims = std::move(dims);
  return p;
}

inline KernelInfo capi_rownorm_kernel() {
  KernelInfo k;
  k.name = "rownorm";
  k.function = "rownorm_kernel";
  k.source_file = "/tmp/rownorm.py";
  k.source_sha256 = std::string(64, '0');
  ParamInfo y = capi_param("y", ParamKind::kTensor, "T", {"M", "N"});
  y.is_output = true;
  ParamInfo block = capi_param("BLOCK_N", ParamKind::kConstexpr);
  block.heuristic = "next_power_of_2(N)";
  k.params = {capi_param("x", ParamKind::kTensor, "T", {"M", "N"}),
              y,
              capi_param("stride", ParamKind::kScalar, "i32"),
              capi_param("scale", ParamKind::kScalar, "fp32"),
              block,
              capi_param("ACT", ParamKind::kConstexpr),
              capi_param("HAS_BIAS", ParamKind::kConstexpr),
              capi_param("EPS", ParamKind::kConstexpr),
              capi_param("OUT_DTYPE", ParamKind::kConstexpr),
              capi_param("BIAS", ParamKind::kConstexpr)};
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
    VariantInfo v;
    v.id = id++;
    v.bindings["T"] = r.t;
    v.arch = 90;
    v.ptx_target = "sm_90a";
    v.entry = k.function;
    v.num_warps = 4;
    v.num_stages = 2;
    v.triton_version = "3.6.0";
    v.cubin_blob = 0;
    v.constexprs = {{"BLOCK_N", r.block},
                    {"ACT", r.act},
                    {"HAS_BIAS", r.bias},
                    {"EPS", r.eps},
                    {"OUT_DTYPE", Constant::dtype(r.out)},
                    {"BIAS", Constant::none()}};
    v.args = {KernelArg{"x", ArgType::kPointer, 0, 16}, KernelArg{"y", ArgType::kPointer, 1, 16},
              KernelArg{"stride", ArgType::kI32, 2, 1}, KernelArg{"scale", ArgType::kFp32, 3, 1}};
    k.variants.push_back(v);
  }
  return k;
}

inline KernelInfo capi_desc_copy_kernel() {
  KernelInfo k;
  k.name = "desc_copy";
  k.function = "desc_copy_kernel";
  k.source_file = "/tmp/desc_copy.py";
  k.source_sha256 = std::string(64, '0');
  ParamInfo src = capi_param("src", ParamKind::kTensorDesc, "fp16", {"M", "K"});
  src.block = {"BLOCK_M", "BLOCK_K"};
  ParamInfo dst = capi_param("dst", ParamKind::kTensor, "fp16");
  dst.is_output = true;
  k.params = {src, dst, capi_param("BLOCK_M", ParamKind::kConstexpr), capi_param("BLOCK_K", ParamKind::kConstexpr)};
  k.grid = {"1", "1", "1"};
  k.configs = {ConfigInfo{"default", {}, 4, 2, 1}};
  VariantInfo v;
  v.arch = 90;
  v.ptx_target = "sm_90a";
  v.entry = k.function;
  v.triton_version = "3.6.0";
  v.cubin_blob = 0;
  v.constexprs = {{"BLOCK_M", 64}, {"BLOCK_K", 64}};
  v.args = {KernelArg{"src", ArgType::kTensorDesc, 0, 1}, KernelArg{"dst", ArgType::kPointer, 1, 16}};
  TensorDescInfo d;
  d.tma = true;
  d.block = {64, 64};
  d.swizzle = 3;
  d.elem_size = 2;
  d.elem_type = 6;
  d.box = {64, 64};
  v.tensordescs = {d};
  k.variants.push_back(v);
  return k;
}

// The serialized pack (blob 0: a fake sm_90a cubin).
inline std::vector<uint8_t> capi_test_pack_bytes() {
  Manifest m;
  m.created_by = "tritonpack tests";
  m.kernels = {capi_rownorm_kernel(), capi_desc_copy_kernel()};
  m.blobs.resize(1);
  m.blobs[0].kind = "cubin";
  const std::string cubin = "\x7f" "ELF fake cubin sm_90a";
  return serialize_pack(m, {std::vector<uint8_t>(cubin.begin(), cubin.end())});
}

}  // namespace tritonpack::testing
