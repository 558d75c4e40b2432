#include "harness/run_plan.h"

#include <algorithm>
#include <optional>
#include <set>

#include "runtime/args.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "util/text.h"

namespace tritonpack::harness {
namespace {

using text::is_identifier;
using text::join;

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::kInvalidArgument, message); }

bool is_integer_scalar(const ParamInfo& p) {
  return p.kind == ParamKind::kScalar && tritonpack::is_integer_scalar(p.dtype.dtype);
}

int64_t parse_int(const std::string& name, const std::string& text) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used, 0);
  } catch (...) {
    used = 0;
  }
  if (used != text.size() || text.empty()) invalid("-a " + name + "=" + text + ": expected an integer");
  return v;
}

double parse_float(const std::string& name, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used != text.size() || text.empty()) invalid("-a " + name + "=" + text + ": expected a number");
  return v;
}

// A float scalar as the kernel receives it (fp32, fp16 or bf16), so that the reference computes with
// the same value: sm_scale = 0.1 is 0.100000001490116 in fp32.
double as_stored(DType t, double v) {
  switch (t) {
    case DType::kFp16: return runtime::fp16_bits_to_float(runtime::float_to_fp16_bits(static_cast<float>(v)));
    case DType::kBf16: return runtime::bf16_bits_to_float(runtime::float_to_bf16_bits(static_cast<float>(v)));
    case DType::kFp32: return static_cast<float>(v);
    default: return v;
  }
}

// What a NAME of -a NAME=VALUE can be.
struct Names {
  std::vector<std::string> scalars, launch_vars, dims;
};

// Whether `name` in a dim-size argument's expression is the device's SM count: SM_COUNT, unless the
// kernel has a param, launch variable or tensor dim of that name (packs written before the name
// was reserved).
bool is_builtin_sm_count(const KernelInfo& k, std::string_view name) {
  if (name != kSmCountName) return false;
  const auto named = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& x) { return x.name == name; });
  };
  if (named(k.params) || named(k.launch_vars)) return false;
  return std::none_of(k.params.begin(), k.params.end(), [&](const ParamInfo& p) {
    return std::find(p.dims.begin(), p.dims.end(), name) != p.dims.end();
  });
}

// Whether a dim-size argument's expression names the built-in SM_COUNT.
bool names_sm_count(const KernelInfo& k, const std::string& text) {
  try {
    const std::vector<std::string> names = expr::Expr::parse(text).names();
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return is_builtin_sm_count(k, n); });
  } catch (const Error&) {
    return false;
  }
}

// Dim names: the names in the dims of tensors and descriptors and in the `dim` of dim-size
// arguments that are neither params nor launch variables (fmha's B, H, S, D), nor the built-in
// SM_COUNT.
Names names_of(const KernelInfo& k) {
  Names n;
  std::set<std::string> taken;
  for (const ParamInfo& p : k.params) {
    taken.insert(p.name);
    if (p.kind == ParamKind::kScalar) n.scalars.push_back(p.name);
  }
  for (const LaunchVarInfo& v : k.launch_vars) {
    taken.insert(v.name);
    n.launch_vars.push_back(v.name);
  }
  auto add = [&](const std::string& text) {
    try {
      for (const std::string& name : expr::Expr::parse(text).names()) {
        if (taken.count(name) || is_builtin_sm_count(k, name)) continue;
        if (std::find(n.dims.begin(), n.dims.end(), name) == n.dims.end()) n.dims.push_back(name);
      }
    } catch (const Error&) {
      // The pack validated its expressions; an unparsable one names nothing here.
    }
  };
  for (const ParamInfo& p : k.params) {
    for (const std::string& d : p.dims) add(d);
    if (!p.dim.empty()) add(p.dim);
  }
  return n;
}

// The input tensors and descriptors whose dims name `dim`, for messages ("Q, K, V").
std::string holders_of(const KernelInfo& k, const std::string& dim) {
  std::vector<std::string> out;
  for (const ParamInfo& p : k.params) {
    if (std::find(p.dims.begin(), p.dims.end(), dim) != p.dims.end()) out.push_back(p.name);
  }
  return join(out);
}

