// tritonpack::tensorrt::Plugin: IPluginV3 (OneCore, OneBuild, OneRuntime) over PluginCore. Each
// method translates TensorRT's arguments into the core's terms, calls it, and translates back;
// every failure is reported with the core's message (report.cpp) and returns an error value.
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "expr_builder.h"
#include "tritonpack/error.h"
#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt {

using nvinfer1::DataType;
using nvinfer1::Dims;
using nvinfer1::DimsExprs;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginTensorDesc;

struct Plugin::Prepared {
  PreparedLaunch launch;
  // Pointer arrays sized here, once per shape, so that enqueue only fills them.
  std::vector<CUdeviceptr> inputs, outputs;
};

namespace {

std::string dims_text(const Dims& dims) {
  if (dims.nbDims < 0) return "(unknown rank)";
  std::string out = "[";
  for (int32_t i = 0; i < dims.nbDims && i < Dims::MAX_DIMS; ++i) out += (i ? ", " : "") + std::to_string(dims.d[i]);
  return out + "]";
}

std::string shape_text(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string format_value(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

// A tensor TensorRT describes, in the core's terms. `what` names it ("input 'Q'").
TensorDesc tensor_desc(const Dims& dims, DataType type, nvinfer1::TensorFormat format, const std::string& what,
                       bool concrete) {
  const std::optional<DType> dtype = from_tensorrt(type);
  if (!dtype) {
    throw Error(ErrorCode::kInvalidArgument,
                what + " is " + std::string(tensorrt_name(type)) + ", which no tritonpack dtype represents");
  }
  if (format != nvinfer1::TensorFormat::kLINEAR) {
    throw Error(ErrorCode::kInvalidArgument, what + " has TensorFormat " + std::to_string(static_cast<int>(format)) +
                                                 "; tritonpack kernels take linear (row-major) tensors");
  }
  if (dims.nbDims < 0 || dims.nbDims > Dims::MAX_DIMS) {
    throw Error(ErrorCode::kShape, what + " has dims " + dims_text(dims) + ": no known rank");
  }
  TensorDesc desc;
  desc.dtype = *dtype;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (concrete && dims.d[i] < 0) {
      throw Error(ErrorCode::kShape, what + " has dims " + dims_text(dims) + ", with a dim not known yet");
    }
    desc.shape.push_back(dims.d[i]);
  }
  return desc;
}

// The plugin's name is added by the report (Plugin::fail).
void check_count(const char* what, int32_t got, size_t want) {
  if (got < 0 || static_cast<size_t>(got) != want) {
    throw Error(ErrorCode::kInvalidArgument,
                "the kernel has " + std::to_string(want) + " " + what + ", TensorRT gave " + std::to_string(got));
  }
}

}  // namespace

Plugin::Plugin(std::shared_ptr<const PackSource> source, PluginCore core, std::string instance_name)
    : source_(std::move(source)), core_(std::move(core)), instance_name_(std::move(instance_name)) {
  const PluginDescription& d = core_.describe();
  const std::span<const double> values = core_.fields();
  std::string fields;
  for (size_t i = 0; i < d.fields.size() && i < values.size(); ++i) {
    fields += (i ? "," : "") + d.fields[i].name + "=" + format_value(values[i]);
  }
  // The timing cache may reuse a measurement only for the same pack, kernel and fields (TensorRT
  // adds shapes and formats itself).
  timing_cache_id_ = "tritonpack:" + source_->sha256 + ":" + d.kernel + ":" + fields;
  metadata_ = "kernel '" + d.kernel + "' of " + source_->origin + " (sha256 " + source_->sha256 + ")" +
              (fields.empty() ? "" : ", fields " + fields);
}

Plugin::Plugin(const Plugin& other)
    : nvinfer1::IPluginV3(other),
      nvinfer1::IPluginV3OneCore(other),
      nvinfer1::IPluginV3OneBuild(other),
      nvinfer1::IPluginV3OneRuntime(other),
      source_(other.source_),
      core_(other.core_.clone()),
      instance_name_(other.instance_name_),
      recorder_(other.recorder_),
      granted_workspace_(other.granted_workspace_.load()),
      timing_cache_id_(other.timing_cache_id_),
      metadata_(other.metadata_) {}

Plugin::~Plugin() = default;

std::string Plugin::where() const {
  return "tritonpack plugin '" + core_.describe().name + "'" +
         (instance_name_.empty() || instance_name_ == core_.describe().name ? "" : " ('" + instance_name_ + "')") +
         " (kernel '" + core_.describe().kernel + "' of " + source_->origin + ")";
}

void Plugin::fail(nvinfer1::ErrorCode code, std::string_view method, std::string_view message) const noexcept {
  try {
    report(recorder_, code, where() + " " + std::string(method) + ": " + std::string(message));
  } catch (...) {
    report(recorder_, code, message);
  }
}

// Runs body; an exception becomes a report and TensorRT's error value (the nonzero ErrorCode).
// tritonpack::capture is the one place exceptions turn into a Status.
template <class F>
int32_t Plugin::guarded(const char* method, F&& body) const noexcept {
  const Status status = capture(std::forward<F>(body));
  if (status) return 0;
  const nvinfer1::ErrorCode code = tensorrt_error_code(status.code);
  fail(code, method, status.message.empty() ? "out of host memory" : status.message);
  return static_cast<int32_t>(code);
}

// ---- IPluginV3 -------------------------------------------------------------------------------

nvinfer1::IPluginCapability* Plugin::getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept {
  switch (type) {
    case nvinfer1::PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case nvinfer1::PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case nvinfer1::PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
  }
  return nullptr;
}

nvinfer1::IPluginV3* Plugin::clone() noexcept {
  Plugin* copy = nullptr;
  guarded("clone", [&] { copy = new Plugin(*this); });
  return copy;
}

// ---- IPluginV3OneCore ------------------------------------------------------------------------

const char* Plugin::getPluginName() const noexcept { return core_.describe().name.c_str(); }
const char* Plugin::getPluginVersion() const noexcept { return core_.describe().version.c_str(); }
const char* Plugin::getPluginNamespace() const noexcept { return core_.describe().plugin_namespace.c_str(); }

// ---- IPluginV3OneBuild -----------------------------------------------------------------------

int32_t Plugin::getNbOutputs() const noexcept { return static_cast<int32_t>(core_.describe().outputs.size()); }

int32_t Plugin::getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs, const DataType* inputTypes,
                                   int32_t nbInputs) const noexcept {
  return guarded("getOutputDataTypes", [&] {
    const PluginDescription& d = core_.describe();
    check_count("inputs", nbInputs, d.inputs.size());
    check_count("outputs", nbOutputs, d.outputs.size());
    std::vector<DType> in;
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      in.push_back(tensor_desc(Dims{0, {}}, inputTypes[i], nvinfer1::TensorFormat::kLINEAR,
                               "input '" + d.inputs[i].name + "'", false)
                       .dtype);
    }
    const std::vector<DType> out = core_.output_dtypes(in);
    // Refuse here, with the reason, rather than let supportsFormatCombination answer "no" to
    // everything and TensorRT report only that no combination was found.
    std::vector<DType> all = in;
    all.insert(all.end(), out.begin(), out.end());
    if (!core_.supports(all.size() - 1, all)) {
      std::string names;
      for (DType t : in) names += (names.empty() ? "" : ", ") + std::string(dtype_name(t));
      const uint32_t arch = core_.target_arch();
      throw Error(ErrorCode::kUnsupported,
                  "no variant of kernel '" + d.kernel + "' compiled for inputs " + names + " can run on " +
                      (arch ? "sm_" + std::to_string(arch) : std::string("this device")) +
                      " (each needs an arch, image or shared memory the device lacks, or another tactic); "
                      "`tritonpack run <pack> --explain sm_NN` lists every variant and why");
    }
    for (size_t o = 0; o < out.size(); ++o) {
      const std::optional<DataType> t = to_tensorrt(out[o]);
      if (!t) {
        throw Error(ErrorCode::kUnsupported, "output '" + d.outputs[o].name + "' is " + std::string(dtype_name(out[o])) +
                                                 ", which TensorRT has no DataType for");
      }
      outputTypes[o] = *t;
    }
  });
}

