// TEMPORARY: the plugin core's prepare / enqueue(prepared) and Pack::sha256 are being added on main
// (issue 8, "make the core fit an engine's hot path"). Until they land, this header gives the
// adapter the same shape over today's plan() and enqueue(TensorRef...), so that switching is a
// matter of deleting this file. It plans again on every enqueue (allocates); the adapter's own
// logic (when to prepare, what to check) is already the final one.
#pragma once

#include <cuda.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tritonpack/pack.h"
#include "tritonpack/plugin.h"
#include "util/sha256.h"

namespace tritonpack::tensorrt::bridge {

class PreparedLaunch {
 public:
  PreparedLaunch(PluginPlan plan, std::vector<TensorDesc> inputs) : plan_(std::move(plan)), inputs_(std::move(inputs)) {}
  const std::vector<Shape>& output_shapes() const { return plan_.output_shapes; }
  const std::vector<DType>& output_dtypes() const { return plan_.output_dtypes; }
  size_t workspace_bytes() const { return plan_.workspace_bytes; }
  const PluginPlan& plan() const { return plan_; }
  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  bool prepared_for(size_t input, DType dtype, std::span<const int64_t> shape) const noexcept {
    if (input >= inputs_.size() || inputs_[input].dtype != dtype) return false;
    const Shape& s = inputs_[input].shape;
    return s.size() == shape.size() && std::equal(s.begin(), s.end(), shape.begin());
  }

 private:
  PluginPlan plan_;
  std::vector<TensorDesc> inputs_;
};

inline PreparedLaunch prepare(const PluginCore& core, std::span<const TensorDesc> inputs) {
  return PreparedLaunch(core.plan(inputs), std::vector<TensorDesc>(inputs.begin(), inputs.end()));
}

inline void enqueue(PluginCore& core, const PreparedLaunch& p, std::span<const CUdeviceptr> inputs,
                    std::span<const CUdeviceptr> outputs, CUdeviceptr workspace, size_t workspace_size,
                    CUstream stream) {
  std::vector<TensorRef> in, out;
  for (size_t i = 0; i < inputs.size() && i < p.inputs().size(); ++i) in.push_back({inputs[i], p.inputs()[i]});
  for (size_t i = 0; i < outputs.size() && i < p.output_shapes().size(); ++i) {
    out.push_back({outputs[i], {p.output_dtypes()[i], p.output_shapes()[i], {}}});
  }
  core.enqueue(in, out, workspace, workspace_size, stream);
}

inline std::string pack_sha256(const Pack& pack) { return sha256_hex(pack.bytes()); }

}  // namespace tritonpack::tensorrt::bridge
