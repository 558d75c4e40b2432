#include "runtime/model.h"

#include <algorithm>
#include <bit>
#include <optional>

#include "tritonpack/error.h"
#include "util/text.h"

namespace tritonpack::runtime {
namespace {

[[noreturn]] void corrupt(const KernelInfo& kernel, const std::string& what) {
  throw Error(ErrorCode::kCorruptPack, "kernel '" + kernel.name + "': " + what);
}

std::string variant_label(const KernelInfo& kernel, const VariantInfo& v) {
  std::string out = "variant " + std::to_string(v.id) + " (";
  bool first = true;
  auto add = [&](const std::string& s) {
    if (!first) out += ", ";
    out += s;
    first = false;
  };
  for (const auto& [var, dtype] : v.bindings) add(var + "=" + std::string(dtype_name(dtype)));
  for (const auto& c : v.constexprs) add(c.name + "=" + c.value.text());
  if (v.config_index < kernel.configs.size()) add("config " + kernel.configs[v.config_index].name);
  for (const auto& a : v.args) {
    if (a.divisibility > 1) add(a.name + "%" + std::to_string(a.divisibility));
  }
  add("sm_" + std::to_string(v.arch));
  return out + ")";
}

// The parameters' part of the model: runtime arguments, integer scalars, integer constexprs.
void model_params(const KernelInfo& kernel, KernelModel& model) {
  if (kernel.params.size() > kMaxParams) corrupt(kernel, "more than " + std::to_string(kMaxParams) + " parameters");
  if (kernel.launch_vars.size() > kMaxLaunchVars) {
    corrupt(kernel, "more than " + std::to_string(kMaxLaunchVars) + " launch variables");
  }
  model.param_is_int_scalar.resize(kernel.params.size(), 0);
  for (uint32_t i = 0; i < kernel.params.size(); ++i) {
    const ParamInfo& p = kernel.params[i];
    if (p.kind == ParamKind::kTensorDesc) ++model.num_descriptors;
    if (p.kind == ParamKind::kConstexpr) {
      const bool integral = std::all_of(kernel.variants.begin(), kernel.variants.end(), [&](const VariantInfo& v) {
        return std::all_of(v.constexprs.begin(), v.constexprs.end(),
                           [&](const ConstexprValue& c) { return c.name != p.name || c.value.is_integral(); });
      });
      if (integral) model.integer_constexprs.push_back(i);
      continue;
    }
    model.runtime_params.push_back(i);
    if (p.kind == ParamKind::kScalar && !is_float(p.dtype.dtype)) {
      model.param_is_int_scalar[i] = 1;
      model.int_scalar_args.push_back(static_cast<uint32_t>(model.runtime_params.size() - 1));
    }
  }
  model.num_args = model.runtime_params.size() + kernel.launch_vars.size();
  if (model.num_args > kMaxArgs) corrupt(kernel, "more than " + std::to_string(kMaxArgs) + " runtime arguments");
  if (model.num_descriptors > kMaxDescriptors) {
    corrupt(kernel, "more than " + std::to_string(kMaxDescriptors) + " tensordesc parameters");
  }
  for (const ParamInfo& p : kernel.params) model.slot_names.push_back(p.name);
  model.launch_var_slot = static_cast<uint32_t>(model.slot_names.size());
  for (const LaunchVarInfo& v : kernel.launch_vars) model.slot_names.push_back(v.name);
  model.sm_count_slot = static_cast<uint32_t>(model.slot_names.size());
  model.slot_names.emplace_back(kSmCountName);
  model.dim_slot = static_cast<uint32_t>(model.slot_names.size());
}

// Dim names: identifiers in the dims of input tensors and descriptors that name no parameter or
// launch variable (those are checked against the value instead).
int slot_of_value(const KernelModel& model, std::string_view name) {
  const KernelInfo& k = *model.info;
  for (uint32_t i = 0; i < k.params.size(); ++i) {
    if (k.params[i].name != name) continue;
    const bool integer_constexpr = std::find(model.integer_constexprs.begin(), model.integer_constexprs.end(), i) !=
                                   model.integer_constexprs.end();
    return model.param_is_int_scalar[i] || integer_constexpr ? static_cast<int>(i) : -1;
  }
  for (uint32_t j = 0; j < k.launch_vars.size(); ++j) {
    if (k.launch_vars[j].name == name) return static_cast<int>(model.launch_var_slot + j);
  }
  return -1;
}

int slot_of_dim(const KernelModel& model, std::string_view name) {
  for (size_t s = model.dim_slot; s < model.slot_names.size(); ++s) {
    if (model.slot_names[s] == name) return static_cast<int>(s);
  }
  return -1;
}

int slot_of_name(const KernelModel& model, std::string_view name) {
  const int s = slot_of_value(model, name);
  return s >= 0 ? s : slot_of_dim(model, name);
}

bool is_constexpr_slot(const KernelModel& model, uint32_t slot) {
  return slot < model.info->params.size() && model.info->params[slot].kind == ParamKind::kConstexpr;
}

uint64_t dims_used(const KernelModel& model, const expr::Expr& e) {
  uint64_t mask = 0;
  for (const std::string& name : e.names()) {
    const int s = slot_of_dim(model, name);
    if (s >= 0 && slot_of_value(model, name) < 0) mask |= uint64_t{1} << (s - model.dim_slot);
  }
  return mask;
}

// Whether every name of `e` has a slot, and whether one of them is a constexpr (then the check
// can only be made once a variant's constexprs are in their slots).
bool all_names_known(const KernelModel& model, const expr::Expr& e, bool& names_constexpr) {
  names_constexpr = false;
  for (const std::string& n : e.names()) {
    const int s = slot_of_name(model, n);
    if (s < 0) return false;
    names_constexpr = names_constexpr || is_constexpr_slot(model, static_cast<uint32_t>(s));
  }
  return true;
}

// The dim names: identifiers in the dims of input tensors and descriptors that name no parameter or
// launch variable (those are checked against the value instead).
void add_dim_names(const KernelInfo& kernel, KernelModel& model) {
  for (uint32_t a = 0; a < model.runtime_params.size(); ++a) {
    const ParamInfo& p = kernel.params[model.runtime_params[a]];
    const bool input =
        (p.kind == ParamKind::kTensor && !p.is_output && !p.is_scratch) || p.kind == ParamKind::kTensorDesc;
    if (!input) continue;
    for (const std::string& d : p.dims) {
      if (!text::is_identifier(d) || slot_of_value(model, d) >= 0 || slot_of_dim(model, d) >= 0) continue;
      if (model.slot_names.size() - model.dim_slot >= kMaxDimNames) {
        corrupt(kernel, "more than " + std::to_string(kMaxDimNames) + " dim names");
      }
      model.slot_names.push_back(d);
    }
  }
}

// How dim `d` of a param is checked when its shape is given; nullopt when the runtime cannot check
// it (an output dim over names only an engine knows, such as fields: the plugin core checks those).
std::optional<DimCheck> dim_check(const KernelModel& model, const ParamInfo& p, uint32_t d) {
  DimCheck check;
  check.dim = d;
  const std::string& text = p.dims[d];
  if (text::is_identifier(text) && slot_of_value(model, text) >= 0) {
    check.kind = DimCheck::Kind::kEqualSlot;
    check.slot = static_cast<uint32_t>(slot_of_value(model, text));
    check.per_variant = is_constexpr_slot(model, check.slot);
    return check;
  }
  if (text::is_identifier(text) && slot_of_dim(model, text) >= 0) {
    check.kind = DimCheck::Kind::kBind;
    check.slot = static_cast<uint32_t>(slot_of_dim(model, text));
    return check;
  }
  const expr::Expr e = expr::Expr::parse(text);
  if (e.root().kind == expr::Node::Kind::kConstant) {
    check.kind = DimCheck::Kind::kEqualConst;
    check.value = e.root().value;
    return check;
  }
  if (!all_names_known(model, e, check.per_variant)) return std::nullopt;
  check.kind = DimCheck::Kind::kEqualExpr;
  check.program = e.compile([&](std::string_view n) { return slot_of_name(model, n); });
  check.dims_needed = dims_used(model, e);
  return check;
}

void add_shape_checks(const KernelInfo& kernel, KernelModel& model) {
  for (uint32_t a = 0; a < model.runtime_params.size(); ++a) {
    const ParamInfo& p = kernel.params[model.runtime_params[a]];
    if (p.dims.empty() || (p.kind != ParamKind::kTensor && p.kind != ParamKind::kTensorDesc)) continue;
    ShapeModel shape;
    shape.arg = a;
    for (uint32_t d = 0; d < p.dims.size(); ++d) {
      try {
        if (std::optional<DimCheck> check = dim_check(model, p, d)) {
          model.has_per_variant_dims = model.has_per_variant_dims || check->per_variant;
          shape.dims.push_back(std::move(*check));
        }
      } catch (const Error& e) {
        corrupt(kernel, "param '" + p.name + "' dims[" + std::to_string(d) + "]: " + e.what());
      }
    }
    model.shapes.push_back(std::move(shape));
  }
}

// Dim-size arguments (a scalar with `dim = "S"`): checked against the shapes given (and the
// device's SM count where they name SM_COUNT).
void add_dim_arg_checks(const KernelInfo& kernel, KernelModel& model) {
  // SM_COUNT is the device's count unless a param, launch variable or dim of that name (a pack
  // written before the name was reserved) gives it another meaning.
  const auto slot_of = [&](std::string_view n) {
    const int slot = slot_of_name(model, n);
    return slot < 0 && n == kSmCountName ? static_cast<int>(model.sm_count_slot) : slot;
  };
  for (uint32_t i = 0; i < kernel.params.size(); ++i) {
    const ParamInfo& p = kernel.params[i];
    if (p.dim.empty() || !model.param_is_int_scalar[i]) continue;
    try {
      const expr::Expr e = expr::Expr::parse(p.dim);
      DimArgCheck check;
      check.param = i;
      const std::vector<std::string> names = e.names();
      if (std::any_of(names.begin(), names.end(), [&](const std::string& n) { return slot_of(n) < 0; })) {
        continue;  // fields: the plugin core checks it
      }
      for (const std::string& n : names) {
        const auto slot = static_cast<uint32_t>(slot_of(n));
        check.per_variant = check.per_variant || is_constexpr_slot(model, slot);
        check.per_device = check.per_device || slot == model.sm_count_slot;
      }
      check.program = e.compile(slot_of);
      check.dims_needed = dims_used(model, e);
      model.has_per_variant_dims = model.has_per_variant_dims || check.per_variant;
      model.dim_args.push_back(std::move(check));
    } catch (const Error& e) {
      corrupt(kernel, "param '" + p.name + "' dim: " + e.what());
    }
  }
}

void model_shapes(const KernelInfo& kernel, KernelModel& model) {
  add_dim_names(kernel, model);  // first, so outputs' expressions can use them
  add_shape_checks(kernel, model);
  add_dim_arg_checks(kernel, model);
}

RuleModel make_rule(const KernelModel& model, const std::string& text, const std::string& where) {
  const KernelInfo& k = *model.info;
  RuleModel rule;
  rule.text = text;
  try {
    const expr::Expr e = expr::Expr::parse(text);
    auto slot_of = [&](std::string_view name) { return slot_of_name(model, name); };
    rule.program = e.compile(slot_of);
    rule.dims_needed = dims_used(model, e);
    for (const std::string& name : e.names()) {
      const auto slot = static_cast<uint32_t>(slot_of(name));
      rule.slots.push_back(slot);
      rule.per_variant = rule.per_variant || (slot < k.params.size() && k.params[slot].kind == ParamKind::kConstexpr);
    }
  } catch (const Error& e) {
    corrupt(k, where + ": " + e.what());
  }
  return rule;
}

void model_rules(const KernelInfo& kernel, KernelModel& model) {
  for (size_t i = 0; i < kernel.constraints.size(); ++i) {
    model.rules.push_back(make_rule(model, kernel.constraints[i], "constraints[" + std::to_string(i) + "]"));
  }
  size_t heuristics = 0;
  for (uint32_t i = 0; i < kernel.params.size(); ++i) {
    const ParamInfo& p = kernel.params[i];
    if (p.heuristic.empty()) continue;
    if (++heuristics > kMaxHeuristics) corrupt(kernel, "more than " + std::to_string(kMaxHeuristics) + " heuristics");
    RuleModel rule = make_rule(model, p.heuristic, "param '" + p.name + "' heuristic");
    rule.kind = RuleModel::Kind::kHeuristic;
    rule.param = i;
    rule.heuristic = static_cast<uint32_t>(heuristics - 1);
    const auto it = std::find(model.integer_constexprs.begin(), model.integer_constexprs.end(), i);
    if (it == model.integer_constexprs.end()) {
      corrupt(kernel, "param '" + p.name + "' has a heuristic but values that are not integers or booleans");
    }
    rule.integer_constexpr = static_cast<int32_t>(it - model.integer_constexprs.begin());
    model.rules.push_back(std::move(rule));
  }
}

DType resolve_arg_dtype(const KernelInfo& kernel, const VariantInfo& v, const ParamInfo& p) {
  const std::optional<DType> t = resolve_dtype(p.dtype, v.bindings);
  if (!t)
    corrupt(kernel, "variant " + std::to_string(v.id) + " does not bind type variable '" + p.dtype.type_var + "'");
  return *t;
}

VariantModel model_variant(const KernelModel& model, const VariantInfo& v) {
  const KernelInfo& kernel = *model.info;
  VariantModel vm;
  vm.info = &v;
  vm.label = variant_label(kernel, v);
  size_t descriptor = 0;
  vm.abi_params = 2;  // the scratch pointers
  for (const KernelArg& a : v.args) {
    const ParamInfo& p = kernel.params.at(a.param_index);
    vm.arg_types.push_back(a.type);
    vm.arg_dtypes.push_back(resolve_arg_dtype(kernel, v, p));
    vm.divisibility.push_back(a.divisibility);
    vm.specificity += static_cast<uint32_t>(std::countr_zero(a.divisibility));
    const auto arg = static_cast<uint32_t>(vm.arg_types.size() - 1);
    if (a.type == ArgType::kPointer || a.type == ArgType::kTensorDesc)
      vm.typed_args.emplace_back(arg, vm.arg_dtypes.back());
    if (a.divisibility > 1) vm.divisible_args.emplace_back(arg, a.divisibility);
    if (a.type != ArgType::kTensorDesc) {
      ++vm.abi_params;
      continue;
    }
    const TensorDescInfo& d = v.tensordescs.at(descriptor++);
    const uint32_t rank = static_cast<uint32_t>(d.block.size());
    if (d.tma && !d.fp4_padded && d.elem_size != dtype_size(vm.arg_dtypes.back())) {
      corrupt(kernel, vm.label + ": descriptor '" + p.name + "' was compiled for " + std::to_string(d.elem_size) +
                          "-byte elements, its dtype " + std::string(dtype_name(vm.arg_dtypes.back())) + " has " +
                          std::to_string(dtype_size(vm.arg_dtypes.back())));
    }
    vm.abi_params += d.tma ? 1 + 2 * rank : 1 + 2 * rank + 1 + 2 * rank;
  }
  if (vm.abi_params > kMaxAbiParams) {
    corrupt(kernel, vm.label + " has more than " + std::to_string(kMaxAbiParams) + " kernel parameters");
  }
  for (uint32_t param : model.integer_constexprs) {
    for (const ConstexprValue& c : v.constexprs) {
      if (c.name == kernel.params[param].name) vm.integer_constexprs.push_back(c.value.as_int());
    }
  }
  if (vm.integer_constexprs.size() != model.integer_constexprs.size()) {
    corrupt(kernel, vm.label + " does not give every constexpr a value");
  }
  const auto has = [&](const ConstexprValue& want) {
    return std::any_of(v.constexprs.begin(), v.constexprs.end(),
                       [&](const ConstexprValue& c) { return c.name == want.name && c.value == want.value; });
  };
  for (size_t i = 0; i < kernel.steps.size() && vm.step < 0; ++i) {
    if (std::all_of(kernel.steps[i].begin(), kernel.steps[i].end(), has)) vm.step = static_cast<int32_t>(i);
  }
  return vm;
}

// The tuning key: expressions over integer scalars, launch variables and dim names.
void model_tuning(const KernelInfo& kernel, KernelModel& model) {
  const TuningInfo& t = kernel.tuning;
  for (size_t i = 0; i < t.key.size(); ++i) {
    try {
      const expr::Expr e = expr::Expr::parse(t.key[i]);
      for (const std::string& name : e.names()) {
        const int slot = slot_of_name(model, name);
        if (slot >= 0 && static_cast<size_t>(slot) < kernel.params.size() &&
            kernel.params[static_cast<size_t>(slot)].kind == ParamKind::kConstexpr) {
          throw Error(ErrorCode::kCorruptPack, "'" + name + "' is a constexpr; a key is known before the variant");
        }
      }
      model.tuning.programs.push_back(e.compile([&](std::string_view n) { return slot_of_name(model, n); }));
      const std::vector<std::string> names = e.names();
      const bool bare = names.size() == 1 && e.to_string() == names[0];
      model.tuning.direct_slots.push_back(bare ? slot_of_name(model, names[0]) : -1);
      model.tuning.dims_needed |= dims_used(model, e);
    } catch (const Error& e) {
      corrupt(kernel, "tuning.key[" + std::to_string(i) + "]: " + e.what());
    }
  }
  if (t.key.empty()) return;
  for (const TypeVarInfo& var : kernel.type_vars) {
    uint32_t arg = UINT32_MAX;
    for (uint32_t a = 0; a < model.runtime_params.size() && arg == UINT32_MAX; ++a) {
      const ParamInfo& p = kernel.params[model.runtime_params[a]];
      if ((p.kind == ParamKind::kTensor || p.kind == ParamKind::kTensorDesc) && p.dtype.type_var == var.name) arg = a;
    }
    if (arg == UINT32_MAX) corrupt(kernel, "type variable '" + var.name + "' types no tensor argument");
    model.tuning.type_var_args.push_back(arg);
  }
}

}  // namespace

KernelModel build_model(const KernelInfo& kernel) {
  KernelModel model;
  model.info = &kernel;
  model_params(kernel, model);
  model_shapes(kernel, model);
  // Grids use integer scalars, launch variables, integer constexprs and SM_COUNT, never dims: a
  // launch need not give shapes to be placed. A param or launch variable called SM_COUNT (packs
  // written before the name was reserved) keeps its meaning.
  auto grid_slot = [&](std::string_view name) {
    const int slot = slot_of_value(model, name);
    return slot < 0 && name == kSmCountName ? static_cast<int>(model.sm_count_slot) : slot;
  };
  for (size_t d = 0; d < 3; ++d) {
    try {
      const expr::Expr e = expr::Expr::parse(kernel.grid[d]);
      model.grid[d] = e.compile(grid_slot);
      for (const std::string& name : e.names()) {
        if (grid_slot(name) == static_cast<int>(model.sm_count_slot)) model.grid_names_sm_count[d] = true;
      }
    } catch (const Error& e) {
      corrupt(kernel, "grid[" + std::to_string(d) + "]: " + e.what());
    }
  }
  model_rules(kernel, model);
  model_tuning(kernel, model);
  if (kernel.steps.size() > kMaxSteps) corrupt(kernel, "more than " + std::to_string(kMaxSteps) + " steps");
  for (const std::vector<ConstexprValue>& step : kernel.steps) model.step_labels.push_back(step_text(step));
  model.variants.reserve(kernel.variants.size());
  for (const VariantInfo& v : kernel.variants) model.variants.push_back(model_variant(model, v));
  return model;
}

void set_variant_slots(const KernelModel& model, const VariantModel& variant, LaunchValues& values) {
  for (size_t i = 0; i < model.integer_constexprs.size(); ++i) {
    values.slots[model.integer_constexprs[i]] = variant.integer_constexprs[i];
  }
}

}  // namespace tritonpack::runtime
