// A pack made from a real spec without compiling it: every job of the spec's plan for the archs
// asked for (of those the spec lists) becomes a variant with fake images (a cubin and a PTX each,
// as the compile step keeps) and the ABI the compile step would record (descriptors lowered to TMA
// on sm_90 with Triton's box, not on sm_80), so the run harness and the runtime can be tested on the
// fake driver with the shipped and test kernels' own descriptions.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fault/runtime_fixture.h"
#include "tritonpack/expr.h"
#include "tritonpack/spec.h"

namespace tritonpack::testing {

inline TensorDescInfo fake_descriptor(const ParamInfo& p, const spec::CompileJob& job, DType dtype, uint32_t arch) {
  TensorDescInfo d;
  for (const std::string& b : p.block) {
    d.block.push_back(static_cast<uint32_t>(expr::Expr::parse(b).eval([&](std::string_view name, int64_t& v) {
      for (const ConstexprValue& c : job.constexprs) {
        if (c.name == name && c.value.is_integral()) {
          v = c.value.as_int();
          return true;
        }
      }
      return false;
    })));
  }
  if (arch < 90) return d;
  d.tma = true;
  d.swizzle = 3;  // 128-byte swizzle: the innermost box is at most 128 bytes
  d.elem_size = static_cast<uint32_t>(dtype_size(dtype));
  d.elem_type = dtype == DType::kBf16 ? 10 : 6;
  d.box = d.block;
  d.box.back() = std::min<uint32_t>(d.box.back(), 128 / d.elem_size);
  return d;
}

// The pack of spec `s` (opened under its path), e.g. a loaded spec a test changed.
inline std::shared_ptr<const Pack> pack_from_spec(const spec::Spec& s, std::vector<uint32_t> archs) {
  KernelInfo k = s.kernel;
  for (const spec::CompileJob& job : spec::plan_jobs(s)) {
    if (std::find(archs.begin(), archs.end(), job.arch) == archs.end()) continue;
    const uint32_t arch = job.arch;
    VariantInfo v;
    v.id = static_cast<uint32_t>(k.variants.size());
    v.bindings = job.bindings;
    v.constexprs = job.constexprs;
    v.config_index = job.config_index;
    v.arch = arch;
    v.ptx_target = arch >= 90 ? "sm_" + std::to_string(arch) + "a" : "sm_" + std::to_string(arch);
    v.entry = k.function;
    v.num_warps = job.num_warps;
    v.num_stages = job.num_stages;
    v.num_ctas = job.num_ctas;
    v.launch_pdl = job.launch_pdl;
    v.triton_version = "3.6.0";
    v.cubin_blob = 0;
    v.ptx_blob = 1;
    for (uint32_t i = 0; i < k.params.size(); ++i) {
      const ParamInfo& p = k.params[i];
      if (p.kind == ParamKind::kConstexpr) continue;
      KernelArg a;
      a.name = p.name;
      a.param_index = i;
      auto div = job.divisibility.find(p.name);
      a.divisibility = div == job.divisibility.end() ? 1 : div->second;
      if (p.kind == ParamKind::kTensor) {
        a.type = ArgType::kPointer;
      } else if (p.kind == ParamKind::kTensorDesc) {
        a.type = ArgType::kTensorDesc;
        v.tensordescs.push_back(fake_descriptor(p, job, *resolve_dtype(p.dtype, job.bindings), arch));
      } else {
        a.type = *scalar_arg_type(p.dtype.dtype);
      }
      v.args.push_back(a);
    }
    k.variants.push_back(std::move(v));
  }
  Manifest m;
  m.created_by = "tritonpack tests";
  m.kernels = {k};
  return fake_pack(m, s.path, {{"cubin", "\x7f" "ELF fake cubin"}, {"ptx", "//\n.version 8.7\n"}});
}

inline std::shared_ptr<const Pack> pack_from_spec(const std::string& spec_path, std::vector<uint32_t> archs) {
  return pack_from_spec(spec::load_spec(spec_path), std::move(archs));
}

}  // namespace tritonpack::testing
