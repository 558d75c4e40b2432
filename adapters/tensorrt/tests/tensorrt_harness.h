// A harness that plays TensorRT's side of the plugin API, for hosts without TensorRT's builder: the
// build phase in the order the builder calls it (createPlugin(kBUILD), the capability interfaces,
// getNbOutputs, getOutputDataTypes, getOutputShapes with an IExprBuilder of its own,
// supportsFormatCombination over every position, configurePlugin with a profile's min/opt/max,
// getWorkspaceSize, the tactics, a timing run per tactic, getFieldsToSerialize), then the runtime
// phase of an engine (createPlugin(kRUNTIME) from the stored fields, attachToContext, setTactic,
// onShapeChange, enqueue). It talks only through TensorRT's interfaces, so it serves any plugin;
// the fault tests run it on the fake driver, the GPU test on a real GPU.
#pragma once

#include <NvInferRuntime.h>
#include <cuda.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dim_exprs.h"

namespace tritonpack::driver {
class Driver;
}

namespace tritonpack::tensorrt::testing {

// What a plugin reported to the logger (TensorRT's, as setLoggerFinder hands it out).
class RecordingLogger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override;
  std::vector<std::string> errors() const;  // kERROR and kINTERNAL_ERROR messages
  std::vector<std::string> warnings() const;
  std::string all_errors() const;           // joined, for assertion messages
  void clear();

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<Severity, std::string>> messages_;
};

class TestLoggerFinder final : public nvinfer1::ILoggerFinder {
 public:
  explicit TestLoggerFinder(nvinfer1::ILogger* logger) : logger_(logger) {}
  ~TestLoggerFinder() override = default;
  nvinfer1::ILogger* findLogger() override { return logger_; }

 private:
  nvinfer1::ILogger* logger_;
};

// An execution context's error recorder.
class RecordingErrorRecorder final : public nvinfer1::IErrorRecorder {
 public:
  int32_t getNbErrors() const noexcept override;
  nvinfer1::ErrorCode getErrorCode(int32_t index) const noexcept override;
  ErrorDesc getErrorDesc(int32_t index) const noexcept override;
  bool hasOverflowed() const noexcept override { return false; }
  void clear() noexcept override;
  bool reportError(nvinfer1::ErrorCode code, ErrorDesc desc) noexcept override;
  RefCount incRefCount() noexcept override { return ++refs_; }
  RefCount decRefCount() noexcept override { return --refs_; }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<nvinfer1::ErrorCode, std::string>> errors_;
  RefCount refs_ = 0;
};

// What attachToContext receives: the execution context's recorder (no allocator).
class ResourceContext final : public nvinfer1::IPluginResourceContext {
 public:
  explicit ResourceContext(nvinfer1::IErrorRecorder* recorder) : recorder_(recorder) {}
  nvinfer1::IGpuAllocator* getGpuAllocator() const noexcept override { return nullptr; }
  nvinfer1::IErrorRecorder* getErrorRecorder() const noexcept override { return recorder_; }

 private:
  nvinfer1::IErrorRecorder* recorder_;
};

// A PluginFieldCollection that owns its data: the attributes of a network's node, or an engine's
// copy of what getFieldsToSerialize returned.
class FieldSet {
 public:
  struct Field {
    std::string name;
    nvinfer1::PluginFieldType type = nvinfer1::PluginFieldType::kUNKNOWN;
    int32_t length = 0;
    std::vector<uint8_t> data;
  };
  static FieldSet copy_of(const nvinfer1::PluginFieldCollection& fc);  // deep copy, as an engine stores it
  FieldSet& add(std::string name, nvinfer1::PluginFieldType type, const void* data, int32_t length, size_t bytes);
  FieldSet& f32(std::string name, float v) { return add(std::move(name), nvinfer1::PluginFieldType::kFLOAT32, &v, 1, 4); }
  FieldSet& f64(std::string name, double v) { return add(std::move(name), nvinfer1::PluginFieldType::kFLOAT64, &v, 1, 8); }
  FieldSet& i32(std::string name, int32_t v) { return add(std::move(name), nvinfer1::PluginFieldType::kINT32, &v, 1, 4); }
  FieldSet& i64(std::string name, int64_t v) { return add(std::move(name), nvinfer1::PluginFieldType::kINT64, &v, 1, 8); }
  FieldSet& text(std::string name, const std::string& v) {
    return add(std::move(name), nvinfer1::PluginFieldType::kCHAR, v.data(), static_cast<int32_t>(v.size()), v.size());
  }
  FieldSet without(std::string_view name) const;
  const Field* find(std::string_view name) const;
  Field* find(std::string_view name);
  const std::vector<Field>& fields() const { return fields_; }
  // Valid until the set changes.
  const nvinfer1::PluginFieldCollection* collection();

