// The attention pack going out through TensorRT's plugin registry, on a machine without TensorRT's
// builder: loads NVIDIA's lean TensorRT runtime (libnvinfer_lean.so.10, opened with dlopen; nothing
// links libnvinfer), loads a tritonpack plugin library into its plugin registry, lists the creators
// it gained with their fields, creates the attention plugin from fields as a network's node does
// (kBUILD), serializes its fields and recreates it from them as deserializing an engine does
// (kRUNTIME). On a GPU it also makes the builder's configuration calls and runs the runtime phase
// (attachToContext, setTactic, onShapeChange, enqueue on a real stream and workspace) for every
// tactic on random inputs, checking Out against a float64 causal-attention reference. See README.md.
//
//   registry_demo --plugins LIB [--pack PACK] [--lean PATH] [--batch 2] [--heads 4] [--seq 200]
//                 [--head-size 64] [--dtype fp16|bf16] [--scale S] [--registry-only]
//
// LIB serves kernels/fmha's plugin tritonpack_fmha: libtritonpack_tensorrt.so with --pack (which
// sets TRITONPACK_TENSORRT_PACKS) or that variable set, or a library made by
// tritonpack_add_tensorrt_plugins. The lean runtime: --lean, else $TRITONPACK_TENSORRT_LEAN, else
// libnvinfer_lean.so.10 on the library path. --registry-only stops before the GPU's part.
// Exit status: 0 everything ran and matched; 77 skipped: no lean runtime, or no GPU for the run
// (what ran before is reported); 4 wrong results; 1 error; 2 usage.
//
// The device buffers, the random inputs' rounding and the reference come from tritonpack's test
// harness (src/harness): this example is about TensorRT's calls, which it makes itself.
#include <NvInferRuntime.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "harness/device.h"
#include "harness/references.h"
#include "runtime/args.h"
#include "tritonpack/error.h"

namespace {

using nvinfer1::DataType;
using nvinfer1::PluginFieldType;

constexpr int kSkipped = 77, kWrong = 4, kError = 1, kUsage = 2;
constexpr const char* kPluginName = "tritonpack_fmha";
constexpr const char* kPluginVersion = "1";
constexpr const char* kPluginNamespace = "tritonpack";

struct Options {
  std::string plugins, pack, lean, dtype = "fp16";
  int64_t batch = 2, heads = 4, seq = 200, head_size = 64;
  double scale = 0;  // 0: 1 / sqrt(head size)
  bool registry_only = false;
};

bool parse(int argc, char** argv, Options& o) {
  std::map<std::string, std::string> values;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--registry-only") {
      o.registry_only = true;
    } else if (key.rfind("--", 0) == 0 && i + 1 < argc) {
      values[key.substr(2)] = argv[++i];
    } else {
      return false;
    }
  }
  try {
    for (const auto& [k, v] : values) {
      if (k == "plugins") o.plugins = v;
      else if (k == "pack") o.pack = v;
      else if (k == "lean") o.lean = v;
      else if (k == "dtype") o.dtype = v;
      else if (k == "batch") o.batch = std::stoll(v);
      else if (k == "heads") o.heads = std::stoll(v);
      else if (k == "seq") o.seq = std::stoll(v);
      else if (k == "head-size") o.head_size = std::stoll(v);
      else if (k == "scale") o.scale = std::stod(v);
      else return false;
    }
  } catch (const std::exception&) {
    return false;
  }
  if (o.scale == 0 && o.head_size > 0) o.scale = 1.0 / std::sqrt(double(o.head_size));
  // The attribute is a kFLOAT32, as an ONNX attribute is; the reference takes the same value.
  o.scale = static_cast<double>(static_cast<float>(o.scale));
  return !o.plugins.empty() && (o.dtype == "fp16" || o.dtype == "bf16") && o.batch > 0 && o.heads > 0 && o.seq > 0 &&
         o.head_size > 0;
}

