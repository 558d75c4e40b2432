#include "op_kernel.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dtypes.h"
#include "sym_builder.h"
#include "tritonpack/error.h"

namespace tritonpack::torch_ops {

namespace {

// The one place where tritonpack's errors become PyTorch's (RuntimeError in Python).
template <class F>
auto translating_errors(const std::string& op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    TORCH_CHECK(false, "torch.ops.tritonpack.", op, ": ", e.what());
  }
}

std::string schema_type(const PluginFieldInfo& f) {
  if (!f.dtypes.empty()) return "ScalarType?";
  if (is_integer_scalar(f.dtype)) return "int";
  if (is_float(f.dtype)) return "float";
  throw Error(ErrorCode::kInvalidArgument, "field '" + f.name + "' has dtype " + std::string(dtype_name(f.dtype)) +
                                               ", which no PyTorch schema type holds (float or int)");
}

std::string schema_default(const PluginFieldInfo& f) {
  if (!f.dtypes.empty()) return "None";  // the field's default dtype
  const double v = f.default_value;
  if (!std::isfinite(v)) {
    throw Error(ErrorCode::kInvalidArgument, "field '" + f.name + "' has the default " + std::to_string(v) +
                                                 ", which a PyTorch schema cannot write");
  }
  char text[64];
  if (is_integer_scalar(f.dtype)) {
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(v));
    return text;
  }
  std::snprintf(text, sizeof text, "%.17g", v);
  std::string s = text;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // a float literal, not an int
  return s;
}

std::string make_schema(const PluginDescription& d) {
  std::string s = d.name + "(";
  for (size_t i = 0; i < d.inputs.size(); ++i) s += (i ? ", " : "") + std::string("Tensor ") + d.inputs[i].name;
  for (const PluginFieldInfo& f : d.fields) {
    s += ", " + schema_type(f) + " " + f.name;
    if (f.has_default) s += "=" + schema_default(f);
  }
  s += ") -> ";
  if (d.outputs.size() == 1) return s + "Tensor";
  s += "(";
  for (size_t o = 0; o < d.outputs.size(); ++o) s += o ? ", Tensor" : "Tensor";
  return s + ")";
}

// Placeholders for fields without a default: describing needs a core; no launch uses them (every
// call passes its own values).
std::map<std::string, double, std::less<>> placeholder_fields(const Pack& pack, const std::string& kernel) {
  std::map<std::string, double, std::less<>> placeholders;
  for (const ParamInfo& p : pack.kernel(kernel).params) {
    if (p.is_field && !p.has_default) placeholders[p.name] = 1;
  }
  return placeholders;
}

std::map<std::string, double, std::less<>> named_fields(const PluginDescription& d, const std::vector<double>& values) {
  std::map<std::string, double, std::less<>> named;
  for (size_t f = 0; f < d.fields.size(); ++f) named[d.fields[f].name] = values[f];
  return named;
}

DType input_dtype(const PluginDescription& d, size_t i, const at::Tensor& t) {
  const std::optional<DType> dtype = dtype_of(t.scalar_type());
  if (!dtype) {
    throw Error(ErrorCode::kInvalidArgument, "input '" + d.inputs[i].name + "' has dtype " +
                                                 std::string(c10::toString(t.scalar_type())) +
                                                 ", which no tritonpack kernel takes");
  }
  return *dtype;
}

const at::Tensor& input_tensor(const PluginDescription& d, const c10::IValue& v, size_t i) {
  if (!v.isTensor() || !v.toTensor().defined()) {
    throw Error(ErrorCode::kInvalidArgument, "input '" + d.inputs[i].name + "' is not a defined tensor");
  }
  return v.toTensor();
}

}  // namespace

TorchOp::TorchOp(std::shared_ptr<const Pack> pack, const std::string& kernel)
    : pack_(std::move(pack)), kernel_(kernel), core_(PluginCore::create(pack_, kernel_, placeholder_fields(*pack_, kernel_))) {
  const PluginDescription& d = core_.describe();
  if (d.outputs.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "plugin '" + d.name + "' has no output tensor, so an op would return nothing");
  }
  schema_ = make_schema(d);
  num_inputs_ = d.inputs.size();
  num_outputs_ = d.outputs.size();
  for (const PluginFieldInfo& f : d.fields) {
    field_kinds_.push_back(!f.dtypes.empty()                ? FieldKind::kDType
                           : is_integer_scalar(f.dtype) ? FieldKind::kInt
                                                         : FieldKind::kFloat);
  }
  for (const VariantInfo& v : pack_->kernel(kernel_).variants) arch_cores_.emplace(v.arch, nullptr);
}

