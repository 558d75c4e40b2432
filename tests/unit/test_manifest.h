// tritonpack tests: a small valid manifest (and its blobs) for any test that needs a pack.
//
// One kernel, vector_add(x, y, out, n, BLOCK): x, y, out are tensors of the type variable
// T in {fp16, fp32} with numel "n"; n is an i32 scalar; BLOCK a constexpr. Grid
// {"n /// BLOCK", "1", "1"}, one config "default" (BLOCK = 1024), two variants (T = fp16 with
// cubin blob 0 + ptx blob 1, T = fp32 with cubin blob 2 + ptx blob 3) over fake bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/param.h"
#include "tritonpack/manifest.h"
#include "tritonpack/pack.h"
#include "util/sha256.h"

namespace tritonpack_test {

struct TestPack {
  tritonpack::Manifest manifest;            // blob table filled in (offset/size/sha256/kind)
  std::vector<std::vector<uint8_t>> blobs;  // blobs[i] belongs to manifest.blobs[i]
};

// Deterministic stand-ins: an ELF-looking cubin of `size` bytes and a short PTX text.
inline std::vector<uint8_t> fake_cubin(uint8_t seed, size_t size = 300) {
  std::vector<uint8_t> bytes{0x7f, 'E', 'L', 'F'};
  for (size_t i = bytes.size(); i < size; ++i) bytes.push_back(static_cast<uint8_t>(seed + 31 * i));
  return bytes;
}

inline std::vector<uint8_t> fake_ptx(std::string_view dtype) {
  const std::string text = "//\n.version 8.0\n.target sm_90a\n.address_size 64\n"
                           ".visible .entry vector_add_" + std::string(dtype) + "()\n{\n\tret;\n}\n";
  return std::vector<uint8_t>(text.begin(), text.end());
}

inline tritonpack::ParamInfo make_param(const std::string& name, tritonpack::ParamKind kind, const std::string& dtype,
                                        bool out, const std::string& numel) {
  tritonpack::ParamInfo p = tritonpack::testing::param(name, kind, dtype);
  p.is_output = out;
  p.numel = numel;
  return p;
}

inline tritonpack::VariantInfo make_test_variant(uint32_t id, const std::string& dtype,
                                                 uint32_t n_divisibility, int32_t cubin, int32_t ptx) {
  using namespace tritonpack;
  VariantInfo v;
  v.id = id;
  v.bindings = {{"T", *parse_dtype(dtype)}};
  v.constexprs = {{"BLOCK", 1024}};
  v.config_index = 0;
  v.arch = 90;
  v.ptx_target = "sm_90a";
  v.entry = "vector_add_" + dtype;
  v.num_warps = 4;
  v.num_stages = 3;
  v.num_ctas = 1;
  v.shared = 0;
  v.triton_version = "3.2.0";
  v.args = {
      {"x", ArgType::kPointer, 0, 16},
      {"y", ArgType::kPointer, 1, 16},
      {"out", ArgType::kPointer, 2, 16},
      {"n", ArgType::kI32, 3, n_divisibility},
  };
  v.cubin_blob = cubin;
  v.ptx_blob = ptx;
  return v;
}

inline tritonpack::KernelInfo make_test_kernel() {
  using namespace tritonpack;
  KernelInfo k;
  k.name = "vector_add";
  k.function = "add_kernel";
  k.source_file = "kernels/vector_add/vector_add.py";
  k.source_sha256 = std::string(64, 'a');
  k.params = {
      make_param("x", ParamKind::kTensor, "T", false, "n"),
      make_param("y", ParamKind::kTensor, "T", false, "n"),
      make_param("out", ParamKind::kTensor, "T", true, "n"),
      make_param("n", ParamKind::kScalar, "i32", false, ""),
      make_param("BLOCK", ParamKind::kConstexpr, "", false, ""),
  };
  k.type_vars = {{"T", {DType::kFp16, DType::kFp32}}};
  k.grid = {"n /// BLOCK", "1", "1"};
  ConfigInfo config;
  config.name = "default";
  config.constexprs = {{"BLOCK", 1024}};
  config.num_warps = 4;
  config.num_stages = 3;
  config.num_ctas = 1;
  k.configs = {config};
  k.bench = {"3 * n * 4", "n"};
  k.reference = "vector_add";
  k.variants = {make_test_variant(0, "fp16", 16, 0, 1), make_test_variant(1, "fp32", 1, 2, 3)};
  return k;
}

// Fills offset/size/sha256 the way serialize_pack lays out blobs: identical blobs stored once.
inline void fill_blob_table(tritonpack::Manifest& m, const std::vector<std::vector<uint8_t>>& blobs) {
  uint64_t offset = 0;
  for (size_t i = 0; i < blobs.size(); ++i) {
    m.blobs[i].size = blobs[i].size();
    m.blobs[i].sha256 = tritonpack::sha256_hex(blobs[i]);
    size_t same = 0;
    while (same < i && blobs[same] != blobs[i]) ++same;
    if (same < i) {
      m.blobs[i].offset = m.blobs[same].offset;
      continue;
    }
    m.blobs[i].offset = offset;
    offset = (offset + blobs[i].size() + 255) / 256 * 256;
  }
}

inline TestPack make_test_pack() {
  using namespace tritonpack;
  TestPack t;
  t.manifest.created_by = "tritonpack tests";
  t.manifest.kernels = {make_test_kernel()};
  t.blobs = {fake_cubin(1), fake_ptx("fp16"), fake_cubin(2), fake_ptx("fp32")};
  t.manifest.blobs = {{0, 0, "", "cubin"}, {0, 0, "", "ptx"}, {0, 0, "", "cubin"}, {0, 0, "", "ptx"}};
  fill_blob_table(t.manifest, t.blobs);
  return t;
}

inline tritonpack::Manifest make_test_manifest() { return make_test_pack().manifest; }

// The test pack with every optional kernel-model key: a launch variable (M), constraints, dims, a
// heuristic, constexprs of every kind (ACT, SCALE, BIAS, OUT_T), ptxas's resource report, a tensor
// descriptor x_desc (params[9], [R, C] of T in 64 x 64 blocks; lowered to TMA in the fp16 variant
// as Triton 3.6 reports it for sm_90, not in the fp32 one) and kept IR stages (ttir and ttgir of
// variant 0, llir of variant 1). The IR blobs repeat the bytes of the test pack's PTX blobs, which
// are stored once, so the blob section stays the test pack's: the manifest fuzzer, which wraps
// every input around that section, opens this manifest too.
inline TestPack make_features_pack() {
  using namespace tritonpack;
  TestPack t = make_test_pack();
  KernelInfo& f = t.manifest.kernels[0];
  f.launch_vars = {LaunchVarInfo{"M", DType::kI32, 1, 1 << 20}};
  f.constraints = {"n <= M * BLOCK", "R == M"};
  f.params[0].dims = {"R", "C"};
  f.params[4].heuristic = "min(1024, next_power_of_2(n))";
  for (const char* name : {"ACT", "SCALE", "BIAS", "OUT_T"}) {
    f.params.push_back(make_param(name, ParamKind::kConstexpr, "", false, ""));
  }
  ParamInfo desc = make_param("x_desc", ParamKind::kTensorDesc, "T", false, "");
  desc.block = {"64", "BLOCK / 16"};
  desc.dims = {"R", "C"};
  f.params.push_back(desc);
  const auto desc_index = static_cast<uint32_t>(f.params.size() - 1);
  for (VariantInfo& v : f.variants) {
    v.constexprs.push_back({"ACT", Constant("leaky_relu")});
    v.constexprs.push_back({"SCALE", 0.5});
    v.constexprs.push_back({"BIAS", Constant::none()});
    v.constexprs.push_back({"OUT_T", Constant::dtype(DType::kBf16)});
    v.resources = ResourceUsage{40, 0, 0, 8};
    v.args.push_back({"x_desc", ArgType::kTensorDesc, desc_index, 1});
  }
  TensorDescInfo tma;
  tma.tma = true;
  tma.block = {64, 64};
  tma.swizzle = 3;
  tma.elem_size = 2;
  tma.elem_type = 6;
  tma.box = {64, 64};
  f.variants[0].tensordescs = {tma};
  TensorDescInfo plain;
  plain.block = {64, 64};
  f.variants[1].tensordescs = {plain};
  struct Stage {
    const char* name;
    size_t variant;
    size_t same_bytes_as;  // a blob of the test pack
  };
  for (const Stage& s : {Stage{"ttir", 0, 1}, Stage{"ttgir", 0, 1}, Stage{"llir", 1, 3}}) {
    f.variants[s.variant].ir_blobs[s.name] = static_cast<int32_t>(t.blobs.size());
    t.blobs.push_back(t.blobs[s.same_bytes_as]);
    t.manifest.blobs.push_back({0, 0, "", s.name});
  }
  fill_blob_table(t.manifest, t.blobs);
  return t;
}

inline std::vector<uint8_t> make_test_pack_bytes() {
  TestPack t = make_test_pack();
  return tritonpack::serialize_pack(t.manifest, t.blobs);
}

}  // namespace tritonpack_test
