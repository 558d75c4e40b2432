// tritonpack: the engine-neutral plugin core (include/tritonpack/plugin.h).
#include "tritonpack/plugin.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
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
  std::vector<double> fields;  // per description.fields: model.field_params, then the dtype fields
  int32_t tactic = 0;
  uint32_t target_arch = 0;      // 0: the current context's device
  uint32_t target_sm_count = 0;  // with target_arch: SM_COUNT (0: the arch's common count)
  size_t configured_workspace = 0;
  std::shared_ptr<const driver::Driver> driver;
  Kernel launcher;
  std::vector<uint32_t> param_arg;  // per param: its runtime argument index (constexprs: unused)
  size_t num_args = 0;

  State(std::shared_ptr<const Pack> p, std::string_view name, std::shared_ptr<const driver::Driver> drv)
      : pack(p), kernel(&p->kernel(std::string(name))), model(plugin::build_model(*kernel)), driver(drv),
        launcher(p, name, drv) {
    for (const ParamInfo& param : kernel->params) {
      param_arg.push_back(static_cast<uint32_t>(num_args));
      if (param.kind != ParamKind::kConstexpr) ++num_args;
    }
  }
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

// Dense row-major strides of `shape` in elements (what the engine's tensors have), or an error
// naming the tensor where one would not fit in int64 (only possible beside a 0 dim).
Shape dense_strides(const Shape& shape, const char* role, const std::string& name) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t j = shape.size(); j-- > 0;) {
    strides[j] = stride;
    if (j > 0 && __builtin_mul_overflow(stride, shape[j], &stride)) {
      throw Error(ErrorCode::kShape, std::string(role) + " '" + name + "' of shape " + shape_text(shape) +
                                         " has strides beyond int64");
    }
  }
  return strides;
}

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

// The type variables that dtype fields choose (values already checked).
void bind_dtype_fields(const PluginDescription& d, std::span<const double> fields, TypeBindings& bindings) {
  for (size_t f = 0; f < d.fields.size() && f < fields.size(); ++f) {
    if (!d.fields[f].dtypes.empty()) bindings[d.fields[f].name] = *dtype_of_code(fields[f]);
  }
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

}  // namespace

PluginCore::PluginCore(std::unique_ptr<State> state) : state_(std::move(state)) {}
PluginCore::PluginCore(PluginCore&&) noexcept = default;
PluginCore& PluginCore::operator=(PluginCore&&) noexcept = default;
PluginCore::~PluginCore() = default;

namespace {

// A field's value as the plugin takes it: finite, and for an integer field integral and in range.
double checked_field(const PluginDescription& d, const PluginFieldInfo& f, double v) {
  if (!f.dtypes.empty()) {
    for (DType t : f.dtypes) {
      if (v == static_cast<double>(t)) return v;
    }
    std::string allowed;
    for (DType t : f.dtypes) {
      allowed += (allowed.empty() ? "" : ", ") + std::string(dtype_name(t)) + " (" +
                 std::to_string(static_cast<int>(t)) + ")";
    }
    char number[32];
    std::snprintf(number, sizeof number, "%g", v);
    std::string shown = number;
    if (const std::optional<DType> t = dtype_of_code(v)) {
      shown = std::string(dtype_name(*t)) + " (" + std::to_string(static_cast<int>(*t)) + ")";
    }
    throw Error(ErrorCode::kInvalidArgument, "dtype field '" + f.name + "' of plugin '" + d.name + "' is " + shown +
                                                 ", not one of its dtypes: " + allowed);
  }
  const bool integer = is_integer_scalar(f.dtype);
  const double lo = f.dtype == DType::kI32 ? -2147483648.0 : -9223372036854775808.0;
  const double hi = f.dtype == DType::kI32 ? 2147483647.0 : 9223372036854774784.0;
  if (!std::isfinite(v) || (integer && (v != std::trunc(v) || v < lo || v > hi))) {
    throw Error(ErrorCode::kInvalidArgument, "field '" + f.name + "' of plugin '" + d.name + "' is " +
                                                 std::to_string(v) + ", not a finite " + std::string(dtype_name(f.dtype)));
  }
  return v;
}

}  // namespace

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
    state->fields.push_back(checked_field(d, f, it == fields.end() ? f.default_value : it->second));
  }
  return PluginCore(std::move(state));
}

