// tritonpack: the engine-neutral plugin core. One data-driven class serves every kernel of every
// pack: engine adapters (TensorRT IPluginV3, PyTorch custom ops) and `tritonpack gen-cpp` headers
// are thin translations onto it. Nothing is generated or compiled per kernel.
//
// Phases, as engines use them (docs/plugin.md):
//   describe()            name, version, namespace, inputs, outputs, fields, tactics
//   supports(pos, dtypes) the runtime's variant selection on the target device, dtypes only
//   output_dtypes(), output_shapes() (concrete) and symbolic_output_shapes() (an engine's builder)
//   prepare(inputs[, fields]) -> PreparedLaunch   all planning, once per shape (configurePlugin,
//                         onShapeChange): shapes, dim-size arguments, candidates, workspace layout
//   enqueue(prepared, pointers, workspace, stream)   allocation-free: checks pointers, alignment
//                         and workspace, fills the addresses in, launches (a kernel in steps:
//                         every step, in order)
//   set_tactic()          a tactic is a config of the pack (1-based; 0 = let the runtime choose)
//   serialize() / deserialize()  self-contained bytes: fields, tactic and the whole pack
//   clone()               an independent copy (own module cache), e.g. one per execution context
//
// Which variants can serve a launch is answered by one function, the runtime's selection
// (Kernel::candidates / dtype_candidates): the plugin core never selects variants itself.
#pragma once

#include <cuda.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tritonpack/expr.h"
#include "tritonpack/manifest.h"
#include "tritonpack/pack.h"
#include "tritonpack/rule.h"
#include "tritonpack/runtime.h"
#include "tritonpack/symbolic.h"
#include "tritonpack/types.h"