 private:
  std::vector<Field> fields_;
  std::vector<nvinfer1::PluginField> view_;
  nvinfer1::PluginFieldCollection collection_{};
};

// Bytes per element of a PluginFieldType (kCHAR 1, kINT32 4, kDIMS sizeof(Dims), ...).
size_t field_element_size(nvinfer1::PluginFieldType type);

// One input of the plugin's node: its type and its optimization profile. A dim that is the same in
// min, opt and max is static (TensorRT gives it to getOutputShapes as a constant).
struct InputUse {
  nvinfer1::DataType type = nvinfer1::DataType::kHALF;
  std::vector<int64_t> min, opt, max;
};

// A failed call, named (the plugin's own message went to the logger / recorder).
class HarnessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BuildReport {
  std::unique_ptr<nvinfer1::IPluginV3> plugin;  // the builder's plugin, configured
  std::unique_ptr<DimExprBuilder> builder;      // owns output_dims
  std::vector<nvinfer1::DataType> output_types;
  std::vector<std::vector<const DimExprNode*>> output_dims;
  // Every type combination (inputs then outputs, linear format) supportsFormatCombination accepts,
  // found as TensorRT searches: position by position, deciding each from positions 0..pos.
  std::vector<std::vector<nvinfer1::DataType>> combinations;
  bool accepted_non_linear = false;  // some position accepted a format other than kLINEAR
  size_t workspace = 0;
  std::vector<int32_t> tactics;
  std::string timing_cache_id;
  size_t timing_runs = 0;  // enqueues made while timing the tactics
  FieldSet serialized;     // what an engine stores

  // Output shapes for concrete input shapes, as TensorRT evaluates the expressions.
  std::vector<std::vector<int64_t>> output_shapes(const std::vector<std::vector<int64_t>>& inputs) const;
};

class Harness {
 public:
  // `driver` (fake or real) allocates the timing runs' buffers; null skips the timing runs.
  Harness(nvinfer1::IPluginCreatorV3One& creator, std::shared_ptr<const driver::Driver> driver = nullptr,
          CUstream stream = nullptr);

  // The build phase for one node with these attributes and inputs. Throws HarnessError naming the
  // first call that failed.
  BuildReport build(std::string_view name, FieldSet& attributes, std::span<const InputUse> inputs);

  // The runtime phase. deserialize: createPlugin(kRUNTIME) from an engine's fields (null on refusal).
  std::unique_ptr<nvinfer1::IPluginV3> deserialize(FieldSet& serialized, std::string_view name = "node");
  static std::unique_ptr<nvinfer1::IPluginV3> attach(nvinfer1::IPluginV3& plugin, nvinfer1::IPluginResourceContext& context);
  static int32_t set_tactic(nvinfer1::IPluginV3& plugin, int32_t tactic);
  // Descriptions of linear tensors.
  static std::vector<nvinfer1::PluginTensorDesc> descs(std::span<const nvinfer1::DataType> types,
                                                       const std::vector<std::vector<int64_t>>& shapes);
  static int32_t shape_change(nvinfer1::IPluginV3& plugin, std::span<const nvinfer1::PluginTensorDesc> in,
                              std::span<const nvinfer1::PluginTensorDesc> out);
  static int32_t enqueue(nvinfer1::IPluginV3& plugin, std::span<const nvinfer1::PluginTensorDesc> in,
                         std::span<const nvinfer1::PluginTensorDesc> out, std::span<const CUdeviceptr> inputs,
                         std::span<const CUdeviceptr> outputs, CUdeviceptr workspace, CUstream stream);

 private:
  void timing_run(nvinfer1::IPluginV3& plugin, BuildReport& report, std::span<const InputUse> inputs);

  nvinfer1::IPluginCreatorV3One& creator_;
  std::shared_ptr<const driver::Driver> driver_;
  CUstream stream_;
};

// The element size of a TensorRT DataType in bytes (kFP8/kINT8/kBOOL/kUINT8 1, kINT4/kFP4 rounded up).
size_t element_size(nvinfer1::DataType type);

}  // namespace tritonpack::tensorrt::testing
