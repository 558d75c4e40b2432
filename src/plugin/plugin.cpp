// tritonpack: the engine-neutral plugin core (include/tritonpack/plugin.h).
#include "tritonpack/plugin.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "plugin/model.h"
#include "runtime/selection.h"
#include "tritonpack/error.h"

namespace tritonpack {

struct PluginCore::State {
  std::shared_ptr<const Pack> pack;
  const KernelInfo* kernel = nullptr;
  plugin::Model model;
  std::vector<double> fields;  // per model.field_params
  int32_t tactic = 0;
  size_t configured_workspace = 0;
  std::shared_ptr<const driver::Driver> driver;
  Kernel launcher;

  State(std::shared_ptr<const Pack> p, std::string_view name, std::shared_ptr<const driver::Driver> drv)
      : pack(p), kernel(&p->kernel(std::string(name))), model(plugin::build_model(*kernel)), driver(drv),
        launcher(p, name, drv) {}
};

namespace {

constexpr char kMagic[8] = {'T', 'P', 'P', 'L', 'U', 'G', 'I', 'N'};
constexpr uint32_t kSerialVersion = 1;
constexpr size_t kMaxSerialString = 4096;

std::string where(const PluginCore::State& s) { return "plugin '" + s.model.description.name + "'"; }

std::string shape_text(const Shape& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "x" : "") + std::to_string(shape[i]);
  return shape.empty() ? "[] (a scalar)" : out;
}

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

// numel * element size, or an error naming the tensor.
size_t byte_size(const Shape& shape, DType dtype, const std::string& what) {
  __extension__ typedef unsigned __int128 u128;
  u128 n = dtype_size(dtype);
  for (int64_t d : shape) {
    n *= static_cast<uint64_t>(d);
    if (n > (static_cast<u128>(1) << 48)) {
      throw Error(ErrorCode::kShape, what + " of shape " + shape_text(shape) + " is larger than 256 TiB");
    }
  }
  return static_cast<size_t>(n);
}

// Resolves a tensor's declared dtype under `bindings`, binding a type variable on first use.
void bind_dtype(const KernelInfo& k, const PluginTensorInfo& t, DType actual, TypeBindings& bindings,
                std::map<std::string, std::string>& bound_by, const std::string& role) {
  const std::string name(dtype_name(actual));
  if (std::find(t.dtypes.begin(), t.dtypes.end(), name) == t.dtypes.end()) {
    std::string allowed;
    for (const std::string& d : t.dtypes) allowed += (allowed.empty() ? "" : ", ") + d;
    throw Error(ErrorCode::kInvalidArgument, role + " '" + t.name + "' is " + name + "; kernel '" + k.name +
                                                 "' takes " + allowed + " there");
  }
  if (t.dtype == name) return;  // concrete
  auto [it, fresh] = bindings.emplace(t.dtype, actual);
  if (fresh) {
    bound_by[t.dtype] = t.name;
  } else if (it->second != actual) {
    throw Error(ErrorCode::kInvalidArgument, role + " '" + t.name + "' is " + name + " but '" + bound_by[t.dtype] +
                                                 "' is " + std::string(dtype_name(it->second)) + " (both have dtype " +
                                                 t.dtype + ")");
  }
}

DType resolve(const PluginTensorInfo& t, const TypeBindings& bindings, const std::string& role) {
  if (auto d = parse_dtype(t.dtype)) return *d;
  auto it = bindings.find(t.dtype);
  if (it == bindings.end()) {
    throw Error(ErrorCode::kInvalidArgument, role + " '" + t.name + "' has dtype " + t.dtype +
                                                 ", which no input binds; it cannot be inferred");
  }
  return it->second;
}

// Values of names while computing shapes: dim names, integer fields, dim-size arguments.
struct Scope {
  std::map<std::string, int64_t, std::less<>> values;
  bool operator()(std::string_view name, int64_t& v) const {
    auto it = values.find(name);
    if (it == values.end()) return false;
    v = it->second;
    return true;
  }
};

int64_t eval_shape_expr(const expr::Expr& e, const std::function<bool(std::string_view, int64_t&)>& lookup,
                        const std::string& what) {
  try {
    return e.eval(lookup);
  } catch (const Error& error) {
    throw Error(ErrorCode::kShape, what + ": " + error.what());
  }
}

std::string scope_text(const expr::Expr& e, const std::function<bool(std::string_view, int64_t&)>& lookup) {
  std::string out;
  for (const std::string& n : e.names()) {
    int64_t v = 0;
    if (lookup(n, v)) out += (out.empty() ? "" : ", ") + n + " = " + std::to_string(v);
  }
  return out;
}

}  // namespace