int32_t Plugin::getOutputShapes(const DimsExprs* inputs, int32_t nbInputs, const DimsExprs* /*shapeInputs*/,
                                int32_t nbShapeInputs, DimsExprs* outputs, int32_t nbOutputs,
                                nvinfer1::IExprBuilder& exprBuilder) noexcept {
  return guarded("getOutputShapes", [&] {
    const PluginDescription& d = core_.describe();
    check_count("inputs", nbInputs, d.inputs.size());
    check_count("outputs", nbOutputs, d.outputs.size());
    check_count("shape inputs", nbShapeInputs, 0);
    std::vector<std::vector<DimExpr>> dims(d.inputs.size());
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      if (inputs[i].nbDims < 0 || inputs[i].nbDims > Dims::MAX_DIMS) {
        throw Error(ErrorCode::kShape, "input '" + d.inputs[i].name + "' has rank " + std::to_string(inputs[i].nbDims));
      }
      dims[i].assign(inputs[i].d, inputs[i].d + inputs[i].nbDims);
    }
    TensorRTExprBuilder builder(exprBuilder);
    const std::vector<std::vector<DimExpr>> shapes = core_.symbolic_output_shapes<DimExpr>(builder, dims);
    for (size_t o = 0; o < shapes.size(); ++o) {
      if (shapes[o].size() > static_cast<size_t>(Dims::MAX_DIMS)) {
        throw Error(ErrorCode::kUnsupported, "output '" + d.outputs[o].name + "' has rank " +
                                                 std::to_string(shapes[o].size()) + "; TensorRT allows at most " +
                                                 std::to_string(Dims::MAX_DIMS));
      }
      outputs[o].nbDims = static_cast<int32_t>(shapes[o].size());
      for (size_t i = 0; i < shapes[o].size(); ++i) outputs[o].d[i] = shapes[o][i];
    }
  });
}

