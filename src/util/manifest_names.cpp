// The spellings of the manifest's enums, shared by the spec reader, the pack format and messages;
// and what a kernel's variants are compiled with.
#include <algorithm>
#include <array>

#include "tritonpack/manifest.h"

namespace tritonpack {
namespace {

constexpr std::array<std::pair<ParamKind, std::string_view>, 4> kParamKinds{{
    {ParamKind::kTensor, "tensor"},
    {ParamKind::kScalar, "scalar"},
    {ParamKind::kConstexpr, "constexpr"},
    {ParamKind::kTensorDesc, "tensordesc"},
}};

}  // namespace

std::string_view param_kind_name(ParamKind kind) noexcept {
  for (const auto& [k, name] : kParamKinds) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<ParamKind> parse_param_kind(std::string_view name) noexcept {
  for (const auto& [k, n] : kParamKinds) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::optional<DType> resolve_dtype(const DTypeRef& ref, const TypeBindings& bindings) {
  if (!ref.is_variable()) return ref.dtype;
  auto it = bindings.find(ref.type_var);
  if (it == bindings.end()) return std::nullopt;
  return it->second;
}

std::vector<Constant> compiled_values(const KernelInfo& kernel, std::string_view name) {
  std::vector<Constant> out;
  for (const VariantInfo& v : kernel.variants) {
    for (const ConstexprValue& c : v.constexprs) {
      if (c.name == name && std::find(out.begin(), out.end(), c.value) == out.end()) out.push_back(c.value);
    }
  }
  return out;
}

std::string step_text(const std::vector<ConstexprValue>& step) {
  std::string out;
  for (const ConstexprValue& c : step) out += (out.empty() ? "" : ", ") + c.name + "=" + c.value.text();
  return out;
}

StepProblem order_and_check_step(const KernelInfo& kernel, std::vector<ConstexprValue>& step,
                                 const std::vector<std::vector<ConstexprValue>>& earlier) {
  const auto param_index = [&](const std::string& name) {
    const auto it = std::find_if(kernel.params.begin(), kernel.params.end(), [&](const ParamInfo& p) { return p.name == name; });
    return static_cast<size_t>(it - kernel.params.begin());
  };
  std::sort(step.begin(), step.end(),
            [&](const ConstexprValue& a, const ConstexprValue& b) { return param_index(a.name) < param_index(b.name); });
  const auto same_names = [](const std::vector<ConstexprValue>& a, const std::vector<ConstexprValue>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const ConstexprValue& x, const ConstexprValue& y) { return x.name == y.name; });
  };
  if (!earlier.empty() && !same_names(step, earlier.front())) return {StepProblem::kOtherNames, 0};
  for (size_t e = 0; e < earlier.size(); ++e) {
    if (std::equal(step.begin(), step.end(), earlier[e].begin(), earlier[e].end(),
                   [](const ConstexprValue& a, const ConstexprValue& b) { return a.value == b.value; })) {
      return {StepProblem::kSameValues, e};
    }
  }
  return {};
}

uint32_t manifest_version_needed(const Manifest& manifest) {
  const bool steps = std::any_of(manifest.kernels.begin(), manifest.kernels.end(),
                                 [](const KernelInfo& k) { return !k.steps.empty(); });
  return steps ? kStepsManifestVersion : 1;
}

}  // namespace tritonpack