const char* field_type_name(PluginFieldType t) {
  switch (t) {
    case PluginFieldType::kFLOAT16: return "kFLOAT16";
    case PluginFieldType::kFLOAT32: return "kFLOAT32";
    case PluginFieldType::kFLOAT64: return "kFLOAT64";
    case PluginFieldType::kINT8: return "kINT8";
    case PluginFieldType::kINT16: return "kINT16";
    case PluginFieldType::kINT32: return "kINT32";
    case PluginFieldType::kINT64: return "kINT64";
    case PluginFieldType::kCHAR: return "kCHAR";
    case PluginFieldType::kBF16: return "kBF16";
    default: return "another type";
  }
}

const char* data_type_name(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return "kFLOAT";
    case DataType::kHALF: return "kHALF";
    case DataType::kBF16: return "kBF16";
    default: return "another type";
  }
}

size_t field_element_size(PluginFieldType t) {
  switch (t) {
    case PluginFieldType::kFLOAT16:
    case PluginFieldType::kBF16:
    case PluginFieldType::kINT16: return 2;
    case PluginFieldType::kFLOAT32:
    case PluginFieldType::kINT32: return 4;
    case PluginFieldType::kFLOAT64:
    case PluginFieldType::kINT64: return 8;
    default: return 1;
  }
}

// What an engine stores of a plugin's getFieldsToSerialize: a deep copy.
class StoredFields {
 public:
  explicit StoredFields(const nvinfer1::PluginFieldCollection& fc) {
    for (int32_t i = 0; i < fc.nbFields; ++i) {
      const nvinfer1::PluginField& f = fc.fields[i];
      const auto* bytes = static_cast<const uint8_t*>(f.data);
      const size_t size = static_cast<size_t>(f.length) * field_element_size(f.type);
      stored_.push_back({f.name, f.type, f.length, bytes ? std::vector<uint8_t>(bytes, bytes + size) : std::vector<uint8_t>{}});
    }
    for (const Stored& s : stored_) view_.emplace_back(s.name.c_str(), s.data.data(), s.type, s.length);
    collection_.nbFields = static_cast<int32_t>(view_.size());
    collection_.fields = view_.data();
  }
  const nvinfer1::PluginFieldCollection* collection() const { return &collection_; }
  bool same_as(const StoredFields& other) const { return stored_ == other.stored_; }
  void print() const {
    for (const Stored& s : stored_) {
      std::printf("   %-28s %-9s ", s.name.c_str(), field_type_name(s.type));
      if (s.type == PluginFieldType::kCHAR) {
        std::printf("%.*s\n", static_cast<int>(s.data.size()), reinterpret_cast<const char*>(s.data.data()));
      } else if (s.length != 1) {
        std::printf("(%d values)\n", s.length);
      } else if (s.type == PluginFieldType::kINT32) {
        int32_t v;
        std::memcpy(&v, s.data.data(), 4);
        std::printf("%d\n", v);
      } else if (s.type == PluginFieldType::kINT64) {
        int64_t v;
        std::memcpy(&v, s.data.data(), 8);
        std::printf("%lld\n", static_cast<long long>(v));
      } else if (s.type == PluginFieldType::kFLOAT64) {
        double v;
        std::memcpy(&v, s.data.data(), 8);
        std::printf("%.17g\n", v);
      } else {
        std::printf("(%zu bytes)\n", s.data.size());
      }
    }
  }

 private:
  struct Stored {
    std::string name;
    PluginFieldType type;
    int32_t length;
    std::vector<uint8_t> data;
    bool operator==(const Stored&) const = default;
  };
  std::vector<Stored> stored_;
  std::vector<nvinfer1::PluginField> view_;
  nvinfer1::PluginFieldCollection collection_{};
};

