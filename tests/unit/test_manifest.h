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

// Fills offset/size/sha256 the way serialize_pack lays out distinct blobs.
inline void fill_blob_table(tritonpack::Manifest& m, const std::vector<std::vector<uint8_t>>& blobs) {
  uint64_t offset = 0;
  for (size_t i = 0; i < blobs.size(); ++i) {
    m.blobs[i].offset = offset;
    m.blobs[i].size = blobs[i].size();
    m.blobs[i].sha256 = tritonpack::sha256_hex(blobs[i]);
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

inline std::vector<uint8_t> make_test_pack_bytes() {
  TestPack t = make_test_pack();
  return tritonpack::serialize_pack(t.manifest, t.blobs);
}

}  // namespace tritonpack_test