PluginCore::PluginCore(std::unique_ptr<State> state) : state_(std::move(state)) {}
PluginCore::PluginCore(PluginCore&&) noexcept = default;
PluginCore& PluginCore::operator=(PluginCore&&) noexcept = default;
PluginCore::~PluginCore() = default;

PluginCore PluginCore::create(std::shared_ptr<const Pack> pack, std::string_view kernel,
                              const std::map<std::string, double, std::less<>>& fields,
                              std::shared_ptr<const driver::Driver> driver) {
  if (!pack) throw Error(ErrorCode::kInvalidArgument, "PluginCore::create needs a pack (got null)");
  auto state = std::make_unique<State>(pack, kernel, driver);
  const PluginDescription& d = state->model.description;
  for (const auto& field : fields) {
    const std::string& name = field.first;
    auto it = std::find_if(d.fields.begin(), d.fields.end(), [&](const PluginFieldInfo& f) { return f.name == name; });
    if (it == d.fields.end()) {
      std::string names;
      for (const PluginFieldInfo& f : d.fields) names += (names.empty() ? "" : ", ") + f.name;
      throw Error(ErrorCode::kInvalidArgument, "plugin '" + d.name + "' has no field '" + name + "' (fields: " +
                                                   (names.empty() ? "none" : names) + ")");
    }
  }
  for (const PluginFieldInfo& f : d.fields) {
    auto it = fields.find(f.name);
    if (it == fields.end() && !f.has_default) {
      throw Error(ErrorCode::kInvalidArgument, "plugin '" + d.name + "' needs field '" + f.name + "' (" +
                                                   std::string(dtype_name(f.dtype)) + "), which has no default");
    }
    const double v = it == fields.end() ? f.default_value : it->second;
    const bool integer = is_integer_scalar(f.dtype);
    const double lo = f.dtype == DType::kI32 ? -2147483648.0 : -9223372036854775808.0;
    const double hi = f.dtype == DType::kI32 ? 2147483647.0 : 9223372036854774784.0;
    if (!std::isfinite(v) || (integer && (v != std::trunc(v) || v < lo || v > hi))) {
      throw Error(ErrorCode::kInvalidArgument, "field '" + f.name + "' of plugin '" + d.name + "' is " +
                                                   std::to_string(v) + ", not a finite " + std::string(dtype_name(f.dtype)));
    }
    state->fields.push_back(v);
  }
  return PluginCore(std::move(state));
}

const PluginDescription& PluginCore::describe() const { return state_->model.description; }
const ShapeProgram& PluginCore::shape_program() const { return state_->model.shapes; }
const Pack& PluginCore::pack() const { return *state_->pack; }

bool PluginCore::integer_field(std::string_view name, int64_t& value) const {
  const PluginDescription& d = describe();
  for (size_t i = 0; i < d.fields.size(); ++i) {
    if (d.fields[i].name == name && is_integer_scalar(d.fields[i].dtype)) {
      value = static_cast<int64_t>(state_->fields[i]);
      return true;
    }
  }
  return false;
}

bool PluginCore::supports(size_t pos, std::span<const DType> dtypes) const {
  const PluginDescription& d = describe();
  if (pos >= d.inputs.size() + d.outputs.size() || dtypes.size() != pos + 1) return false;
  for (const VariantInfo& v : state_->kernel->variants) {
    bool ok = true;
    for (size_t i = 0; i <= pos && ok; ++i) {
      const PluginTensorInfo& t = i < d.inputs.size() ? d.inputs[i] : d.outputs[i - d.inputs.size()];
      auto it = v.bindings.find(t.dtype);
      const std::string want = it != v.bindings.end() ? std::string(dtype_name(it->second)) : t.dtype;
      ok = want == dtype_name(dtypes[i]);
    }
    if (ok) return true;
  }
  return false;
}

