// One kernel of a pack as the op torch.ops.tritonpack.<plugin name>: its schema and the boxed
// kernels registered for CUDA, Meta and Autograd (registry.cpp registers them).
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tritonpack/pack.h"
#include "tritonpack/plugin.h"

namespace tritonpack::torch_ops {

class TorchOp {
 public:
  // Throws Error when the kernel cannot be an op (no plugin keys, a field dtype with no schema
  // type, a default the schema cannot hold), naming why.
  TorchOp(std::shared_ptr<const Pack> pack, const std::string& kernel);

  const std::string& name() const { return description().name; }  // the plugin name
  const std::string& kernel() const { return kernel_; }
  const Pack& pack() const { return *pack_; }
  const PluginDescription& description() const { return core_.describe(); }
  // "name(Tensor Q, Tensor K, Tensor V, float sm_scale) -> Tensor": inputs in order, then the
  // fields with their defaults (a dtype field as "ScalarType? TO=None", None: its default),
  // returning the outputs.
  const std::string& schema() const { return schema_; }

  // The kernels, with the dispatcher's stack: inputs then fields in, outputs out. Errors are
  // c10::Error (RuntimeError in Python) carrying the core's message.
  void run_cuda(torch::jit::Stack& stack);
  void run_meta(torch::jit::Stack& stack);
  // Refuses inputs that require grad while grad mode is on (the op has no backward), then
  // redispatches below autograd.
  void run_autograd(const c10::OperatorHandle& op, c10::DispatchKeySet keys, torch::jit::Stack& stack);

 private:
  struct CachedLaunch {
    std::vector<int64_t> key;  // device, per input dtype/rank/sizes, field bits
    std::shared_ptr<const PreparedLaunch> launch;
    uint64_t last_use = 0;
  };
  static constexpr size_t kCacheSize = 32;

  std::vector<double> fields_from(const torch::jit::Stack& stack) const;
  std::shared_ptr<const PreparedLaunch> prepared(const std::vector<int64_t>& key,
                                                 const std::vector<TensorDesc>& inputs, const std::vector<double>& fields,
                                                 bool cacheable);
  // Meta: a core bound to these field values (integer fields may size outputs), and the cores
  // per arch of the pack that check a variant exists for concrete shapes.
  const PluginCore& core_with_fields(const std::vector<double>& fields);
  void check_some_variant(const std::vector<TensorDesc>& inputs, const std::vector<double>& fields);

  std::shared_ptr<const Pack> pack_;
  std::string kernel_;
  PluginCore core_;  // fields without a default hold a placeholder; every call passes its own
  std::string schema_;
  size_t num_inputs_ = 0, num_outputs_ = 0;
  enum class FieldKind : uint8_t { kFloat, kInt, kDType };  // schema float, int, ScalarType?
  std::vector<FieldKind> field_kinds_;

  std::mutex cache_mutex_;
  std::vector<CachedLaunch> cache_;
  uint64_t use_counter_ = 0;

  std::mutex meta_mutex_;
  std::map<std::vector<double>, std::unique_ptr<PluginCore>> field_cores_;
  std::map<uint32_t, std::unique_ptr<PluginCore>, std::greater<>> arch_cores_;  // newest arch first
};

}  // namespace tritonpack::torch_ops