const PluginDescription& PluginCore::describe() const { return state_->model.description; }
const ShapeProgram& PluginCore::shape_program() const { return state_->model.shapes; }
const Pack& PluginCore::pack() const { return *state_->pack; }
std::span<const double> PluginCore::fields() const { return state_->fields; }

void PluginCore::set_target_arch(uint32_t arch) { state_->target_arch = arch; }
uint32_t PluginCore::target_arch() const { return state_->target_arch; }
void PluginCore::set_target_sm_count(uint32_t sm_count) { state_->target_sm_count = sm_count; }
uint32_t PluginCore::target_sm_count() const { return state_->target_sm_count; }

bool PluginCore::integer_field(std::string_view name, int64_t& value) const {
  const PluginDescription& d = describe();
  for (size_t i = 0; i < d.fields.size(); ++i) {
    if (d.fields[i].name == name && is_integer_scalar(d.fields[i].dtype) && d.fields[i].dtypes.empty()) {
      value = static_cast<int64_t>(state_->fields[i]);
      return true;
    }
  }
  return false;
}

namespace {

LaunchOptions tactic_options(const PluginCore::State& s) {
  LaunchOptions options;
  if (s.tactic > 0) options.config = s.kernel->configs[static_cast<size_t>(s.tactic - 1)].name;
  options.sm_count = s.target_sm_count;  // planning for an arch; a device uses its own
  return options;
}

}  // namespace

bool PluginCore::supports(size_t pos, std::span<const DType> dtypes) const {
  State& s = *state_;
  const PluginDescription& d = describe();
  if (pos >= d.inputs.size() + d.outputs.size() || dtypes.size() != pos + 1) return false;
  // The runtime's own test (device, images, shared memory, config) with the dtypes known so far.
  std::array<std::optional<DType>, kMaxRuntimeArgs> known{};
  for (size_t i = 0; i <= pos; ++i) {
    const PluginTensorInfo& t = i < d.inputs.size() ? d.inputs[i] : d.outputs[i - d.inputs.size()];
    // A tensor whose type variable a dtype field chooses has that dtype, no other.
    for (size_t f = 0; f < d.fields.size(); ++f) {
      if (!d.fields[f].dtypes.empty() && d.fields[f].name == t.dtype && static_cast<double>(dtypes[i]) != s.fields[f]) {
        return false;
      }
    }
    known[s.param_arg[t.param_index]] = dtypes[i];
  }
  const std::span<const std::optional<DType>> arg_dtypes(known.data(), s.num_args);
  LaunchOptions options = tactic_options(s);
  if (s.kernel->steps.empty()) return !s.launcher.dtype_candidates(arg_dtypes, options, s.target_arch).empty();
  // A kernel in steps runs every step: each needs a variant with these dtypes.
  return std::all_of(s.kernel->steps.begin(), s.kernel->steps.end(), [&](const std::vector<ConstexprValue>& step) {
    options.pinned = step;
    return !s.launcher.dtype_candidates(arg_dtypes, options, s.target_arch).empty();
  });
}

bool PluginCore::supports(size_t pos, std::span<const DType> dtypes, std::span<const TensorFormat> formats) const {
  if (formats.size() != dtypes.size()) return false;
  for (TensorFormat f : formats) {
    if (f != TensorFormat::kLinear) return false;
  }
  return supports(pos, dtypes);
}