bool Plugin::supportsFormatCombination(int32_t pos, const DynamicPluginTensorDesc* inOut, int32_t nbInputs,
                                       int32_t nbOutputs) noexcept {
  bool supported = false;
  guarded("supportsFormatCombination", [&] {
    const PluginDescription& d = core_.describe();
    check_count("inputs", nbInputs, d.inputs.size());
    check_count("outputs", nbOutputs, d.outputs.size());
    if (pos < 0 || pos >= nbInputs + nbOutputs) {
      throw Error(ErrorCode::kInvalidArgument, "position " + std::to_string(pos) + " is not one of the " +
                                                   std::to_string(nbInputs + nbOutputs) + " inputs and outputs");
    }
    // Positions 0..pos only: TensorRT leaves the later ones undefined.
    std::vector<DType> dtypes;
    std::vector<TensorFormat> formats;
    for (int32_t i = 0; i <= pos; ++i) {
      const std::optional<DType> t = from_tensorrt(inOut[i].desc.type);
      if (!t) return;  // a type tritonpack has no dtype for: not supported
      dtypes.push_back(*t);
      formats.push_back(inOut[i].desc.format == nvinfer1::TensorFormat::kLINEAR ? TensorFormat::kLinear
                                                                                 : TensorFormat::kOther);
    }
    supported = core_.supports(static_cast<size_t>(pos), dtypes, formats);
  });
  return supported;
}

int32_t Plugin::configurePlugin(const DynamicPluginTensorDesc* in, int32_t nbInputs, const DynamicPluginTensorDesc* out,
                                int32_t nbOutputs) noexcept {
  return guarded("configurePlugin", [&] {
    const PluginDescription& d = core_.describe();
    check_count("inputs", nbInputs, d.inputs.size());
    check_count("outputs", nbOutputs, d.outputs.size());
    std::vector<TensorDesc> lo, hi;
    std::vector<DType> dtypes;
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      const std::string what = "input '" + d.inputs[i].name + "'";
      lo.push_back(tensor_desc(in[i].min, in[i].desc.type, in[i].desc.format, what + " (profile min)", true));
      hi.push_back(tensor_desc(in[i].max, in[i].desc.type, in[i].desc.format, what + " (profile max)", true));
      dtypes.push_back(lo.back().dtype);
    }
    // The outputs' types are ours (getOutputDataTypes); a different one would be a silent reinterpretation.
    const std::vector<DType> want = core_.output_dtypes(dtypes);
    for (size_t o = 0; o < want.size(); ++o) {
      if (from_tensorrt(out[o].desc.type) != want[o]) {
        throw Error(ErrorCode::kInvalidArgument, "output '" + d.outputs[o].name + "' is configured as " +
                                                     std::string(tensorrt_name(out[o].desc.type)) + ", the kernel writes " +
                                                     std::string(dtype_name(want[o])));
      }
    }
    // Both ends of the profile must plan (shapes, constraints, a variant for this GPU).
    core_.configure(lo, hi);
    grant_workspace(core_.configured_workspace_size());
    prepared_.reset();
  });
}