TypeBindings bind_types(const KernelInfo& k, const std::map<std::string, std::string>& requested) {
  for (const auto& request : requested) {
    const std::string& var = request.first;  // named, not bound: a lambda below captures it (clang 15)
    const std::string& text = request.second;
    const auto it = std::find_if(k.type_vars.begin(), k.type_vars.end(), [&](const TypeVarInfo& t) { return t.name == var; });
    if (it == k.type_vars.end()) {
      std::vector<std::string> vars;
      for (const TypeVarInfo& t : k.type_vars) vars.push_back(t.name);
      invalid("kernel '" + k.name + "' has no type variable '" + var + "'" +
              (vars.empty() ? std::string(" (it has none)") : " (it has " + join(vars) + ")"));
    }
    const std::optional<DType> dtype = parse_dtype(text);
    if (!dtype || std::find(it->dtypes.begin(), it->dtypes.end(), *dtype) == it->dtypes.end()) {
      std::vector<std::string> allowed;
      for (DType t : it->dtypes) allowed.emplace_back(dtype_name(t));
      invalid("type " + var + "=" + text + " is not compiled in this pack (" + var + " in " + join(allowed) + ")");
    }
  }
  TypeBindings bindings;
  for (const TypeVarInfo& t : k.type_vars) {
    auto it = requested.find(t.name);
    bindings[t.name] = it == requested.end() ? t.dtypes.front() : *parse_dtype(it->second);
  }
  return bindings;
}

// Each -a NAME=VALUE into the plan's integers or reals.
void read_values(const KernelInfo& k, const Names& names, const RunRequest& request, RunPlan& plan) {
  for (const auto& value : request.values) {
    const std::string& name = value.first;  // named, not bound: a lambda below captures it (clang 15)
    const std::string& text = value.second;
    const auto param = std::find_if(k.params.begin(), k.params.end(), [&](const ParamInfo& p) { return p.name == name; });
    if (param != k.params.end() && param->kind == ParamKind::kScalar) {
      if (is_float(param->dtype.dtype)) {
        plan.reals[name] = as_stored(param->dtype.dtype, parse_float(name, text));
      } else {
        plan.integers[name] = parse_int(name, text);
      }
      continue;
    }
    if (param != k.params.end()) {
      if (param->kind == ParamKind::kConstexpr) {
        invalid("-a " + name + "=" + text + ": '" + name + "' is a constexpr; choose the compiled value with --pin " +
                name + "=" + text);
      }
      invalid("-a " + name + "=" + text + ": '" + name + "' is a " + std::string(param_kind_name(param->kind)) +
              "; `tritonpack run` allocates it (its size comes from the spec's numel or dims)");
    }
    const bool launch_var = std::find(names.launch_vars.begin(), names.launch_vars.end(), name) != names.launch_vars.end();
    const bool dim = std::find(names.dims.begin(), names.dims.end(), name) != names.dims.end();
    if (!launch_var && !dim) {
      std::string takes = "scalars: " + (names.scalars.empty() ? std::string("none") : join(names.scalars));
      if (!names.launch_vars.empty()) takes += "; launch variables: " + join(names.launch_vars);
      if (!names.dims.empty()) takes += "; dims: " + join(names.dims);
      invalid("-a " + name + "=" + text + ": kernel '" + k.name + "' has no scalar, launch variable or dim named '" +
              name + "' (" + takes + ")");
    }
    plan.integers[name] = parse_int(name, text);
  }
}