void PluginCore::configure(std::span<const TensorDesc> min_inputs, std::span<const TensorDesc> max_inputs) {
  const PreparedLaunch low = prepare(min_inputs);
  const PreparedLaunch high = prepare(max_inputs);
  state_->configured_workspace = std::max(low.workspace_bytes(), high.workspace_bytes());
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
  bind_dtype_fields(d, state_->fields, bindings);
  std::vector<DType> out;
  for (const PluginTensorInfo& t : d.outputs) out.push_back(resolve(t, bindings, "output"));
  return out;
}

// ---- planning ----

namespace {

// What the shape stage leaves for the device stage.
struct ShapeStage {
  Scope scope;
  std::vector<rule::Binding> bindings;
};

// The shape stage, pure: dtypes, ranks, dims, fields, dim-size arguments and output shapes. The
// dim-size arguments that name SM_COUNT are computed only with `sm_count` (no output uses them).
void plan_shapes(const PluginCore::State& s, std::span<const TensorDesc> inputs, std::span<const double> fields,
                 std::optional<uint32_t> sm_count, PluginPlan& plan, ShapeStage& stage) {
  const KernelInfo& k = *s.kernel;
  const plugin::Model& m = s.model;
  const PluginDescription& d = m.description;
  const ShapeProgram& sp = m.shapes;
  if (inputs.size() != d.inputs.size()) {
    std::string names;
    for (const PluginTensorInfo& t : d.inputs) names += (names.empty() ? "" : ", ") + t.name;
    throw Error(ErrorCode::kInvalidArgument, where(s) + " takes " + std::to_string(d.inputs.size()) + " inputs (" +
                                                 names + "), got " + std::to_string(inputs.size()));
  }
  if (fields.size() != d.fields.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " has " + std::to_string(d.fields.size()) + " fields, got " +
                                                 std::to_string(fields.size()) + " values");
  }
  std::map<std::string, std::string> bound_by;
  for (size_t i = 0; i < inputs.size(); ++i) bind_dtype(k, d.inputs[i], inputs[i].dtype, plan.bindings, bound_by, "input");

  Scope& scope = stage.scope;
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
    const double v = checked_field(d, d.fields[f], fields[f]);
    plan.fields.emplace_back(p.name, v);
    if (is_integer_scalar(p.dtype.dtype)) scope.values[p.name] = static_cast<int64_t>(v);
  }
  // The dtype fields follow the kernel's own: they bind their type variables, nothing else.
  for (size_t f = m.field_params.size(); f < d.fields.size(); ++f) {
    (void)checked_field(d, d.fields[f], fields[f]);
  }
  bind_dtype_fields(d, fields, plan.bindings);

  // Every rule is bound, so the sizes rules require are checked even where no output uses them.
  const auto shape_of = [&](std::string_view name) -> const rule::Shape* {
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      if (d.inputs[i].name == name) return &inputs[i].shape;
    }
    return nullptr;
  };
  for (const rule::Rule& r : sp.rules) stage.bindings.push_back(rule::bind(r, shape_of));
  for (const ShapeProgram::DimArg& a : sp.dim_args) {
    if (a.uses_sm_count && !sm_count) continue;
    const auto with_sm_count = [&](std::string_view n, int64_t& value) {
      if (scope(n, value)) return true;
      if (!a.uses_sm_count || n != kSmCountName) return false;
      value = *sm_count;
      return true;
    };
    const int64_t v = a.rule >= 0 ? rule::eval_in(sp.rules[static_cast<size_t>(a.rule)].value(),
                                                  stage.bindings[static_cast<size_t>(a.rule)], scope)
                                  : eval_shape_expr(a.value, with_sm_count, "dim-size argument '" + a.name + "'");
    if (k.params[a.param_index].dtype.dtype == DType::kI32 && (v < INT32_MIN || v > INT32_MAX)) {
      throw Error(ErrorCode::kShape, "dim-size argument '" + a.name + "' is " + std::to_string(v) +
                                         ", which does not fit its i32 parameter");
    }
    plan.dim_args.emplace_back(a.name, v);
    scope.values[a.name] = v;
  }
  for (size_t o = 0; o < sp.outputs.size(); ++o) {
    const ShapeProgram::Sized& sz = sp.outputs[o];
    if (sz.rule >= 0) {
      plan.output_shapes.push_back(rule::output_shapes(sp.rules[static_cast<size_t>(sz.rule)],
                                                       stage.bindings[static_cast<size_t>(sz.rule)], scope)[sz.target]);
    } else {
      Shape shape;
      for (const expr::Expr& e : sz.dims) {
        const std::string what = "'" + d.outputs[o].name + "' dim '" + e.source() + "'";
        const int64_t size = eval_shape_expr(e, scope, what);
        if (size < 0) throw Error(ErrorCode::kShape, what + " is " + std::to_string(size));
        shape.push_back(size);
      }
      plan.output_shapes.push_back(std::move(shape));
    }
    plan.output_dtypes.push_back(resolve(d.outputs[o], plan.bindings, "output"));
  }
  for (const PluginTensorInfo& t : d.scratch) {
    PluginPlan::Scratch sc;
    sc.name = t.name;
    sc.dtype = resolve(t, plan.bindings, "scratch tensor");
    plan.scratch.push_back(std::move(sc));
  }
}