bool PluginCore::supports(size_t pos, std::span<const DType> dtypes, std::span<const TensorFormat> formats) const {
  if (formats.size() != dtypes.size()) return false;
  for (TensorFormat f : formats) {
    if (f != TensorFormat::kLinear) return false;
  }
  return supports(pos, dtypes);
}

void PluginCore::configure(std::span<const TensorDesc> min_inputs, std::span<const TensorDesc> max_inputs) {
  (void)plan(min_inputs);
  state_->configured_workspace = plan(max_inputs).workspace_bytes;
}

size_t PluginCore::configured_workspace_size() const { return state_->configured_workspace; }

std::vector<DType> PluginCore::output_dtypes(std::span<const DType> input_dtypes) const {
  const PluginDescription& d = describe();
  if (input_dtypes.size() != d.inputs.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(*state_) + " takes " + std::to_string(d.inputs.size()) +
                                                 " inputs, got " + std::to_string(input_dtypes.size()) + " dtypes");
  }
  TypeBindings bindings;
  std::map<std::string, std::string> bound_by;
  for (size_t i = 0; i < d.inputs.size(); ++i) bind_dtype(*state_->kernel, d.inputs[i], input_dtypes[i], bindings, bound_by, "input");
  std::vector<DType> out;
  for (const PluginTensorInfo& t : d.outputs) out.push_back(resolve(t, bindings, "output"));
  return out;
}

std::vector<Shape> PluginCore::output_shapes(std::span<const Shape> input_shapes) const {
  std::vector<TensorDesc> descs;
  const PluginDescription& d = describe();
  if (input_shapes.size() != d.inputs.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(*state_) + " takes " + std::to_string(d.inputs.size()) +
                                                 " inputs, got " + std::to_string(input_shapes.size()) + " shapes");
  }
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    // Any dtype the input accepts: shapes do not depend on dtypes.
    descs.push_back({*parse_dtype(d.inputs[i].dtypes.front()), input_shapes[i], {}});
  }
  // Type variables shared by inputs must agree; use one binding for all.
  std::map<std::string, std::string> first;
  for (size_t i = 0; i < descs.size(); ++i) {
    auto [it, fresh] = first.emplace(d.inputs[i].dtype, d.inputs[i].dtypes.front());
    descs[i].dtype = *parse_dtype(it->second);
  }
  return plan(descs).output_shapes;
}