std::vector<double> TorchOp::fields_from(const torch::jit::Stack& stack) const {
  const size_t nf = field_kinds_.size();
  std::vector<double> fields(nf);
  const c10::IValue* args = stack.data() + (stack.size() - nf);
  for (size_t f = 0; f < nf; ++f) {
    switch (field_kinds_[f]) {
      case FieldKind::kInt: fields[f] = static_cast<double>(args[f].toInt()); break;
      case FieldKind::kFloat: fields[f] = args[f].toDouble(); break;
      case FieldKind::kDType: {
        const PluginFieldInfo& info = description().fields[f];
        if (args[f].isNone()) {
          fields[f] = info.default_value;
          break;
        }
        const c10::ScalarType type = args[f].toScalarType();
        const std::optional<DType> dtype = dtype_of(type);
        if (!dtype) {
          std::string takes;
          for (DType t : info.dtypes) takes += (takes.empty() ? "" : ", ") + std::string(dtype_name(t));
          throw Error(ErrorCode::kInvalidArgument, "dtype field '" + info.name + "' of plugin '" + description().name +
                                                       "' is " + std::string(c10::toString(type)) +
                                                       ", which no tritonpack kernel takes; it takes " + takes);
        }
        fields[f] = static_cast<double>(*dtype);  // the core checks it is one of the field's dtypes
        break;
      }
    }
  }
  return fields;
}

std::shared_ptr<const PreparedLaunch> TorchOp::prepared(const std::vector<int64_t>& key,
                                                        const std::vector<TensorDesc>& inputs,
                                                        const std::vector<double>& fields, bool cacheable) {
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    for (CachedLaunch& c : cache_) {
      if (c.key == key) {
        c.last_use = ++use_counter_;
        return c.launch;
      }
    }
  }
  // Planned outside the lock: two threads may both plan a new shape; the second insert is dropped.
  auto launch = std::make_shared<const PreparedLaunch>(core_.prepare(inputs, fields));
  if (!cacheable) return launch;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  for (const CachedLaunch& c : cache_) {
    if (c.key == key) return c.launch;
  }
  if (cache_.size() < kCacheSize) {
    cache_.push_back({key, launch, ++use_counter_});
  } else {
    auto oldest = std::min_element(cache_.begin(), cache_.end(),
                                   [](const CachedLaunch& a, const CachedLaunch& b) { return a.last_use < b.last_use; });
    *oldest = {key, launch, ++use_counter_};
  }
  return launch;
}

