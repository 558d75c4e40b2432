// The ops registered so far, their torch::Library fragments, and the registration entry points:
// tritonpack::torch_ops::load_pack (C++) and the op tritonpack::load_pack (Python), and the op
// tritonpack::plugin_description the ONNX translation reads.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>

#include "op_kernel.h"
#include "tritonpack/error.h"
#include "tritonpack/types.h"
#include "tritonpack/torch/ops.h"

namespace tritonpack::torch_ops {

namespace {

// Boxed kernels: each holds the op it serves.
struct CudaKernel final : c10::OperatorKernel {
  explicit CudaKernel(std::shared_ptr<TorchOp> op) : op(std::move(op)) {}
  void operator()(const c10::OperatorHandle&, c10::DispatchKeySet, torch::jit::Stack* stack) { op->run_cuda(*stack); }
  std::shared_ptr<TorchOp> op;
};
struct MetaKernel final : c10::OperatorKernel {
  explicit MetaKernel(std::shared_ptr<TorchOp> op) : op(std::move(op)) {}
  void operator()(const c10::OperatorHandle&, c10::DispatchKeySet, torch::jit::Stack* stack) { op->run_meta(*stack); }
  std::shared_ptr<TorchOp> op;
};
struct AutogradKernel final : c10::OperatorKernel {
  explicit AutogradKernel(std::shared_ptr<TorchOp> op) : op(std::move(op)) {}
  void operator()(const c10::OperatorHandle& handle, c10::DispatchKeySet keys, torch::jit::Stack* stack) {
    op->run_autograd(handle, keys, *stack);
  }
  std::shared_ptr<TorchOp> op;
};

struct Registered {
  std::shared_ptr<TorchOp> op;
  std::string sha256, origin;
  std::unique_ptr<torch::Library> library;  // the registration lives as long as this
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Registered> ops;  // by plugin name
};

Registry& registry() {
  // Never destroyed: the dispatcher may call the ops' kernels until the process ends.
  static Registry* r = new Registry;
  return *r;
}

std::string short_hash(const std::string& sha256) { return sha256.substr(0, 12); }

std::unique_ptr<torch::Library> register_op(const std::shared_ptr<TorchOp>& op) {
  auto library = std::make_unique<torch::Library>(torch::Library::FRAGMENT, "tritonpack", std::nullopt, __FILE__,
                                                  static_cast<uint32_t>(__LINE__));
  library->def(torch::schema(op->schema().c_str(), c10::AliasAnalysisKind::FROM_SCHEMA), {at::Tag::pt2_compliant_tag});
  const char* name = op->name().c_str();
  library->impl(name, torch::dispatch(c10::DispatchKey::CUDA,
                                      torch::CppFunction::makeFromBoxedFunctor(std::make_unique<CudaKernel>(op))));
  library->impl(name, torch::dispatch(c10::DispatchKey::Meta,
                                      torch::CppFunction::makeFromBoxedFunctor(std::make_unique<MetaKernel>(op))));
  library->impl(name, torch::dispatch(c10::DispatchKey::Autograd,
                                      torch::CppFunction::makeFromBoxedFunctor(std::make_unique<AutogradKernel>(op))));
  return library;
}

std::vector<std::string> load(const std::string& path) {
  const std::shared_ptr<const Pack> pack = Pack::open(path);
  // Every blob is checked now, not at an op's first call (which may run inside torch.compile or a
  // CUDA graph capture): a corrupt pack is refused here, with the blob's message.
  pack->verify_blobs();
  const std::string& sha256 = pack->sha256();
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);

