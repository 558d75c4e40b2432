// tritonpack: resolving a kernel's plugin model (src/plugin/model.h).
#include "plugin/model.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "util/text.h"
#include "tritonpack/error.h"
#include "tritonpack/rule.h"

namespace tritonpack::plugin {
namespace {

[[noreturn]] void fail(const KernelInfo& k, const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "kernel '" + k.name + "' as a plugin: " + what);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

bool is_integer_literal(const std::string& s) {
  return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> dtypes_of(const KernelInfo& k, const DTypeRef& dtype) {
  for (const TypeVarInfo& v : k.type_vars) {
    if (v.name != dtype.type_var) continue;
    std::vector<std::string> names;
    for (DType t : v.dtypes) names.emplace_back(dtype_name(t));
    return names;
  }
  return {dtype.text()};
}

}  // namespace

std::vector<const TypeVarInfo*> unbound_type_vars(const KernelInfo& k) {
  std::vector<const TypeVarInfo*> out;
  for (const TypeVarInfo& v : k.type_vars) {
    const bool bound = std::any_of(k.params.begin(), k.params.end(), [&](const ParamInfo& p) {
      const bool input = (p.kind == ParamKind::kTensor || p.kind == ParamKind::kTensorDesc) && !p.is_output &&
                         !p.is_scratch;
      return input && p.dtype.type_var == v.name;
    });
    if (!bound && !v.dtypes.empty()) out.push_back(&v);
  }
  return out;
}

bool has_plugin_keys(const KernelInfo& k) {
  const PluginInfo& pl = k.plugin;
  if (!pl.name.empty() || pl.version != "1" || !pl.plugin_namespace.empty() || !pl.rules.empty()) return true;
  // Tensor dims alone do not make a plugin: every kernel may name dims, for the runtime's checks.
  return std::any_of(k.params.begin(), k.params.end(),
                     [](const ParamInfo& p) { return p.is_scratch || p.is_field || !p.dim.empty(); });
}

Model build_model(const KernelInfo& k) {
  Model m;
  m.kernel = &k;
  PluginDescription& d = m.description;
  d.kernel = k.name;
  d.name = k.plugin.name.empty() ? k.name : k.plugin.name;
  d.version = k.plugin.version;
  d.plugin_namespace = k.plugin.plugin_namespace.empty() ? "tritonpack" : k.plugin.plugin_namespace;
  for (const ConfigInfo& c : k.configs) d.tactics.push_back(c.name);
  for (size_t axis = 0; axis < 3; ++axis) m.grid[axis] = expr::Expr::parse(k.grid[axis]);
  ShapeProgram& sp = m.shapes;

  // Params by role.
  std::vector<std::string> input_names, sized_names, constexpr_names, int_field_names;
  for (uint32_t i = 0; i < k.params.size(); ++i) {
    const ParamInfo& p = k.params[i];
    const bool descriptor = p.kind == ParamKind::kTensorDesc;
    if (p.kind == ParamKind::kTensor || descriptor) {
      // A descriptor is an engine tensor too: launched as Arg::descriptor over its dense memory,
      // so its rank is fixed by its block and its shape must follow from its dims.
      if (descriptor && p.dims.empty()) {
        fail(k, "tensordesc param '" + p.name + "' needs dims = [...], one per dim of its block (" +
                    std::to_string(p.block.size()) + "): the engine tensor's shape is the descriptor's");
      }
      if (descriptor && p.dims.size() != p.block.size()) {
        fail(k, "tensordesc param '" + p.name + "' has " + std::to_string(p.dims.size()) + " dims, its block has " +
                    std::to_string(p.block.size()) + "; a descriptor's rank is its block's");
      }
      PluginTensorInfo t{p.name, p.dtype.text(), dtypes_of(k, p.dtype), i, descriptor};
      if (p.is_output) {
        m.output_params.push_back(i);
        d.outputs.push_back(std::move(t));
        sized_names.push_back(p.name);
      } else if (p.is_scratch) {
        m.scratch_params.push_back(i);
        d.scratch.push_back(std::move(t));
        sized_names.push_back(p.name);
      } else {
        m.input_params.push_back(i);
        d.inputs.push_back(std::move(t));
        input_names.push_back(p.name);
      }
    } else if (p.kind == ParamKind::kConstexpr) {
      constexpr_names.push_back(p.name);
    } else if (p.is_field) {
      m.field_params.push_back(i);
      d.fields.push_back({p.name, p.dtype.dtype, p.has_default, p.default_value, {}});
      if (is_integer_scalar(p.dtype.dtype)) int_field_names.push_back(p.name);
    }
  }
  if (m.input_params.empty()) fail(k, "it has no input tensor");
  // Type variables no input binds become dtype fields (after the kernel's own fields).
  for (const TypeVarInfo* v : unbound_type_vars(k)) {
    if (std::any_of(k.params.begin(), k.params.end(), [&](const ParamInfo& p) { return p.name == v->name; })) {
      fail(k, "type variable '" + v->name + "' (bound by no input, so a dtype field) has the name of a parameter; "
                  "rename one of them");
    }
    d.fields.push_back({v->name, DType::kI32, true, static_cast<double>(v->dtypes[0]), v->dtypes});
  }
  if (!k.launch_vars.empty()) {
    fail(k, "it has launch variables ('" + k.launch_vars[0].name + "'), which an engine cannot give; " +
                "make them dim-size arguments (a scalar param with dim = \"...\") instead");
  }
  if (m.output_params.empty()) fail(k, "it has no output tensor (io = \"out\")");
  sp.input_names = input_names;
  sp.outputs.resize(m.output_params.size());
  sp.scratch.resize(m.scratch_params.size());
  std::vector<bool> sized(sized_names.size(), false);  // outputs then scratch
  auto sized_slot = [&](const std::string& name) -> int {
    for (size_t i = 0; i < sized_names.size(); ++i) {
      if (sized_names[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  auto sized_ref = [&](int slot) -> ShapeProgram::Sized& {
    const size_t s = static_cast<size_t>(slot);
    return s < sp.outputs.size() ? sp.outputs[s] : sp.scratch[s - sp.outputs.size()];
  };

  // Inputs' dims: names bind (a repeated name must match), integers fix the size.
  std::set<std::string> dim_names;
  for (uint32_t in = 0; in < m.input_params.size(); ++in) {
    const ParamInfo& p = k.params[m.input_params[in]];
    sp.input_rank.push_back(p.dims.empty() ? -1 : static_cast<int32_t>(p.dims.size()));
    for (uint32_t dim = 0; dim < p.dims.size(); ++dim) {
      const std::string& text = p.dims[dim];
      if (is_integer_literal(text)) {
        sp.fixed_dims.push_back({in, dim, std::stoll(text)});
      } else if (text::is_identifier(text)) {
        if (dim_names.insert(text).second) {
          sp.dim_names.push_back({text, in, dim});
        } else {
          sp.repeated_dims.push_back({in, dim, text});
        }
      } else {
        fail(k, "input '" + p.name + "' dims[" + std::to_string(dim) + "] is '" + text +
                    "'; an input's dims are names (which bind) or integers (which must match)");
      }
    }
  }

  // Rules: shape rules size outputs and scratch tensors; dim-size rules give scalars.
  std::vector<std::pair<std::string, int32_t>> dim_rule_targets;
  for (size_t r = 0; r < k.plugin.rules.size(); ++r) {
    sp.rules.push_back(rule::Rule::parse(k.plugin.rules[r]));
    const rule::Rule& rule = sp.rules.back();
    for (const rule::TensorPattern& pattern : rule.inputs()) {
      if (std::find(input_names.begin(), input_names.end(), pattern.tensor) == input_names.end()) {
        fail(k, "rule '" + rule.source() + "': '" + pattern.tensor + "' is not an input tensor (inputs: " +
                    join(input_names) + ")");
      }
    }
    if (rule.kind() == rule::Rule::Kind::kDimSize) {
      dim_rule_targets.emplace_back(rule.target(), static_cast<int32_t>(r));
      continue;
    }
    for (uint32_t t = 0; t < rule.outputs().size(); ++t) {
      const std::string& name = rule.outputs()[t].tensor;
      const int slot = sized_slot(name);
      if (slot < 0) {
        fail(k, "rule '" + rule.source() + "': '" + name + "' is not an output or scratch tensor (they are: " +
                    join(sized_names) + ")");
      }
      if (sized[static_cast<size_t>(slot)]) fail(k, "rule '" + rule.source() + "': '" + name + "' already has a shape");
      sized[static_cast<size_t>(slot)] = true;
      sized_ref(slot).rule = static_cast<int32_t>(r);
      sized_ref(slot).target = t;
    }
  }

  // Scalars: a field, a dim-size argument (dim = "..." or a rule), or nothing a plugin can give.
  std::vector<std::string> dim_arg_names, sm_dim_arg_names;  // the latter name SM_COUNT
  for (uint32_t i = 0; i < k.params.size(); ++i) {
    const ParamInfo& p = k.params[i];
    if (p.kind != ParamKind::kScalar || p.is_field) continue;
    auto by_rule = std::find_if(dim_rule_targets.begin(), dim_rule_targets.end(),
                                [&](const auto& t) { return t.first == p.name; });
    if (by_rule != dim_rule_targets.end() && !p.dim.empty()) {
      fail(k, "scalar '" + p.name + "' has dim = \"" + p.dim + "\" and is also the target of rule '" +
                  k.plugin.rules[static_cast<size_t>(by_rule->second)] + "'");
    }
    if (by_rule == dim_rule_targets.end() && p.dim.empty()) {
      fail(k, "scalar '" + p.name + "' gets no value: make it a field (field = true), a dim-size argument " +
                  "(dim = \"<expression over dim names>\") or the target of a rule 'X[...] : ... -> " + p.name + "'");
    }
    if (!is_integer_scalar(p.dtype.dtype)) {
      fail(k, "dim-size argument '" + p.name + "' must be i32 or i64, not " + p.dtype.text());
    }
    ShapeProgram::DimArg arg;
    arg.name = p.name;
    arg.param_index = i;
    if (by_rule != dim_rule_targets.end()) {
      arg.rule = by_rule->second;
    } else {
      arg.value = expr::Expr::parse(p.dim);
      for (const std::string& n : arg.value.names()) {
        const bool int_field = std::find(int_field_names.begin(), int_field_names.end(), n) != int_field_names.end();
        if (dim_names.count(n) || int_field) continue;
        // The device's SM count, unless a dim or field of that name (a pack written before the
        // name was reserved) gives it another meaning.
        if (n == kSmCountName) {
          arg.uses_sm_count = true;
          continue;
        }
        fail(k, "dim-size argument '" + p.name + "' = '" + p.dim + "' uses '" + n +
                    "', which is neither an input dim name, an integer field nor " + std::string(kSmCountName));
      }
    }
    if (arg.uses_sm_count) sm_dim_arg_names.push_back(p.name);
    m.uses_sm_count = m.uses_sm_count || arg.uses_sm_count;
    sp.dim_args.push_back(std::move(arg));
    dim_arg_names.push_back(p.name);
  }
  // An output's shape is fixed before the device is (an engine's build, a meta tensor): it may not
  // depend on SM_COUNT. A scratch tensor's may (the workspace is planned for the device).
  const auto refuse_device_dependent_output = [&](const std::string& output, const std::string& text,
                                                  const std::string& name) {
    if (std::find(sm_dim_arg_names.begin(), sm_dim_arg_names.end(), name) == sm_dim_arg_names.end()) return;
    fail(k, "output '" + output + "' dim '" + text + "' uses the dim-size argument '" + name + "', which names " +
                std::string(kSmCountName) + ": an output's shape cannot depend on the device (an engine fixes it " +
                "before it knows the device); use it in a scratch tensor's dims instead");
  };
  for (size_t r = 0; r < sp.rules.size(); ++r) {
    const rule::Rule& rule = sp.rules[r];
    if (rule.kind() != rule::Rule::Kind::kShape) continue;
    std::set<std::string> bound;  // the names the rule's own patterns bind
    for (const rule::TensorPattern& pattern : rule.inputs()) {
      for (const rule::DimPattern& dim : pattern.dims) bound.insert(dim.name);
    }
    for (const rule::TensorTarget& target : rule.outputs()) {
      const int slot = sized_slot(target.tensor);
      if (slot < 0 || static_cast<size_t>(slot) >= sp.outputs.size()) continue;  // scratch
      for (const rule::DimTarget& dim : target.dims) {
        if (dim.rest) continue;
        for (const std::string& n : dim.size.names()) {
          if (!bound.count(n)) {
            refuse_device_dependent_output(target.tensor, dim.size.to_string() + "' of rule '" + rule.source(), n);
          }
        }
      }
    }
  }
  for (const auto& [target, r] : dim_rule_targets) {
    if (std::find(dim_arg_names.begin(), dim_arg_names.end(), target) == dim_arg_names.end()) {
      fail(k, "rule '" + k.plugin.rules[static_cast<size_t>(r)] + "': '" + target +
                  "' is not an i32/i64 scalar param without field or dim");
    }
  }

  // Outputs and scratch sized by dims, or by a rule (above); not both, not neither.
  auto known = [&](const std::string& n, bool allow_constexprs) {
    auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), n) != v.end(); };
    return dim_names.count(n) || in(int_field_names) || in(dim_arg_names) || (allow_constexprs && in(constexpr_names));
  };
  for (size_t s = 0; s < sized_names.size(); ++s) {
    const bool is_output = s < m.output_params.size();
    const ParamInfo& p = k.params[is_output ? m.output_params[s] : m.scratch_params[s - m.output_params.size()]];
    ShapeProgram::Sized& target = sized_ref(static_cast<int>(s));
    if (!p.dims.empty() && sized[s]) fail(k, "'" + p.name + "' has dims and also a shape rule; keep one");
    if (p.dims.empty() && !sized[s]) {
      fail(k, std::string(is_output ? "output" : "scratch tensor") + " '" + p.name +
                  "' has no shape: give it dims = [...] or a rule 'X[...] -> " + p.name + "[...]'");
    }
    for (const std::string& text : p.dims) {
      target.dims.push_back(expr::Expr::parse(text));
      for (const std::string& n : target.dims.back().names()) {
        if (!known(n, !is_output)) {
          fail(k, "'" + p.name + "' dim '" + text + "' uses '" + n + "', which is not an input dim name, integer field" +
                      (is_output ? ", or dim-size argument (an output's shape cannot depend on a variant)"
                                 : ", dim-size argument or constexpr"));
        }
        if (is_output) refuse_device_dependent_output(p.name, text, n);
      }
    }
  }

  // Constraints: those naming constexprs choose variants; the rest must simply hold.
  for (const std::string& text : k.constraints) {
    m.constraints.push_back(expr::Expr::parse(text));
    bool uses_constexpr = false;
    for (const std::string& n : m.constraints.back().names()) {
      if (!known(n, true)) {
        fail(k, "constraint '" + text + "' uses '" + n +
                    "', which is not an input dim name, integer field, dim-size argument or constexpr");
      }
      uses_constexpr = uses_constexpr || std::find(constexpr_names.begin(), constexpr_names.end(), n) != constexpr_names.end();
    }
    m.constraint_uses_constexpr.push_back(uses_constexpr);
  }
  return m;
}

}  // namespace tritonpack::plugin