// What attachToContext receives from an execution context: no allocator, no error recorder (the
// plugin then reports to the logger TensorRT gave its library).
class ResourceContext final : public nvinfer1::IPluginResourceContext {
 public:
  nvinfer1::IGpuAllocator* getGpuAllocator() const noexcept override { return nullptr; }
  nvinfer1::IErrorRecorder* getErrorRecorder() const noexcept override { return nullptr; }
};

template <class T>
T* capability(nvinfer1::IPluginV3& plugin, nvinfer1::PluginCapabilityType type) {
  return static_cast<T*>(plugin.getCapabilityInterface(type));
}

nvinfer1::Dims dims(std::initializer_list<int64_t> values) {
  nvinfer1::Dims d{};
  d.nbDims = static_cast<int32_t>(values.size());
  int32_t i = 0;
  for (int64_t v : values) d.d[i++] = v;
  return d;
}

// A GPU's driver, or null with the reason (no driver, no device).
std::shared_ptr<const tritonpack::driver::Driver> gpu_driver(std::string& reason) {
  try {
    auto driver = tritonpack::driver::Driver::system();
    int count = 0;
    if (driver->api().cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
      reason = "no GPU visible";
      return nullptr;
    }
    return driver;
  } catch (const tritonpack::Error& e) {
    reason = e.what();
    return nullptr;
  }
}

class Demo {
 public:
  explicit Demo(const Options& o) : o_(o), dtype_(o.dtype == "fp16" ? DataType::kHALF : DataType::kBF16) {}

  int run() {
    if (int status = load_registry(); status != 0) return status;
    if (int status = load_plugin_library(); status != 0) return status;
    auto* creator = static_cast<nvinfer1::IPluginCreatorV3One*>(registry_->getCreator(kPluginName, kPluginVersion, kPluginNamespace));
    if (creator == nullptr) {
      std::fprintf(stderr, "error: %s serves no plugin %s version %s namespace %s (does it serve kernels/fmha's pack?)\n",
                   o_.plugins.c_str(), kPluginName, kPluginVersion, kPluginNamespace);
      return kError;
    }
    std::string no_gpu;
    auto driver = o_.registry_only ? nullptr : gpu_driver(no_gpu);
    std::unique_ptr<tritonpack::harness::DeviceContext> device;
    if (driver) device = std::make_unique<tritonpack::harness::DeviceContext>(driver, 0);
    return build_and_run(*creator, device.get(), no_gpu);
  }

 private:
  int load_registry() {
    std::string lean = o_.lean;
    if (lean.empty()) {
      const char* env = std::getenv("TRITONPACK_TENSORRT_LEAN");
      lean = env && *env ? env : "libnvinfer_lean.so.10";
    }
    if (lean.find('/') != std::string::npos && access(lean.c_str(), F_OK) != 0) {
      std::printf("== skipped: no lean TensorRT runtime at %s (scripts/setup.sh fetches tensorrt-lean-cu13-libs into "
                  ".cache/tensorrt-lean)\n", lean.c_str());
      return kSkipped;
    }
    lean_ = dlopen(lean.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lean_ == nullptr) {
      if (lean.find('/') == std::string::npos) {
        std::printf("== skipped: no lean TensorRT runtime on the library path (%s); give --lean PATH or "
                    "TRITONPACK_TENSORRT_LEAN\n", dlerror());
        return kSkipped;
      }
      std::fprintf(stderr, "error: cannot load the lean TensorRT runtime %s: %s\n", lean.c_str(), dlerror());
      return kError;
    }
    auto get_registry = reinterpret_cast<nvinfer1::IPluginRegistry* (*)()>(dlsym(lean_, "getPluginRegistry"));
    auto get_version = reinterpret_cast<int32_t (*)()>(dlsym(lean_, "getInferLibVersion"));
    registry_ = get_registry ? get_registry() : nullptr;
    if (registry_ == nullptr) {
      std::fprintf(stderr, "error: %s has no plugin registry (getPluginRegistry)\n", lean.c_str());
      return kError;
    }
    std::printf("== TensorRT lean runtime %s (version %d): getPluginRegistry\n", lean.c_str(),
                get_version ? get_version() : -1);
    return 0;
  }

