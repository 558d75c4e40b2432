// tritonpack: what the plugin core resolves once per kernel from a validated manifest: which
// params are engine inputs, outputs, scratch tensors, fields and dim-size arguments, and how every
// shape follows from the inputs. Also used by the spec reader, so a spec whose plugin keys do not
// add up fails at compile time with the same message.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tritonpack/expr.h"
#include "tritonpack/manifest.h"
#include "tritonpack/plugin.h"

namespace tritonpack::plugin {

struct Model {
  const KernelInfo* kernel = nullptr;
  PluginDescription description;
  ShapeProgram shapes;
  std::vector<uint32_t> input_params, output_params, scratch_params, field_params;  // param indices
  std::array<expr::Expr, 3> grid;  // the kernel's grid, parsed once (workspace sizing)
  std::vector<expr::Expr> constraints;
  std::vector<bool> constraint_uses_constexpr;
  bool uses_sm_count = false;  // some dim-size argument names SM_COUNT (ShapeProgram::DimArg)
};

// Throws Error(kInvalidArgument) naming the parameter or rule and what the spec should say.
Model build_model(const KernelInfo& kernel);

// The type variables with dtypes that no input tensor or descriptor binds (an output's or a scratch
// tensor's dtype, e.g. TO of the FP8 attention): as a plugin, each is a dtype field
// (PluginFieldInfo::dtypes), in [types] order.
std::vector<const TypeVarInfo*> unbound_type_vars(const KernelInfo& kernel);

// Whether the kernel declares a plugin key (io = "scratch", field, dim, [plugin]); tensor dims
// alone do not count: any kernel may name dims for the runtime's shape checks.
bool has_plugin_keys(const KernelInfo& kernel);

}  // namespace tritonpack::plugin
