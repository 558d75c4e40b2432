#include "sym_builder.h"

#include <c10/core/SymBool.h>

#include "tritonpack/error.h"

namespace tritonpack::torch_ops {

namespace {

c10::SymInt floor_div(const c10::SymInt& a, const c10::SymInt& b) {
  const auto ia = a.maybe_as_int(), ib = b.maybe_as_int();
  if (ia && ib) {
    if (*ib == 0) throw Error(ErrorCode::kEvaluation, "division by zero in a shape rule");
    int64_t q = *ia / *ib;
    if ((*ia % *ib != 0) && ((*ia < 0) != (*ib < 0))) --q;
    return c10::SymInt(q);
  }
  return a / b;  // symbolic: FloorDiv
}

}  // namespace

c10::SymInt SymIntBuilder::operation(symbolic::Op op, c10::SymInt a, c10::SymInt b) {
  using symbolic::Op;
  switch (op) {
    case Op::kSum: return a + b;
    case Op::kProd: return a * b;
    case Op::kSub: return a - b;
    case Op::kMax: return a.max(b);
    case Op::kMin: return a.min(b);
    case Op::kFloorDiv: return floor_div(a, b);
    case Op::kCeilDiv: return c10::SymInt(0) - floor_div(c10::SymInt(0) - a, b);
    case Op::kEqual: {
      const auto ia = a.maybe_as_int(), ib = b.maybe_as_int();
      if (ia && ib) return c10::SymInt(*ia == *ib ? 1 : 0);
      return c10::SymInt(a.sym_eq(b).guard_bool(__FILE__, __LINE__) ? 1 : 0);
    }
    case Op::kLess: {
      const auto ia = a.maybe_as_int(), ib = b.maybe_as_int();
      if (ia && ib) return c10::SymInt(*ia < *ib ? 1 : 0);
      return c10::SymInt(a.sym_lt(b).guard_bool(__FILE__, __LINE__) ? 1 : 0);
    }
  }
  throw Error(ErrorCode::kInternal, "unknown symbolic operation");
}

}  // namespace tritonpack::torch_ops