  int load_plugin_library() {
    if (!o_.pack.empty() && setenv("TRITONPACK_TENSORRT_PACKS", o_.pack.c_str(), 1) != 0) {
      std::fprintf(stderr, "error: cannot set TRITONPACK_TENSORRT_PACKS\n");
      return kError;
    }
    int32_t count = 0;
    nvinfer1::IPluginCreatorInterface* const* creators = registry_->getAllCreators(&count);
    const std::set<const void*> before(creators, creators + count);
    library_ = registry_->loadLibrary(o_.plugins.c_str());
    if (library_ == nullptr) {
      std::fprintf(stderr, "error: loadLibrary refused %s (TensorRT's log above says why)\n", o_.plugins.c_str());
      return kError;
    }
    creators = registry_->getAllCreators(&count);
    std::printf("== loadLibrary(%s)%s: the creators it added\n", o_.plugins.c_str(),
                o_.pack.empty() ? "" : (" with TRITONPACK_TENSORRT_PACKS=" + o_.pack).c_str());
    for (int32_t i = 0; i < count; ++i) {
      if (before.count(creators[i]) || std::strcmp(creators[i]->getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE") != 0) continue;
      auto* c = static_cast<nvinfer1::IPluginCreatorV3One*>(creators[i]);
      std::printf("   %s version %s namespace %s, fields:", c->getPluginName(), c->getPluginVersion(), c->getPluginNamespace());
      const nvinfer1::PluginFieldCollection* fields = c->getFieldNames();
      for (int32_t f = 0; fields != nullptr && f < fields->nbFields; ++f) {
        std::printf("%s %s (%s)", f ? "," : "", fields->fields[f].name, field_type_name(fields->fields[f].type));
      }
      std::printf("\n");
    }
    return 0;
  }

  int build_and_run(nvinfer1::IPluginCreatorV3One& creator, const tritonpack::harness::DeviceContext* device,
                    const std::string& no_gpu) {
    // A network's node: the attribute as an ONNX parser would give it.
    const float sm_scale = static_cast<float>(o_.scale);
    nvinfer1::PluginField attribute("sm_scale", &sm_scale, PluginFieldType::kFLOAT32, 1);
    const nvinfer1::PluginFieldCollection attributes{1, &attribute};
    std::unique_ptr<nvinfer1::IPluginV3> node(creator.createPlugin("attention", &attributes, nvinfer1::TensorRTPhase::kBUILD));
    if (!node) {
      std::fprintf(stderr, "error: createPlugin(kBUILD) refused sm_scale=%g (TensorRT's log above says why)\n", o_.scale);
      return kError;
    }
    std::printf("== createPlugin(\"attention\", sm_scale=%g as kFLOAT32, kBUILD): %s version %s\n", o_.scale,
                capability<nvinfer1::IPluginV3OneCore>(*node, nvinfer1::PluginCapabilityType::kCORE)->getPluginName(),
                capability<nvinfer1::IPluginV3OneCore>(*node, nvinfer1::PluginCapabilityType::kCORE)->getPluginVersion());

    // The builder's calls that ask the device which variants can run: on a GPU only.
    size_t workspace = 0;
    std::vector<int32_t> tactics;
    DataType out_type = dtype_;
    if (device) {
      if (int status = configure(*node, out_type, workspace, tactics); status != 0) return status;
    } else {
      std::printf("== skipped the builder's calls that ask the GPU (getOutputDataTypes, configurePlugin, getWorkspaceSize, "
                  "tactics): %s\n", o_.registry_only ? "--registry-only" : ("no GPU: " + no_gpu).c_str());
    }

    // The engine: the node's fields stored, the plugin made again from them.
    auto* node_runtime = capability<nvinfer1::IPluginV3OneRuntime>(*node, nvinfer1::PluginCapabilityType::kRUNTIME);
    const nvinfer1::PluginFieldCollection* serialized = node_runtime->getFieldsToSerialize();
    if (serialized == nullptr) {
      std::fprintf(stderr, "error: getFieldsToSerialize returned null\n");
      return kError;
    }
    const StoredFields engine_fields(*serialized);
    std::printf("== getFieldsToSerialize (what an engine stores):\n");
    engine_fields.print();
    std::unique_ptr<nvinfer1::IPluginV3> engine_plugin(
        creator.createPlugin("attention", engine_fields.collection(), nvinfer1::TensorRTPhase::kRUNTIME));
    if (!engine_plugin) {
      std::fprintf(stderr, "error: createPlugin(kRUNTIME) refused the engine's fields (TensorRT's log above says why)\n");
      return kError;
    }
    auto* engine_runtime = capability<nvinfer1::IPluginV3OneRuntime>(*engine_plugin, nvinfer1::PluginCapabilityType::kRUNTIME);
    const nvinfer1::PluginFieldCollection* again = engine_runtime->getFieldsToSerialize();
    if (again == nullptr || !StoredFields(*again).same_as(engine_fields)) {
      std::fprintf(stderr, "error: the plugin recreated from the engine's fields serializes different fields\n");
      return kError;
    }
    std::printf("== createPlugin(\"attention\", those fields, kRUNTIME), as deserializing an engine: it serializes the "
                "same fields\n");

    if (!device) {
      if (o_.registry_only) return 0;
      std::printf("== skipped the run (onShapeChange, enqueue against the float64 reference): no GPU: %s\n", no_gpu.c_str());
      return kSkipped;
    }
    return run_on_gpu(*engine_plugin, *device, out_type, workspace, tactics);
  }

  // getNbOutputs, getOutputDataTypes, configurePlugin over the profile B 1..batch, S 1..seq,
  // getWorkspaceSize and the tactics: what TensorRT's builder calls before timing each tactic.
  int configure(nvinfer1::IPluginV3& node, DataType& out_type, size_t& workspace, std::vector<int32_t>& tactics) {
    auto* build = capability<nvinfer1::IPluginV3OneBuild>(node, nvinfer1::PluginCapabilityType::kBUILD);
    if (build->getNbOutputs() != 1) {
      std::fprintf(stderr, "error: getNbOutputs is %d; tritonpack_fmha has one output, Out\n", build->getNbOutputs());
      return kError;
    }
    const DataType in_types[3] = {dtype_, dtype_, dtype_};
    if (build->getOutputDataTypes(&out_type, 1, in_types, 3) != 0) {
      std::fprintf(stderr, "error: getOutputDataTypes refused %s inputs (TensorRT's log above says why)\n", data_type_name(dtype_));
      return kError;
    }
    if (out_type != dtype_) {  // the buffers below hold Out in the inputs' 16-bit type
      std::fprintf(stderr, "error: getOutputDataTypes gives Out %s for %s inputs; kernels/fmha writes the inputs' type\n",
                   data_type_name(out_type), data_type_name(dtype_));
      return kError;
    }
    const int64_t h = o_.heads, d = o_.head_size;
    nvinfer1::DynamicPluginTensorDesc in[3], out[1];
    for (nvinfer1::DynamicPluginTensorDesc* t : {&in[0], &in[1], &in[2], &out[0]}) {
      t->desc.type = t == &out[0] ? out_type : dtype_;
      t->desc.format = nvinfer1::TensorFormat::kLINEAR;
      t->desc.scale = -1.0f;
      t->desc.dims = dims({-1, h, -1, d});
      t->min = dims({1, h, 1, d});
      t->opt = t->max = dims({o_.batch, h, o_.seq, d});
    }
    if (build->configurePlugin(in, 3, out, 1) != 0) {
      std::fprintf(stderr, "error: configurePlugin refused the profile (TensorRT's log above says why)\n");
      return kError;
    }
    workspace = build->getWorkspaceSize(in, 3, out, 1);
    tactics.assign(static_cast<size_t>(std::max(build->getNbTactics(), 0)), 0);
    if (!tactics.empty() && build->getValidTactics(tactics.data(), static_cast<int32_t>(tactics.size())) != 0) {
      std::fprintf(stderr, "error: getValidTactics failed\n");
      return kError;
    }
    std::printf("== getOutputDataTypes(%s x3) -> %s; configurePlugin(B 1..%lld, S 1..%lld); getWorkspaceSize %zu bytes; "
                "tactics:", data_type_name(dtype_), data_type_name(out_type), static_cast<long long>(o_.batch),
                static_cast<long long>(o_.seq), workspace);
    for (int32_t t : tactics) std::printf(" %d", t);
    std::printf("\n");
    return 0;
  }

  // The engine's plugin in an execution context, each tactic on fresh random inputs, Out poisoned
  // with NaN beforehand and checked against the float64 reference.
  int run_on_gpu(nvinfer1::IPluginV3& engine_plugin, const tritonpack::harness::DeviceContext& device, DataType out_type,
                 size_t workspace_bytes, std::vector<int32_t> tactics) {
    using tritonpack::harness::DeviceBuffer;
    const tritonpack::driver::Driver& driver = device.driver();
    ResourceContext context;
    auto* engine_runtime = capability<nvinfer1::IPluginV3OneRuntime>(engine_plugin, nvinfer1::PluginCapabilityType::kRUNTIME);
    std::unique_ptr<nvinfer1::IPluginV3> plugin(engine_runtime->attachToContext(&context));
    if (!plugin) {
      std::fprintf(stderr, "error: attachToContext returned null\n");
      return kError;
    }
    auto* runtime = capability<nvinfer1::IPluginV3OneRuntime>(*plugin, nvinfer1::PluginCapabilityType::kRUNTIME);
    std::printf("== the runtime phase on %s (sm_%d): attachToContext, then per tactic setTactic, onShapeChange, enqueue\n",
                device.name().c_str(), device.arch());

    const nvinfer1::Dims shape = dims({o_.batch, o_.heads, o_.seq, o_.head_size});
    const size_t elements = static_cast<size_t>(o_.batch * o_.heads * o_.seq * o_.head_size);
    nvinfer1::PluginTensorDesc in[3], out[1];
    for (nvinfer1::PluginTensorDesc* t : {&in[0], &in[1], &in[2], &out[0]}) {
      t->dims = shape;
      t->type = t == &out[0] ? out_type : dtype_;
      t->format = nvinfer1::TensorFormat::kLINEAR;
      t->scale = -1.0f;
    }
    const bool fp16 = dtype_ == DataType::kHALF;
    const double tolerance = fp16 ? 1e-2 : 4e-2;  // as the adapter's GPU test: |error| <= tol/4 + tol |want|
    tritonpack::harness::Stream stream(driver);
    DeviceBuffer workspace(driver, std::max<size_t>(workspace_bytes, 256));
    if (tactics.empty()) tactics.push_back(0);
    int status = 0;
    for (int32_t tactic : tactics) {
      std::vector<double> host[3];
      DeviceBuffer inputs[3];
      for (int i = 0; i < 3; ++i) host[i] = random_input(elements, inputs[i], driver);
      DeviceBuffer output(driver, elements * 2);
      output.fill(0xff);  // NaN until the kernel writes
      workspace.fill(0xff);
      if (runtime->setTactic(tactic) != 0 || runtime->onShapeChange(in, 3, out, 1) != 0) {
        std::fprintf(stderr, "error: setTactic(%d) or onShapeChange refused (TensorRT's log above says why)\n", tactic);
        return kError;
      }
      const void* in_ptrs[3] = {reinterpret_cast<const void*>(inputs[0].get()), reinterpret_cast<const void*>(inputs[1].get()),
                                reinterpret_cast<const void*>(inputs[2].get())};
      void* out_ptrs[1] = {reinterpret_cast<void*>(output.get())};
      if (runtime->enqueue(in, out, in_ptrs, out_ptrs, reinterpret_cast<void*>(workspace.get()),
                           reinterpret_cast<cudaStream_t>(stream.get())) != 0) {
        std::fprintf(stderr, "error: enqueue (tactic %d) failed (TensorRT's log above says why)\n", tactic);
        return kError;
      }
      stream.synchronize();
      std::vector<uint16_t> bits(elements);
      output.download(bits.data(), bits.size() * 2);
      const tritonpack::harness::CausalAttention want =
          tritonpack::harness::causal_attention(o_.batch * o_.heads, o_.seq, o_.head_size, o_.scale, host[0], host[1], host[2]);
      double max_error = 0, worst = 0;
      for (size_t i = 0; i < elements; ++i) {
        const double got = fp16 ? tritonpack::runtime::fp16_bits_to_float(bits[i]) : tritonpack::runtime::bf16_bits_to_float(bits[i]);
        const double error = std::isfinite(got) ? std::abs(got - want.out[i]) : INFINITY;
        max_error = std::max(max_error, error);
        worst = std::max(worst, error / (tolerance / 4 + tolerance * std::abs(want.out[i])));
      }
      const bool ok = worst <= 1.0;
      std::printf("   tactic %d: Out [%lld, %lld, %lld, %lld] %s, max |Out - reference| = %.3g (%s: %.2f of the tolerance)\n",
                  tactic, static_cast<long long>(o_.batch), static_cast<long long>(o_.heads), static_cast<long long>(o_.seq),
                  static_cast<long long>(o_.head_size), o_.dtype.c_str(), max_error, ok ? "ok" : "WRONG", worst);
      if (!ok) status = kWrong;
    }
    return status;
  }

  // Uniform in [-1, 1), rounded to the inputs' dtype: the reference sees exactly what the GPU reads.
  std::vector<double> random_input(size_t n, tritonpack::harness::DeviceBuffer& buffer, const tritonpack::driver::Driver& driver) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<uint16_t> bits(n);
    std::vector<double> values(n);
    for (size_t i = 0; i < n; ++i) {
      const float x = dist(rng_);
      if (dtype_ == DataType::kHALF) {
        bits[i] = tritonpack::runtime::float_to_fp16_bits(x);
        values[i] = tritonpack::runtime::fp16_bits_to_float(bits[i]);
      } else {
        bits[i] = tritonpack::runtime::float_to_bf16_bits(x);
        values[i] = tritonpack::runtime::bf16_bits_to_float(bits[i]);
      }
    }
    buffer = tritonpack::harness::DeviceBuffer(driver, n * 2);
    buffer.upload(bits.data(), n * 2);
    return values;
  }

 public:
  ~Demo() {
    if (registry_ != nullptr && library_ != nullptr) registry_->deregisterLibrary(library_);
  }

 private:
  Options o_;
  DataType dtype_;
  void* lean_ = nullptr;  // kept loaded: the registry lives in it
  nvinfer1::IPluginRegistry* registry_ = nullptr;
  void* library_ = nullptr;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s --plugins LIB [--pack PACK] [--lean PATH] [--batch 2] [--heads 4] [--seq 200] "
                 "[--head-size 64] [--dtype fp16|bf16] [--scale S] [--registry-only]\n",
                 argv[0]);
    return kUsage;
  }
  try {
    Demo demo(options);
    return demo.run();
  } catch (const tritonpack::Error& e) {  // the harness's device calls
    std::fprintf(stderr, "error: %s\n", e.what());
    return kError;
  }
}
