#include "runtime/selection.h"

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>

#include "tritonpack/error.h"
#include "tritonpack/tuning.h"

namespace tritonpack::runtime {
namespace {

bool arch_specific(const VariantInfo& v) { return !v.ptx_target.empty() && v.ptx_target.back() == 'a'; }

std::string sm(uint32_t arch) { return "sm_" + std::to_string(arch); }

const ParamInfo& arg_param(const KernelModel& model, size_t arg) {
  return model.info->params[model.runtime_params[arg]];
}

std::string arg_name(const KernelModel& model, size_t arg) {
  return arg < model.runtime_params.size() ? arg_param(model, arg).name
                                           : model.info->launch_vars[arg - model.runtime_params.size()].name;
}

// "n_cols=2000, BLOCK_SIZE=1024": the values of the slots a rule names (unbound dims show "?").
std::string slot_values(const KernelModel& model, const RuleModel& rule, const LaunchValues& values) {
  std::string out;
  for (uint32_t slot : rule.slots) {
    out += (out.empty() ? "" : ", ") + model.slot_names[slot] + "=";
    const bool dim = slot >= model.dim_slot;
    const bool known = !dim || (values.known_dims >> (slot - model.dim_slot) & 1);
    out += known ? std::to_string(values.slots[slot]) : "?";
  }
  return out;
}

// A rule's value, or nullopt with `error` set when it cannot be evaluated (overflow, division by
// zero): such a rule does not hold.
std::optional<int64_t> evaluate(const RuleModel& rule, const LaunchValues& values, std::string* error) {
  try {
    return rule.program.eval(std::span<const int64_t>(values.slots.data(), values.slots.size()));
  } catch (const Error& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

std::string rule_failure(const KernelModel& model, const RuleModel& rule, const LaunchValues& values,
                         const std::string& error) {
  const std::string shown = slot_values(model, rule, values);
  if (!error.empty()) return "rule '" + rule.text + "' cannot be evaluated (" + error + "): " + shown;
  return "rule '" + rule.text + "' does not hold: " + shown;
}

// Whether every rule and heuristic holds for the variant (its constexprs in their slots); if not,
// `why` (when given) says which failed first, with the values.
bool rules_accept(const KernelModel& model, const VariantModel& vm, LaunchValues& values, std::string* why) {
  for (const RuleModel& rule : model.rules) {
    const bool is_heuristic = rule.kind == RuleModel::Kind::kHeuristic;
    if (!rule.per_variant && !is_heuristic) continue;  // checked once by bind_launch
    std::string error;
    std::optional<int64_t> value;
    if (rule.per_variant) {
      value = evaluate(rule, values, why ? &error : nullptr);
    } else {
      value = values.heuristic[rule.heuristic];
    }
    if (!is_heuristic) {
      if (value && *value != 0) continue;
      if (why) *why = rule_failure(model, rule, values, error);
      return false;
    }
    const int64_t has = vm.integer_constexprs[static_cast<size_t>(rule.integer_constexpr)];
    if (value && *value == has) continue;
    if (why) {
      const std::string& name = model.info->params[rule.param].name;
      *why = value
                 ? "heuristic " + name + " = " + rule.text + " gives " + std::to_string(*value) + ", the variant has " +
                       name + "=" + std::to_string(has) + " (" + slot_values(model, rule, values) + ")"
                 : "heuristic " + name + " = " + rule.text + " cannot be evaluated (" + error + ")";
    }
    return false;
  }
  return true;
}

// Descriptors the variant lowered to TMA: what cuTensorMapEncodeTiled requires of the global
// tensor (CUDA driver API, cuTensorMapEncodeTiled): a 16-byte aligned base, strides that are
// multiples of 16 bytes, and sizes and strides within its ranges.
bool descriptors_accept(const KernelModel& model, const VariantModel& vm, std::span<const Arg> args, std::string* why) {
  const VariantInfo& v = *vm.info;
  size_t descriptor = 0;
  auto fail = [&](size_t i, const std::string& what) {
    if (why) *why = "descriptor '" + arg_name(model, i) + "' " + what;
    return false;
  };
  for (size_t i = 0; i < vm.arg_types.size(); ++i) {
    if (vm.arg_types[i] != ArgType::kTensorDesc) continue;
    const TensorDescInfo& d = v.tensordescs[descriptor++];
    const Arg& a = args[i];
    if (a.rank != d.block.size()) {
      return fail(i, "has rank " + std::to_string(a.rank) + ", the variant's block shape has " +
                         std::to_string(d.block.size()) + " dims");
    }
    if (!d.tma) continue;
    const uint64_t element = d.elem_size;  // what the map is encoded with (build_model checked it is the dtype's)
    if (a.pointer % 16 != 0) {
      std::ostringstream os;
      os << "needs its base aligned to 16 bytes for TMA, got 0x" << std::hex << a.pointer;
      return fail(i, os.str());
    }
    for (uint32_t k = 0; k + 1 < a.rank; ++k) {
      // Compared before multiplying: 2^62 elements of 4 bytes would wrap to a stride of 0 bytes.
      const uint64_t stride = static_cast<uint64_t>(a.strides[k]);
      const uint64_t bytes = stride < (uint64_t{1} << 40) ? stride * element : UINT64_MAX;
      if (bytes % 16 != 0 || bytes >= (uint64_t{1} << 40)) {
        return fail(i, "stride[" + std::to_string(k) + "] = " + std::to_string(a.strides[k]) + " elements (" +
                           (bytes == UINT64_MAX ? std::string("2^40 or more") : std::to_string(bytes)) +
                           " bytes) must be a multiple of 16 bytes below 2^40 for TMA");
      }
    }
  }
  return true;
}

// The checks of given shapes that name a constexpr, with the variant's constexprs in their slots.
bool variant_dims_accept(const KernelModel& model, std::span<const Arg> args, LaunchValues& values, std::string* why) {
  const std::span<const int64_t> slots(values.slots.data(), values.slots.size());
  for (const ShapeModel& s : model.shapes) {
    const Arg& a = args[s.arg];
    if (a.rank == 0) continue;
    for (const DimCheck& c : s.dims) {
      if (!c.per_variant || (c.dims_needed & ~values.known_dims) != 0) continue;
      int64_t want = 0;
      std::string error;
      if (c.kind == DimCheck::Kind::kEqualSlot) {
        want = values.slots[c.slot];
      } else {
        try {
          want = c.program.eval(slots);
        } catch (const Error& e) {
          error = e.what();
        }
      }
      if (error.empty() && want == a.shape[c.dim]) continue;
      if (why) {
        const ParamInfo& p = arg_param(model, s.arg);
        *why = "argument '" + p.name + "' dim " + std::to_string(c.dim) + " is " + std::to_string(a.shape[c.dim]) +
               (error.empty() ? ", the variant needs " + p.dims[c.dim] + " = " + std::to_string(want)
                              : ", and '" + p.dims[c.dim] + "' cannot be evaluated: " + error);
      }
      return false;
    }
  }
  for (const DimArgCheck& c : model.dim_args) {
    if (!c.per_variant || (c.dims_needed & ~values.known_dims) != 0) continue;
    int64_t want = 0;
    try {
      want = c.program.eval(slots);
    } catch (const Error&) {
      want = values.slots[c.param] == INT64_MIN ? 0 : INT64_MIN;  // differs: refused below
    }
    if (values.slots[c.param] == want) continue;
    if (why) {
      const ParamInfo& p = model.info->params[c.param];
      *why = "argument '" + p.name + "' = " + std::to_string(values.slots[c.param]) + ", the variant's " + p.dim +
             " is " + std::to_string(want);
    }
    return false;
  }
  return true;
}

// "grid[0] = 'min(SM_COUNT, n)'" and, where the axis names SM_COUNT, " (SM_COUNT=132)".
std::string grid_text(const KernelModel& model, const DevicePlan& plan, size_t dim) {
  std::string out = "grid[" + std::to_string(dim) + "] = '" + model.info->grid[dim] + "'";
  if (model.grid_names_sm_count[dim]) {
    out += " (" + std::string(kSmCountName) + "=" + std::to_string(plan.caps.sm_count) + ")";
  }
  return out;
}

// The variant's grid for this launch, within the device's limits (x counts every CTA of a
// cluster), and its scratch within 256 TiB. Sets values.grid.
bool grid_accepts(const KernelModel& model, const DevicePlan& plan, const VariantModel& vm, LaunchValues& values,
                  std::string* why) {
  values.slots[model.sm_count_slot] = plan.caps.sm_count;
  const std::span<const int64_t> slots(values.slots.data(), values.slots.size());
  const VariantInfo& v = *vm.info;
  for (size_t dim = 0; dim < 3; ++dim) {
    // A device of unknown SM count (caps made by hand) would give min(SM_COUNT, ...) = 0, an
    // empty grid that launches nothing: refused instead.
    if (model.grid_names_sm_count[dim] && plan.caps.sm_count == 0) {
      if (why) *why = grid_text(model, plan, dim) + " needs the device's SM count, which is not known";
      return false;
    }
    int64_t g = 0;
    try {
      g = model.grid[dim].eval(slots);
    } catch (const Error& e) {
      if (why) *why = grid_text(model, plan, dim) + " cannot be evaluated: " + e.what();
      return false;
    }
    const int64_t limit = plan.caps.max_grid[dim] / (dim == 0 ? std::max<int64_t>(v.num_ctas, 1) : 1);
    if (g < 0 || g > limit) {
      if (why) {
        *why = grid_text(model, plan, dim) + " is " + std::to_string(g) + ", the device allows 0.." +
               std::to_string(limit) +
               (dim == 0 && v.num_ctas > 1 ? " (" + std::to_string(v.num_ctas) + " CTAs a program)" : "");
      }
      return false;
    }
    values.grid[dim] = g;
  }
  const bool scratch = v.global_scratch_size > 0 || v.profile_scratch_size > 0;
  if (scratch && scratch_layout(v, values.grid).too_large) {
    if (why) *why = "would need more than 256 TiB of scratch for this grid";
    return false;
  }
  return true;
}

template <class... Parts>
bool fail_with(std::string* why, Parts&&... parts) {
  if (why) {
    std::ostringstream os;
    (os << ... << parts);
    *why = os.str();
  }
  return false;
}

// What the caller's options demand of a variant: the variant id, the config and pinned constexprs.
bool options_accept(const KernelModel& model, const VariantInfo& v, const LaunchOptions& options, std::string* why) {
  if (options.variant_id >= 0 && static_cast<uint32_t>(options.variant_id) != v.id) {
    return fail_with(why, "not the requested variant ", options.variant_id);
  }
  const KernelInfo& k = *model.info;
  if (!options.config.empty() && k.configs[v.config_index].name != options.config) {
    return fail_with(why, "config ", k.configs[v.config_index].name, ", asked for ", options.config);
  }
  for (const ConstexprValue& pin : options.pinned) {
    for (const ConstexprValue& c : v.constexprs) {
      if (c.name == pin.name && !(c.value == pin.value)) {
        return fail_with(why, c.name, "=", c.value.text(), ", pinned to ", pin.value.text());
      }
    }
  }
  return true;
}

// The first condition variant `index` fails for this launch, or true if it accepts it. Cheap
// checks first; strings are built only when `why` is requested.
bool accepts(const KernelModel& model, const DevicePlan& plan, uint32_t index, std::span<const Arg> args,
             const LaunchOptions& options, LaunchValues& values, std::string* why) {
  const VariantModel& vm = model.variants[index];
  const VariantInfo& v = *vm.info;
  if (options.variant_id >= 0 && static_cast<uint32_t>(options.variant_id) != v.id) {
    return fail_with(why, "not the requested variant ", options.variant_id);
  }
  if (values.step >= 0 && vm.step != values.step) {
    const std::string& step = model.step_labels[static_cast<size_t>(values.step)];
    if (vm.step < 0) return fail_with(why, "runs no step; step ", values.step + 1, " runs ", step);
    return fail_with(why, "runs step ", vm.step + 1, " (", model.step_labels[static_cast<size_t>(vm.step)],
                     "), not step ", values.step + 1, " (", step, ")");
  }
  for (const auto& [i, dtype] : vm.typed_args) {
    if (args[i].dtype != dtype) {
      return fail_with(why, v.args[i].name, " is ", dtype_name(args[i].dtype), ", variant needs ", dtype_name(dtype));
    }
  }
  if ((!options.config.empty() || !options.pinned.empty()) && !options_accept(model, v, options, why)) return false;
  for (const auto& [i, d] : vm.divisible_args) {
    const uint64_t value = args[i].kind == Arg::Kind::kTensor ? static_cast<uint64_t>(args[i].pointer)
                                                              : static_cast<uint64_t>(args[i].int_value);
    if (value % d != 0) {
      if (args[i].kind == Arg::Kind::kTensor) {
        return fail_with(why, "needs ", v.args[i].name, " aligned to ", d, " bytes, got 0x", std::hex, value, std::dec,
                         " (", value % d, " past)");
      }
      return fail_with(why, "needs ", v.args[i].name, " % ", d, " == 0, got ", args[i].int_value);
    }
  }
  set_variant_slots(model, vm, values);
  if (!model.rules.empty() && !rules_accept(model, vm, values, why)) return false;
  if (model.has_per_variant_dims && !variant_dims_accept(model, args, values, why)) return false;
  if (model.num_descriptors > 0 && !descriptors_accept(model, vm, args, why)) return false;
  if (!device_accepts(model, plan, index, why)) return false;
  return grid_accepts(model, plan, vm, values, why);
}

std::string describe_arg(const Arg& a) {
  std::ostringstream os;
  switch (a.kind) {
    case Arg::Kind::kTensor:
    case Arg::Kind::kDescriptor:
      os << dtype_name(a.dtype) << (a.kind == Arg::Kind::kDescriptor ? " descriptor" : " tensor");
      if (a.rank > 0 && a.shape) {
        os << " [";
        for (uint32_t d = 0; d < a.rank; ++d) os << (d ? "x" : "") << a.shape[d];
        os << "]";
      }
      os << " at 0x" << std::hex << a.pointer << std::dec;
      break;
    case Arg::Kind::kInt:
      os << a.int_value;
      break;
    case Arg::Kind::kFloat:
      os << a.float_value;
      break;
  }
  return os.str();
}

[[noreturn]] void invalid(const KernelModel& model, const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "kernel '" + model.info->name + "' " + what);
}

// Kinds and counts, before any value is read.
void check_kinds(const KernelModel& model, std::span<const Arg> args) {
  const KernelInfo& k = *model.info;
  if (args.size() != model.num_args) {
    std::string names;
    for (size_t i = 0; i < model.num_args; ++i) names += (names.empty() ? "" : ", ") + arg_name(model, i);
    invalid(model, "takes " + std::to_string(model.num_args) + " arguments (" + names +
                       (k.launch_vars.empty()
                            ? ""
                            : "; the last " + std::to_string(k.launch_vars.size()) + " are launch variables") +
                       "), got " + std::to_string(args.size()));
  }
  static const char* kKinds[] = {"a tensor", "an integer", "a float", "a tensor descriptor"};
  for (size_t i = 0; i < args.size(); ++i) {
    const Arg& a = args[i];
    // What the argument must be, named only when it is not (no string is built otherwise).
    const char* expected = nullptr;
    const ParamInfo* p = i < model.runtime_params.size() ? &arg_param(model, i) : nullptr;
    if (p == nullptr) {
      if (a.kind != Arg::Kind::kInt) expected = "an integer (launch variable)";
    } else if (p->kind == ParamKind::kTensor) {
      if (a.kind != Arg::Kind::kTensor) expected = "a tensor";
    } else if (p->kind == ParamKind::kTensorDesc) {
      if (a.kind != Arg::Kind::kDescriptor) expected = "a tensor descriptor (Arg::descriptor)";
    } else if (model.param_is_int_scalar[model.runtime_params[i]]) {
      if (a.kind != Arg::Kind::kInt) expected = "an integer";
    } else if (a.kind != Arg::Kind::kInt && a.kind != Arg::Kind::kFloat) {
      expected = "a number";
    }
    if (expected != nullptr) {
      invalid(model, "argument " + std::to_string(i) + " '" + arg_name(model, i) + "' must be " + expected +
                         (p != nullptr && p->kind == ParamKind::kScalar ? " (" + p->dtype.text() + ")" : "") +
                         ", got " + kKinds[static_cast<int>(a.kind)]);
    }
    if (a.kind == Arg::Kind::kTensor && a.rank > Arg::kMaxRank) {
      invalid(model, "argument '" + arg_name(model, i) + "' has rank " + std::to_string(a.rank) + "; at most " +
                         std::to_string(Arg::kMaxRank) + " dims can be given");
    }
    const bool pointer = a.kind == Arg::Kind::kTensor || a.kind == Arg::Kind::kDescriptor;
    if (pointer && a.pointer == 0) invalid(model, "argument '" + arg_name(model, i) + "' is a null device pointer");
    if (pointer && a.rank > 0 && a.shape == nullptr)
      invalid(model, "argument '" + arg_name(model, i) + "' has a rank but no shape");
    if (a.kind == Arg::Kind::kDescriptor) {
      if (a.rank == 0 || a.rank > 5 || a.strides == nullptr) {
        invalid(model, "descriptor '" + arg_name(model, i) + "' needs a shape of 1 to 5 dims and as many strides");
      }
      for (uint32_t d = 0; d < a.rank; ++d) {
        if (a.shape[d] < 1 || a.shape[d] > std::numeric_limits<int32_t>::max()) {
          invalid(model, "descriptor '" + arg_name(model, i) + "' shape[" + std::to_string(d) +
                             "] = " + std::to_string(a.shape[d]) + " is outside 1..2147483647");
        }
        if (a.strides[d] < 1) {
          invalid(model, "descriptor '" + arg_name(model, i) + "' stride[" + std::to_string(d) +
                             "] = " + std::to_string(a.strides[d]) + " is not positive");
        }
      }
      if (a.strides[a.rank - 1] != 1) {
        invalid(model, "descriptor '" + arg_name(model, i) + "' needs its last stride to be 1 (contiguous rows), got " +
                           std::to_string(a.strides[a.rank - 1]));
      }
    }
  }
}

void bind_dims(const KernelModel& model, std::span<const Arg> args, LaunchValues& values) {
  auto mismatch = [&](const ShapeModel& s, const DimCheck& c, int64_t got, const std::string& want) {
    const ParamInfo& p = arg_param(model, s.arg);
    invalid(model, "argument '" + p.name + "' dim " + std::to_string(c.dim) + " ('" + p.dims[c.dim] + "') is " +
                       std::to_string(got) + ", " + want);
  };
  for (const ShapeModel& s : model.shapes) {
    const Arg& a = args[s.arg];
    if (a.rank == 0) continue;  // no shape given
    const ParamInfo& p = arg_param(model, s.arg);
    if (a.rank != p.dims.size()) {
      invalid(model, "argument '" + p.name + "' has rank " + std::to_string(a.rank) + ", the spec gives it " +
                         std::to_string(p.dims.size()) + " dims");
    }
    for (const DimCheck& c : s.dims) {
      const int64_t got = a.shape[c.dim];
      if (got < 0) mismatch(s, c, got, "a size is >= 0");
      if (c.per_variant) continue;  // names a constexpr: accepts() checks it for each variant
      switch (c.kind) {
        case DimCheck::Kind::kBind: {
          const uint64_t bit = uint64_t{1} << (c.slot - model.dim_slot);
          if (!(values.known_dims & bit)) {
            values.slots[c.slot] = got;
            values.known_dims |= bit;
          } else if (values.slots[c.slot] != got) {
            mismatch(s, c, got,
                     "but an earlier tensor gives '" + model.slot_names[c.slot] +
                         "' = " + std::to_string(values.slots[c.slot]));
          }
          break;
        }
        case DimCheck::Kind::kEqualSlot:
          if (values.slots[c.slot] != got) {
            mismatch(s, c, got,
                     "but argument '" + model.slot_names[c.slot] + "' = " + std::to_string(values.slots[c.slot]));
          }
          break;
        case DimCheck::Kind::kEqualConst:
          if (c.value != got) mismatch(s, c, got, "the spec fixes it to " + std::to_string(c.value));
          break;
        case DimCheck::Kind::kEqualExpr:
          break;  // after every name is bound
      }
    }
  }
  for (const ShapeModel& s : model.shapes) {
    const Arg& a = args[s.arg];
    if (a.rank == 0) continue;
    for (const DimCheck& c : s.dims) {
      if (c.kind != DimCheck::Kind::kEqualExpr || c.per_variant || (c.dims_needed & ~values.known_dims) != 0) continue;
      int64_t want = 0;
      try {
        want = c.program.eval(std::span<const int64_t>(values.slots.data(), values.slots.size()));
      } catch (const Error& e) {
        mismatch(s, c, a.shape[c.dim], std::string("and its expression cannot be evaluated: ") + e.what());
      }
      if (want != a.shape[c.dim]) mismatch(s, c, a.shape[c.dim], "the spec's expression gives " + std::to_string(want));
    }
  }
}

// The tensors whose shapes give the dim names in `missing`, for the message.
// Inputs first: an output's shape binds its dim names too, but an input is what a caller thinks of.
std::string dims_sources(const KernelModel& model, uint64_t missing) {
  std::string out;
  for (const bool inputs : {true, false}) {
    for (const ShapeModel& s : model.shapes) {
      if (arg_param(model, s.arg).is_output == inputs) continue;
      for (const DimCheck& c : s.dims) {
        if (c.kind == DimCheck::Kind::kBind && (missing >> (c.slot - model.dim_slot) & 1)) {
          out += (out.empty() ? "" : ", ") + arg_param(model, s.arg).name + " (dim '" + model.slot_names[c.slot] + "')";
          missing &= ~(uint64_t{1} << (c.slot - model.dim_slot));
        }
      }
    }
  }
  return out;
}

// SM_COUNT for a device that is not at hand (tools explaining for an arch): the count of one
// common data-center GPU of that arch, from NVIDIA's data sheets. A GPU of the same arch may have
// fewer or more (an H100 PCIe has 114, an H100 SXM 132); LaunchOptions::sm_count says which.
uint32_t typical_sm_count(uint32_t arch) {
  struct Row {
    uint32_t arch;
    uint32_t sm_count;
  };
  static constexpr Row kRows[] = {
      {70, 80},    // V100
      {75, 40},    // T4
      {80, 108},   // A100
      {86, 72},    // A10
      {87, 16},    // Jetson AGX Orin
      {89, 58},    // L4
      {90, 132},   // H100 SXM, H200
      {100, 148},  // B200
      {120, 170},  // GeForce RTX 5090
  };
  for (const Row& r : kRows) {
    if (r.arch == arch) return r.sm_count;
  }
  return 132;  // an arch the table does not know is taken to be like Hopper, as for shared memory
}

}  // namespace

DeviceCaps caps_for_arch(uint32_t arch) {
  // Opt-in shared memory per block (CUDA C++ programming guide, "Technical specifications per
  // compute capability"); an arch the table does not know is taken to be like Hopper.
  struct Row {
    uint32_t arch;
    uint32_t max_shared_optin;
  };
  static constexpr Row kRows[] = {{80, 166912}, {86, 101376}, {87, 166912}, {89, 101376}, {90, 232448}, {120, 101376}};
  DeviceCaps caps;
  caps.arch = arch;
  caps.max_shared_optin = 232448;
  for (const Row& r : kRows) {
    if (r.arch == arch) caps.max_shared_optin = r.max_shared_optin;
  }
  caps.cluster_launch = arch >= 90;
  caps.sm_count = typical_sm_count(arch);
  return caps;
}

Image image_for(const VariantInfo& v, const DeviceCaps& caps, std::string* why) {
  const bool specific = arch_specific(v);
  if (v.cubin_blob >= 0) {
    const bool same_major = v.arch / 10 == caps.arch / 10;
    if (specific ? v.arch == caps.arch : (same_major && v.arch <= caps.arch)) return Image::kCubin;
  }
  if (v.ptx_blob >= 0 && v.arch <= caps.arch && (!specific || v.arch == caps.arch)) {
    return Image::kPtx;
  }
  if (why) {
    *why = "built for " + (v.ptx_target.empty() ? sm(v.arch) : v.ptx_target) + ", the device is " + sm(caps.arch) +
           (specific             ? " (arch-specific code runs only on its own arch)"
            : v.arch > caps.arch ? " (too new for this device)"
                                 : " (no cubin for this major arch, no PTX)");
  }
  return Image::kNone;
}

DevicePlan plan_for_device(const KernelModel& model, const DeviceCaps& caps) {
  DevicePlan plan;
  plan.caps = caps;
  const size_t n = model.variants.size();
  plan.images.resize(n);
  plan.order.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    plan.images[i] = image_for(*model.variants[i].info, caps);
    plan.order[i] = i;
  }
  auto rank = [&](uint32_t i) {
    const VariantModel& vm = model.variants[i];
    const int image = plan.images[i] == Image::kCubin ? 0 : plan.images[i] == Image::kPtx ? 1 : 2;
    return std::make_tuple(vm.info->config_index, -static_cast<int>(vm.specificity), image,
                           -static_cast<int>(vm.info->arch), vm.info->id);
  };
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](uint32_t a, uint32_t b) { return rank(a) < rank(b); });
  const size_t configs = model.info->configs.size();
  plan.by_config.resize(configs);
  for (uint32_t index : plan.order) plan.by_config[model.variants[index].info->config_index].push_back(index);
  plan.tuning = plan_tuning(model, caps);
  return plan;
}

