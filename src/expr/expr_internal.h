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
// Most operations a compiled Program may have (Expr::compile).
inline constexpr size_t kMaxProgramOps = 16384;

// The functions of the language: the parser's names and argument counts, and function_name().
// In the order of the Function enum (checked in expr.cpp).
struct FunctionInfo {
  Function function;
  const char* name;
  size_t min_args;
  size_t max_args;  // 0: no upper bound
};
inline constexpr FunctionInfo kFunctions[] = {
    {Function::kMin, "min", 1, 0},
    {Function::kMax, "max", 1, 0},
    {Function::kCdiv, "cdiv", 2, 2},
    {Function::kAbs, "abs", 1, 1},
    {Function::kClamp, "clamp", 3, 3},
    {Function::kNextPowerOf2, "next_power_of_2", 1, 1},
    {Function::kLog2, "log2", 1, 1},
    {Function::kIsPowerOf2, "is_power_of_2", 1, 1},
};

// One arithmetic step. Expr::eval and Program::eval both go through apply(), so they give the same
// value, or throw the same message, by construction. Steps of two values:
enum class Step : uint8_t { kAdd, kSub, kMul, kFloorDiv, kCeilDiv, kMod, kMin, kMax, kCdiv, kEq, kNe, kLt, kLe, kGt, kGe };
// and of one value (unary minus and the functions of one argument):
enum class UnaryStep : uint8_t { kNegate, kAbs, kNextPowerOf2, kLog2, kIsPowerOf2 };
inline constexpr uint8_t kUnaryStepCount = 5;

// Throw Error(kEvaluation) naming `text` (the whole expression) and the failing operation.
int64_t apply(Step step, int64_t a, int64_t b, const std::string& text);
int64_t apply(UnaryStep step, int64_t a, const std::string& text);

const char* function_name(Function function);
const char* operator_symbol(BinaryOp op);

}  // namespace tritonpack::expr::detail
