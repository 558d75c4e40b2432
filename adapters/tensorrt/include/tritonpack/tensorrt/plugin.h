// tritonpack's TensorRT adapter: every kernel of a pack as an IPluginV3, through one generic class
// over tritonpack::PluginCore (no per-kernel C++). docs/tensorrt.md describes the plugin library,
// the field mapping, serialization and error reporting.
//
//   PackSource    a pack a plugin library serves, with its sha256 and where it came from
//   Creator       IPluginCreatorV3One for one kernel of one pack (TensorRT finds it by the spec's
//                 [plugin] name, version and namespace)
//   Plugin        IPluginV3 with the OneCore, OneBuild and OneRuntime capabilities
//   CreatorSet    the creators of a plugin library: one per kernel of each pack that can be a plugin
//
// Every method TensorRT calls is noexcept: a failure is reported with the core's message through
// the execution context's error recorder (when TensorRT gave one through attachToContext) and the
// logger of setLoggerFinder, and the method returns its error value. Nothing exits or aborts.
#pragma once

#include <NvInferRuntime.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/pack.h"
#include "tritonpack/plugin.h"
#include "tritonpack/types.h"

namespace tritonpack::tensorrt {

// ---- dtypes and fields ---------------------------------------------------------------------

// tritonpack dtype <-> TensorRT DataType. A dtype TensorRT has no type for (fp64, i16, unsigned
// wider than 8 bits, fp8 e5m2) has no mapping: such a tensor is simply not supported.
std::optional<nvinfer1::DataType> to_tensorrt(DType dtype) noexcept;
std::optional<DType> from_tensorrt(nvinfer1::DataType type) noexcept;
// "kHALF", for messages.
std::string_view tensorrt_name(nvinfer1::DataType type) noexcept;

// The PluginFieldType a creator advertises for a field of this dtype (fp32 -> kFLOAT32, i32 ->
// kINT32, ...), or nullopt for a dtype no field can have.
std::optional<nvinfer1::PluginFieldType> field_type(DType dtype) noexcept;
std::string_view field_type_name(nvinfer1::PluginFieldType type) noexcept;

// The value of a build-phase field given as any numeric PluginFieldType (an ONNX attribute may
// arrive as kINT64 or kFLOAT32 whatever the kernel's field is): length 1, and for an integer
// field an integral value in its range (the core checks that). Throws Error(kInvalidArgument)
// naming the field, its type and length.
double numeric_field_value(const nvinfer1::PluginField& field);

// ---- error reporting -----------------------------------------------------------------------

// The logger finder TensorRT hands to the plugin library (setLoggerFinder); null until then.
void set_logger_finder(nvinfer1::ILoggerFinder* finder) noexcept;
nvinfer1::ILogger* find_logger() noexcept;

// Where a plugin reports: the execution context's error recorder (if any) and the logger. With
// neither, the message goes to stderr, so that no failure is silent.
void report(nvinfer1::IErrorRecorder* recorder, nvinfer1::ErrorCode code, std::string_view message) noexcept;
void log(nvinfer1::ILogger::Severity severity, std::string_view message) noexcept;
nvinfer1::ErrorCode tensorrt_error_code(ErrorCode code) noexcept;

// ---- packs and creators --------------------------------------------------------------------

// A pack served by a plugin library. Immutable; shared by its creators and their plugins.
struct PackSource {
  std::shared_ptr<const Pack> pack;
  std::string sha256;  // hex digest of the pack's bytes: what a serialized plugin is checked against
  std::string origin;  // the path, or "embedded in <library>"
  // Checks every blob of `pack` (Pack::verify_blobs): throws Error(kCorruptPack) for a corrupt one.
  static std::shared_ptr<const PackSource> from_pack(std::shared_ptr<const Pack> pack, std::string origin);
};

class Plugin;

class Creator final : public nvinfer1::IPluginCreatorV3One {
 public:
  // The creator of `kernel` in `source`. Throws Error(kInvalidArgument) if the kernel cannot be a
  // plugin (the core's message says what the spec lacks). `driver`: tests inject a fake; null is
  // the process's CUDA driver.
  Creator(std::shared_ptr<const PackSource> source, std::string_view kernel,
          std::shared_ptr<const driver::Driver> driver = nullptr);
  ~Creator() override;