void TorchOp::run_cuda(torch::jit::Stack& stack) {
  translating_errors(name(), [&] {
    const PluginDescription& d = description();
    const size_t nargs = num_inputs_ + field_kinds_.size();
    const c10::IValue* args = stack.data() + (stack.size() - nargs);
    const at::Tensor& first = input_tensor(d, args[0], 0);
    const c10::Device device = first.device();
    std::vector<TensorDesc> descs(num_inputs_);
    std::vector<CUdeviceptr> input_ptrs(num_inputs_);
    std::vector<int64_t> key{device.index()};
    bool contiguous = true;
    for (size_t i = 0; i < num_inputs_; ++i) {
      const at::Tensor& t = input_tensor(d, args[i], i);
      if (!t.is_cuda() || t.device() != device) {
        throw Error(ErrorCode::kInvalidArgument, "input '" + d.inputs[i].name + "' is on " + t.device().str() + " but '" +
                                                     d.inputs[0].name + "' is on " + device.str() +
                                                     ": every input must be on the same CUDA device");
      }
      TensorDesc& desc = descs[i];
      desc.dtype = input_dtype(d, i, t);
      desc.shape.assign(t.sizes().begin(), t.sizes().end());
      if (!t.is_contiguous()) {
        // The core refuses these with its message (dense row-major only); never copied silently.
        desc.strides.assign(t.strides().begin(), t.strides().end());
        contiguous = false;
      }
      input_ptrs[i] = reinterpret_cast<CUdeviceptr>(t.data_ptr());
      key.push_back(static_cast<int64_t>(desc.dtype));
      key.push_back(static_cast<int64_t>(desc.shape.size()));
      key.insert(key.end(), desc.shape.begin(), desc.shape.end());
    }
    const std::vector<double> fields = fields_from(stack);
    for (double f : fields) {
      int64_t bits = 0;
      std::memcpy(&bits, &f, sizeof bits);
      key.push_back(bits);
    }

    const c10::cuda::CUDAGuard guard(device);
    // The core launches in the thread's current CUDA context: a thread that has not used the
    // runtime API yet has none even when cudaGetDevice names this device, so the first call on
    // each thread binds the device's primary context (cudaSetDevice, forced).
    thread_local int64_t bound_devices = 0;  // bit per device index < 64
    const int64_t bit = device.index() < 64 ? (int64_t{1} << device.index()) : 0;
    if ((bound_devices & bit) == 0) {
      C10_CUDA_CHECK(c10::cuda::SetDevice(device.index(), /*force=*/true));
      bound_devices |= bit;
    }
    const std::shared_ptr<const PreparedLaunch> launch = prepared(key, descs, fields, contiguous);

    const c10::TensorOptions options = first.options();
    std::vector<at::Tensor> outputs(num_outputs_);
    std::vector<CUdeviceptr> output_ptrs(num_outputs_);
    for (size_t o = 0; o < num_outputs_; ++o) {
      outputs[o] = at::empty(launch->output_shapes()[o], options.dtype(scalar_type(launch->output_dtypes()[o])));
      output_ptrs[o] = reinterpret_cast<CUdeviceptr>(outputs[o].data_ptr());
    }
    // Scratch tensors and Triton's global scratch, from the caching allocator (blocks are at least
    // 512-byte aligned; the core checks the 256 it needs).
    at::Tensor workspace;
    CUdeviceptr workspace_ptr = 0;
    const size_t workspace_bytes = launch->workspace_bytes();
    if (workspace_bytes > 0) {
      workspace = at::empty({static_cast<int64_t>(workspace_bytes)}, options.dtype(at::kByte));
      workspace_ptr = reinterpret_cast<CUdeviceptr>(workspace.data_ptr());
    }
    const CUstream stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
    core_.enqueue(*launch, input_ptrs, output_ptrs, workspace_ptr, workspace_bytes, stream);

    torch::jit::drop(stack, nargs);
    for (at::Tensor& out : outputs) torch::jit::push(stack, std::move(out));
  });
}

const PluginCore& TorchOp::core_with_fields(const std::vector<double>& fields) {
  // Caller holds meta_mutex_.
  auto it = field_cores_.find(fields);
  if (it != field_cores_.end()) return *it->second;
  auto core = std::make_unique<PluginCore>(PluginCore::create(pack_, kernel_, named_fields(description(), fields)));
  if (field_cores_.size() >= kCacheSize) field_cores_.erase(field_cores_.begin());
  return *field_cores_.emplace(fields, std::move(core)).first->second;
}

void TorchOp::check_some_variant(const std::vector<TensorDesc>& inputs, const std::vector<double>& fields) {
  // Caller holds meta_mutex_. A meta tensor has no device to select for: the shapes must be
  // runnable on one of the archs the pack was compiled for (the CUDA call checks its device).
  std::string first_error;
  for (auto& [arch, core] : arch_cores_) {
    if (!core) {
      core = std::make_unique<PluginCore>(core_.clone());
      core->set_target_arch(arch);
    }
    try {
      (void)core->prepare(inputs, fields);
      return;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNoMatchingVariant && e.code() != ErrorCode::kUnsupported) throw;
      if (first_error.empty()) first_error = "on sm_" + std::to_string(arch) + ": " + e.what();
    }
  }
  if (!first_error.empty()) {
    throw Error(ErrorCode::kNoMatchingVariant, "no variant of the pack runs these inputs on any arch it was compiled for; " +
                                                   first_error);
  }
}