// What SM_COUNT is on the target device: the runtime's answer (the current context's device, or
// for an arch set_target_sm_count's or the arch's common count), so that the dim-size arguments
// that name it, the grids and the runtime's check of those arguments at launch all agree.
uint32_t device_sm_count(PluginCore::State& s) {
  const uint32_t count = s.launcher.sm_count(tactic_options(s), s.target_arch);
  if (count == 0) {
    std::string names;
    for (const ShapeProgram::DimArg& a : s.model.shapes.dim_args) {
      if (a.uses_sm_count) names += (names.empty() ? "'" : ", '") + a.name + "' = '" + a.value.source() + "'";
    }
    throw Error(ErrorCode::kUnsupported, where(s) + ": the dim-size argument " + names + " needs the device's SM count (" +
                                             std::string(kSmCountName) + "), which the driver gave as 0");
  }
  return count;
}

// Placeholder tensor addresses for the candidates query: aligned beyond any divisibility Triton
// specializes on, so the candidates are every variant some real (aligned) pointers could select.
// enqueue launches with the real pointers, and the runtime selects among these again.
constexpr CUdeviceptr kAlignedPlaceholder = CUdeviceptr{1} << 20;

}  // namespace

std::vector<Shape> PluginCore::output_shapes(std::span<const Shape> input_shapes) const {
  const PluginDescription& d = describe();
  if (input_shapes.size() != d.inputs.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(*state_) + " takes " + std::to_string(d.inputs.size()) +
                                                 " inputs, got " + std::to_string(input_shapes.size()) + " shapes");
  }
  // Shapes do not depend on dtypes: each type variable takes the first dtype it allows.
  std::vector<TensorDesc> descs;
  std::map<std::string, std::string> first;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    auto [it, fresh] = first.emplace(d.inputs[i].dtype, d.inputs[i].dtypes.front());
    descs.push_back({*parse_dtype(it->second), input_shapes[i], {}});
  }
  PluginPlan plan;
  ShapeStage stage;
  plan_shapes(*state_, descs, state_->fields, std::nullopt, plan, stage);
  return plan.output_shapes;
}

PreparedLaunch PluginCore::prepare(std::span<const TensorDesc> inputs) const { return prepare(inputs, state_->fields); }