PluginPlan PluginCore::plan(std::span<const TensorDesc> inputs) const {
  const State& s = *state_;
  const KernelInfo& k = *s.kernel;
  const plugin::Model& m = s.model;
  const PluginDescription& d = m.description;
  const ShapeProgram& sp = m.shapes;
  PluginPlan plan;
  if (inputs.size() != d.inputs.size()) {
    std::string names;
    for (const PluginTensorInfo& t : d.inputs) names += (names.empty() ? "" : ", ") + t.name;
    throw Error(ErrorCode::kInvalidArgument, where(s) + " takes " + std::to_string(d.inputs.size()) + " inputs (" +
                                                 names + "), got " + std::to_string(inputs.size()));
  }
  std::map<std::string, std::string> bound_by;
  for (size_t i = 0; i < inputs.size(); ++i) bind_dtype(k, d.inputs[i], inputs[i].dtype, plan.bindings, bound_by, "input");

  // Dims of the inputs.
  Scope scope;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& shape = inputs[i].shape;
    for (int64_t dim : shape) {
      if (dim < 0) throw Error(ErrorCode::kShape, "input '" + d.inputs[i].name + "' has a negative dim: " + shape_text(shape));
    }
    if (sp.input_rank[i] >= 0 && shape.size() != static_cast<size_t>(sp.input_rank[i])) {
      const ParamInfo& p = k.params[d.inputs[i].param_index];
      std::string dims;
      for (const std::string& n : p.dims) dims += (dims.empty() ? "" : ", ") + n;
      throw Error(ErrorCode::kShape, "input '" + p.name + "' has shape " + shape_text(shape) + " (rank " +
                                         std::to_string(shape.size()) + "); " + where(s) + " wants rank " +
                                         std::to_string(sp.input_rank[i]) + " [" + dims + "]");
    }
  }
  for (const ShapeProgram::DimName& n : sp.dim_names) scope.values[n.name] = inputs[n.input].shape[n.dim];
  for (const ShapeProgram::FixedDim& f : sp.fixed_dims) {
    if (inputs[f.input].shape[f.dim] != f.size) {
      throw Error(ErrorCode::kShape, "input '" + d.inputs[f.input].name + "' dim " + std::to_string(f.dim) + " is " +
                                         std::to_string(inputs[f.input].shape[f.dim]) + ", " + where(s) + " wants " +
                                         std::to_string(f.size));
    }
  }
  for (const ShapeProgram::RepeatedDim& r : sp.repeated_dims) {
    const int64_t got = inputs[r.input].shape[r.dim], want = scope.values[r.name];
    if (got != want) {
      const ShapeProgram::DimName& first =
          *std::find_if(sp.dim_names.begin(), sp.dim_names.end(), [&](const auto& n) { return n.name == r.name; });
      throw Error(ErrorCode::kShape, "input '" + d.inputs[r.input].name + "' dim " + std::to_string(r.dim) + " is " +
                                         std::to_string(got) + " but '" + d.inputs[first.input].name + "' dim " +
                                         std::to_string(first.dim) + " is " + std::to_string(want) + " (both are '" +
                                         r.name + "')");
    }
  }
  for (size_t f = 0; f < m.field_params.size(); ++f) {
    const ParamInfo& p = k.params[m.field_params[f]];
    plan.fields.emplace_back(p.name, s.fields[f]);
    if (is_integer_scalar(p.dtype.dtype)) {
      scope.values[p.name] = static_cast<int64_t>(s.fields[f]);
    }
  }

  // Every rule is bound, so the sizes rules require are checked even where no output uses them.
  const auto shape_of = [&](std::string_view name) -> const rule::Shape* {
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      if (d.inputs[i].name == name) return &inputs[i].shape;
    }
    return nullptr;
  };
  std::vector<rule::Binding> bindings;
  for (const rule::Rule& r : sp.rules) bindings.push_back(rule::bind(r, shape_of));
  for (const ShapeProgram::DimArg& a : sp.dim_args) {
    const int64_t v = a.rule >= 0 ? rule::eval_in(sp.rules[static_cast<size_t>(a.rule)].value(),
                                                  bindings[static_cast<size_t>(a.rule)], scope)
                                  : eval_shape_expr(a.value, scope, "dim-size argument '" + a.name + "'");
    if (k.params[a.param_index].dtype.dtype == DType::kI32 && (v < INT32_MIN || v > INT32_MAX)) {
      throw Error(ErrorCode::kShape, "dim-size argument '" + a.name + "' is " + std::to_string(v) +
                                         ", which does not fit its i32 parameter");
    }
    plan.dim_args.emplace_back(a.name, v);
    scope.values[a.name] = v;
  }

  // Constraints without constexprs must hold; those with constexprs choose the specialization.
  std::vector<size_t> choosing;
  for (size_t c = 0; c < m.constraints.size(); ++c) {
    if (m.constraint_uses_constexpr[c]) {
      choosing.push_back(c);
      continue;
    }
    if (eval_shape_expr(m.constraints[c], scope, "constraint '" + k.constraints[c] + "'") == 0) {
      throw Error(ErrorCode::kShape, where(s) + ": constraint '" + k.constraints[c] + "' does not hold (" +
                                         scope_text(m.constraints[c], scope) + ")");
    }
  }
  const ConfigInfo* config = s.tactic > 0 ? &k.configs[static_cast<size_t>(s.tactic - 1)] : nullptr;
  std::vector<const VariantInfo*> candidates;
  for (const VariantInfo& v : k.variants) {
    bool ok = std::all_of(v.bindings.begin(), v.bindings.end(), [&](const auto& b) {
      auto it = plan.bindings.find(b.first);
      return it == plan.bindings.end() || it->second == b.second;
    });
    if (config != nullptr) ok = ok && v.config_index == static_cast<uint32_t>(s.tactic - 1);
    for (size_t c : choosing) {
      if (!ok) break;
      const auto lookup = [&](std::string_view name, int64_t& value) {
        for (const ConstexprValue& cv : v.constexprs) {
          if (cv.name == name && cv.value.is_integral()) {
            value = cv.value.as_int();
            return true;
          }
        }
        return scope(name, value);
      };
      ok = eval_shape_expr(m.constraints[c], lookup, "constraint '" + k.constraints[c] + "'") != 0;
    }
    if (ok) candidates.push_back(&v);
  }
  if (candidates.empty()) {
    std::string why;
    for (size_t c : choosing) why += (why.empty() ? "" : "; ") + k.constraints[c] + " with " + scope_text(m.constraints[c], scope);
    throw Error(ErrorCode::kShape, where(s) + ": no compiled variant fits these inputs" +
                                       (config ? " with tactic " + std::to_string(s.tactic) + " (" + config->name + ")" : "") +
                                       (why.empty() ? std::string() : " (constraints: " + why + ")") +
                                       "; the pack holds " + std::to_string(k.variants.size()) + " variants");
  }
  if (!choosing.empty()) {
    // Pin the constexprs the constraints name, as the first fitting variant has them.
    for (const ConstexprValue& cv : candidates.front()->constexprs) {
      bool named = false;
      for (size_t c : choosing) {
        for (const std::string& n : m.constraints[c].names()) named = named || n == cv.name;
      }
      if (named) plan.pinned.push_back(cv);
    }
    std::erase_if(candidates, [&](const VariantInfo* v) {
      for (const ConstexprValue& pin : plan.pinned) {
        for (const ConstexprValue& cv : v->constexprs) {
          if (cv.name == pin.name && !(cv.value == pin.value)) return true;
        }
      }
      return false;
    });
  }

  // Output and scratch shapes.
  auto sized_shape = [&](const ShapeProgram::Sized& sz, const std::string& name, bool allow_constexprs) -> Shape {
    if (sz.rule >= 0) {
      const rule::Rule& r = sp.rules[static_cast<size_t>(sz.rule)];
      return rule::output_shapes(r, bindings[static_cast<size_t>(sz.rule)], scope)[sz.target];
    }
    Shape shape;
    for (const expr::Expr& e : sz.dims) {
      const auto lookup = [&](std::string_view n, int64_t& value) {
        if (scope(n, value)) return true;
        if (!allow_constexprs) return false;
        // A constexpr: the same in every candidate variant, else the shape is not defined yet.
        std::optional<int64_t> seen;
        for (const VariantInfo* v : candidates) {
          for (const ConstexprValue& cv : v->constexprs) {
            if (cv.name != n || !cv.value.is_integral()) continue;
            if (seen && *seen != cv.value.as_int()) {
              throw Error(ErrorCode::kShape, "'" + name + "' dim '" + e.source() + "' uses constexpr '" +
                                                 std::string(n) + "', which differs between the variants that fit; " +
                                                 "set a tactic or add a constraint that fixes it");
            }
            seen = cv.value.as_int();
          }
        }
        if (seen) value = *seen;
        return seen.has_value();
      };
      const int64_t size = eval_shape_expr(e, lookup, "'" + name + "' dim '" + e.source() + "'");
      if (size < 0) throw Error(ErrorCode::kShape, "'" + name + "' dim '" + e.source() + "' is " + std::to_string(size));
      shape.push_back(size);
    }
    return shape;
  };
  for (size_t o = 0; o < sp.outputs.size(); ++o) {
    plan.output_shapes.push_back(sized_shape(sp.outputs[o], d.outputs[o].name, false));
    plan.output_dtypes.push_back(resolve(d.outputs[o], plan.bindings, "output"));
  }
  size_t offset = 0;
  for (size_t i = 0; i < sp.scratch.size(); ++i) {
    PluginPlan::Scratch sc;
    sc.name = d.scratch[i].name;
    sc.dtype = resolve(d.scratch[i], plan.bindings, "scratch tensor");
    sc.shape = sized_shape(sp.scratch[i], sc.name, true);
    sc.bytes = byte_size(sc.shape, sc.dtype, "scratch tensor '" + sc.name + "'");
    sc.offset = offset;
    offset = align_up(offset + sc.bytes, kWorkspaceAlignment);
    plan.scratch.push_back(std::move(sc));
  }
  plan.scratch_bytes = offset;

  // The kernel's arguments (tensor pointers are filled by enqueue).
  size_t in = 0, out = 0, scr = 0, field = 0, dim_arg = 0;
  std::map<std::string, int64_t, std::less<>> int_args;
  for (const ParamInfo& p : k.params) {
    if (p.kind == ParamKind::kConstexpr) continue;
    if (p.kind == ParamKind::kTensor) {
      const DType t = p.is_output  ? plan.output_dtypes[out++]
                      : p.is_scratch ? plan.scratch[scr++].dtype
                                     : inputs[in++].dtype;
      plan.args.push_back(Arg::tensor(CUdeviceptr{0}, t));
      continue;
    }
    if (p.is_field) {
      const double v = plan.fields[field++].second;
      const bool integer = is_integer_scalar(p.dtype.dtype);
      plan.args.push_back(integer ? Arg::integer(static_cast<int64_t>(v)) : Arg::real(v));
      if (integer) int_args[p.name] = static_cast<int64_t>(v);
      continue;
    }
    const int64_t v = plan.dim_args[dim_arg++].second;
    plan.args.push_back(Arg::integer(v));
    int_args[p.name] = v;
  }

  // Triton's global scratch: the most any fitting variant needs, by the runtime's own rule.
  for (const VariantInfo* v : candidates) {
    if (v->global_scratch_size == 0 && v->profile_scratch_size == 0) continue;
    std::array<int64_t, 3> grid{};
    for (size_t axis = 0; axis < 3; ++axis) {
      const auto lookup = [&](std::string_view n, int64_t& value) {
        if (auto it = int_args.find(n); it != int_args.end()) {
          value = it->second;
          return true;
        }
        for (const ConstexprValue& cv : v->constexprs) {
          if (cv.name == n && cv.value.is_integral()) {
            value = cv.value.as_int();
            return true;
          }
        }
        return false;
      };
      grid[axis] = eval_shape_expr(m.grid[axis], lookup, "grid '" + k.grid[axis] + "'");
    }
    const runtime::ScratchLayout scratch = runtime::scratch_layout(*v, grid);
    if (scratch.too_large) throw Error(ErrorCode::kShape, where(s) + " would need more than 256 TiB of scratch");
    plan.kernel_scratch_bytes = std::max(plan.kernel_scratch_bytes, align_up(scratch.bytes, kWorkspaceAlignment));
  }
  plan.workspace_bytes = plan.scratch_bytes + plan.kernel_scratch_bytes;
  return plan;
}

