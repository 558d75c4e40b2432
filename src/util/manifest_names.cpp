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

uint32_t manifest_version_needed(const Manifest& manifest) {
  const bool steps = std::any_of(manifest.kernels.begin(), manifest.kernels.end(),
                                 [](const KernelInfo& k) { return !k.steps.empty(); });
  return steps ? kStepsManifestVersion : 1;
}

}  // namespace tritonpack
