// The harness's TensorRT call sequences (tensorrt_harness.h).
#include "tensorrt_harness.h"

#include <cstring>
#include <functional>

#include "driver/driver.h"
#include "harness/device.h"

namespace tritonpack::tensorrt::testing {

using nvinfer1::DataType;
using nvinfer1::IPluginV3;
using nvinfer1::PluginCapabilityType;
using nvinfer1::PluginFieldType;

// ---- recorders -------------------------------------------------------------------------------

void RecordingLogger::log(Severity severity, const char* msg) noexcept {
  try {
    std::lock_guard lock(mutex_);
    messages_.emplace_back(severity, msg ? msg : "(null)");
  } catch (...) {
  }
}

std::vector<std::string> RecordingLogger::errors() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [s, m] : messages_) {
    if (s <= Severity::kERROR) out.push_back(m);
  }
  return out;
}

std::vector<std::string> RecordingLogger::warnings() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [s, m] : messages_) {
    if (s == Severity::kWARNING) out.push_back(m);
  }
  return out;
}

std::string RecordingLogger::all_errors() const {
  std::string out;
  for (const std::string& e : errors()) out += e + "\n";
  return out.empty() ? "(no error logged)" : out;
}

void RecordingLogger::clear() {
  std::lock_guard lock(mutex_);
  messages_.clear();
}

int32_t RecordingErrorRecorder::getNbErrors() const noexcept {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(errors_.size());
}

nvinfer1::ErrorCode RecordingErrorRecorder::getErrorCode(int32_t index) const noexcept {
  std::lock_guard lock(mutex_);
  return index >= 0 && static_cast<size_t>(index) < errors_.size() ? errors_[static_cast<size_t>(index)].first
                                                                     : nvinfer1::ErrorCode::kINVALID_ARGUMENT;
}

RecordingErrorRecorder::ErrorDesc RecordingErrorRecorder::getErrorDesc(int32_t index) const noexcept {
  std::lock_guard lock(mutex_);
  return index >= 0 && static_cast<size_t>(index) < errors_.size() ? errors_[static_cast<size_t>(index)].second.c_str()
                                                                     : "";
}

void RecordingErrorRecorder::clear() noexcept {
  std::lock_guard lock(mutex_);
  errors_.clear();
}

bool RecordingErrorRecorder::reportError(nvinfer1::ErrorCode code, ErrorDesc desc) noexcept {
  try {
    std::lock_guard lock(mutex_);
    errors_.emplace_back(code, desc ? desc : "");
    if (errors_.back().second.size() > kMAX_DESC_LENGTH) return true;  // the recorder's contract was broken
  } catch (...) {
  }
  return false;
}

// ---- fields ----------------------------------------------------------------------------------

size_t field_element_size(PluginFieldType type) {
  switch (type) {
    case PluginFieldType::kFLOAT16:
    case PluginFieldType::kBF16:
    case PluginFieldType::kINT16: return 2;
    case PluginFieldType::kFLOAT32:
    case PluginFieldType::kINT32: return 4;
    case PluginFieldType::kFLOAT64:
    case PluginFieldType::kINT64: return 8;
    case PluginFieldType::kDIMS: return sizeof(nvinfer1::Dims);
    default: return 1;
  }
}

FieldSet FieldSet::copy_of(const nvinfer1::PluginFieldCollection& fc) {
  FieldSet set;
  for (int32_t i = 0; i < fc.nbFields; ++i) {
    const nvinfer1::PluginField& f = fc.fields[i];
    set.add(f.name, f.type, f.data, f.length, static_cast<size_t>(f.length) * field_element_size(f.type));
  }
  return set;
}

FieldSet& FieldSet::add(std::string name, PluginFieldType type, const void* data, int32_t length, size_t bytes) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  f.length = length;
  const auto* b = static_cast<const uint8_t*>(data);
  if (b != nullptr) f.data.assign(b, b + bytes);
  fields_.push_back(std::move(f));
  return *this;
}

