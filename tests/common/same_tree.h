// Structural equality of expression trees (columns aside): canonical-text round trips must
// give back the same tree.
#pragma once

#include "tritonpack/expr.h"

namespace tritonpack::testing {

inline bool same_tree(const expr::Node& a, const expr::Node& b) {
  if (a.kind != b.kind || a.value != b.value || a.name != b.name || a.op != b.op || a.function != b.function ||
      a.args.size() != b.args.size()) {
    return false;
  }
  for (size_t i = 0; i < a.args.size(); ++i) {
    if (!same_tree(*a.args[i], *b.args[i])) return false;
  }
  return true;
}

}  // namespace tritonpack::testing