PreparedLaunch PluginCore::prepare(std::span<const TensorDesc> inputs, std::span<const double> fields) const {
  State& s = *state_;
  const KernelInfo& k = *s.kernel;
  const plugin::Model& m = s.model;
  const PluginDescription& d = m.description;
  const ShapeProgram& sp = m.shapes;
  PreparedLaunch p;
  p.kernel_ = s.kernel;
  p.inputs_.assign(inputs.begin(), inputs.end());
  PluginPlan& plan = p.plan_;
  ShapeStage stage;
  std::optional<uint32_t> sm_count;
  if (m.uses_sm_count) sm_count = device_sm_count(s);
  plan_shapes(s, p.inputs_, fields, sm_count, plan, stage);
  plan.sm_count = sm_count.value_or(0);
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Dense row-major only (Triton kernels index with the shapes they are given).
    const Shape& shape = inputs[i].shape;
    const Shape& strides = inputs[i].strides;
    if (strides.empty()) continue;
    if (strides.size() != shape.size()) {
      throw Error(ErrorCode::kInvalidArgument, "input '" + d.inputs[i].name + "' has " + std::to_string(strides.size()) +
                                                   " strides for rank " + std::to_string(shape.size()));
    }
    int64_t want = 1;
    for (size_t j = shape.size(); j-- > 0;) {
      if (shape[j] != 1 && strides[j] != want) {
        throw Error(ErrorCode::kInvalidArgument,
                    "input '" + d.inputs[i].name + "' is not contiguous (dim " + std::to_string(j) + " has stride " +
                        std::to_string(strides[j]) + ", expected " + std::to_string(want) + "); kernel '" + k.name +
                        "' takes dense row-major tensors: make it contiguous first");
      }
      want *= shape[j];
    }
  }

  // The kernel's arguments in launch order; tensors carry their shapes (scratch tensors get theirs
  // once the candidates fix their constexprs).
  size_t in = 0, out = 0, scr = 0, field = 0, dim_arg = 0;
  for (const ParamInfo& param : k.params) {
    if (param.kind == ParamKind::kConstexpr) continue;
    const uint32_t arg = static_cast<uint32_t>(plan.args.size());
    if (param.kind == ParamKind::kTensor || param.kind == ParamKind::kTensorDesc) {
      // No address and no shape yet: a descriptor is told apart by its kind.
      const auto unshaped = [&](DType dtype) {
        return param.kind == ParamKind::kTensorDesc ? Arg::descriptor(CUdeviceptr{0}, dtype, {}, {})
                                                     : Arg::tensor(CUdeviceptr{0}, dtype);
      };
      if (param.is_output) {
        const size_t o = out++;
        plan.args.push_back(unshaped(plan.output_dtypes[o]));
        p.output_args_.push_back(arg);
        p.output_bytes_.push_back(byte_size(plan.output_shapes[o], plan.output_dtypes[o], "output '" + d.outputs[o].name + "'"));
      } else if (param.is_scratch) {
        plan.args.push_back(Arg::tensor(CUdeviceptr{0}, plan.scratch[scr++].dtype));
        p.scratch_args_.push_back(arg);
      } else {
        const size_t i = in++;
        plan.args.push_back(unshaped(inputs[i].dtype));
        p.input_args_.push_back(arg);
        p.input_bytes_.push_back(byte_size(inputs[i].shape, inputs[i].dtype, "input '" + d.inputs[i].name + "'"));
      }
      continue;
    }
    if (param.is_field) {
      const double v = plan.fields[field++].second;
      plan.args.push_back(is_integer_scalar(param.dtype.dtype) ? Arg::integer(static_cast<int64_t>(v)) : Arg::real(v));
      continue;
    }
    plan.args.push_back(Arg::integer(plan.dim_args[dim_arg++].second));
  }
  // Every tensor with its shape; a descriptor also with dense row-major strides, kept in the
  // prepared launch (enqueue only fills addresses in, so it allocates nothing for them).
  p.args_ = plan.args;
  p.strides_.resize(p.args_.size());
  const auto shape_arg = [&](uint32_t index, const Shape& shape, const char* role, const std::string& name) {
    Arg& a = p.args_[index];
    if (a.kind != Arg::Kind::kDescriptor) {
      a = Arg::tensor(kAlignedPlaceholder, a.dtype, shape);
      return;
    }
    p.strides_[index] = dense_strides(shape, role, name);
    a = Arg::descriptor(kAlignedPlaceholder, a.dtype, shape, p.strides_[index]);
  };
  for (size_t i = 0; i < p.input_args_.size(); ++i) shape_arg(p.input_args_[i], p.inputs_[i].shape, "input", d.inputs[i].name);
  for (size_t o = 0; o < p.output_args_.size(); ++o) {
    shape_arg(p.output_args_[o], plan.output_shapes[o], "output", d.outputs[o].name);
  }
  for (uint32_t a : p.scratch_args_) p.args_[a].pointer = kAlignedPlaceholder;

  // Which variants can run these inputs on the target device: the runtime's selection, for every
  // variant. Nothing can: the runtime's own refusal, naming every variant and why.
  // A kernel in steps: each step on its own (its constexprs pinned), every one able to run; the
  // tactic's config applies to each. enqueue's launch runs them all.
  LaunchOptions options = tactic_options(s);
  if (s.tactic > 0) p.config_ = s.kernel->configs[static_cast<size_t>(s.tactic - 1)].name;
  for (size_t step = 0; step < std::max<size_t>(k.steps.size(), 1); ++step) {
    if (!k.steps.empty()) options.pinned = k.steps[step];
    std::vector<Selection> found = s.launcher.candidates(p.args_, options, s.target_arch);
    if (found.empty()) {
      if (s.target_arch != 0) {
        (void)s.launcher.select_for_arch(p.args_, s.target_arch, options);
      } else {
        (void)s.launcher.select(p.args_, options);
      }
      throw Error(ErrorCode::kInternal, where(s) + ": selection found a variant the candidates query did not");
    }
    plan.candidates.insert(plan.candidates.end(), found.begin(), found.end());
    if (!k.steps.empty()) plan.steps.push_back(std::move(found));
  }

  // Scratch tensors: their shapes may use constexprs, which must agree among the candidates.
  size_t offset = 0;
  for (size_t i = 0; i < sp.scratch.size(); ++i) {
    PluginPlan::Scratch& sc = plan.scratch[i];
    const ShapeProgram::Sized& sz = sp.scratch[i];
    if (sz.rule >= 0) {
      sc.shape = rule::output_shapes(sp.rules[static_cast<size_t>(sz.rule)], stage.bindings[static_cast<size_t>(sz.rule)],
                                     stage.scope)[sz.target];
    }
    for (const expr::Expr& e : sz.rule >= 0 ? std::vector<expr::Expr>{} : sz.dims) {
      const auto lookup = [&](std::string_view n, int64_t& value) {
        if (stage.scope(n, value)) return true;
        std::optional<int64_t> seen;
        for (const Selection& c : plan.candidates) {
          for (const ConstexprValue& cv : c.variant->constexprs) {
            if (cv.name != n || !cv.value.is_integral()) continue;
            if (seen && *seen != cv.value.as_int()) {
              throw Error(ErrorCode::kShape, "scratch tensor '" + sc.name + "' dim '" + e.source() + "' uses constexpr '" +
                                                 std::string(n) + "', which differs between the variants that fit (" +
                                                 std::to_string(*seen) + " and " + std::to_string(cv.value.as_int()) +
                                                 "); set a tactic or add a constraint that fixes it");
            }
            seen = cv.value.as_int();
          }
        }
        if (seen) value = *seen;
        return seen.has_value();
      };
      const std::string what = "scratch tensor '" + sc.name + "' dim '" + e.source() + "'";
      const int64_t size = eval_shape_expr(e, lookup, what);
      if (size < 0) throw Error(ErrorCode::kShape, what + " is " + std::to_string(size));
      sc.shape.push_back(size);
    }
    sc.bytes = byte_size(sc.shape, sc.dtype, "scratch tensor '" + sc.name + "'");
    sc.offset = offset;
    offset = align_up(offset + sc.bytes, kWorkspaceAlignment);
  }
  plan.scratch_bytes = offset;
  for (size_t i = 0; i < p.scratch_args_.size(); ++i) {
    Arg& a = p.args_[p.scratch_args_[i]];
    a = Arg::tensor(kAlignedPlaceholder, a.dtype, plan.scratch[i].shape);
  }
  // Triton's global scratch: the most any candidate needs (the launch picks one of them; a kernel
  // in steps, one per step, each step in turn in the same workspace).
  for (const Selection& c : plan.candidates) {
    plan.kernel_scratch_bytes = std::max(plan.kernel_scratch_bytes, align_up(c.global_scratch_bytes, kWorkspaceAlignment));
  }
  plan.workspace_bytes = plan.scratch_bytes + plan.kernel_scratch_bytes;
  return p;
}

