// A pack with the seed-01 attention interface, for plugin-core tests on the fake driver and the
// gen-cpp golden header (tests/golden/attention_ops.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fault/runtime_fixture.h"
#include "tritonpack/pack.h"

namespace tritonpack::testing {

// The seed-01 attention interface twice: "attn_plugingen" as PluginGen describes it (rules; L and
// M are outputs) and "attn" in tritonpack's own terms (dims, L and M as workspace scratch, D chosen
// by a constraint on BLOCK_DMODEL).
inline std::shared_ptr<const Pack> attention_pack() {
  Manifest m;
  m.created_by = "tritonpack tests";
  for (const bool native : {false, true}) {
    KernelInfo k;
    k.name = native ? "attn" : "attn_plugingen";
    k.function = "fused_attention_kernel";
    k.source_file = "/tmp/fmha.py";
    k.source_sha256 = std::string(64, '0');
    const std::string t = native ? "T" : "fp16";
    auto tensor = [&](const std::string& name, const std::string& dtype, bool out) {
      ParamInfo p = tensor_param(name, dtype, out);
      p.numel = "";
      if (native) p.dims = {"B", "H", "S", "D"};
      return p;
    };
    ParamInfo l = tensor(native ? "L" : "L", "fp32", !native), mm = tensor("M", "fp32", !native);
    if (native) {
      l.dims = mm.dims = {"B * H", "S"};
      l.is_scratch = mm.is_scratch = true;
    }
    ParamInfo scale = scalar_param("sm_scale", "fp32");
    scale.is_field = true;
    ParamInfo batch = scalar_param("batch_size", "i32"), heads = scalar_param("num_heads", "i32"),
              seq = scalar_param("seq_len", "i32");
    if (native) {
      batch.dim = "B";
      heads.dim = "H";
      seq.dim = "S";
      scale.has_default = true;
      scale.default_value = 0.125;
    } else {
      heads.is_field = true;
    }
    k.params = {tensor("Out", t, true), l, mm, tensor("Q", t, false), tensor("K", t, false), tensor("V", t, false),
                scale, batch, heads, seq, constexpr_param("BLOCK_M"), constexpr_param("BLOCK_DMODEL"),
                constexpr_param("BLOCK_N")};
    if (native) {
      k.type_vars = {{"T", {DType::kFp16, DType::kBf16}}};
      k.plugin.name = "tritonpack_fmha";
      k.constraints = {"D == BLOCK_DMODEL", "S >= 1"};
    } else {
      k.plugin.rules = {"Q[*] -> Out[*]", "Q[m,n,k,*] -> L[m,n,k]", "Q[m,n,k,*] -> M[m,n,k]",
                        "Q[m,n,k,*] : m -> batch_size", "Q[m,n,k,*] : k -> seq_len"};
    }
    k.grid = {"(seq_len + 127) / 128", "batch_size * num_heads", "1"};
    k.configs = {ConfigInfo{"m128", {{"BLOCK_M", 128}, {"BLOCK_N", 64}}, 4, 2, 1},
                 ConfigInfo{"m64", {{"BLOCK_M", 64}, {"BLOCK_N", 64}}, 4, 2, 1}};
    uint32_t id = 0;
    for (const char* dtype : native ? std::vector<const char*>{"fp16", "bf16"} : std::vector<const char*>{"fp16"}) {
      for (int64_t d : native ? std::vector<int64_t>{64, 128} : std::vector<int64_t>{64}) {
        for (uint32_t config = 0; config < 2; ++config) {
          VariantInfo v = make_variant(k, id++, dtype, 90, 1, 0, 0, 1);
          if (!native) v.bindings.clear();
          v.config_index = config;
          v.shared = config == 0 ? 98304 : 65536;  // bytes, as real attention variants need
          v.constexprs = {{"BLOCK_M", config == 0 ? 128 : 64}, {"BLOCK_DMODEL", d}, {"BLOCK_N", 64}};
          for (KernelArg& a : v.args) a.divisibility = a.type == ArgType::kPointer ? 16 : 1;
          k.variants.push_back(v);
        }
      }
    }
    m.kernels.push_back(k);
  }
  return fake_pack(m, "attention-test.tpack",
                   {{"cubin", "\x7f" "ELF fake cubin"}, {"ptx", "//\n.version 8.7\n.target sm_90a\n"}});
}

}  // namespace tritonpack::testing