std::vector<int32_t> PluginCore::tactics() const {
  std::vector<int32_t> out;
  for (size_t i = 0; i < state_->kernel->configs.size(); ++i) out.push_back(static_cast<int32_t>(i + 1));
  return out;
}

void PluginCore::set_tactic(int32_t tactic) {
  if (tactic < 0 || static_cast<size_t>(tactic) > state_->kernel->configs.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(*state_) + " has tactics 1.." +
                                                 std::to_string(state_->kernel->configs.size()) + " (0 = any), got " +
                                                 std::to_string(tactic));
  }
  state_->tactic = tactic;
}

int32_t PluginCore::tactic() const { return state_->tactic; }

std::vector<Arg> PluginCore::shaped_args(const PluginPlan& plan, std::span<const TensorDesc> inputs) const {
  std::vector<Arg> args = plan.args;
  size_t in = 0, out = 0, scr = 0, arg = 0;
  for (const ParamInfo& p : state_->kernel->params) {
    if (p.kind == ParamKind::kConstexpr) continue;
    if (p.kind == ParamKind::kTensor) {
      const Shape& shape = p.is_output ? plan.output_shapes.at(out++)
                           : p.is_scratch ? plan.scratch.at(scr++).shape
                                          : inputs[in++].shape;
      args[arg] = Arg::tensor(args[arg].pointer, args[arg].dtype, shape);
    }
    ++arg;
  }
  return args;
}

