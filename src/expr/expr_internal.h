// tritonpack: what the expression parser (expr_parse.cpp) and the evaluators (expr.cpp) share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tritonpack/expr.h"

namespace tritonpack::expr::detail {

// Limits (docs/expressions.md). Whitespace does not count towards the length, so the canonical
// text of an accepted expression, which adds spaces around operators, is always accepted too.
inline constexpr size_t kMaxLength = 4096;
inline constexpr int kMaxNesting = 64;
// The parser's nesting limit bounds the evaluation stack of a Program by kMaxNesting + 1 values
// (see Expr::compile); 66 leaves one to spare.
inline constexpr size_t kStackSize = 66;

// One arithmetic step. Expr::eval and Program::eval both go through apply() and negate(), so they
// give the same value, or throw the same message, by construction.
enum class Step : uint8_t { kAdd, kSub, kMul, kFloorDiv, kCeilDiv, kMod, kMin, kMax, kCdiv, kEq, kNe, kLt, kLe, kGt, kGe };

// Throw Error(kEvaluation) naming `text` (the whole expression) and the failing operation.
int64_t apply(Step step, int64_t a, int64_t b, const std::string& text);
int64_t negate(int64_t a, const std::string& text);

const char* function_name(Function function);
const char* operator_symbol(BinaryOp op);

}  // namespace tritonpack::expr::detail
