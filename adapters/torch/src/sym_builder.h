// symbolic::Builder over PyTorch's SymInt: the shape rules evaluated on the sizes torch.compile and
// torch.export trace with (backed or unbacked SymInts), or on plain integers.
#pragma once

#include <c10/core/SymInt.h>

#include "tritonpack/symbolic.h"

namespace tritonpack::torch_ops {

// Sums, differences, products, min and max stay symbolic (sym_min / sym_max). Floor and ceil
// division are floor division (SymInt's symbolic division is sympy's FloorDiv; integers are
// rounded toward negative infinity here, not truncated as C++ does). Comparisons (kEqual, kLess)
// have no SymInt result: a symbolic one is decided by a guard (guard_bool), which specializes a
// backed size and is refused by PyTorch for an unbacked one ("data-dependent"); constants are
// compared directly.
class SymIntBuilder final : public symbolic::Builder<c10::SymInt> {
 public:
  c10::SymInt constant(int64_t value) override { return c10::SymInt(value); }
  c10::SymInt operation(symbolic::Op op, c10::SymInt a, c10::SymInt b) override;
  std::optional<int64_t> constant_value(const c10::SymInt& value) override { return value.maybe_as_int(); }
};

}  // namespace tritonpack::torch_ops
