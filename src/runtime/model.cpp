#include "runtime/model.h"

#include <bit>

#include "tritonpack/error.h"

namespace tritonpack::runtime {
namespace {

std::string variant_label(const KernelInfo& kernel, const VariantInfo& v) {
  std::string out = "variant " + std::to_string(v.id) + " (";
  bool first = true;
  auto add = [&](const std::string& s) {
    if (!first) out += ", ";
    out += s;
    first = false;
  };
  for (const auto& [var, dtype] : v.bindings) add(var + "=" + dtype);
  for (const auto& c : v.constexprs) add(c.name + "=" + std::to_string(c.value));
  if (v.config_index < kernel.configs.size()) add("config " + kernel.configs[v.config_index].name);
  for (const auto& a : v.args) {
    if (a.divisibility > 1) add(a.name + "%" + std::to_string(a.divisibility));
  }
  add("sm_" + std::to_string(v.arch));
  return out + ")";
}

DType resolve_dtype(const VariantInfo& v, const std::string& dtype) {
  auto it = v.bindings.find(dtype);
  const std::string& name = it == v.bindings.end() ? dtype : it->second;
  auto parsed = parse_dtype(name);
  if (!parsed) throw Error(ErrorCode::kCorruptPack, "unknown dtype '" + name + "'");
  return *parsed;
}

}  // namespace

KernelModel build_model(const KernelInfo& kernel) {
  KernelModel model;
  model.info = &kernel;
  if (kernel.params.size() > kMaxParams) {
    throw Error(ErrorCode::kCorruptPack, "kernel '" + kernel.name + "' has more than " +
                                             std::to_string(kMaxParams) + " parameters");
  }
  model.param_is_int_scalar.resize(kernel.params.size(), false);
  for (uint32_t i = 0; i < kernel.params.size(); ++i) {
    const ParamInfo& p = kernel.params[i];
    if (p.kind == ParamKind::kConstexpr) continue;
    model.runtime_params.push_back(i);
    if (p.kind == ParamKind::kScalar) {
      auto t = parse_dtype(p.dtype);
      model.param_is_int_scalar[i] = t && !is_float(*t);
    }
  }
  if (model.runtime_params.size() > kMaxArgs) {
    throw Error(ErrorCode::kCorruptPack, "kernel '" + kernel.name + "' has more than " +
                                             std::to_string(kMaxArgs) + " runtime arguments");
  }
  auto slot_of = [&](std::string_view name) -> int {
    for (uint32_t i = 0; i < kernel.params.size(); ++i) {
      const ParamInfo& p = kernel.params[i];
      if (p.name == name && (p.kind == ParamKind::kConstexpr || model.param_is_int_scalar[i])) {
        return static_cast<int>(i);
      }
    }
    return -1;
  };
  for (size_t d = 0; d < 3; ++d) {
    try {
      model.grid[d] = expr::Expr::parse(kernel.grid[d]).compile(slot_of);
    } catch (const Error& e) {
      throw Error(ErrorCode::kCorruptPack,
                  "kernel '" + kernel.name + "' grid[" + std::to_string(d) + "]: " + e.what());
    }
  }
  model.variants.reserve(kernel.variants.size());
  for (const VariantInfo& v : kernel.variants) {
    VariantModel vm;
    vm.info = &v;
    vm.label = variant_label(kernel, v);
    for (const KernelArg& a : v.args) {
      const ParamInfo& p = kernel.params.at(a.param_index);
      vm.arg_types.push_back(a.type);
      vm.arg_dtypes.push_back(resolve_dtype(v, p.dtype));
      vm.divisibility.push_back(a.divisibility);
      vm.specificity += static_cast<uint32_t>(std::countr_zero(a.divisibility));
    }
    for (const ConstexprValue& c : v.constexprs) {
      for (uint32_t i = 0; i < kernel.params.size(); ++i) {
        if (kernel.params[i].name == c.name) vm.constexpr_slots[i] = c.value;
      }
    }
    model.variants.push_back(std::move(vm));
  }
  return model;
}

void fill_slots(const KernelModel& model, const VariantModel& variant, std::span<const Arg> args,
                std::array<int64_t, kMaxParams>& slots) {
  slots = variant.constexpr_slots;
  for (size_t i = 0; i < model.runtime_params.size() && i < args.size(); ++i) {
    const uint32_t p = model.runtime_params[i];
    if (model.param_is_int_scalar[p] && args[i].kind == Arg::Kind::kInt) {
      slots[p] = args[i].int_value;
    }
  }
}

}  // namespace tritonpack::runtime