namespace tritonpack {

namespace driver {
class Driver;
}

using Shape = std::vector<int64_t>;

// A tensor as an engine describes it. Strides are in elements; empty means contiguous row-major.
struct TensorDesc {
  DType dtype = DType::kFp32;
  Shape shape;
  Shape strides;
};

// Memory layouts an engine may propose. Triton kernels take dense row-major tensors.
enum class TensorFormat : uint8_t { kLinear, kOther };

struct TensorRef {
  CUdeviceptr data = 0;
  TensorDesc desc;
};

struct PluginTensorInfo {
  std::string name;
  std::string dtype;               // a dtype ("fp32") or a type variable ("T")
  std::vector<std::string> dtypes; // every dtype it may have, in the pack's order
  uint32_t param_index = 0;
  // A tensordesc param: the kernel gets a host tensor descriptor over the engine's dense tensor
  // (its shape and row-major strides); to the engine it is a tensor like any other.
  bool descriptor = false;
};

struct PluginFieldInfo {
  std::string name;
  DType dtype = DType::kFp32;
  bool has_default = false;
  double default_value = 0;
  // A dtype field (non-empty): a type variable of [types] that no input binds (an output's or a
  // scratch tensor's dtype, e.g. TO of an FP8 kernel's output), named after it. Its value is
  // static_cast<double>(DType) of one of these, by default the first (the spec's first listed);
  // `dtype` is then kI32. It chooses the output dtype and so the variants; it is no kernel argument.
  std::vector<DType> dtypes;
};

struct PluginDescription {
  std::string name, version, plugin_namespace, kernel;
  std::vector<PluginTensorInfo> inputs, outputs, scratch;
  std::vector<PluginFieldInfo> fields;
  std::vector<std::string> tactics;  // config names; tactic i + 1 is tactics[i]
};

// How shapes follow from the inputs, resolved once from the manifest (src/plugin/model.cpp):
// the data behind both the concrete and the symbolic shape evaluation.
struct ShapeProgram {
  struct DimName {
    std::string name;
    uint32_t input = 0, dim = 0;  // where it is first bound
  };
  struct Sized {                  // an output or a scratch tensor
    int32_t rule = -1;            // >= 0: rules[rule] target `target` gives the shape
    uint32_t target = 0;
    std::vector<expr::Expr> dims; // else these expressions
  };
  struct DimArg {
    std::string name;
    uint32_t param_index = 0;
    int32_t rule = -1;  // >= 0: a dim-size rule; else `value`
    expr::Expr value;
    // `value` names SM_COUNT, the SM count of the device the plugin plans for: known only then
    // (prepare), so no output's shape may use this argument; a scratch tensor's may.
    bool uses_sm_count = false;
  };
  std::vector<std::string> input_names;  // engine inputs, in order
  std::vector<int32_t> input_rank;       // -1 when only rules say (checked by them)
  std::vector<DimName> dim_names;        // from the inputs' dims
  struct FixedDim {               // an integer in an input's dims: the size it must have
    uint32_t input = 0, dim = 0;
    int64_t size = 0;
  };
  struct RepeatedDim {            // a name bound again: the size must equal its first binding
    uint32_t input = 0, dim = 0;
    std::string name;
  };
  std::vector<FixedDim> fixed_dims;
  std::vector<RepeatedDim> repeated_dims;
  std::vector<rule::Rule> rules;
  std::vector<DimArg> dim_args;  // in param order; each may use dim names, integer fields and SM_COUNT
  std::vector<Sized> outputs, scratch;
};

// Everything an enqueue computes from input shapes; no GPU needed.
struct PluginPlan {
  std::vector<Shape> output_shapes;
  std::vector<DType> output_dtypes;
  TypeBindings bindings;                                      // type variable -> dtype
  std::vector<std::pair<std::string, int64_t>> dim_args;      // in param order
  // The SM count that the dim-size arguments naming SM_COUNT took (the target device's, see
  // PluginCore::set_target_arch); 0 when none names it.
  uint32_t sm_count = 0;
  std::vector<std::pair<std::string, double>> fields;         // the kernel's field params, in param order (dtype fields bind `bindings`)
  std::vector<ConstexprValue> pinned;                         // constexprs the constraints choose
  struct Scratch {
    std::string name;
    DType dtype = DType::kFp32;
    Shape shape;
    size_t offset = 0, bytes = 0;  // in the workspace
  };
  std::vector<Scratch> scratch;
  size_t scratch_bytes = 0;         // scratch tensors, each 256-byte aligned
  size_t kernel_scratch_bytes = 0;  // Triton global scratch: the most any candidate variant needs
  size_t workspace_bytes = 0;       // scratch_bytes + kernel_scratch_bytes
  // The kernel's runtime arguments; tensors and descriptors have address 0 and no shape here
  // (PreparedLaunch::args() has them with their shapes).
  std::vector<Arg> args;
  // The variants that can run these inputs on the target device, in the runtime's preference
  // order (tensor addresses assumed aligned; enqueue selects among them with the real ones). A
  // kernel in steps: every step's, in step order.
  std::vector<Selection> candidates;
  // A kernel in steps (KernelInfo::steps): per step, its candidates (each with that step's grid).
  // enqueue launches every step in order. Empty for a one-launch kernel.
  std::vector<std::vector<Selection>> steps;
};

// Everything an enqueue needs for one set of input dtypes, shapes and field values: made by
// PluginCore::prepare (an engine's configurePlugin / onShapeChange), used by enqueue on the hot
// path. Move-only (its arguments point into its own shapes).
class PreparedLaunch {
 public:
  PreparedLaunch() = default;
  PreparedLaunch(PreparedLaunch&&) noexcept = default;
  PreparedLaunch& operator=(PreparedLaunch&&) noexcept = default;
  PreparedLaunch(const PreparedLaunch&) = delete;
  PreparedLaunch& operator=(const PreparedLaunch&) = delete;

  bool empty() const noexcept { return kernel_ == nullptr; }
  const PluginPlan& plan() const noexcept { return plan_; }
  const std::vector<Shape>& output_shapes() const noexcept { return plan_.output_shapes; }
  const std::vector<DType>& output_dtypes() const noexcept { return plan_.output_dtypes; }
  size_t workspace_bytes() const noexcept { return plan_.workspace_bytes; }
  const std::vector<TensorDesc>& inputs() const noexcept { return inputs_; }
  // The launch arguments with every tensor's shape; addresses are aligned placeholders.
  std::span<const Arg> args() const noexcept { return args_; }
  // Whether input `input` was prepared with this dtype and shape (an engine's cheap check that
  // the shapes of an enqueue are the prepared ones). Allocates nothing.
  bool prepared_for(size_t input, DType dtype, std::span<const int64_t> shape) const noexcept;

 private:
  friend class PluginCore;
  const KernelInfo* kernel_ = nullptr;
  PluginPlan plan_;
  std::vector<TensorDesc> inputs_;
  // Shapes borrowed from inputs_ and plan_, descriptors' strides from strides_ (heap buffers:
  // moves keep them).
  std::vector<Arg> args_;
  std::vector<Shape> strides_;  // per argument: a descriptor's dense row-major strides, else empty
  std::vector<uint32_t> input_args_, output_args_, scratch_args_;  // argument index of each
  std::vector<size_t> input_bytes_, output_bytes_;                 // a null pointer is fine for 0
  std::string config_;                                             // the tactic's config, if any
};

// Threads (docs/thread-safety.md): const methods and enqueue may be called from several threads
// at once; set_tactic, set_target_arch, set_target_sm_count, configure, destruction and moves may
// not overlap any other call on the same core. A clone is independent of its original. A
// PreparedLaunch is read-only: several threads may enqueue the same one.
class PluginCore {
 public:
  static constexpr size_t kWorkspaceAlignment = 256;