  // kBUILD: from attributes (the fields of getFieldNames, any numeric type). kRUNTIME: from the
  // fields getFieldsToSerialize wrote; refused unless kernel and pack sha256 are this creator's.
  // Returns nullptr after reporting why.
  nvinfer1::IPluginV3* createPlugin(const char* name, const nvinfer1::PluginFieldCollection* fc,
                                    nvinfer1::TensorRTPhase phase) noexcept override;
  const nvinfer1::PluginFieldCollection* getFieldNames() noexcept override;
  const char* getPluginName() const noexcept override;
  const char* getPluginVersion() const noexcept override;
  const char* getPluginNamespace() const noexcept override;

  // The same as createPlugin, throwing tritonpack::Error instead of reporting (tests, and the
  // harness's messages).
  std::unique_ptr<Plugin> create(std::string_view name, const nvinfer1::PluginFieldCollection* fc,
                                 nvinfer1::TensorRTPhase phase) const;
  const PluginDescription& description() const;
  const PackSource& source() const { return *source_; }
  const std::string& kernel() const { return kernel_; }

 private:
  std::shared_ptr<const PackSource> source_;
  std::string kernel_;
  std::shared_ptr<const driver::Driver> driver_;
  std::unique_ptr<PluginCore> probe_;  // a core with placeholder fields: the description
  std::vector<nvinfer1::PluginField> field_names_;
  nvinfer1::PluginFieldCollection field_collection_{};
};

// The names of the fields a plugin serializes besides the kernel's own (docs/tensorrt.md). A
// kernel field is a Python identifier, so it cannot contain the '.' these have.
namespace serial {
inline constexpr const char* kFormat = "tritonpack.format";            // kINT32, 1
inline constexpr const char* kKernel = "tritonpack.kernel";            // kCHAR
inline constexpr const char* kPackSha256 = "tritonpack.pack_sha256";   // kCHAR, 64 hex digits
inline constexpr const char* kTactic = "tritonpack.tactic";            // kINT32
inline constexpr const char* kWorkspace = "tritonpack.workspace_bytes"; // kINT64, -1 = not known
inline constexpr int32_t kFormatVersion = 1;
}  // namespace serial

class Plugin final : public nvinfer1::IPluginV3,
                     public nvinfer1::IPluginV3OneCore,
                     public nvinfer1::IPluginV3OneBuild,
                     public nvinfer1::IPluginV3OneRuntime {
 public:
  Plugin(std::shared_ptr<const PackSource> source, PluginCore core, std::string instance_name);
  ~Plugin() override;

  // IPluginV3
  nvinfer1::IPluginCapability* getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept override;
  nvinfer1::IPluginV3* clone() noexcept override;

  // IPluginV3OneCore
  const char* getPluginName() const noexcept override;
  const char* getPluginVersion() const noexcept override;
  const char* getPluginNamespace() const noexcept override;

  // IPluginV3OneBuild
  int32_t configurePlugin(const nvinfer1::DynamicPluginTensorDesc* in, int32_t nbInputs,
                          const nvinfer1::DynamicPluginTensorDesc* out, int32_t nbOutputs) noexcept override;
  int32_t getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs, const nvinfer1::DataType* inputTypes,
                             int32_t nbInputs) const noexcept override;
  int32_t getOutputShapes(const nvinfer1::DimsExprs* inputs, int32_t nbInputs, const nvinfer1::DimsExprs* shapeInputs,
                          int32_t nbShapeInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
                          nvinfer1::IExprBuilder& exprBuilder) noexcept override;
  bool supportsFormatCombination(int32_t pos, const nvinfer1::DynamicPluginTensorDesc* inOut, int32_t nbInputs,
                                 int32_t nbOutputs) noexcept override;
  int32_t getNbOutputs() const noexcept override;
  size_t getWorkspaceSize(const nvinfer1::DynamicPluginTensorDesc* inputs, int32_t nbInputs,
                          const nvinfer1::DynamicPluginTensorDesc* outputs, int32_t nbOutputs) const noexcept override;
  int32_t getValidTactics(int32_t* tactics, int32_t nbTactics) noexcept override;
  int32_t getNbTactics() noexcept override;
  const char* getTimingCacheID() noexcept override;
  const char* getMetadataString() noexcept override;