FieldSet FieldSet::without(std::string_view name) const {
  FieldSet out;
  for (const Field& f : fields_) {
    if (f.name != name) out.fields_.push_back(f);
  }
  return out;
}

const FieldSet::Field* FieldSet::find(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

FieldSet::Field* FieldSet::find(std::string_view name) {
  for (Field& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const nvinfer1::PluginFieldCollection* FieldSet::collection() {
  view_.clear();
  for (const Field& f : fields_) view_.emplace_back(f.name.c_str(), f.data.empty() ? nullptr : f.data.data(), f.type, f.length);
  collection_.nbFields = static_cast<int32_t>(view_.size());
  collection_.fields = view_.data();
  return &collection_;
}

size_t element_size(DataType type) {
  switch (type) {
    case DataType::kFLOAT:
    case DataType::kINT32: return 4;
    case DataType::kHALF:
    case DataType::kBF16: return 2;
    case DataType::kINT64: return 8;
    default: return 1;
  }
}

// ---- build phase -----------------------------------------------------------------------------

namespace {

template <class T>
T* capability(IPluginV3& plugin, PluginCapabilityType type, const char* what) {
  auto* c = plugin.getCapabilityInterface(type);
  if (c == nullptr) throw HarnessError(std::string("getCapabilityInterface(") + what + ") returned null");
  return static_cast<T*>(c);
}

nvinfer1::Dims dims_of(const std::vector<int64_t>& shape) {
  nvinfer1::Dims d{};
  d.nbDims = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size() && i < static_cast<size_t>(nvinfer1::Dims::MAX_DIMS); ++i) d.d[i] = shape[i];
  return d;
}

void check(int32_t status, const std::string& call) {
  if (status != 0) throw HarnessError(call + " returned " + std::to_string(status));
}

// The types TensorRT may propose at a position.
constexpr DataType kCandidateTypes[] = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,  DataType::kINT8,
                                        DataType::kINT32, DataType::kINT64, DataType::kBOOL, DataType::kUINT8,
                                        DataType::kFP8};

}  // namespace

std::vector<std::vector<int64_t>> BuildReport::output_shapes(const std::vector<std::vector<int64_t>>& inputs) const {
  std::vector<std::vector<int64_t>> out;
  for (const auto& dims : output_dims) {
    std::vector<int64_t> shape;
    for (const DimExprNode* d : dims) shape.push_back(d->eval(inputs));
    out.push_back(std::move(shape));
  }
  return out;
}

Harness::Harness(nvinfer1::IPluginCreatorV3One& creator, std::shared_ptr<const driver::Driver> driver, CUstream stream)
    : creator_(creator), driver_(std::move(driver)), stream_(stream) {}

BuildReport Harness::build(std::string_view name, FieldSet& attributes, std::span<const InputUse> inputs) {
  BuildReport r;
  const std::string node(name);
  r.plugin.reset(creator_.createPlugin(node.c_str(), attributes.collection(), nvinfer1::TensorRTPhase::kBUILD));
  if (!r.plugin) throw HarnessError("createPlugin(kBUILD) returned null");
  auto* core = capability<nvinfer1::IPluginV3OneCore>(*r.plugin, PluginCapabilityType::kCORE, "kCORE");
  auto* build = capability<nvinfer1::IPluginV3OneBuild>(*r.plugin, PluginCapabilityType::kBUILD, "kBUILD");
  (void)capability<nvinfer1::IPluginV3OneRuntime>(*r.plugin, PluginCapabilityType::kRUNTIME, "kRUNTIME");
  if (std::string(core->getPluginName()) != creator_.getPluginName() ||
      std::string(core->getPluginVersion()) != creator_.getPluginVersion() ||
      std::string(core->getPluginNamespace()) != creator_.getPluginNamespace()) {
    throw HarnessError("the plugin's name, version or namespace differs from its creator's");
  }

  const int32_t n_in = static_cast<int32_t>(inputs.size());
  const int32_t n_out = build->getNbOutputs();
  if (n_out <= 0) throw HarnessError("getNbOutputs returned " + std::to_string(n_out));

  // Output types from the input types (a strongly typed network).
  std::vector<DataType> in_types;
  for (const InputUse& u : inputs) in_types.push_back(u.type);
  r.output_types.assign(static_cast<size_t>(n_out), DataType::kFLOAT);
  check(build->getOutputDataTypes(r.output_types.data(), n_out, in_types.data(), n_in), "getOutputDataTypes");

  // Output shapes from the inputs' dims: constants where the profile fixes a dim, else symbols.
  r.builder = std::make_unique<DimExprBuilder>();
  std::vector<nvinfer1::DimsExprs> in_exprs(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputUse& u = inputs[i];
    in_exprs[i].nbDims = static_cast<int32_t>(u.opt.size());
    for (size_t d = 0; d < u.opt.size(); ++d) {
      const bool fixed = u.min[d] == u.opt[d] && u.opt[d] == u.max[d];
      in_exprs[i].d[d] = r.builder->input_dim(static_cast<int32_t>(i), static_cast<int32_t>(d),
                                              fixed ? std::optional<int64_t>(u.opt[d]) : std::nullopt);
    }
  }
  std::vector<nvinfer1::DimsExprs> out_exprs(static_cast<size_t>(n_out));
  check(build->getOutputShapes(in_exprs.data(), n_in, nullptr, 0, out_exprs.data(), n_out, *r.builder), "getOutputShapes");
  for (const nvinfer1::DimsExprs& e : out_exprs) {
    std::vector<const DimExprNode*> dims;
    for (int32_t d = 0; d < e.nbDims; ++d) {
      if (e.d[d] == nullptr) throw HarnessError("getOutputShapes left a null dim");
      dims.push_back(static_cast<const DimExprNode*>(e.d[d]));
    }
    r.output_dims.push_back(std::move(dims));
  }

  // Formats: every position, every candidate type, linear and not; a decision may use positions
  // 0..pos only, so the later ones hold garbage here, as in TensorRT.
  const int32_t total = n_in + n_out;
  std::vector<nvinfer1::DynamicPluginTensorDesc> io(static_cast<size_t>(total));
  for (auto& d : io) {
    d.desc.type = static_cast<DataType>(77);
    d.desc.format = static_cast<nvinfer1::TensorFormat>(77);
  }
  std::vector<DataType> chosen;
  std::function<void(int32_t)> search = [&](int32_t pos) {
    if (pos == total) {
      r.combinations.push_back(chosen);
      return;
    }
    for (DataType t : kCandidateTypes) {
      io[static_cast<size_t>(pos)].desc.type = t;
      io[static_cast<size_t>(pos)].desc.format = nvinfer1::TensorFormat::kCHW32;
      if (build->supportsFormatCombination(pos, io.data(), n_in, n_out)) r.accepted_non_linear = true;
      io[static_cast<size_t>(pos)].desc.format = nvinfer1::TensorFormat::kLINEAR;
      if (build->supportsFormatCombination(pos, io.data(), n_in, n_out)) {
        chosen.push_back(t);
        search(pos + 1);
        chosen.pop_back();
      }
      io[static_cast<size_t>(pos)].desc.type = static_cast<DataType>(77);
      io[static_cast<size_t>(pos)].desc.format = static_cast<nvinfer1::TensorFormat>(77);
    }
  };
  search(0);
  bool usable = false;
  for (const auto& c : r.combinations) {
    usable = usable || (std::equal(in_types.begin(), in_types.end(), c.begin()) &&
                        std::equal(r.output_types.begin(), r.output_types.end(), c.begin() + n_in));
  }
  if (!usable) throw HarnessError("supportsFormatCombination accepts no combination with the network's types");

  // configurePlugin with the profile (the network's types, linear).
  std::vector<nvinfer1::DynamicPluginTensorDesc> in_desc(inputs.size()), out_desc(static_cast<size_t>(n_out));
  std::vector<std::vector<int64_t>> opt_shapes, min_shapes, max_shapes;
  for (const InputUse& u : inputs) {
    opt_shapes.push_back(u.opt);
    min_shapes.push_back(u.min);
    max_shapes.push_back(u.max);
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputUse& u = inputs[i];
    in_desc[i].desc.type = u.type;
    in_desc[i].desc.format = nvinfer1::TensorFormat::kLINEAR;
    in_desc[i].desc.scale = -1.0f;
    in_desc[i].desc.dims = dims_of(u.opt);
    for (size_t d = 0; d < u.opt.size(); ++d) {
      if (!(u.min[d] == u.opt[d] && u.opt[d] == u.max[d])) in_desc[i].desc.dims.d[d] = -1;
    }
    in_desc[i].min = dims_of(u.min);
    in_desc[i].opt = dims_of(u.opt);
    in_desc[i].max = dims_of(u.max);
  }
  const auto out_min = r.output_shapes(min_shapes), out_opt = r.output_shapes(opt_shapes),
             out_max = r.output_shapes(max_shapes);
  for (size_t o = 0; o < out_desc.size(); ++o) {
    out_desc[o].desc.type = r.output_types[o];
    out_desc[o].desc.format = nvinfer1::TensorFormat::kLINEAR;
    out_desc[o].desc.scale = -1.0f;
    out_desc[o].desc.dims = dims_of(out_opt[o]);
    out_desc[o].min = dims_of(out_min[o]);
    out_desc[o].opt = dims_of(out_opt[o]);
    out_desc[o].max = dims_of(out_max[o]);
  }
  check(build->configurePlugin(in_desc.data(), n_in, out_desc.data(), n_out), "configurePlugin");
  r.workspace = build->getWorkspaceSize(in_desc.data(), n_in, out_desc.data(), n_out);
  const int32_t n_tactics = build->getNbTactics();
  r.tactics.assign(static_cast<size_t>(std::max(n_tactics, 0)), 0);
  if (n_tactics > 0) check(build->getValidTactics(r.tactics.data(), n_tactics), "getValidTactics");
  for (size_t i = 0; i < r.tactics.size(); ++i) {
    if (r.tactics[i] == 0) throw HarnessError("tactic 0 is reserved for the default");
    for (size_t j = 0; j < i; ++j) {
      if (r.tactics[i] == r.tactics[j]) throw HarnessError("tactic " + std::to_string(r.tactics[i]) + " is listed twice");
    }
  }
  const char* id = build->getTimingCacheID();
  r.timing_cache_id = id ? id : "";

  // Timing: each tactic (or the default) runs at the profile's opt shapes.
  if (driver_) timing_run(*r.plugin, r, inputs);

  auto* runtime = capability<nvinfer1::IPluginV3OneRuntime>(*r.plugin, PluginCapabilityType::kRUNTIME, "kRUNTIME");
  const nvinfer1::PluginFieldCollection* fields = runtime->getFieldsToSerialize();
  if (fields == nullptr) throw HarnessError("getFieldsToSerialize returned null");
  r.serialized = FieldSet::copy_of(*fields);
  return r;
}

void Harness::timing_run(IPluginV3& plugin, BuildReport& r, std::span<const InputUse> inputs) {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<DataType> in_types;
  for (const InputUse& u : inputs) {
    shapes.push_back(u.opt);
    in_types.push_back(u.type);
  }
  const auto out_shapes = r.output_shapes(shapes);
  const auto in = descs(in_types, shapes);
  const auto out = descs(r.output_types, out_shapes);
  std::vector<harness::DeviceBuffer> buffers;
  std::vector<CUdeviceptr> in_ptrs, out_ptrs;
  const auto bytes_of = [](const std::vector<int64_t>& shape, DataType t) {
    size_t n = element_size(t);
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return std::max<size_t>(n, 1);
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    buffers.emplace_back(*driver_, bytes_of(shapes[i], in_types[i]));
    buffers.back().fill(0);
    in_ptrs.push_back(buffers.back().get());
  }
  for (size_t o = 0; o < out_shapes.size(); ++o) {
    buffers.emplace_back(*driver_, bytes_of(out_shapes[o], r.output_types[o]));
    out_ptrs.push_back(buffers.back().get());
  }
  harness::DeviceBuffer workspace(*driver_, std::max<size_t>(r.workspace, 1));
  std::vector<int32_t> tactics = r.tactics;
  if (tactics.empty()) tactics.push_back(0);
  for (int32_t t : tactics) {
    check(set_tactic(plugin, t), "setTactic(" + std::to_string(t) + ")");
    check(shape_change(plugin, in, out), "onShapeChange (timing, tactic " + std::to_string(t) + ")");
    check(enqueue(plugin, in, out, in_ptrs, out_ptrs, workspace.get(), stream_), "enqueue (timing, tactic " + std::to_string(t) + ")");
    ++r.timing_runs;
  }
  TRITONPACK_CU(*driver_, cuStreamSynchronize(stream_), "the timing runs");
}

// ---- runtime phase ---------------------------------------------------------------------------

std::unique_ptr<IPluginV3> Harness::deserialize(FieldSet& serialized, std::string_view name) {
  const std::string node(name);
  return std::unique_ptr<IPluginV3>(creator_.createPlugin(node.c_str(), serialized.collection(), nvinfer1::TensorRTPhase::kRUNTIME));
}

std::unique_ptr<IPluginV3> Harness::attach(IPluginV3& plugin, nvinfer1::IPluginResourceContext& context) {
  auto* runtime = capability<nvinfer1::IPluginV3OneRuntime>(plugin, PluginCapabilityType::kRUNTIME, "kRUNTIME");
  return std::unique_ptr<IPluginV3>(runtime->attachToContext(&context));
}

int32_t Harness::set_tactic(IPluginV3& plugin, int32_t tactic) {
  return capability<nvinfer1::IPluginV3OneRuntime>(plugin, PluginCapabilityType::kRUNTIME, "kRUNTIME")->setTactic(tactic);
}

std::vector<nvinfer1::PluginTensorDesc> Harness::descs(std::span<const DataType> types,
                                                       const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<nvinfer1::PluginTensorDesc> out(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    out[i].dims = dims_of(shapes[i]);
    out[i].type = types[i];
    out[i].format = nvinfer1::TensorFormat::kLINEAR;
    out[i].scale = -1.0f;
  }
  return out;
}

int32_t Harness::shape_change(IPluginV3& plugin, std::span<const nvinfer1::PluginTensorDesc> in,
                              std::span<const nvinfer1::PluginTensorDesc> out) {
  auto* runtime = capability<nvinfer1::IPluginV3OneRuntime>(plugin, PluginCapabilityType::kRUNTIME, "kRUNTIME");
  return runtime->onShapeChange(in.data(), static_cast<int32_t>(in.size()), out.data(), static_cast<int32_t>(out.size()));
}

int32_t Harness::enqueue(IPluginV3& plugin, std::span<const nvinfer1::PluginTensorDesc> in,
                         std::span<const nvinfer1::PluginTensorDesc> out, std::span<const CUdeviceptr> inputs,
                         std::span<const CUdeviceptr> outputs, CUdeviceptr workspace, CUstream stream) {
  auto* runtime = capability<nvinfer1::IPluginV3OneRuntime>(plugin, PluginCapabilityType::kRUNTIME, "kRUNTIME");
  std::vector<const void*> in_ptrs;
  std::vector<void*> out_ptrs;
  for (CUdeviceptr p : inputs) in_ptrs.push_back(reinterpret_cast<const void*>(p));
  for (CUdeviceptr p : outputs) out_ptrs.push_back(reinterpret_cast<void*>(p));
  return runtime->enqueue(in.data(), out.data(), in_ptrs.data(), out_ptrs.data(), reinterpret_cast<void*>(workspace),
                          reinterpret_cast<cudaStream_t>(stream));
}

}  // namespace tritonpack::tensorrt::testing