size_t Plugin::getWorkspaceSize(const DynamicPluginTensorDesc* inputs, int32_t nbInputs,
                                const DynamicPluginTensorDesc* /*outputs*/, int32_t nbOutputs) const noexcept {
  size_t bytes = 0;
  guarded("getWorkspaceSize", [&] {
    const PluginDescription& d = core_.describe();
    check_count("inputs", nbInputs, d.inputs.size());
    check_count("outputs", nbOutputs, d.outputs.size());
    std::vector<TensorDesc> lo, hi;
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      const std::string what = "input '" + d.inputs[i].name + "'";
      lo.push_back(tensor_desc(inputs[i].min, inputs[i].desc.type, inputs[i].desc.format, what + " (profile min)", true));
      hi.push_back(tensor_desc(inputs[i].max, inputs[i].desc.type, inputs[i].desc.format, what + " (profile max)", true));
    }
    // The larger of the profile's ends; enqueue refuses a shape inside the profile that would
    // need more than was granted (granted_workspace_), rather than overrun.
    bytes = std::max(core_.prepare(lo).workspace_bytes(), core_.prepare(hi).workspace_bytes());
    grant_workspace(bytes);
  });
  return bytes;
}

void Plugin::grant_workspace(size_t bytes) const {
  const int64_t v = static_cast<int64_t>(bytes);
  int64_t seen = granted_workspace_.load();
  while (seen < v && !granted_workspace_.compare_exchange_weak(seen, v)) {
  }
}

std::optional<size_t> Plugin::granted_workspace() const {
  const int64_t v = granted_workspace_.load();
  return v < 0 ? std::nullopt : std::optional<size_t>(static_cast<size_t>(v));
}

void Plugin::set_granted_workspace(std::optional<size_t> bytes) {
  granted_workspace_.store(bytes ? static_cast<int64_t>(*bytes) : -1);
}

int32_t Plugin::getNbTactics() noexcept { return static_cast<int32_t>(core_.tactics().size()); }

int32_t Plugin::getValidTactics(int32_t* tactics, int32_t nbTactics) noexcept {
  return guarded("getValidTactics", [&] {
    const std::vector<int32_t> all = core_.tactics();
    check_count("tactics", nbTactics, all.size());
    for (size_t i = 0; i < all.size(); ++i) tactics[i] = all[i];  // 1..configs: nonzero, unique
  });
}

const char* Plugin::getTimingCacheID() noexcept { return timing_cache_id_.c_str(); }
const char* Plugin::getMetadataString() noexcept { return metadata_.c_str(); }

// ---- IPluginV3OneRuntime ---------------------------------------------------------------------

int32_t Plugin::setTactic(int32_t tactic) noexcept {
  return guarded("setTactic", [&] {
    if (tactic == core_.tactic()) return;
    core_.set_tactic(tactic);
    prepared_.reset();  // the candidates depend on the config
  });
}