  // Makes the plugin of `kernel` in `pack`. fields: values of the kernel's fields (missing ones
  // take their defaults). Throws Error(kInvalidArgument) for an unknown or missing field or a
  // kernel the plugin model cannot serve (a scalar with no value, an output without a shape),
  // naming the parameter and what to add to the spec.
  static PluginCore create(std::shared_ptr<const Pack> pack, std::string_view kernel,
                           const std::map<std::string, double, std::less<>>& fields = {},
                           std::shared_ptr<const driver::Driver> driver = nullptr);

  PluginCore(PluginCore&&) noexcept;
  PluginCore& operator=(PluginCore&&) noexcept;
  ~PluginCore();

  const PluginDescription& describe() const;
  const ShapeProgram& shape_program() const;
  const Pack& pack() const;
  std::span<const double> fields() const;  // as bound at create, describe().fields order

  // The device variants are chosen for: 0 (default) = the current CUDA context's device at each
  // call; else a compute capability (90 = sm_90), for tools and builds without a GPU. Its SM count
  // (what SM_COUNT is in grids and dim-size arguments, so in the workspace of scratch tensors sized
  // by them) is then the current device's, or with an arch set_target_sm_count's (0, the default:
  // one common GPU of that arch's, 132 for sm_90).
  void set_target_arch(uint32_t arch);
  uint32_t target_arch() const;
  void set_target_sm_count(uint32_t sm_count);
  uint32_t target_sm_count() const;

  // Whether the dtype at `pos` (inputs first, then outputs) can run, given the dtypes at
  // positions 0..pos (dtypes.size() == pos + 1): some variant that the target device can run
  // (image, shared memory, clusters) and the tactic allows has all of them. Throws for a missing
  // driver or context when the target is the current device.
  bool supports(size_t pos, std::span<const DType> dtypes) const;
  // The same with the engine's proposed formats (formats.size() == pos + 1): only linear.
  bool supports(size_t pos, std::span<const DType> dtypes, std::span<const TensorFormat> formats) const;
  std::vector<DType> output_dtypes(std::span<const DType> input_dtypes) const;

  // Concrete output shapes; checks ranks, repeated dim names and fixed sizes (Error kShape). No
  // device needed; whether a variant can run them is prepare()'s question.
  std::vector<Shape> output_shapes(std::span<const Shape> input_shapes) const;

  // Symbolic output shapes through an engine's builder; input_dims[i] are input i's dims.
  template <class V>
  std::vector<std::vector<V>> symbolic_output_shapes(symbolic::Builder<V>& builder,
                                                     std::span<const std::vector<V>> input_dims) const;

  // All planning for these inputs (dtypes, shapes, strides) with the fields bound at create, or
  // with `fields` (describe().fields order; an engine that passes attributes per call). Checks
  // ranks, dims, fields and dense strides (kShape, kInvalidArgument); asks the runtime which
  // variants can run it on the target device (kNoMatchingVariant, listing every variant and why
  // not); lays out the workspace: scratch tensors (each 256-byte aligned), then Triton's global
  // scratch (the most any candidate needs). A kernel in steps: each step planned with its
  // constexprs pinned (plan().steps), every step must be able to run, and the global scratch is
  // the most any step needs. A dim-size argument that names SM_COUNT takes the target device's
  // count (plan().sm_count), and so do the scratch tensors it sizes: prepare on (or for) the
  // device that enqueues; the runtime refuses a launch whose argument disagrees with its device.
  PreparedLaunch prepare(std::span<const TensorDesc> inputs) const;
  PreparedLaunch prepare(std::span<const TensorDesc> inputs, std::span<const double> fields) const;

  // prepare(inputs).plan().
  PluginPlan plan(std::span<const TensorDesc> inputs) const;
  size_t workspace_size(std::span<const TensorDesc> inputs) const { return prepare(inputs).workspace_bytes(); }

  // The build-time check of a profile (IPluginV3's configurePlugin): the smallest and largest
  // inputs must both prepare. Records the larger workspace, returned by
  // configured_workspace_size().
  void configure(std::span<const TensorDesc> min_inputs, std::span<const TensorDesc> max_inputs);
  size_t configured_workspace_size() const;