void TorchOp::run_meta(torch::jit::Stack& stack) {
  translating_errors(name(), [&] {
    const PluginDescription& d = description();
    const ShapeProgram& sp = core_.shape_program();
    const size_t nargs = num_inputs_ + field_kinds_.size();
    const c10::IValue* args = stack.data() + (stack.size() - nargs);
    std::vector<DType> dtypes;
    std::vector<std::vector<c10::SymInt>> sym_dims;
    bool concrete = true;
    for (size_t i = 0; i < num_inputs_; ++i) {
      const at::Tensor& t = input_tensor(d, args[i], i);
      dtypes.push_back(input_dtype(d, i, t));
      const c10::SymIntArrayRef sizes = t.sym_sizes();
      sym_dims.emplace_back(sizes.begin(), sizes.end());
      for (const c10::SymInt& s : sizes) concrete = concrete && s.maybe_as_int().has_value();
    }
    const std::vector<double> fields = fields_from(stack);

    std::vector<std::vector<c10::SymInt>> shapes;
    std::vector<DType> out_dtypes;
    {
      std::lock_guard<std::mutex> lock(meta_mutex_);
      const PluginCore& core = core_with_fields(fields);
      out_dtypes = core.output_dtypes(dtypes);  // dtype fields choose some
      if (concrete) {
        // The core's own checks and messages (ranks, repeated and fixed dims, rules), and a variant
        // that can run them.
        std::vector<TensorDesc> descs;
        for (size_t i = 0; i < num_inputs_; ++i) {
          Shape shape;
          for (const c10::SymInt& s : sym_dims[i]) shape.push_back(*s.maybe_as_int());
          descs.push_back({dtypes[i], std::move(shape), {}});
        }
        std::vector<Shape> concrete_inputs;
        for (const TensorDesc& desc : descs) concrete_inputs.push_back(desc.shape);
        for (Shape& s : core.output_shapes(concrete_inputs)) shapes.emplace_back(s.begin(), s.end());
        check_some_variant(descs, fields);
      } else {
        // Symbolic sizes: ranks checked here; repeated and fixed dims become PyTorch's runtime
        // asserts (expect_true: a guard for a backed size, a deferred check for an unbacked one).
        for (size_t i = 0; i < num_inputs_; ++i) {
          if (sp.input_rank[i] >= 0 && sym_dims[i].size() != static_cast<size_t>(sp.input_rank[i])) {
            throw Error(ErrorCode::kShape, "input '" + d.inputs[i].name + "' has rank " +
                                               std::to_string(sym_dims[i].size()) + "; plugin '" + d.name +
                                               "' wants rank " + std::to_string(sp.input_rank[i]));
          }
        }
        for (const ShapeProgram::FixedDim& f : sp.fixed_dims) {
          TORCH_SYM_CHECK(sym_dims[f.input][f.dim].sym_eq(f.size), "torch.ops.tritonpack.", d.name, ": input '",
                          d.inputs[f.input].name, "' dim ", f.dim, " must be ", f.size);
        }
        for (const ShapeProgram::RepeatedDim& r : sp.repeated_dims) {
          const ShapeProgram::DimName& first =
              *std::find_if(sp.dim_names.begin(), sp.dim_names.end(), [&](const auto& n) { return n.name == r.name; });
          TORCH_SYM_CHECK(sym_dims[r.input][r.dim].sym_eq(sym_dims[first.input][first.dim]), "torch.ops.tritonpack.",
                          d.name, ": input '", d.inputs[r.input].name, "' dim ", r.dim, " must equal '",
                          d.inputs[first.input].name, "' dim ", first.dim, " (both are '", r.name, "')");
        }
        SymIntBuilder builder;
        shapes = core.symbolic_output_shapes<c10::SymInt>(builder, sym_dims);
      }
    }

    const c10::TensorOptions options = input_tensor(d, args[0], 0).options();
    std::vector<at::Tensor> outputs;
    for (size_t o = 0; o < num_outputs_; ++o) {
      outputs.push_back(at::empty_symint(shapes[o], options.dtype(scalar_type(out_dtypes[o]))));
    }
    torch::jit::drop(stack, nargs);
    for (at::Tensor& out : outputs) torch::jit::push(stack, std::move(out));
  });
}

void TorchOp::run_autograd(const c10::OperatorHandle& op, c10::DispatchKeySet keys, torch::jit::Stack& stack) {
  if (at::GradMode::is_enabled()) {
    const size_t nargs = num_inputs_ + field_kinds_.size();
    const c10::IValue* args = stack.data() + (stack.size() - nargs);
    for (size_t i = 0; i < num_inputs_; ++i) {
      TORCH_CHECK(!(args[i].isTensor() && args[i].toTensor().defined() && args[i].toTensor().requires_grad()),
                  "torch.ops.tritonpack.", name(), ": input '", description().inputs[i].name,
                  "' requires grad, but tritonpack ops have no backward; call the op under torch.no_grad() or "
                  "pass detached inputs");
    }
  }
  op.redispatchBoxed(keys & c10::after_autograd_keyset, &stack);
}

}  // namespace tritonpack::torch_ops