void PluginCore::enqueue(std::span<const TensorRef> inputs, std::span<const TensorRef> outputs, CUdeviceptr workspace,
                         size_t workspace_size, CUstream stream) {
  const State& s = *state_;
  const PluginDescription& d = s.model.description;
  std::vector<TensorDesc> in_descs;
  for (const TensorRef& t : inputs) in_descs.push_back(t.desc);
  PluginPlan plan = this->plan(in_descs);
  if (outputs.size() != d.outputs.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " has " + std::to_string(d.outputs.size()) + " outputs, got " +
                                                 std::to_string(outputs.size()));
  }
  // Every tensor: dtype, shape, contiguous strides, a pointer where there are elements, alignment
  // of the element size (the runtime checks the variants' stronger divisibility).
  auto check = [&](const TensorRef& t, const std::string& role, const std::string& name, DType dtype, const Shape& shape) {
    if (t.desc.dtype != dtype) {
      throw Error(ErrorCode::kInvalidArgument, role + " '" + name + "' is " + std::string(dtype_name(t.desc.dtype)) +
                                                   ", expected " + std::string(dtype_name(dtype)));
    }
    if (t.desc.shape != shape) {
      throw Error(ErrorCode::kShape, role + " '" + name + "' has shape " + shape_text(t.desc.shape) + ", expected " +
                                         shape_text(shape));
    }
    if (!t.desc.strides.empty()) {
      if (t.desc.strides.size() != shape.size()) {
        throw Error(ErrorCode::kInvalidArgument, role + " '" + name + "' has " + std::to_string(t.desc.strides.size()) +
                                                     " strides for rank " + std::to_string(shape.size()));
      }
      int64_t want = 1;
      for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] != 1 && t.desc.strides[i] != want) {
          throw Error(ErrorCode::kInvalidArgument,
                      role + " '" + name + "' is not contiguous (dim " + std::to_string(i) + " has stride " +
                          std::to_string(t.desc.strides[i]) + ", expected " + std::to_string(want) +
                          "); kernel '" + s.kernel->name + "' takes dense row-major tensors: make it contiguous first");
        }
        want *= shape[i];
      }
    }
    const size_t bytes = byte_size(shape, dtype, role + " '" + name + "'");
    if (bytes > 0 && t.data == 0) throw Error(ErrorCode::kInvalidArgument, role + " '" + name + "' is a null pointer");
    if (t.data % dtype_size(dtype) != 0) {
      throw Error(ErrorCode::kInvalidArgument, role + " '" + name + "' address is not aligned to its " +
                                                   std::to_string(dtype_size(dtype)) + "-byte elements");
    }
  };
  for (size_t i = 0; i < inputs.size(); ++i) check(inputs[i], "input", d.inputs[i].name, inputs[i].desc.dtype, inputs[i].desc.shape);
  for (size_t i = 0; i < outputs.size(); ++i) check(outputs[i], "output", d.outputs[i].name, plan.output_dtypes[i], plan.output_shapes[i]);
  if (workspace_size < plan.workspace_bytes) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " needs " + std::to_string(plan.workspace_bytes) +
                                                 " bytes of workspace for these shapes, got " + std::to_string(workspace_size));
  }
  if (plan.workspace_bytes > 0 && (workspace == 0 || workspace % kWorkspaceAlignment != 0)) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " needs a " + std::to_string(kWorkspaceAlignment) +
                                                 "-byte aligned workspace, got address " + std::to_string(workspace));
  }
  // Pointers and shapes (the runtime checks the shapes against the spec's dims and rules too).
  std::vector<Arg> args = shaped_args(plan, in_descs);
  size_t in = 0, out = 0, scr = 0, arg = 0;
  for (const ParamInfo& p : s.kernel->params) {
    if (p.kind == ParamKind::kConstexpr) continue;
    if (p.kind == ParamKind::kTensor) {
      args[arg].pointer = p.is_output ? outputs[out++].data
                          : p.is_scratch ? workspace + plan.scratch[scr++].offset
                                         : inputs[in++].data;
    }
    ++arg;
  }
  LaunchOptions options;
  if (s.tactic > 0) options.config = s.kernel->configs[static_cast<size_t>(s.tactic - 1)].name;
  options.pinned = plan.pinned;
  if (plan.kernel_scratch_bytes > 0) {
    options.workspace = workspace + plan.scratch_bytes;
    options.workspace_size = workspace_size - plan.scratch_bytes;
  }
  state_->launcher.launch(args, stream, options);
}