PluginPlan PluginCore::plan(std::span<const TensorDesc> inputs) const { return prepare(inputs).plan(); }

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

bool PreparedLaunch::prepared_for(size_t input, DType dtype, std::span<const int64_t> shape) const noexcept {
  if (input >= inputs_.size()) return false;
  const TensorDesc& t = inputs_[input];
  return t.dtype == dtype && std::equal(t.shape.begin(), t.shape.end(), shape.begin(), shape.end());
}

// ---- enqueue ----

namespace {

[[noreturn]] void refuse_pointer(const PluginCore::State& s, const char* role, const std::string& name,
                                 CUdeviceptr pointer, size_t element) {
  if (pointer == 0) throw Error(ErrorCode::kInvalidArgument, where(s) + ": " + role + " '" + name + "' is a null pointer");
  throw Error(ErrorCode::kInvalidArgument, where(s) + ": " + role + " '" + name + "' address 0x" +
                                               [&] {
                                                 char hex[32];
                                                 std::snprintf(hex, sizeof hex, "%llx",
                                                               static_cast<unsigned long long>(pointer));
                                                 return std::string(hex);
                                               }() +
                                               " is not aligned to its " + std::to_string(element) + "-byte elements");
}

}  // namespace

void PluginCore::enqueue(const PreparedLaunch& p, std::span<const CUdeviceptr> inputs,
                         std::span<const CUdeviceptr> outputs, CUdeviceptr workspace, size_t workspace_size,
                         CUstream stream) {
  State& s = *state_;
  const PluginDescription& d = s.model.description;
  if (p.kernel_ != s.kernel) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + ": the prepared launch is " +
                                                 (p.kernel_ ? "of kernel '" + p.kernel_->name + "'" : "empty") +
                                                 "; prepare it with this plugin first");
  }
  if (inputs.size() != p.input_args_.size() || outputs.size() != p.output_args_.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " takes " + std::to_string(p.input_args_.size()) + " inputs and " +
                                                 std::to_string(p.output_args_.size()) + " outputs, got " +
                                                 std::to_string(inputs.size()) + " and " + std::to_string(outputs.size()));
  }
  // Copied to the stack and the addresses filled in: no allocation, no string unless refused.
  std::array<Arg, kMaxRuntimeArgs> args;
  const size_t n = p.args_.size();
  std::copy(p.args_.begin(), p.args_.end(), args.begin());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const CUdeviceptr ptr = inputs[i];
    const size_t element = dtype_size(p.inputs_[i].dtype);
    if ((ptr == 0 && p.input_bytes_[i] > 0) || ptr % element != 0) refuse_pointer(s, "input", d.inputs[i].name, ptr, element);
    args[p.input_args_[i]].pointer = ptr;
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    const CUdeviceptr ptr = outputs[o];
    const size_t element = dtype_size(p.plan_.output_dtypes[o]);
    if ((ptr == 0 && p.output_bytes_[o] > 0) || ptr % element != 0) refuse_pointer(s, "output", d.outputs[o].name, ptr, element);
    args[p.output_args_[o]].pointer = ptr;
  }
  const PluginPlan& plan = p.plan_;
  if (workspace_size < plan.workspace_bytes) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " needs " + std::to_string(plan.workspace_bytes) +
                                                 " bytes of workspace for these shapes, got " + std::to_string(workspace_size));
  }
  if (plan.workspace_bytes > 0 && (workspace == 0 || workspace % kWorkspaceAlignment != 0)) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " needs a " + std::to_string(kWorkspaceAlignment) +
                                                 "-byte aligned workspace, got address " + std::to_string(workspace));
  }
  for (size_t i = 0; i < p.scratch_args_.size(); ++i) args[p.scratch_args_[i]].pointer = workspace + plan.scratch[i].offset;
  LaunchOptions options;
  options.config = p.config_;
  if (plan.kernel_scratch_bytes > 0) {
    options.workspace = workspace + plan.scratch_bytes;
    options.workspace_size = workspace_size - plan.scratch_bytes;
  }
  s.launcher.launch(std::span<const Arg>(args.data(), n), stream, options);
}