  // Everything is checked before anything is registered: a pack's ops are registered all or none.
  std::vector<std::shared_ptr<TorchOp>> fresh;
  std::vector<std::string> names, not_served;
  std::set<std::string> seen;
  for (const KernelInfo& k : pack->manifest().kernels) {
    std::shared_ptr<TorchOp> op;
    try {
      op = std::make_shared<TorchOp>(pack, k.name);
    } catch (const Error& e) {
      not_served.push_back("kernel '" + k.name + "': " + e.what());
      continue;
    }
    const std::string& name = op->name();
    if (!seen.insert(name).second) {
      throw Error(ErrorCode::kInvalidArgument, "pack '" + path + "' has two kernels whose plugin name is '" + name +
                                                   "'; give each its own [plugin] name");
    }
    names.push_back("tritonpack::" + name);
    auto it = r.ops.find(name);
    if (it != r.ops.end()) {
      if (it->second.sha256 == sha256 && it->second.op->kernel() == k.name) continue;  // loaded before
      throw Error(ErrorCode::kInvalidArgument,
                  "torch.ops.tritonpack." + name + " is already registered from kernel '" + it->second.op->kernel() +
                      "' of '" + it->second.origin + "' (sha256 " + short_hash(it->second.sha256) + "...); kernel '" +
                      k.name + "' of '" + path + "' (sha256 " + short_hash(sha256) +
                      "...) is another op of that name: one process serves one pack per op name (rename the "
                      "plugin in one spec's [plugin] name)");
    }
    if (c10::Dispatcher::singleton().findSchema({"tritonpack::" + name, ""}).has_value()) {
      throw Error(ErrorCode::kInvalidArgument, "torch.ops.tritonpack." + name +
                                                   " is already defined by something other than a tritonpack pack; "
                                                   "rename the plugin in the spec's [plugin] name");
    }
    // The schema must parse before anything is registered.
    (void)torch::schema(op->schema().c_str());
    fresh.push_back(std::move(op));
  }
  if (names.empty()) {
    std::string why;
    for (const std::string& line : not_served) why += "\n  " + line;
    throw Error(ErrorCode::kInvalidArgument, "pack '" + path + "' has no kernel that can be a torch op:" + why);
  }
  for (const std::string& line : not_served) TORCH_WARN("tritonpack: pack '", path, "': ", line, " (not registered)");
  for (const std::shared_ptr<TorchOp>& op : fresh) {
    Registered entry{op, sha256, path, register_op(op)};
    r.ops.emplace(op->name(), std::move(entry));
  }
  return names;
}

std::vector<std::string> load_pack_op(std::string path) { return load_pack(path); }

// What an exporter needs to write a node the TensorRT creator of the same kernel accepts
// (python/tritonpack/_onnx.py): the plugin's version and namespace, the kernel, and the fields in
// schema order with their dtypes ("fp32", "i32", ...; "dtype" for a dtype field, an output dtype
// no input binds). A dtype field's choices follow as three parallel lists, one entry a choice: the
// field's index, the dtype's name and its tritonpack DType code (the creator's int32 value); a
// field's first choice is its default.
using PluginDescriptionTuple = std::tuple<std::string, std::string, std::string, std::vector<std::string>,
                                          std::vector<std::string>, std::vector<int64_t>, std::vector<std::string>,
                                          std::vector<int64_t>>;

PluginDescriptionTuple plugin_description_op(std::string name) {
  std::shared_ptr<TorchOp> op;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.ops.find(name);
    TORCH_CHECK(it != r.ops.end(), "tritonpack.plugin_description: no op tritonpack::", name,
                " was loaded from a pack (tritonpack.load registers them)");
    op = it->second.op;
  }
  const PluginDescription& d = op->description();
  std::vector<std::string> field_names, field_dtypes, choice_dtypes;
  std::vector<int64_t> choice_fields, choice_codes;
  for (size_t i = 0; i < d.fields.size(); ++i) {
    const PluginFieldInfo& f = d.fields[i];
    field_names.push_back(f.name);
    field_dtypes.push_back(f.dtypes.empty() ? std::string(dtype_name(f.dtype)) : std::string("dtype"));
    for (DType choice : f.dtypes) {
      choice_fields.push_back(static_cast<int64_t>(i));
      choice_dtypes.emplace_back(dtype_name(choice));
      choice_codes.push_back(static_cast<int64_t>(choice));
    }
  }
  return {d.version, d.plugin_namespace, d.kernel, field_names, field_dtypes, choice_fields, choice_dtypes,
          choice_codes};
}

}  // namespace

std::vector<std::string> load_pack(const std::string& path) {
  try {
    return load(path);
  } catch (const Error& e) {
    TORCH_CHECK(false, "tritonpack.load: ", e.what());
  }
}

}  // namespace tritonpack::torch_ops

// The namespace and the helper op Python loads packs with.
TORCH_LIBRARY(tritonpack, m) {
  m.def("load_pack(str path) -> str[]", &tritonpack::torch_ops::load_pack_op);
  m.def("plugin_description(str name) -> (str version, str plugin_namespace, str kernel, str[] field_names, "
        "str[] field_dtypes, int[] choice_fields, str[] choice_dtypes, int[] choice_codes)",
        &tritonpack::torch_ops::plugin_description_op);
}