TuningPlan plan_tuning(const KernelModel& model, const DeviceCaps& caps) {
  TuningPlan out;
  const KernelInfo& k = *model.info;
  const TuningInfo& t = k.tuning;
  if (t.key.empty()) return out;
  for (size_t i = 0; i < t.tables.size() && out.table < 0; ++i) {
    // The name and the arch: a name two archs share ("NVIDIA Graphics Device", a fake driver's)
    // does not make one's table the other's.
    const TuningTable& table = t.tables[i];
    if (!caps.name.empty() && table.device == caps.name && table.arch == caps.arch) {
      out.table = static_cast<int32_t>(i);
      out.by_device = true;
    }
  }
  for (size_t i = 0; i < t.tables.size() && out.table < 0; ++i) {
    if (t.tables[i].arch == caps.arch) out.table = static_cast<int32_t>(i);
  }
  if (out.table < 0) return out;
  const TuningTable& table = t.tables[static_cast<size_t>(out.table)];
  const size_t keys = t.key.size();
  std::map<std::string_view, uint32_t> config_index;
  for (uint32_t c = 0; c < k.configs.size(); ++c) config_index.emplace(k.configs[c].name, c);
  for (const TuningEntry& e : table.entries) {
    std::vector<uint32_t> ranking;
    for (const std::string& name : e.configs) ranking.push_back(config_index.at(name));  // the reader checked the names
    std::vector<uint32_t> sorted = ranking;
    std::sort(sorted.begin(), sorted.end());
    out.rankings.push_back(std::move(ranking));
    out.ranked_sorted.push_back(std::move(sorted));
  }
  // One group per dtype binding, in the order the entries first have it.
  std::vector<std::vector<uint32_t>> groups;  // entry indices per binding
  std::map<TypeBindings, size_t> group_of;
  for (uint32_t e = 0; e < table.entries.size(); ++e) {
    const auto [it, fresh] = group_of.emplace(table.entries[e].bindings, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(e);
  }
  for (const std::vector<uint32_t>& members : groups) {
    TuningPlan::Group g;
    const TypeBindings& b = table.entries[members.front()].bindings;
    for (const TypeVarInfo& var : k.type_vars) g.dtypes.push_back(b.at(var.name));
    // Per key, the span of bins the entries measured: the grid's axis. Bins beyond it map to its ends.
    std::vector<uint32_t> low(keys, UINT32_MAX), high(keys, 0);
    for (uint32_t e : members) {
      for (size_t key = 0; key < keys; ++key) {
        low[key] = std::min(low[key], table.entries[e].bin[key]);
        high[key] = std::max(high[key], table.entries[e].bin[key]);
      }
    }
    size_t cells = 1;
    for (size_t key = 0; key < keys; ++key) {
      std::vector<uint32_t> to_axis(tuning::bin_count(t.bins[key]));
      for (uint32_t bin = 0; bin < to_axis.size(); ++bin) to_axis[bin] = std::clamp(bin, low[key], high[key]) - low[key];
      g.to_axis.push_back(std::move(to_axis));
      g.axis_size.push_back(high[key] - low[key] + 1);
      cells *= g.axis_size.back();  // in all at most tuning::kMaxCells per table (the manifest reader checks)
    }
    // Each entry in its own cell (no two share one: the reader checks), then, one axis at a time, a
    // forward and a backward sweep carry each cell's entry one step further: a distance transform,
    // exact for steps summed over the keys, in time proportional to the cells (not cells x entries).
    // Comparing (distance, entry index) keeps the first entry on a tie.
    g.cells.assign(cells, -1);
    std::vector<uint32_t> distance(cells, UINT32_MAX);
    for (uint32_t e : members) {
      size_t cell = 0;
      for (size_t key = 0; key < keys; ++key) cell = cell * g.axis_size[key] + (table.entries[e].bin[key] - low[key]);
      g.cells[cell] = static_cast<int32_t>(e);
      distance[cell] = 0;
    }
    const auto relax = [&](size_t from, size_t to) {
      if (g.cells[from] < 0) return;
      const uint32_t d = distance[from] + 1;
      if (d < distance[to] || (d == distance[to] && g.cells[from] < g.cells[to])) {
        distance[to] = d;
        g.cells[to] = g.cells[from];
      }
    };
    size_t stride = 1;  // the last key varies fastest
    for (size_t key = keys; key-- > 0;) {
      const size_t n = g.axis_size[key];
      for (size_t outer = 0; outer < cells; outer += n * stride) {
        for (size_t inner = 0; inner < stride; ++inner) {
          const size_t base = outer + inner;
          for (size_t i = 1; i < n; ++i) relax(base + (i - 1) * stride, base + i * stride);
          for (size_t i = n - 1; i-- > 0;) relax(base + (i + 1) * stride, base + i * stride);
        }
      }
      stride *= n;
    }
    out.groups.push_back(std::move(g));
  }
  return out;
}

namespace {

// The key's value number `key` for this launch, or nullopt when it cannot be evaluated.
std::optional<int64_t> key_value(const KernelModel& model, size_t key, const LaunchValues& values) {
  const int32_t direct = model.tuning.direct_slots[key];
  if (direct >= 0) return values.slots[static_cast<size_t>(direct)];
  try {
    return model.tuning.programs[key].eval(std::span<const int64_t>(values.slots.data(), values.slots.size()));
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

int32_t tuned_entry(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                    const LaunchOptions& options, const LaunchValues& values, bool* exact) {
  const TuningPlan& tp = plan.tuning;
  if (tp.table < 0 || !options.use_tuning || options.variant_id >= 0 || !options.config.empty()) return -1;
  if ((model.tuning.dims_needed & ~values.known_dims) != 0) return -1;
  const TuningInfo& t = model.info->tuning;
  for (const TuningPlan::Group& g : tp.groups) {
    bool same = true;
    for (size_t v = 0; v < g.dtypes.size() && same; ++v) same = args[model.tuning.type_var_args[v]].dtype == g.dtypes[v];
    if (!same) continue;
    size_t cell = 0;
    std::array<uint32_t, tuning::kMaxKeys> bins{};
    for (size_t key = 0; key < g.axis_size.size(); ++key) {
      const std::optional<int64_t> value = key_value(model, key, values);
      if (!value) return -1;
      bins[key] = tuning::bin_of(t.bins[key], *value);
      cell = cell * g.axis_size[key] + g.to_axis[key][bins[key]];
    }
    const int32_t entry = g.cells[cell];
    if (exact != nullptr && entry >= 0) {
      const TuningEntry& e = t.tables[static_cast<size_t>(tp.table)].entries[static_cast<size_t>(entry)];
      *exact = std::equal(e.bin.begin(), e.bin.end(), bins.begin());
    }
    return entry;
  }
  return -1;
}

std::string describe_tuning(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                            const LaunchOptions& options, const LaunchValues& values) {
  const KernelInfo& k = *model.info;
  const TuningInfo& t = k.tuning;
  if (t.key.empty()) return {};
  const TuningPlan& tp = plan.tuning;
  std::ostringstream os;
  os << "tuning: ";
  if (tp.table < 0) {
    os << "no table for this device (" << (plan.caps.name.empty() ? "" : "'" + plan.caps.name + "', ")
       << "sm_" << plan.caps.arch << "; the pack has " << t.tables.size() << "); configs in spec order";
    return os.str();
  }
  const TuningTable& table = t.tables[static_cast<size_t>(tp.table)];
  os << "table '" << table.device << "' (sm_" << table.arch << (tp.by_device ? ", this GPU model" : ", same arch")
     << ", tuned " << table.date << ")";
  if (!options.use_tuning) return os.str() + "; ignored (use_tuning = false): configs in spec order";
  if (options.variant_id >= 0 || !options.config.empty()) return os.str() + "; an explicit config or variant overrides it";
  if ((model.tuning.dims_needed & ~values.known_dims) != 0) {
    return os.str() + "; the key needs the shapes of the tensors (not given): configs in spec order";
  }
  os << "; key";
  for (size_t key = 0; key < t.key.size(); ++key) {
    const std::optional<int64_t> value = key_value(model, key, values);
    os << (key ? ", " : " ") << t.key[key] << " = ";
    if (!value) return os.str() + "? (cannot be evaluated): configs in spec order";
    os << *value << " (bin " << tuning::bin_text(t.bins[key], tuning::bin_of(t.bins[key], *value)) << ")";
  }
  bool exact = false;
  const int32_t entry = tuned_entry(model, plan, args, options, values, &exact);
  if (entry < 0) return os.str() + "; no entry for these dtypes: configs in spec order";
  const TuningEntry& e = table.entries[static_cast<size_t>(entry)];
  os << "; " << (exact ? "entry " : "nearest entry ") << entry << " (";
  for (size_t key = 0; key < t.key.size(); ++key) {
    os << (key ? ", " : "") << t.key[key] << " " << tuning::bin_text(t.bins[key], e.bin[key]);
  }
  os << "): ";
  for (size_t c = 0; c < e.configs.size(); ++c) os << (c ? ", " : "") << e.configs[c] << " " << e.times_us[c] << " us";
  return os.str();
}

void bind_launch(const KernelModel& model, std::span<const Arg> args, LaunchValues& values) {
  check_kinds(model, args);
  const KernelInfo& k = *model.info;
  for (uint32_t i : model.int_scalar_args) values.slots[model.runtime_params[i]] = args[i].int_value;
  for (size_t j = 0; j < k.launch_vars.size(); ++j) {
    const LaunchVarInfo& v = k.launch_vars[j];
    const int64_t value = args[model.runtime_params.size() + j].int_value;
    const int64_t lo =
        std::max(v.min.value_or(INT64_MIN), v.dtype == DType::kI32 ? int64_t{INT32_MIN} : int64_t{INT64_MIN});
    const int64_t hi =
        std::min(v.max.value_or(INT64_MAX), v.dtype == DType::kI32 ? int64_t{INT32_MAX} : int64_t{INT64_MAX});
    if (value < lo || value > hi) {
      invalid(model, "launch variable '" + v.name + "' = " + std::to_string(value) + " is outside " +
                         std::to_string(lo) + ".." + std::to_string(hi));
    }
    values.slots[model.launch_var_slot + j] = value;
  }
  values.known_dims = 0;
  if (!model.shapes.empty()) bind_dims(model, args, values);
  for (const DimArgCheck& c : model.dim_args) {
    // Later (a variant's constexprs, the device's SM count), or never: the shapes were not given.
    if (c.per_variant || c.per_device || (c.dims_needed & ~values.known_dims) != 0) continue;
    const int64_t want = c.program.eval(std::span<const int64_t>(values.slots.data(), values.slots.size()));
    if (values.slots[c.param] != want) {
      const ParamInfo& p = k.params[c.param];
      invalid(model, "argument '" + p.name + "' = " + std::to_string(values.slots[c.param]) + ", but the shapes give " +
                         p.dim + " = " + std::to_string(want) + " ('" + p.name + "' is the dim-size argument " + p.dim +
                         ")");
    }
  }
  for (const RuleModel& rule : model.rules) {
    const bool is_heuristic = rule.kind == RuleModel::Kind::kHeuristic;
    const uint64_t missing = rule.dims_needed & ~values.known_dims;
    if (missing != 0) {
      throw Error(ErrorCode::kInvalidArgument, "kernel '" + k.name + "' " + (is_heuristic ? "heuristic" : "rule") +
                                                   " '" + rule.text + "' needs the shape of " +
                                                   dims_sources(model, missing) +
                                                   ": pass it with the argument (Arg::tensor(pointer, dtype, shape))");
    }
    if (rule.per_variant) continue;
    std::string error;
    const std::optional<int64_t> value = evaluate(rule, values, &error);
    if (is_heuristic) {
      // A heuristic that cannot be evaluated matches no variant; the no-match message says why.
      values.heuristic[rule.heuristic] = value.value_or(INT64_MIN);
      if (!value) {
        throw Error(ErrorCode::kNoMatchingVariant, "kernel '" + k.name + "' heuristic " + k.params[rule.param].name +
                                                       " = " + rule.text + " cannot be evaluated: " + error);
      }
    } else if (!value || *value == 0) {
      throw Error(ErrorCode::kNoMatchingVariant,
                  "kernel '" + k.name + "' cannot serve this launch: " + rule_failure(model, rule, values, error));
    }
  }
}

void bind_device(const KernelModel& model, const DevicePlan& plan, LaunchValues& values) {
  values.slots[model.sm_count_slot] = plan.caps.sm_count;
  for (const DimArgCheck& c : model.dim_args) {
    if (!c.per_device || (c.dims_needed & ~values.known_dims) != 0) continue;
    const ParamInfo& p = model.info->params[c.param];
    if (plan.caps.sm_count == 0) {
      throw Error(ErrorCode::kUnsupported, "kernel '" + model.info->name + "' dim-size argument '" + p.name + "' = " +
                                               p.dim + " needs the device's SM count (" + std::string(kSmCountName) +
                                               "), which is not known");
    }
    if (c.per_variant) continue;  // with each variant's constexprs (variant_dims_accept)
    const int64_t want = c.program.eval(std::span<const int64_t>(values.slots.data(), values.slots.size()));
    if (values.slots[c.param] != want) {
      invalid(model, "argument '" + p.name + "' = " + std::to_string(values.slots[c.param]) + ", but the shapes and " +
                         std::string(kSmCountName) + " = " + std::to_string(plan.caps.sm_count) + " give " + p.dim +
                         " = " + std::to_string(want) + " ('" + p.name + "' is the dim-size argument " + p.dim + ")");
    }
  }
}

bool device_accepts(const KernelModel& model, const DevicePlan& plan, uint32_t index, std::string* why) {
  const VariantInfo& v = *model.variants[index].info;
  if (plan.images[index] == Image::kNone) {
    if (why) image_for(v, plan.caps, why);
    return false;
  }
  if (v.shared > plan.caps.max_shared_optin) {
    return fail_with(why, "needs ", v.shared, " bytes of shared memory, the ", sm(plan.caps.arch), " device allows ",
                     plan.caps.max_shared_optin);
  }
  if (v.num_ctas > 1 && !plan.caps.cluster_launch) {
    return fail_with(why, "needs clusters of ", v.num_ctas, " CTAs, the device cannot launch clusters");
  }
  return true;
}

void candidate_variants(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                        const LaunchOptions& options, LaunchValues& values,
                        std::vector<std::pair<uint32_t, std::array<int64_t, 3>>>& out) {
  for_each_tuned_config(model, plan, args, options, values, [&](uint32_t config) {
    for (uint32_t index : plan.by_config[config]) {
      if (accepts(model, plan, index, args, options, values, nullptr)) out.emplace_back(index, values.grid);
    }
    return false;
  });
}

void dtype_candidates(const KernelModel& model, const DevicePlan& plan, std::span<const std::optional<DType>> dtypes,
                      const LaunchOptions& options, std::vector<uint32_t>& out) {
  for (uint32_t index : plan.order) {
    const VariantModel& vm = model.variants[index];
    bool ok = options_accept(model, *vm.info, options, nullptr) && device_accepts(model, plan, index, nullptr);
    for (const auto& [i, dtype] : vm.typed_args) {
      ok = ok && (i >= dtypes.size() || !dtypes[i] || *dtypes[i] == dtype);
    }
    if (ok) out.push_back(index);
  }
}

int32_t select_variant(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                       const LaunchOptions& options, LaunchValues& values) {
  int32_t chosen = -1;
  for_each_tuned_config(model, plan, args, options, values, [&](uint32_t config) {
    for (uint32_t index : plan.by_config[config]) {
      if (accepts(model, plan, index, args, options, values, nullptr)) {
        chosen = static_cast<int32_t>(index);
        return true;
      }
    }
    return false;
  });
  return chosen;
}

std::vector<std::pair<uint32_t, std::string>> variant_reasons(const KernelModel& model, const DevicePlan& plan,
                                                              std::span<const Arg> args, const LaunchOptions& options,
                                                              LaunchValues& values) {
  std::vector<std::pair<uint32_t, std::string>> out;
  for_each_tuned_config(model, plan, args, options, values, [&](uint32_t config) {
    for (uint32_t index : plan.by_config[config]) {
      std::string why;
      if (accepts(model, plan, index, args, options, values, &why)) why.clear();
      out.emplace_back(index, why);
    }
    return false;
  });
  return out;
}

std::string describe_launch(const KernelModel& model, std::span<const Arg> args, const LaunchOptions& options,
                            const LaunchValues& values) {
  const KernelInfo& k = *model.info;
  std::ostringstream os;
  os << "arguments: ";
  for (size_t i = 0; i < args.size() && i < model.num_args; ++i) {
    os << (i ? ", " : "") << arg_name(model, i) << "=" << describe_arg(args[i]);
  }
  if (!options.config.empty()) os << "\n  config: " << options.config;
  for (const ConstexprValue& pin : options.pinned) os << "\n  pinned: " << pin.name << "=" << pin.value.text();
  for (const RuleModel& rule : model.rules) {
    if (rule.kind != RuleModel::Kind::kHeuristic) continue;
    const std::string& name = k.params[rule.param].name;
    os << "\n  heuristic: " << name << " = " << rule.text;
    if (!rule.per_variant)
      os << " = " << values.heuristic[rule.heuristic] << " (" << slot_values(model, rule, values) << ")";
    std::vector<int64_t> compiled;
    for (const VariantModel& vm : model.variants) {
      const int64_t v = vm.integer_constexprs[static_cast<size_t>(rule.integer_constexpr)];
      if (std::find(compiled.begin(), compiled.end(), v) == compiled.end()) compiled.push_back(v);
    }
    os << "; compiled values:";
    for (size_t i = 0; i < compiled.size(); ++i) os << (i ? ", " : " ") << compiled[i];
  }
  return os.str();
}

void throw_no_match(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                    const LaunchOptions& options, LaunchValues& values, const std::string& origin) {
  std::ostringstream os;
  os << "no variant of kernel '" << model.info->name << "' in pack '" << origin << "' can run this launch on an sm_"
     << plan.caps.arch << " device\n  " << describe_launch(model, args, options, values);
  if (const std::string tuning = describe_tuning(model, plan, args, options, values); !tuning.empty()) {
    os << "\n  " << tuning;
  }
  if (model.variants.empty()) os << "\n  the pack holds no variants of this kernel";
  for (const auto& [index, why] : variant_reasons(model, plan, args, options, values)) {
    os << "\n  " << model.variants[index].label << ": " << why;
  }
  throw Error(ErrorCode::kNoMatchingVariant, os.str());
}

ScratchLayout scratch_layout(const VariantInfo& v, const std::array<int64_t, 3>& grid) {
  ScratchLayout out;
  if (v.global_scratch_size == 0 && v.profile_scratch_size == 0) return out;
  __extension__ typedef unsigned __int128 u128;
  u128 programs = v.num_ctas;
  for (int64_t g : grid) programs *= static_cast<uint64_t>(g < 0 ? 0 : g);
  const u128 global = programs * v.global_scratch_size;
  const u128 align = v.profile_scratch_align == 0 ? 1 : v.profile_scratch_align;
  const u128 offset = (global + align - 1) / align * align;
  const u128 total = offset + programs * v.profile_scratch_size;
  if (total > (static_cast<u128>(1) << 48)) {
    out.too_large = true;
    return out;
  }
  out.bytes = static_cast<size_t>(total);
  out.profile_offset = static_cast<size_t>(offset);
  return out;
}

}  // namespace tritonpack::runtime
