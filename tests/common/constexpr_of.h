// The value of a variant's constexpr `name`, or nullopt if the variant has none of that name: a
// test compares it with the value it expects, so a missing constexpr fails instead of passing.
#pragma once

#include <optional>
#include <string_view>

#include "tritonpack/manifest.h"

namespace tritonpack::testing {

inline std::optional<Constant> constexpr_of(const VariantInfo& v, std::string_view name) {
  for (const ConstexprValue& c : v.constexprs) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

}  // namespace tritonpack::testing