void Plugin::prepare_for(std::span<const TensorDesc> inputs) {
  const PluginDescription& d = core_.describe();
  auto prepared = std::make_unique<Prepared>(Prepared{core_.prepare(inputs), {}, {}});
  prepared->inputs.resize(d.inputs.size());
  prepared->outputs.resize(d.outputs.size());
  const std::optional<size_t> granted = granted_workspace();
  if (granted && prepared->launch.workspace_bytes() > *granted) {
    std::string shapes;
    for (size_t i = 0; i < inputs.size(); ++i) shapes += (i ? ", " : "") + d.inputs[i].name + " " + shape_text(inputs[i].shape);
    // The scratch that a dim-size argument naming SM_COUNT sizes follows the GPU: an engine built
    // on a GPU with fewer SMs than this one's granted less.
    const uint32_t sm_count = prepared->launch.plan().sm_count;
    throw Error(ErrorCode::kInvalidArgument,
                "these shapes (" + shapes + ") need " + std::to_string(prepared->launch.workspace_bytes()) +
                    " bytes of workspace; the engine was built with " + std::to_string(*granted) +
                    " (the profile's ends" +
                    (sm_count != 0 ? " on the GPU it was built on; here " + std::string(kSmCountName) + " = " +
                                         std::to_string(sm_count) + " sizes the scratch: build the engine on this GPU"
                                   : std::string()) +
                    ")");
  }
  prepared_ = std::move(prepared);
}

int32_t Plugin::onShapeChange(const PluginTensorDesc* in, int32_t nbInputs, const PluginTensorDesc* out,
                              int32_t nbOutputs) noexcept {
  return guarded("onShapeChange", [&] {
    const PluginDescription& d = core_.describe();
    check_count("inputs", nbInputs, d.inputs.size());
    check_count("outputs", nbOutputs, d.outputs.size());
    std::vector<TensorDesc> inputs;
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      inputs.push_back(tensor_desc(in[i].dims, in[i].type, in[i].format, "input '" + d.inputs[i].name + "'", true));
    }
    prepared_.reset();
    prepare_for(inputs);
    // The outputs TensorRT allocated must be what the kernel writes.
    const PreparedLaunch& p = prepared_->launch;
    for (size_t o = 0; o < d.outputs.size(); ++o) {
      const TensorDesc got = tensor_desc(out[o].dims, out[o].type, out[o].format, "output '" + d.outputs[o].name + "'", true);
      if (got.dtype != p.output_dtypes()[o] || got.shape != p.output_shapes()[o]) {
        throw Error(ErrorCode::kShape, "output '" + d.outputs[o].name + "' is " + std::string(dtype_name(got.dtype)) + " " +
                                           shape_text(got.shape) + ", the kernel writes " +
                                           std::string(dtype_name(p.output_dtypes()[o])) + " " +
                                           shape_text(p.output_shapes()[o]));
      }
    }
  });
}

int32_t Plugin::enqueue(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc, const void* const* inputs,
                        void* const* outputs, void* workspace, cudaStream_t stream) noexcept {
  return guarded("enqueue", [&] {
    const PluginDescription& d = core_.describe();
    const size_t n_in = d.inputs.size(), n_out = d.outputs.size();
    if ((n_in > 0 && (inputDesc == nullptr || inputs == nullptr)) || (n_out > 0 && (outputDesc == nullptr || outputs == nullptr))) {
      throw Error(ErrorCode::kInvalidArgument, "TensorRT passed null tensor descriptions or pointer arrays");
    }
    // The prepared launch serves when every input has the dtype and shape it was prepared for:
    // no planning and no allocation. Otherwise (no onShapeChange, or shapes changed without one)
    // prepare again here.
    bool prepared = prepared_ != nullptr;
    for (size_t i = 0; i < n_in && prepared; ++i) {
      const PluginTensorDesc& t = inputDesc[i];
      const std::optional<DType> dtype = from_tensorrt(t.type);
      prepared = dtype && t.format == nvinfer1::TensorFormat::kLINEAR && t.dims.nbDims >= 0 &&
                 t.dims.nbDims <= Dims::MAX_DIMS &&
                 prepared_->launch.prepared_for(i, *dtype, std::span<const int64_t>(t.dims.d, static_cast<size_t>(t.dims.nbDims)));
    }
    if (!prepared) {
      std::vector<TensorDesc> descs;
      for (size_t i = 0; i < n_in; ++i) {
        descs.push_back(tensor_desc(inputDesc[i].dims, inputDesc[i].type, inputDesc[i].format,
                                    "input '" + d.inputs[i].name + "'", true));
      }
      prepare_for(descs);
    }
    last_enqueue_prepared_ = prepared;
    const PreparedLaunch& p = prepared_->launch;
    for (size_t o = 0; o < n_out; ++o) {
      const PluginTensorDesc& t = outputDesc[o];
      const Shape& want = p.output_shapes()[o];
      bool same = from_tensorrt(t.type) == p.output_dtypes()[o] && t.format == nvinfer1::TensorFormat::kLINEAR &&
                  t.dims.nbDims == static_cast<int32_t>(want.size());
      for (size_t i = 0; same && i < want.size(); ++i) same = t.dims.d[i] == want[i];
      if (!same) {
        throw Error(ErrorCode::kShape, "output '" + d.outputs[o].name + "' is " + std::string(tensorrt_name(t.type)) + " " +
                                           dims_text(t.dims) + ", the kernel writes " +
                                           std::string(dtype_name(p.output_dtypes()[o])) + " " + shape_text(want));
      }
    }
    for (size_t i = 0; i < n_in; ++i) prepared_->inputs[i] = reinterpret_cast<CUdeviceptr>(inputs[i]);
    for (size_t o = 0; o < n_out; ++o) prepared_->outputs[o] = reinterpret_cast<CUdeviceptr>(outputs[o]);
    // TensorRT does not pass the workspace size: it is what the engine was built with.
    const size_t workspace_size = granted_workspace().value_or(p.workspace_bytes());
    core_.enqueue(p, prepared_->inputs, prepared_->outputs, reinterpret_cast<CUdeviceptr>(workspace), workspace_size,
                  reinterpret_cast<CUstream>(stream));
  });
}

