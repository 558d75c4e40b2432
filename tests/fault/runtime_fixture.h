// A small pack for runtime tests on the fake driver: kernel "axpy" with tensors of type T, an i32
// size with a divisibility specialization, an fp32 and an fp16 scalar, and constexpr BLOCK; and
// kernel "heavy" that needs 100 KB of shared memory, clusters of 2 and global scratch.
#pragma once

#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/param.h"
#include "tritonpack/manifest.h"
#include "tritonpack/pack.h"

namespace tritonpack::testing {

inline ParamInfo tensor_param(const std::string& name, const std::string& dtype, bool out = false) {
  ParamInfo p = param(name, ParamKind::kTensor, dtype);
  p.is_output = out;
  p.numel = "n";
  return p;
}
inline ParamInfo scalar_param(const std::string& name, const std::string& dtype) {
  return param(name, ParamKind::kScalar, dtype);
}
inline ParamInfo constexpr_param(const std::string& name) { return param(name, ParamKind::kConstexpr); }

// A kernel with only its header filled in: function "<name>_kernel" in "/tmp/<name>.py".
inline KernelInfo kernel_named(const std::string& name) {
  KernelInfo k;
  k.name = name;
  k.function = name + "_kernel";
  k.source_file = "/tmp/" + name + ".py";
  k.source_sha256 = std::string(64, '0');
  return k;
}

inline VariantInfo make_variant(const KernelInfo& k, uint32_t id, std::string_view t, uint32_t arch,
                                uint32_t div, int64_t block, int32_t cubin, int32_t ptx) {
  VariantInfo v;
  v.id = id;
  if (!k.type_vars.empty()) v.bindings["T"] = *parse_dtype(t);
  v.arch = arch;
  v.ptx_target = arch >= 90 ? "sm_" + std::to_string(arch) + "a" : "sm_" + std::to_string(arch);
  v.entry = k.function;
  v.num_warps = 4;
  v.num_stages = 2;
  v.triton_version = "3.6.0";
  v.cubin_blob = cubin;
  v.ptx_blob = ptx;
  for (uint32_t i = 0; i < k.params.size(); ++i) {
    const ParamInfo& p = k.params[i];
    if (p.kind == ParamKind::kConstexpr) {
      v.constexprs.push_back({p.name, block});
      continue;
    }
    KernelArg a;
    a.name = p.name;
    a.param_index = i;
    if (p.kind == ParamKind::kTensor) {
      a.type = ArgType::kPointer;
      a.divisibility = 16;
    } else if (p.kind == ParamKind::kTensorDesc) {
      a.type = ArgType::kTensorDesc;
      a.divisibility = 1;
    } else {
      a.type = *scalar_arg_type(p.dtype.dtype);
      a.divisibility = p.name == "n" ? div : 1;
    }
    v.args.push_back(a);
  }
  return v;
}

// A descriptor lowered to TMA: fp16 elements (2 bytes, Triton's type 6) under a 128-byte swizzle.
inline TensorDescInfo tma_desc(std::vector<uint32_t> block, std::vector<uint32_t> box) {
  TensorDescInfo d;
  d.tma = true;
  d.block = std::move(block);
  d.swizzle = 3;
  d.elem_size = 2;
  d.elem_type = 6;
  d.box = std::move(box);
  return d;
}

inline std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A fake image for a pack: the blob's kind and its bytes.
struct FakeBlob {
  std::string kind;
  std::string bytes;
};

// m serialized over `blobs` (its blob table made from them).
inline std::vector<uint8_t> fake_pack_bytes(Manifest m, const std::vector<FakeBlob>& blobs) {
  std::vector<std::vector<uint8_t>> images;
  m.blobs.resize(blobs.size());
  for (size_t i = 0; i < blobs.size(); ++i) {
    m.blobs[i].kind = blobs[i].kind;
    images.push_back(bytes_of(blobs[i].bytes));
  }
  return serialize_pack(m, images);
}

// The same, opened as the pack `name`. By default blobs 0 cubin sm_90a, 1 ptx sm_90a, 2 cubin sm_80,
// 3 ptx sm_80.
inline std::shared_ptr<const Pack> fake_pack(const Manifest& m, const std::string& name,
                                             const std::vector<FakeBlob>& blobs = {
                                                 {"cubin", "\x7f" "ELF fake cubin sm_90a"},
                                                 {"ptx", "//\n.version 8.7\n.target sm_90a\n"},
                                                 {"cubin", "\x7f" "ELF fake cubin sm_80"},
                                                 {"ptx", "//\n.version 8.7\n.target sm_80\n"}}) {
  return Pack::from_bytes(fake_pack_bytes(m, blobs), name);
}

// `pack` with a byte of each of `blobs` flipped (every blob when none are named), opened under the
// same origin. It opens (blobs are hashed on first use); using a flipped blob fails.
inline std::shared_ptr<const Pack> with_corrupt_blobs(const Pack& pack, std::vector<int32_t> blobs = {}) {
  if (blobs.empty()) {
    for (size_t i = 0; i < pack.manifest().blobs.size(); ++i) blobs.push_back(static_cast<int32_t>(i));
  }
  std::vector<uint8_t> bytes(pack.bytes().begin(), pack.bytes().end());
  std::set<size_t> flipped;  // deduplicated blobs share their bytes: flip those once
  for (int32_t i : blobs) {
    const std::span<const uint8_t> blob = pack.blob(i);
    const size_t at = static_cast<size_t>(blob.data() - pack.bytes().data()) + blob.size() / 2;
    if (flipped.insert(at).second) bytes[at] ^= 1;
  }
  return Pack::from_bytes(bytes, pack.origin());
}

// Blobs as fake_pack's default: 0 cubin sm_90a, 1 ptx sm_90a, 2 cubin sm_80, 3 ptx sm_80.
inline std::shared_ptr<const Pack> runtime_test_pack() {
  Manifest m;
  m.created_by = "tritonpack tests";
  KernelInfo k = kernel_named("axpy");
  k.params = {tensor_param("x", "T"), tensor_param("y", "T"), tensor_param("out", "T", true),
              scalar_param("n", "i32"), scalar_param("alpha", "fp32"), scalar_param("beta", "fp16"),
              constexpr_param("BLOCK")};
  k.type_vars = {{"T", {DType::kFp16, DType::kFp32}}};
  k.grid = {"n /// BLOCK", "1", "1"};
  ConfigInfo small{"small", {{"BLOCK", 256}}, 4, 2, 1};
  ConfigInfo large{"large", {{"BLOCK", 1024}}, 4, 2, 1};
  k.configs = {small, large};
  uint32_t id = 0;
  // fp16 for sm_90 (n%16 and plain), fp32 for sm_80 (plain), both configs.
  for (uint32_t config = 0; config < 2; ++config) {
    const int64_t block = config == 0 ? 256 : 1024;
    for (uint32_t div : {16u, 1u}) {
      VariantInfo v = make_variant(k, id++, "fp16", 90, div, block, 0, 1);
      v.config_index = config;
      k.variants.push_back(v);
    }
    VariantInfo v = make_variant(k, id++, "fp32", 80, 1, block, 2, 3);
    v.config_index = config;
    k.variants.push_back(v);
  }
  m.kernels.push_back(k);

  KernelInfo h = kernel_named("heavy");
  h.params = {tensor_param("x", "fp32"), scalar_param("n", "i32"), constexpr_param("BLOCK")};
  h.grid = {"n /// BLOCK", "2", "1"};
  h.configs = {ConfigInfo{"default", {{"BLOCK", 128}}, 8, 3, 2}};
  VariantInfo hv = make_variant(h, 0, "", 90, 1, 128, 0, -1);
  hv.num_warps = 8;
  hv.num_ctas = 2;
  hv.cluster_dims = {2, 1, 1};
  hv.shared = 100000;
  hv.global_scratch_size = 128;
  hv.global_scratch_align = 128;
  h.variants.push_back(hv);
  m.kernels.push_back(h);

  return fake_pack(m, "runtime-test.tpack");
}

}  // namespace tritonpack::testing