  // IPluginV3OneRuntime
  int32_t setTactic(int32_t tactic) noexcept override;
  int32_t onShapeChange(const nvinfer1::PluginTensorDesc* in, int32_t nbInputs, const nvinfer1::PluginTensorDesc* out,
                        int32_t nbOutputs) noexcept override;
  int32_t enqueue(const nvinfer1::PluginTensorDesc* inputDesc, const nvinfer1::PluginTensorDesc* outputDesc,
                  const void* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept override;
  nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext* context) noexcept override;
  const nvinfer1::PluginFieldCollection* getFieldsToSerialize() noexcept override;

  // For tests and tools.
  PluginCore& core() { return core_; }
  const PluginCore& core() const { return core_; }
  nvinfer1::IErrorRecorder* error_recorder() const { return recorder_; }
  // The largest workspace TensorRT was asked for at build (configurePlugin, getWorkspaceSize) or
  // read from the engine; nullopt when neither happened.
  std::optional<size_t> granted_workspace() const;
  // Whether the last enqueue took the prepared path (no planning, no allocation).
  bool last_enqueue_was_prepared() const { return last_enqueue_prepared_; }
  void set_granted_workspace(std::optional<size_t> bytes);

  struct Prepared;

 private:
  Plugin(const Plugin& other);  // clone(): a fresh core (own module cache), same state
  std::string where() const;
  void fail(nvinfer1::ErrorCode code, std::string_view method, std::string_view message) const noexcept;
  template <class F>
  int32_t guarded(const char* method, F&& body) const noexcept;
  void prepare_for(std::span<const TensorDesc> inputs);
  void grant_workspace(size_t bytes) const;

  std::shared_ptr<const PackSource> source_;
  PluginCore core_;
  std::string instance_name_;
  nvinfer1::IErrorRecorder* recorder_ = nullptr;  // borrowed from TensorRT's resource context
  // The largest workspace requested at build (getWorkspaceSize is const, so mutable); -1: none.
  mutable std::atomic<int64_t> granted_workspace_{-1};
  std::unique_ptr<Prepared> prepared_;
  bool last_enqueue_prepared_ = false;
  std::string timing_cache_id_, metadata_;
  // getFieldsToSerialize's storage: valid until the next call or the plugin's end.
  std::string serial_kernel_, serial_sha256_;
  int32_t serial_format_ = serial::kFormatVersion, serial_tactic_ = 0;
  int64_t serial_workspace_ = -1;
  std::vector<double> serial_values_;
  std::vector<nvinfer1::PluginField> serial_fields_;
  nvinfer1::PluginFieldCollection serial_collection_{};
};

// The creators of a plugin library. Problems (a missing or corrupt pack, a kernel that cannot be a
// plugin, two creators with one name, version and namespace) are logged as errors and leave those
// creators out; the others are served.
class CreatorSet {
 public:
  // One creator per kernel of each pack; a plugin name served twice is served by neither.
  static CreatorSet from_sources(std::span<const std::shared_ptr<const PackSource>> sources,
                                 std::shared_ptr<const driver::Driver> driver = nullptr);
  // Packs at these paths (each opened and validated fully).
  static CreatorSet from_paths(std::span<const std::string> paths, std::shared_ptr<const driver::Driver> driver = nullptr);

  std::span<nvinfer1::IPluginCreatorInterface* const> interfaces() const { return interfaces_; }
  std::span<const std::unique_ptr<Creator>> creators() const { return creators_; }
  // What went wrong while building the set, one line each (also logged as errors).
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::unique_ptr<Creator>> creators_;
  std::vector<nvinfer1::IPluginCreatorInterface*> interfaces_;
  std::vector<std::string> problems_;
};

// The paths in TRITONPACK_TENSORRT_PACKS-style text: colon-separated, empty entries skipped.
std::vector<std::string> split_pack_list(std::string_view text);

}  // namespace tritonpack::tensorrt