nvinfer1::IPluginV3* Plugin::attachToContext(nvinfer1::IPluginResourceContext* context) noexcept {
  Plugin* copy = nullptr;
  guarded("attachToContext", [&] {
    auto attached = std::unique_ptr<Plugin>(new Plugin(*this));
    // The recorder belongs to the execution context and outlives the plugins TensorRT attaches to it.
    attached->recorder_ = context != nullptr ? context->getErrorRecorder() : nullptr;
    copy = attached.release();
  });
  return copy;
}

const nvinfer1::PluginFieldCollection* Plugin::getFieldsToSerialize() noexcept {
  const nvinfer1::PluginFieldCollection* result = nullptr;
  guarded("getFieldsToSerialize", [&] {
    using nvinfer1::PluginField;
    using nvinfer1::PluginFieldType;
    const PluginDescription& d = core_.describe();
    serial_kernel_ = d.kernel;
    serial_sha256_ = source_->sha256;
    serial_format_ = serial::kFormatVersion;
    serial_tactic_ = core_.tactic();
    serial_workspace_ = granted_workspace_.load();
    serial_values_.assign(core_.fields().begin(), core_.fields().end());
    serial_fields_.clear();
    serial_fields_.emplace_back(serial::kFormat, &serial_format_, PluginFieldType::kINT32, 1);
    serial_fields_.emplace_back(serial::kKernel, serial_kernel_.data(), PluginFieldType::kCHAR,
                                static_cast<int32_t>(serial_kernel_.size()));
    serial_fields_.emplace_back(serial::kPackSha256, serial_sha256_.data(), PluginFieldType::kCHAR,
                                static_cast<int32_t>(serial_sha256_.size()));
    serial_fields_.emplace_back(serial::kTactic, &serial_tactic_, PluginFieldType::kINT32, 1);
    serial_fields_.emplace_back(serial::kWorkspace, &serial_workspace_, PluginFieldType::kINT64, 1);
    // Every kernel field as fp64: exactly the value the core holds, whatever its dtype.
    for (size_t i = 0; i < d.fields.size(); ++i) {
      serial_fields_.emplace_back(d.fields[i].name.c_str(), &serial_values_[i], PluginFieldType::kFLOAT64, 1);
    }
    serial_collection_.nbFields = static_cast<int32_t>(serial_fields_.size());
    serial_collection_.fields = serial_fields_.data();
    result = &serial_collection_;
  });
  return result;
}

}  // namespace tritonpack::tensorrt
