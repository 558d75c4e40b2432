// The spec rules that need no TOML: names, archs, the names an expression may use, and the
// wording of unknown-key errors. spec_parse.cpp adds the place in the file.
#include <algorithm>

#include "plugin/model.h"
#include "spec/spec_internal.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/types.h"
#include "util/text.h"

namespace tritonpack::spec::detail {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

std::string all_dtype_names() {
  std::vector<std::string> names;
  for (int i = 0; i < kNumDTypes; ++i) names.emplace_back(dtype_name(static_cast<DType>(i)));
  return join(names, ", ");
}

std::string unknown_key_message(std::string_view key, std::string_view where,
                                std::initializer_list<std::string_view> allowed) {
  std::string message = "unknown key '" + std::string(key) + "' in " + std::string(where);
  // Suggest a near miss only for keys long enough that two edits do not make anything match.
  if (key.size() > 2) {
    for (std::string_view candidate : allowed) {
      if (edit_distance(key, candidate) <= 2) {
        message += " (did you mean '" + std::string(candidate) + "'?)";
        break;
      }
    }
  }
  return message + "; allowed keys: " + join(std::vector<std::string>(allowed.begin(), allowed.end()), ", ");
}

std::vector<Constant> compiled_values(const Spec& spec, const std::string& constexpr_name) {
  if (auto it = spec.constexpr_choices.find(constexpr_name); it != spec.constexpr_choices.end()) return it->second;
  std::vector<Constant> out;
  for (const ConfigInfo& c : spec.kernel.configs) {
    for (const ConstexprValue& v : c.constexprs) {
      if (v.name == constexpr_name && std::find(out.begin(), out.end(), v.value) == out.end()) out.push_back(v.value);
    }
  }
  return out;
}

std::vector<std::string> dim_names(const KernelInfo& kernel) {
  std::vector<std::string> names;
  for (const ParamInfo& p : kernel.params) {
    const bool input = (p.kind == ParamKind::kTensor && !p.is_output && !p.is_scratch) || p.kind == ParamKind::kTensorDesc;
    if (!input) continue;
    for (const std::string& d : p.dims) {
      if (is_identifier(d) && std::find(names.begin(), names.end(), d) == names.end()) names.push_back(d);
    }
  }
  return names;
}

namespace {

std::string scope_text(ExprScope scope) {
  std::string out = "; this expression may use ";
  if (scope.runtime_values) out += "i32/i64 scalar params, launch variables, ";
  if (scope.sm_count) out += std::string(kSmCountName) + " (the device's SM count), ";
  if (scope.dims) out += "dim names of input tensors, ";
  if (scope.type_sizes) out += "<TypeVar>.size, ";
  if (!scope.constexprs) return out.substr(0, out.size() - 2);
  return out + "and constexpr params with integer or boolean values";
}

// The problem with one name of an expression, or an empty string.
std::string name_problem(const Spec& spec, const std::string& name, ExprScope scope) {
  const KernelInfo& kernel = spec.kernel;
  if (name == kSmCountName) {
    // Only the grid and dim-size arguments are evaluated with the device at hand (a plugin
    // computes a dim-size argument when it plans for its device, and a scratch tensor sized by it
    // with it). Launch-wide rules and heuristics are evaluated before the device (bind_launch),
    // tuning keys bin launches for a table of one GPU model anyway, and numel, dims and block
    // size buffers and shapes that tools and engines plan without the device.
    return scope.sm_count ? std::string() : sm_count_refusal();
  }
  const size_t dot = name.find('.');
  if (dot != std::string::npos) {
    const std::string var = name.substr(0, dot);
    if (!scope.type_sizes) return "<TypeVar>.size may only be used in [bench]";
    if (name.substr(dot) != ".size") return "unknown name; the only attribute is <TypeVar>.size";
    const auto& vars = kernel.type_vars;
    if (std::none_of(vars.begin(), vars.end(), [&](const TypeVarInfo& v) { return v.name == var; })) {
      return "'" + var + "' is not a type variable declared in [types]";
    }
    return {};
  }
  const auto& params = kernel.params;
  auto it = std::find_if(params.begin(), params.end(), [&](const ParamInfo& p) { return p.name == name; });
  if (it != params.end()) {
    switch (it->kind) {
      case ParamKind::kTensor:
      case ParamKind::kTensorDesc:
        return "'" + name + "' is a " + std::string(param_kind_name(it->kind)) + " param";
      case ParamKind::kScalar: {
        if (!scope.runtime_values) return "'" + name + "' is a scalar param, known only at launch";
        if (is_integer_scalar(it->dtype.dtype)) return {};
        const std::string dtype = it->dtype.text();
        return "'" + name + "' is " + (dtype[0] == 'b' ? "a " : "an ") + dtype + " scalar param, not an integer";
      }
      case ParamKind::kConstexpr:
        if (!scope.constexprs) return "'" + name + "' is a constexpr param, fixed by the variant a tuning table chooses";
        for (const Constant& v : compiled_values(spec, name)) {
          if (!v.is_integral()) {
            return "'" + name + "' is a constexpr with " + Constant::kind_name(v.kind()) + " value (" + v.text() +
                   "), not an integer or a boolean";
          }
        }
        return {};
    }
  }
  const auto& vars = kernel.launch_vars;
  if (std::any_of(vars.begin(), vars.end(), [&](const LaunchVarInfo& v) { return v.name == name; })) {
    return scope.runtime_values ? std::string() : "'" + name + "' is a launch variable, known only at launch";
  }
  const std::vector<std::string> dims = dim_names(kernel);
  if (std::find(dims.begin(), dims.end(), name) != dims.end()) {
    return scope.dims ? std::string() : "'" + name + "' is a dim name; only constraints and heuristics may use dims";
  }
  return "unknown name";
}

}  // namespace

std::string sm_count_refusal() {
  return std::string(kSmCountName) +
         " (the device's SM count) may only be used in kernel.grid and in dim-size arguments (a scalar's dim)";
}

std::string reserved_name_problem(std::string_view name) {
  if (name != kSmCountName) return {};
  return "'" + std::string(name) + "' is reserved: grids and dim-size arguments use it for the device's SM count; " +
         "choose another name";
}

std::optional<std::string> expression_problem(const Spec& spec, const std::string& key, const std::string& text,
                                              ExprScope scope) {
  std::vector<std::string> names;
  try {
    names = expr::Expr::parse(text).names();
  } catch (const Error& e) {
    return key + ": " + e.what();
  }
  for (const std::string& name : names) {
    const std::string problem = name_problem(spec, name, scope);
    if (!problem.empty()) return key + ": '" + name + "' in '" + text + "': " + problem + scope_text(scope);
  }
  return std::nullopt;
}

std::optional<std::string> plugin_model_problem(const KernelInfo& kernel) {
  if (!plugin::has_plugin_keys(kernel)) return std::nullopt;
  try {
    (void)plugin::build_model(kernel);  // the plugin core's own check, so the messages agree
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace tritonpack::spec::detail