// The value of `text` from the plan's integers (and SM_COUNT where the plan knows it and the kernel
// gives the name no other meaning), or nullopt.
std::optional<int64_t> try_eval(const std::string& text, const RunPlan& plan) {
  try {
    return expr::Expr::parse(text).eval([&](std::string_view n, int64_t& v) {
      if (auto it = plan.integers.find(n); it != plan.integers.end()) {
        v = it->second;
        return true;
      }
      if (plan.sm_count == 0 || !is_builtin_sm_count(*plan.kernel, n)) return false;
      v = plan.sm_count;
      return true;
    });
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Dim-size arguments and their dims give each other: batch_size (dim = "B") from -a B=2, or B from
// -a batch_size=2; when both are given they must agree. One that names SM_COUNT is derived, or
// checked, only where the plan knows the count.
void derive_dim_arguments(const KernelInfo& k, RunPlan& plan) {
  for (size_t round = 0; round <= k.params.size(); ++round) {
    bool changed = false;
    for (const ParamInfo& p : k.params) {
      if (!is_integer_scalar(p) || p.dim.empty()) continue;
      const bool device = names_sm_count(k, p.dim);
      if (device && plan.sm_count == 0) continue;
      const auto given = plan.integers.find(p.name);
      const std::optional<int64_t> from_dims = try_eval(p.dim, plan);
      if (given == plan.integers.end()) {
        if (from_dims) {
          plan.integers[p.name] = *from_dims;
          changed = true;
        }
      } else if (from_dims && *from_dims != given->second) {
        invalid("-a " + p.name + "=" + std::to_string(given->second) + " disagrees with its dim: " + p.dim + " = " +
                std::to_string(*from_dims) +
                (device ? " with " + std::string(kSmCountName) + " = " + std::to_string(plan.sm_count) : ""));
      } else if (!from_dims && !device && is_identifier(p.dim) && !plan.integers.count(p.dim)) {
        plan.integers[p.dim] = given->second;
        changed = true;
      }
    }
    if (!changed) return;
  }
}

// Every value the launch needs that is neither given nor derived, as the -a to add; fields with a
// default take it.
std::vector<std::string> missing_values(const KernelInfo& k, RunPlan& plan) {
  std::vector<std::string> missing;
  for (const ParamInfo& p : k.params) {
    if (p.kind != ParamKind::kScalar) continue;
    const bool integer = is_integer_scalar(p);
    if (integer ? plan.integers.count(p.name) : plan.reals.count(p.name)) continue;
    if (integer && plan.sm_count == 0 && !p.dim.empty() && names_sm_count(k, p.dim)) {
      plan.awaiting_sm_count.push_back(p.name);  // derived once the device's SM count is known
      continue;
    }
    if (p.has_default) {
      if (integer) {
        plan.integers[p.name] = static_cast<int64_t>(p.default_value);
      } else {
        plan.reals[p.name] = as_stored(p.dtype.dtype, p.default_value);
      }
      continue;
    }
    missing.push_back("-a " + p.name + "=<" + p.dtype.text() + ">" +
                      (p.dim.empty() ? std::string() : " (or the dims of '" + p.dim + "')"));
  }
  for (const LaunchVarInfo& v : k.launch_vars) {
    if (!plan.integers.count(v.name)) {
      missing.push_back("-a " + v.name + "=<" + std::string(dtype_name(v.dtype)) + "> (launch variable)");
    }
  }
  return missing;
}

// Dims a rule or heuristic reads, and descriptors' dims: without them the launch cannot be made.
std::vector<std::string> missing_dims(const KernelInfo& k, const Names& names, const RunPlan& plan) {
  std::vector<std::string> missing;
  auto report = [&](const std::string& dim, const std::string& why) {
    const std::string line = "-a " + dim + "=<size> (" + why + ")";
    if (std::find(missing.begin(), missing.end(), line) == missing.end()) missing.push_back(line);
  };
  auto rule_dims = [&](const std::string& text, const std::string& what) {
    try {
      for (const std::string& n : expr::Expr::parse(text).names()) {
        if (std::find(names.dims.begin(), names.dims.end(), n) != names.dims.end() && !plan.integers.count(n)) {
          report(n, what + " '" + text + "' reads the dim " + n + " of " + holders_of(k, n));
        }
      }
    } catch (const Error&) {
    }
  };
  for (const std::string& c : k.constraints) rule_dims(c, "rule");
  for (const ParamInfo& p : k.params) {
    if (!p.heuristic.empty()) rule_dims(p.heuristic, "heuristic");
  }
  for (const PlannedOperand& op : plan.operands) {
    if (!op.descriptor || !op.shape.empty()) continue;
    if (op.param->dims.empty()) {
      invalid("descriptor '" + op.param->name + "' has no dims in the spec; `tritonpack run` cannot give it a shape");
    }
    for (const std::string& d : op.param->dims) {
      if (try_eval(d, plan)) continue;
      for (const std::string& n : expr::Expr::parse(d).names()) {
        if (!plan.integers.count(n)) report(n, "descriptor '" + op.param->name + "' needs its shape");
      }
    }
  }
  return missing;
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * std::max<int64_t>(shape[d], 1);
  return strides;
}

}  // namespace

RunPlan plan_run(const KernelInfo& k, const RunRequest& request, uint32_t sm_count) {
  RunPlan plan;
  plan.kernel = &k;
  plan.sm_count = sm_count;
  plan.bindings = bind_types(k, request.types);
  const Names names = names_of(k);
  read_values(k, names, request, plan);
  derive_dim_arguments(k, plan);
  std::vector<std::string> missing = missing_values(k, plan);
  if (!missing.empty()) invalid("kernel '" + k.name + "' needs " + join(missing));

  for (const ParamInfo& p : k.params) {
    if (p.kind != ParamKind::kTensor && p.kind != ParamKind::kTensorDesc) continue;
    PlannedOperand op;
    op.param = &p;
    op.dtype = *resolve_dtype(p.dtype, plan.bindings);
    op.descriptor = p.kind == ParamKind::kTensorDesc;
    op.written = p.is_output || p.is_scratch;
    for (const std::string& d : p.dims) {
      const std::optional<int64_t> size = try_eval(d, plan);
      if (!size) {
        op.shape.clear();
        break;
      }
      if (*size < 0) invalid("'" + p.name + "' dim '" + d + "' = " + std::to_string(*size) + " is negative");
      op.shape.push_back(*size);
    }
    op.strides = contiguous_strides(op.shape);
    plan.operands.push_back(std::move(op));
  }
  missing = missing_dims(k, names, plan);
  if (!missing.empty()) invalid("kernel '" + k.name + "' needs " + join(missing));

  if (request.verify && !k.reference.empty()) {
    plan.reference = find_reference(k.reference);
    if (plan.reference == nullptr) {
      throw Error(ErrorCode::kNotFound, "kernel '" + k.name + "' names the reference '" + k.reference +
                                            "', which `tritonpack run` does not know (it knows " +
                                            reference_names() + "); run with --no-verify");
    }
  }
  return plan;
}

LaunchOptions RunRequest::launch_options() const {
  LaunchOptions options;
  options.config = config;
  options.pinned = pinned;
  options.variant_id = variant_id;
  options.use_tuning = use_tuning;
  options.tuning_device = tuning_device;
  options.sm_count = sm_count;
  return options;
}

std::vector<Arg> RunPlan::args(std::span<const CUdeviceptr> pointers) const {
  std::vector<Arg> out;
  size_t operand = 0;
  for (const ParamInfo& p : kernel->params) {
    switch (p.kind) {
      case ParamKind::kTensor: {
        const PlannedOperand& op = operands[operand];
        out.push_back(Arg::tensor(pointers[operand], op.dtype, std::span<const int64_t>(op.shape)));
        ++operand;
        break;
      }
      case ParamKind::kTensorDesc: {
        const PlannedOperand& op = operands[operand];
        out.push_back(Arg::descriptor(pointers[operand], op.dtype, op.shape, op.strides));
        ++operand;
        break;
      }
      case ParamKind::kScalar:
        out.push_back(is_integer_scalar(p) ? Arg::integer(integers.at(p.name)) : Arg::real(reals.at(p.name)));
        break;
      case ParamKind::kConstexpr: break;
    }
  }
  for (const LaunchVarInfo& v : kernel->launch_vars) out.push_back(Arg::integer(integers.at(v.name)));
  return out;
}

std::function<bool(std::string_view, int64_t&)> RunPlan::lookup(const VariantInfo& variant) const {
  return [this, &variant](std::string_view name, int64_t& v) {
    if (auto it = integers.find(name); it != integers.end()) {
      v = it->second;
      return true;
    }
    for (const ConstexprValue& c : variant.constexprs) {
      if (c.name == name && c.value.is_integral()) {
        v = c.value.as_int();
        return true;
      }
    }
    return false;
  };
}

int64_t RunPlan::numel(const PlannedOperand& op, const VariantInfo& variant) const {
  int64_t from_shape = 1;
  for (int64_t d : op.shape) {
    if (__builtin_mul_overflow(from_shape, d, &from_shape)) {
      throw Error(ErrorCode::kInvalidArgument, "'" + op.param->name + "' has more elements than 2^63");
    }
  }
  if (op.param->numel.empty()) {
    if (op.shape.empty()) {
      throw Error(ErrorCode::kInvalidSpec, "'" + op.param->name +
                                               "' has neither numel nor dims in the spec; `tritonpack run` cannot size it");
    }
    return from_shape;
  }
  const int64_t n = expr::Expr::parse(op.param->numel).eval(lookup(variant));
  if (n < 0) invalid("'" + op.param->name + "' numel '" + op.param->numel + "' = " + std::to_string(n) + " is negative");
  if (!op.shape.empty() && n < from_shape) {
    throw Error(ErrorCode::kInvalidSpec, "'" + op.param->name + "' numel '" + op.param->numel + "' = " +
                                             std::to_string(n) + " is smaller than its dims' " + std::to_string(from_shape));
  }
  return n;
}

ConstexprValue pin_from_text(const KernelInfo& k, std::string_view name, std::string_view text) {
  const auto param = std::find_if(k.params.begin(), k.params.end(), [&](const ParamInfo& p) { return p.name == name; });
  if (param == k.params.end() || param->kind != ParamKind::kConstexpr) {
    std::vector<std::string> constexprs;
    for (const ParamInfo& p : k.params) {
      if (p.kind == ParamKind::kConstexpr) constexprs.push_back(p.name);
    }
    invalid("--pin " + std::string(name) + "=" + std::string(text) + ": kernel '" + k.name + "' has no constexpr '" +
            std::string(name) + "' (" + (constexprs.empty() ? std::string("it has none") : "it has " + join(constexprs)) +
            ")");
  }
  const std::vector<Constant> compiled = compiled_values(k, name);
  for (const Constant& c : compiled) {
    if (c.matches_text(text)) return {std::string(name), c};
  }
  std::vector<std::string> texts;
  for (const Constant& c : compiled) texts.push_back(c.text());
  invalid("--pin " + std::string(name) + "=" + std::string(text) + ": no variant of kernel '" + k.name +
          "' is compiled with that value; " + std::string(name) + " has " +
          (texts.empty() ? std::string("no compiled values") : join(texts)));
}

}  // namespace tritonpack::harness