  std::vector<int32_t> tactics() const;  // 1..number of configs
  void set_tactic(int32_t tactic);       // 0 = the runtime picks the config
  int32_t tactic() const;

  // The hot path: launches `prepared` on `stream` in the current CUDA context with these tensor
  // addresses (inputs and outputs in describe() order) and workspace (at least
  // prepared.workspace_bytes(), 256-byte aligned; null allowed when that is 0). Refuses, before
  // anything launches, a launch prepared by another kernel's plugin, wrong counts, a null address
  // for a non-empty tensor, an address not aligned to its element size, a workspace too small or
  // misaligned; the runtime then selects the variant with the real addresses. Allocates nothing
  // and builds no string unless it refuses (once the variant is loaded in this context).
  void enqueue(const PreparedLaunch& prepared, std::span<const CUdeviceptr> inputs, std::span<const CUdeviceptr> outputs,
               CUdeviceptr workspace, size_t workspace_size, CUstream stream);

  // Convenience (allocates; not for an engine's hot path): prepares from the inputs' descriptions,
  // checks the outputs' dtypes, shapes and strides against the inferred ones, then enqueues.
  void enqueue(std::span<const TensorRef> inputs, std::span<const TensorRef> outputs, CUdeviceptr workspace,
               size_t workspace_size, CUstream stream);

  std::vector<uint8_t> serialize() const;
  // Throws Error(kCorruptPack) for bytes that are not a serialized plugin (every field checked).
  // The embedded pack is opened as Pack::open does: its blobs are checked when an enqueue first
  // loads them (a corrupt one fails that enqueue), or all at once by pack().verify_blobs().
  static PluginCore deserialize(std::span<const uint8_t> bytes, std::shared_ptr<const driver::Driver> driver = nullptr);
  PluginCore clone() const;

  struct State;

 private:
  explicit PluginCore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  // For the symbolic template: integer field values and the names of constexprs.
  bool integer_field(std::string_view name, int64_t& value) const;
};

// ---------------------------------------------------------------------------------------------

template <class V>
std::vector<std::vector<V>> PluginCore::symbolic_output_shapes(symbolic::Builder<V>& builder,
                                                               std::span<const std::vector<V>> input_dims) const {
  const ShapeProgram& sp = shape_program();
  if (input_dims.size() != sp.input_names.size()) {
    throw Error(ErrorCode::kInvalidArgument, "plugin '" + describe().name + "' takes " +
                                                 std::to_string(sp.input_names.size()) + " inputs, got " +
                                                 std::to_string(input_dims.size()));
  }
  const auto dims_of = [&](std::string_view tensor) -> const std::vector<V>* {
    for (size_t i = 0; i < sp.input_names.size(); ++i) {
      if (sp.input_names[i] == tensor) return &input_dims[i];
    }
    return nullptr;
  };
  // Dim-size arguments first: output dims may use them.
  std::vector<std::pair<std::string, V>> dim_args;
  symbolic::Lookup<V> global = [&](std::string_view name, V& value) -> bool {
    for (const ShapeProgram::DimName& d : sp.dim_names) {
      if (d.name == name && d.input < input_dims.size() && d.dim < input_dims[d.input].size()) {
        value = input_dims[d.input][d.dim];
        return true;
      }
    }
    for (const auto& [n, v] : dim_args) {
      if (n == name) {
        value = v;
        return true;
      }
    }
    int64_t constant = 0;
    if (integer_field(name, constant)) {
      value = builder.constant(constant);
      return true;
    }
    return false;
  };
  for (const ShapeProgram::DimArg& a : sp.dim_args) {
    if (a.uses_sm_count) continue;  // the device's: no output shape uses it (see DimArg)
    V v = a.rule >= 0 ? symbolic::dim_size<V>(sp.rules[static_cast<size_t>(a.rule)], builder, dims_of, global)
                      : symbolic::build<V>(a.value, builder, global);
    dim_args.emplace_back(a.name, v);
  }
  std::vector<std::vector<V>> shapes;
  for (const ShapeProgram::Sized& out : sp.outputs) {
    if (out.rule >= 0) {
      shapes.push_back(std::move(symbolic::output_shapes<V>(sp.rules[static_cast<size_t>(out.rule)], builder,
                                                            dims_of, global)[out.target]));
      continue;
    }
    std::vector<V> shape;
    for (const expr::Expr& e : out.dims) shape.push_back(symbolic::build<V>(e, builder, global));
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

}  // namespace tritonpack
