// A kernel parameter for hand-made test manifests: its name and kind, a dtype (a dtype name or a
// type variable; none if empty) and dims. Every other field keeps ParamInfo's default.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tritonpack/manifest.h"

namespace tritonpack::testing {

inline ParamInfo param(const std::string& name, ParamKind kind, const std::string& dtype = "",
                       std::vector<std::string> dims = {}) {
  ParamInfo p;
  p.name = name;
  p.kind = kind;
  if (!dtype.empty()) p.dtype = DTypeRef::from_text(dtype);
  p.dims = std::move(dims);
  return p;
}

}  // namespace tritonpack::testing