void PluginCore::enqueue(std::span<const TensorRef> inputs, std::span<const TensorRef> outputs, CUdeviceptr workspace,
                         size_t workspace_size, CUstream stream) {
  const State& s = *state_;
  const PluginDescription& d = s.model.description;
  std::vector<TensorDesc> in_descs;
  for (const TensorRef& t : inputs) in_descs.push_back(t.desc);
  const PreparedLaunch p = prepare(in_descs);
  if (outputs.size() != d.outputs.size()) {
    throw Error(ErrorCode::kInvalidArgument, where(s) + " has " + std::to_string(d.outputs.size()) + " outputs, got " +
                                                 std::to_string(outputs.size()));
  }
  // Outputs as described must be what the plan infers: dtype, shape, dense strides.
  for (size_t o = 0; o < outputs.size(); ++o) {
    const TensorDesc& t = outputs[o].desc;
    const std::string& name = d.outputs[o].name;
    if (t.dtype != p.output_dtypes()[o]) {
      throw Error(ErrorCode::kInvalidArgument, "output '" + name + "' is " + std::string(dtype_name(t.dtype)) +
                                                   ", expected " + std::string(dtype_name(p.output_dtypes()[o])));
    }
    if (t.shape != p.output_shapes()[o]) {
      throw Error(ErrorCode::kShape, "output '" + name + "' has shape " + shape_text(t.shape) + ", expected " +
                                         shape_text(p.output_shapes()[o]));
    }
    if (!t.strides.empty() && t.strides.size() != t.shape.size()) {
      throw Error(ErrorCode::kInvalidArgument, "output '" + name + "' has " + std::to_string(t.strides.size()) +
                                                   " strides for rank " + std::to_string(t.shape.size()));
    }
    int64_t want = 1;
    for (size_t j = t.strides.size(); j-- > 0;) {
      if (t.shape[j] != 1 && t.strides[j] != want) {
        throw Error(ErrorCode::kInvalidArgument,
                    "output '" + name + "' is not contiguous (dim " + std::to_string(j) + " has stride " +
                        std::to_string(t.strides[j]) + ", expected " + std::to_string(want) + "); kernel '" +
                        s.kernel->name + "' writes dense row-major tensors");
      }
      want *= t.shape[j];
    }
  }
  std::vector<CUdeviceptr> in_ptrs, out_ptrs;
  for (const TensorRef& t : inputs) in_ptrs.push_back(t.data);
  for (const TensorRef& t : outputs) out_ptrs.push_back(t.data);
  enqueue(p, in_ptrs, out_ptrs, workspace, workspace_size, stream);
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
  copy.set_target_arch(s.target_arch);
  copy.set_target_sm_count(s.target_sm_count);
  return copy;
}

}  // namespace tritonpack