// ---- serialization ----

namespace {

class Writer {
 public:
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  std::vector<uint8_t> bytes;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : bytes_(b) {}
  void raw(void* p, size_t n, const char* what) {
    if (n > bytes_.size() - pos_) fail(std::string("truncated at ") + what);
    std::memcpy(p, bytes_.data() + pos_, n);
    pos_ += n;
  }
  uint32_t u32(const char* what) {
    uint32_t v;
    raw(&v, 4, what);
    return v;
  }
  uint64_t u64(const char* what) {
    uint64_t v;
    raw(&v, 8, what);
    return v;
  }
  double f64(const char* what) {
    double v;
    raw(&v, 8, what);
    return v;
  }
  std::string str(const char* what) {
    const uint32_t n = u32(what);
    if (n > kMaxSerialString) fail(std::string(what) + " is " + std::to_string(n) + " bytes long");
    std::string s(n, '\0');
    raw(s.data(), n, what);
    return s;
  }
  std::span<const uint8_t> rest(size_t n, const char* what) {
    if (n > bytes_.size() - pos_) fail(std::string("truncated at ") + what);
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  bool done() const { return pos_ == bytes_.size(); }
  [[noreturn]] static void fail(const std::string& what) {
    throw Error(ErrorCode::kCorruptPack, "serialized tritonpack plugin: " + what);
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace

// Layout (little-endian): "TPPLUGIN", u32 version, str kernel, i32 tactic, u32 field count,
// (str name, f64 value) per field, u64 pack size, the pack's bytes. Strings: u32 length + bytes.
std::vector<uint8_t> PluginCore::serialize() const {
  const State& s = *state_;
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kSerialVersion);
  w.str(s.kernel->name);
  w.u32(static_cast<uint32_t>(s.tactic));
  w.u32(static_cast<uint32_t>(s.fields.size()));
  for (size_t i = 0; i < s.fields.size(); ++i) {
    w.str(s.model.description.fields[i].name);
    w.f64(s.fields[i]);
  }
  const std::span<const uint8_t> pack = s.pack->bytes();
  w.u64(pack.size());
  w.raw(pack.data(), pack.size());
  return std::move(w.bytes);
}

PluginCore PluginCore::deserialize(std::span<const uint8_t> bytes, std::shared_ptr<const driver::Driver> driver) {
  Reader r(bytes);
  char magic[sizeof kMagic];
  r.raw(magic, sizeof magic, "the magic");
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) Reader::fail("bad magic (not a tritonpack plugin)");
  const uint32_t version = r.u32("the version");
  if (version != kSerialVersion) {
    Reader::fail("version " + std::to_string(version) + " (this tritonpack reads " + std::to_string(kSerialVersion) + ")");
  }
  const std::string kernel = r.str("the kernel name");
  const uint32_t tactic = r.u32("the tactic");
  const uint32_t count = r.u32("the field count");
  if (count > 256) Reader::fail(std::to_string(count) + " fields");
  std::map<std::string, double, std::less<>> fields;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name = r.str("a field name");
    const double value = r.f64("a field value");
    if (!fields.emplace(std::move(name), value).second) Reader::fail("a field is listed twice");
  }
  const uint64_t size = r.u64("the pack size");
  std::span<const uint8_t> pack_bytes = r.rest(static_cast<size_t>(std::min<uint64_t>(size, SIZE_MAX)), "the pack");
  if (!r.done()) Reader::fail("trailing bytes after the pack");
  auto pack = Pack::from_bytes(pack_bytes, "<serialized plugin>");
  PluginCore core = create(pack, kernel, fields, std::move(driver));
  if (tactic > pack->kernel(kernel).configs.size()) Reader::fail("tactic " + std::to_string(tactic) + " is out of range");
  core.set_tactic(static_cast<int32_t>(tactic));
  return core;
}

PluginCore PluginCore::clone() const {
  const State& s = *state_;
  std::map<std::string, double, std::less<>> fields;
  for (size_t i = 0; i < s.fields.size(); ++i) fields[s.model.description.fields[i].name] = s.fields[i];
  PluginCore copy = create(s.pack, s.kernel->name, fields, s.driver);
  copy.set_tactic(s.tactic);
  return copy;
}

}  // namespace tritonpack
