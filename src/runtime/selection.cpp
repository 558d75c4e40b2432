#include "runtime/selection.h"

#include <algorithm>
#include <sstream>

#include "tritonpack/error.h"

namespace tritonpack::runtime {
namespace {

bool arch_specific(const VariantInfo& v) {
  return !v.ptx_target.empty() && v.ptx_target.back() == 'a';
}

std::string sm(uint32_t arch) { return "sm_" + std::to_string(arch); }

// The first condition variant `vm` fails for this launch, or empty if it accepts it.
// Cheap checks first; strings are built only when `why` is requested.
bool accepts(const KernelModel& model, const DevicePlan& plan, uint32_t index,
             std::span<const Arg> args, const LaunchOptions& options, std::string* why) {
  const VariantModel& vm = model.variants[index];
  const VariantInfo& v = *vm.info;
  const KernelInfo& k = *model.info;
  auto fail = [&](auto&&... parts) {
    if (why) {
      std::ostringstream os;
      (os << ... << parts);
      *why = os.str();
    }
    return false;
  };
  if (options.variant_id >= 0 && static_cast<uint32_t>(options.variant_id) != v.id) {
    return fail("not the requested variant ", options.variant_id);
  }
  for (size_t i = 0; i < vm.arg_types.size(); ++i) {
    if (vm.arg_types[i] == ArgType::kPointer && args[i].dtype != vm.arg_dtypes[i]) {
      return fail(v.args[i].name, " is ", dtype_name(args[i].dtype), ", variant needs ",
                  dtype_name(vm.arg_dtypes[i]));
    }
  }
  if (!options.config.empty() && k.configs[v.config_index].name != options.config) {
    return fail("config ", k.configs[v.config_index].name, ", asked for ", options.config);
  }
  for (const ConstexprValue& pin : options.pinned) {
    for (const ConstexprValue& c : v.constexprs) {
      if (c.name == pin.name && c.value != pin.value) {
        return fail(c.name, "=", c.value, ", pinned to ", pin.value);
      }
    }
  }
  for (size_t i = 0; i < vm.divisibility.size(); ++i) {
    const uint32_t d = vm.divisibility[i];
    if (d <= 1) continue;
    const uint64_t value = args[i].kind == Arg::Kind::kTensor
                               ? static_cast<uint64_t>(args[i].pointer)
                               : static_cast<uint64_t>(args[i].int_value);
    if (value % d != 0) {
      if (args[i].kind == Arg::Kind::kTensor) {
        return fail("needs ", v.args[i].name, " aligned to ", d, " bytes, got 0x", std::hex, value,
                    std::dec, " (", value % d, " past)");
      }
      return fail("needs ", v.args[i].name, " % ", d, " == 0, got ", args[i].int_value);
    }
  }
  if (plan.images[index] == Image::kNone) {
    std::string reason;
    image_for(v, plan.caps, &reason);
    return fail(reason);
  }
  if (v.shared > plan.caps.max_shared_optin) {
    return fail("needs ", v.shared, " bytes of shared memory, the ", sm(plan.caps.arch),
                " device allows ", plan.caps.max_shared_optin);
  }
  if (v.num_ctas > 1 && !plan.caps.cluster_launch) {
    return fail("needs clusters of ", v.num_ctas, " CTAs, the device cannot launch clusters");
  }
  return true;
}

std::string describe_args(const KernelModel& model, std::span<const Arg> args) {
  std::ostringstream os;
  for (size_t i = 0; i < args.size() && i < model.runtime_params.size(); ++i) {
    if (i) os << ", ";
    os << model.info->params[model.runtime_params[i]].name << "=";
    switch (args[i].kind) {
      case Arg::Kind::kTensor:
        os << dtype_name(args[i].dtype) << " tensor at 0x" << std::hex << args[i].pointer << std::dec;
        break;
      case Arg::Kind::kInt: os << args[i].int_value; break;
      case Arg::Kind::kFloat: os << args[i].float_value; break;
    }
  }
  return os.str();
}

}  // namespace

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
    *why = "built for " + (v.ptx_target.empty() ? sm(v.arch) : v.ptx_target) + ", the device is " +
           sm(caps.arch) +
           (specific ? " (arch-specific code runs only on its own arch)"
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
  std::stable_sort(plan.order.begin(), plan.order.end(),
                   [&](uint32_t a, uint32_t b) { return rank(a) < rank(b); });
  return plan;
}

void check_args(const KernelModel& model, std::span<const Arg> args) {
  const KernelInfo& k = *model.info;
  if (args.size() != model.runtime_params.size()) {
    std::string names;
    for (uint32_t p : model.runtime_params) names += (names.empty() ? "" : ", ") + k.params[p].name;
    throw Error(ErrorCode::kInvalidArgument,
                "kernel '" + k.name + "' takes " + std::to_string(model.runtime_params.size()) +
                    " arguments (" + names + "), got " + std::to_string(args.size()));
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const ParamInfo& p = k.params[model.runtime_params[i]];
    const Arg& a = args[i];
    std::string expected;
    if (p.kind == ParamKind::kTensor) {
      if (a.kind != Arg::Kind::kTensor) expected = "a tensor";
    } else if (model.param_is_int_scalar[model.runtime_params[i]]) {
      if (a.kind != Arg::Kind::kInt) expected = "an integer (" + p.dtype + ")";
    } else if (a.kind == Arg::Kind::kTensor) {
      expected = "a number (" + p.dtype + ")";
    }
    if (!expected.empty()) {
      static const char* kKinds[] = {"a tensor", "an integer", "a float"};
      throw Error(ErrorCode::kInvalidArgument,
                  "kernel '" + k.name + "' argument " + std::to_string(i) + " '" + p.name +
                      "' must be " + expected + ", got " + kKinds[static_cast<int>(a.kind)]);
    }
    if (a.kind == Arg::Kind::kTensor && a.pointer == 0) {
      throw Error(ErrorCode::kInvalidArgument, "kernel '" + k.name + "' argument '" + p.name +
                                                   "' is a null device pointer");
    }
  }
}

int32_t select_variant(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                       const LaunchOptions& options) {
  for (uint32_t index : plan.order) {
    if (accepts(model, plan, index, args, options, nullptr)) return static_cast<int32_t>(index);
  }
  return -1;
}

void throw_no_match(const KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                    const LaunchOptions& options, const std::string& origin) {
  std::ostringstream os;
  os << "no variant of kernel '" << model.info->name << "' in pack '" << origin
     << "' can run this launch on an sm_" << plan.caps.arch << " device\n  arguments: "
     << describe_args(model, args);
  if (!options.config.empty()) os << "\n  config: " << options.config;
  for (const ConstexprValue& pin : options.pinned) os << "\n  pinned: " << pin.name << "=" << pin.value;
  if (model.variants.empty()) os << "\n  the pack holds no variants of this kernel";
  for (uint32_t index : plan.order) {
    std::string why;
    accepts(model, plan, index, args, options, &why);
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
