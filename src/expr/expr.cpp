// tritonpack: the evaluators of the expression language: canonical text, free names, integer
// evaluation of the tree, and the compiled Program of the launch path. The parser is in
// expr_parse.cpp.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "expr/expr_internal.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"

namespace tritonpack::expr {

// ---------------------------------------------------------------------------------------------
// Arithmetic shared by both evaluators.

namespace detail {
namespace {

[[noreturn]] void fail_step(const char* what, const std::string& text, const std::string& operation) {
  throw Error(ErrorCode::kEvaluation, std::string(what) + " in '" + text + "' (" + operation + ")");
}

std::string describe(Step step, int64_t a, int64_t b) {
  const std::string sa = std::to_string(a), sb = std::to_string(b);
  switch (step) {
    case Step::kAdd: return sa + " + " + sb;
    case Step::kSub: return sa + " - " + sb;
    case Step::kMul: return sa + " * " + sb;
    case Step::kFloorDiv: return sa + " / " + sb;
    case Step::kCeilDiv: return sa + " /// " + sb;
    case Step::kMod: return sa + " % " + sb;
    case Step::kMin: return "min(" + sa + ", " + sb + ")";
    case Step::kMax: return "max(" + sa + ", " + sb + ")";
    case Step::kCdiv: return "cdiv(" + sa + ", " + sb + ")";
    case Step::kEq: return sa + " == " + sb;
    case Step::kNe: return sa + " != " + sb;
    case Step::kLt: return sa + " < " + sb;
    case Step::kLe: return sa + " <= " + sb;
    case Step::kGt: return sa + " > " + sb;
    case Step::kGe: return sa + " >= " + sb;
  }
  return sa + " ? " + sb;
}

std::string describe(UnaryStep step, int64_t a) {
  const std::string sa = std::to_string(a);
  switch (step) {
    case UnaryStep::kNegate: return "-(" + sa + ")";
    case UnaryStep::kAbs: return "abs(" + sa + ")";
    case UnaryStep::kNextPowerOf2: return "next_power_of_2(" + sa + ")";
    case UnaryStep::kLog2: return "log2(" + sa + ")";
    case UnaryStep::kIsPowerOf2: return "is_power_of_2(" + sa + ")";
  }
  return "?(" + sa + ")";
}

// Truncating division with the checks C++ leaves undefined.
int64_t checked_quotient(Step step, int64_t a, int64_t b, const std::string& text) {
  if (b == 0) fail_step("division by zero", text, describe(step, a, b));
  if (a == std::numeric_limits<int64_t>::min() && b == -1) fail_step("integer overflow", text, describe(step, a, b));
  return a / b;
}

}  // namespace

int64_t apply(Step step, int64_t a, int64_t b, const std::string& text) {
  int64_t r = 0;
  switch (step) {
    case Step::kAdd:
      if (__builtin_add_overflow(a, b, &r)) fail_step("integer overflow", text, describe(step, a, b));
      return r;
    case Step::kSub:
      if (__builtin_sub_overflow(a, b, &r)) fail_step("integer overflow", text, describe(step, a, b));
      return r;
    case Step::kMul:
      if (__builtin_mul_overflow(a, b, &r)) fail_step("integer overflow", text, describe(step, a, b));
      return r;
    case Step::kFloorDiv: {
      // Rounds toward negative infinity, like Python's //: -7 / 2 == -4. The adjustment cannot
      // overflow: with a remainder, |b| >= 2 so |q| <= 2^62.
      const int64_t q = checked_quotient(step, a, b, text);
      return (a % b != 0 && ((a % b < 0) != (b < 0))) ? q - 1 : q;
    }
    case Step::kCeilDiv:
    case Step::kCdiv: {
      // Rounds toward positive infinity: -7 /// 2 == -3, 7 /// 2 == 4.
      const int64_t q = checked_quotient(step, a, b, text);
      return (a % b != 0 && ((a % b < 0) == (b < 0))) ? q + 1 : q;
    }
    case Step::kMod: {
      // Python's %: the result has the sign of the divisor, a == (a / b) * b + a % b.
      if (b == 0) fail_step("modulo by zero", text, describe(step, a, b));
      if (b == -1) return 0;  // INT64_MIN % -1 is undefined in C++; the true result is 0
      const int64_t m = a % b;
      return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
    }
    case Step::kMin: return a < b ? a : b;
    case Step::kMax: return a < b ? b : a;
    case Step::kEq: return a == b ? 1 : 0;
    case Step::kNe: return a != b ? 1 : 0;
    case Step::kLt: return a < b ? 1 : 0;
    case Step::kLe: return a <= b ? 1 : 0;
    case Step::kGt: return a > b ? 1 : 0;
    case Step::kGe: return a >= b ? 1 : 0;
  }
  throw Error(ErrorCode::kInternal, "unknown arithmetic step in '" + text + "'");
}

int64_t apply(UnaryStep step, int64_t a, const std::string& text) {
  // The largest power of two an int64 holds.
  constexpr int64_t kLargestPowerOf2 = int64_t{1} << 62;
  switch (step) {
    case UnaryStep::kNegate:
    case UnaryStep::kAbs:
      if (a == std::numeric_limits<int64_t>::min()) fail_step("integer overflow", text, describe(step, a));
      return step == UnaryStep::kNegate || a < 0 ? -a : a;
    case UnaryStep::kNextPowerOf2:
      // triton.next_power_of_2 (triton/__init__.py) computes n - 1, ORs in its right shifts and adds
      // 1: that is 0 for every n <= 0 in the int64 range, and the smallest power of two >= n above.
      if (a <= 0) return 0;
      if (a > kLargestPowerOf2) fail_step("integer overflow", text, describe(step, a));
      return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(a)));
    case UnaryStep::kLog2:
      // Exact floor(log2(a)); Python's int(math.log2(a)) agrees on powers of two and below 2^48,
      // but rounds up just below larger powers of two (int(math.log2(2**53 - 1)) == 53).
      if (a <= 0) fail_step("logarithm of a non-positive value", text, describe(step, a));
      return static_cast<int64_t>(std::bit_width(static_cast<uint64_t>(a))) - 1;
    case UnaryStep::kIsPowerOf2: return a > 0 && std::has_single_bit(static_cast<uint64_t>(a)) ? 1 : 0;
  }
  throw Error(ErrorCode::kInternal, "unknown arithmetic step in '" + text + "'");
}

namespace {

constexpr bool functions_in_enum_order() {
  for (size_t i = 0; i < std::size(kFunctions); ++i) {
    if (static_cast<size_t>(kFunctions[i].function) != i) return false;
  }
  return true;
}
static_assert(functions_in_enum_order(), "kFunctions must list the functions in the order of the Function enum");
static_assert(kUnaryStepCount == static_cast<uint8_t>(UnaryStep::kIsPowerOf2) + 1, "kUnaryStepCount is stale");

}  // namespace

const char* function_name(Function function) {
  const auto index = static_cast<size_t>(function);
  return index < std::size(kFunctions) ? kFunctions[index].name : "?";
}

const char* operator_symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kFloorDiv: return "/";
    case BinaryOp::kCeilDiv: return "///";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kEq: return "==";
    case BinaryOp::kNe: return "!=";
    case BinaryOp::kLt: return "<";
    case BinaryOp::kLe: return "<=";
    case BinaryOp::kGt: return ">";
    case BinaryOp::kGe: return ">=";
  }
  return "?";
}

}  // namespace detail

namespace {

using detail::Step;
using detail::UnaryStep;

Step step_of(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return Step::kAdd;
    case BinaryOp::kSub: return Step::kSub;
    case BinaryOp::kMul: return Step::kMul;
    case BinaryOp::kFloorDiv: return Step::kFloorDiv;
    case BinaryOp::kCeilDiv: return Step::kCeilDiv;
    case BinaryOp::kMod: return Step::kMod;
    case BinaryOp::kEq: return Step::kEq;
    case BinaryOp::kNe: return Step::kNe;
    case BinaryOp::kLt: return Step::kLt;
    case BinaryOp::kLe: return Step::kLe;
    case BinaryOp::kGt: return Step::kGt;
    case BinaryOp::kGe: return Step::kGe;
  }
  return Step::kAdd;
}

// How both evaluators run a call. A function of one argument is one unary step. The others fold
// their arguments left to right: fold_step(function, i) combines the value so far with argument
// i >= 1, so min(a, b, c) runs as min(min(a, b), c) and clamp(x, lo, hi) as min(max(x, lo), hi).
std::optional<UnaryStep> unary_step_of(Function function) {
  switch (function) {
    case Function::kAbs: return UnaryStep::kAbs;
    case Function::kNextPowerOf2: return UnaryStep::kNextPowerOf2;
    case Function::kLog2: return UnaryStep::kLog2;
    case Function::kIsPowerOf2: return UnaryStep::kIsPowerOf2;
    case Function::kMin:
    case Function::kMax:
    case Function::kCdiv:
    case Function::kClamp: return std::nullopt;
  }
  return std::nullopt;
}

Step fold_step(Function function, size_t i) {
  switch (function) {
    case Function::kMin: return Step::kMin;
    case Function::kMax: return Step::kMax;
    case Function::kCdiv: return Step::kCdiv;
    case Function::kClamp: return i == 1 ? Step::kMax : Step::kMin;
    case Function::kAbs:
    case Function::kNextPowerOf2:
    case Function::kLog2:
    case Function::kIsPowerOf2: break;  // of one argument: nothing to fold
  }
  return Step::kMin;
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::kEq; }

// Binding strength for printing: 0 comparisons and 'in', 1 sums, 2 products, 3 unary minus,
// 4 atoms and calls.
int precedence(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kIn: return 0;
    case Node::Kind::kBinary:
      if (is_comparison(node.op)) return 0;
      return (node.op == BinaryOp::kAdd || node.op == BinaryOp::kSub) ? 1 : 2;
    case Node::Kind::kNeg: return 3;
    default: return 4;
  }
}

void write(const Node& node, std::string& out);

void write_operand(const Node& node, bool parenthesize, std::string& out) {
  if (parenthesize) out += '(';
  write(node, out);
  if (parenthesize) out += ')';
}

void write(const Node& node, std::string& out) {
  switch (node.kind) {
    case Node::Kind::kConstant: out += std::to_string(node.value); return;
    case Node::Kind::kName: out += node.name; return;
    case Node::Kind::kNeg:
      out += '-';
      write_operand(*node.args[0], precedence(*node.args[0]) < 3, out);
      return;
    case Node::Kind::kBinary: {
      // Left-associative: the right operand needs parentheses at equal precedence (a - (b - c)).
      // Comparisons do not chain, so either operand of one needs them at equal precedence.
      const int p = precedence(node);
      write_operand(*node.args[0], precedence(*node.args[0]) < p + (p == 0 ? 1 : 0), out);
      out += ' ';
      out += detail::operator_symbol(node.op);
      out += ' ';
      write_operand(*node.args[1], precedence(*node.args[1]) <= p, out);
      return;
    }
    case Node::Kind::kCall:
      out += detail::function_name(node.function);
      out += '(';
      for (size_t i = 0; i < node.args.size(); ++i) {
        if (i > 0) out += ", ";
        write(*node.args[i], out);
      }
      out += ')';
      return;
    case Node::Kind::kIn:
      write_operand(*node.args[0], precedence(*node.args[0]) == 0, out);
      out += " in {";
      for (size_t i = 1; i < node.args.size(); ++i) {
        if (i > 1) out += ", ";
        write(*node.args[i], out);
      }
      out += '}';
      return;
  }
}

void collect_names(const Node& node, std::vector<std::string>& names) {
  if (node.kind == Node::Kind::kName) {
    for (const std::string& seen : names) {
      if (seen == node.name) return;
    }
    names.push_back(node.name);
    return;
  }
  for (const NodePtr& arg : node.args) collect_names(*arg, names);
}

using Lookup = std::function<bool(std::string_view, int64_t&)>;

// Operands are evaluated left to right, in the order of the compiled Program, so both report the
// same first error.
int64_t eval_node(const Node& node, const Lookup& lookup, const std::string& text) {
  switch (node.kind) {
    case Node::Kind::kConstant: return node.value;
    case Node::Kind::kName: {
      int64_t value = 0;
      if (!lookup(node.name, value)) {
        throw Error(ErrorCode::kEvaluation, "unknown name '" + node.name + "' in '" + text + "'");
      }
      return value;
    }
    case Node::Kind::kNeg: return detail::apply(UnaryStep::kNegate, eval_node(*node.args[0], lookup, text), text);
    case Node::Kind::kBinary: {
      const int64_t a = eval_node(*node.args[0], lookup, text);
      const int64_t b = eval_node(*node.args[1], lookup, text);
      return detail::apply(step_of(node.op), a, b, text);
    }
    case Node::Kind::kCall: {
      int64_t acc = eval_node(*node.args[0], lookup, text);
      if (const std::optional<UnaryStep> unary = unary_step_of(node.function)) return detail::apply(*unary, acc, text);
      for (size_t i = 1; i < node.args.size(); ++i) {
        acc = detail::apply(fold_step(node.function, i), acc, eval_node(*node.args[i], lookup, text), text);
      }
      return acc;
    }
    case Node::Kind::kIn: {
      // Every member is evaluated (no short circuit), as the compiled Program does.
      const int64_t value = eval_node(*node.args[0], lookup, text);
      int64_t found = 0;
      for (size_t i = 1; i < node.args.size(); ++i) {
        if (eval_node(*node.args[i], lookup, text) == value) found = 1;
      }
      return found;
    }
  }
  throw Error(ErrorCode::kInternal, "unknown node kind in '" + text + "'");
}

void require_parsed(const NodePtr& root) {
  if (!root) throw Error(ErrorCode::kInvalidArgument, "empty Expr: make one with Expr::parse");
}

// Program op codes: a push, kFirstUnaryStep + a detail::UnaryStep replacing the top value, or
// kFirstStep + a detail::Step popping two values and pushing one.
enum OpCode : uint8_t {
  kPushConstant,
  kPushSlot,
  kFirstUnaryStep,
  kFirstStep = kFirstUnaryStep + detail::kUnaryStepCount,
};

uint8_t code_of(UnaryStep step) { return static_cast<uint8_t>(kFirstUnaryStep + static_cast<uint8_t>(step)); }
uint8_t code_of(Step step) { return static_cast<uint8_t>(kFirstStep + static_cast<uint8_t>(step)); }

}  // namespace

Expr Expr::from_node(NodePtr root, std::string source) {
  require_parsed(root);
  Expr expr;
  expr.root_ = std::move(root);
  expr.source_ = std::move(source);
  return expr;
}

std::string Expr::to_string() const {
  require_parsed(root_);
  std::string out;
  write(*root_, out);
  return out;
}

std::vector<std::string> Expr::names() const {
  require_parsed(root_);
  std::vector<std::string> names;
  collect_names(*root_, names);
  return names;
}

int64_t Expr::eval(const std::function<bool(std::string_view name, int64_t& value)>& lookup) const {
  require_parsed(root_);
  return eval_node(*root_, lookup, source_);
}

Program Expr::compile(const std::function<int(std::string_view name)>& slot_of) const {
  require_parsed(root_);
  Program program;
  program.text_ = source_;
  // Postfix emission. Calls fold pairwise (min(a, b, c) -> a b MIN c MIN, clamp(x, lo, hi) ->
  // x lo MAX hi MIN) so that no op pops more than two values: the stack then never holds more
  // than the parser's nesting depth + 1. A function of one argument replaces the top value.
  uint32_t depth = 0;
  auto push = [&](uint8_t code, int64_t operand) {
    // `in` emits its value once per member, so nested `in`s grow exponentially: a hostile pack could
    // otherwise make building a kernel's model take minutes and gigabytes.
    if (program.ops_.size() >= detail::kMaxProgramOps) {
      throw Error(ErrorCode::kParse, "'" + source_ + "' compiles to more than " +
                                         std::to_string(detail::kMaxProgramOps) +
                                         " operations (each 'in' repeats its value per member); simplify it");
    }
    program.ops_.push_back({code, operand});
    if (code == kPushConstant || code == kPushSlot) {
      program.max_depth_ = std::max(program.max_depth_, ++depth);
    } else if (code >= kFirstStep) {
      --depth;
    }
  };
  auto emit = [&](const Node& node, auto& self) -> void {
    switch (node.kind) {
      case Node::Kind::kConstant: push(kPushConstant, node.value); return;
      case Node::Kind::kName: {
        const int slot = slot_of(node.name);
        if (slot < 0) throw Error(ErrorCode::kEvaluation, "unknown name '" + node.name + "' in '" + source_ + "'");
        push(kPushSlot, slot);
        return;
      }
      case Node::Kind::kNeg:
        self(*node.args[0], self);
        push(code_of(UnaryStep::kNegate), 0);
        return;
      case Node::Kind::kBinary:
        self(*node.args[0], self);
        self(*node.args[1], self);
        push(code_of(step_of(node.op)), 0);
        return;
      case Node::Kind::kCall:
        self(*node.args[0], self);
        if (const std::optional<UnaryStep> unary = unary_step_of(node.function)) {
          push(code_of(*unary), 0);
          return;
        }
        for (size_t i = 1; i < node.args.size(); ++i) {
          self(*node.args[i], self);
          push(code_of(fold_step(node.function, i)), 0);
        }
        return;
      case Node::Kind::kIn:
        // max(v == a, v == b, ...): the value's subtree is emitted once per member. It is pure,
        // so re-evaluating it gives the same value (or the same first error).
        for (size_t i = 1; i < node.args.size(); ++i) {
          self(*node.args[0], self);
          self(*node.args[i], self);
          push(code_of(Step::kEq), 0);
          if (i > 1) push(code_of(Step::kMax), 0);
        }
        return;
    }
  };
  emit(*root_, emit);
  if (program.max_depth_ > detail::kStackSize) {
    throw Error(ErrorCode::kInternal, "'" + source_ + "' needs an evaluation stack of " +
                                          std::to_string(program.max_depth_) + " values (limit " +
                                          std::to_string(detail::kStackSize) + ")");
  }
  return program;
}

int64_t Program::eval(std::span<const int64_t> slots) const {
  // A constant (a grid's "1"): no stack needed.
  if (ops_.size() == 1 && ops_[0].code == kPushConstant) return ops_[0].operand;
  if (ops_.empty()) throw Error(ErrorCode::kInvalidArgument, "empty Program: make one with Expr::compile");
  // compile() guarantees max_depth_ <= kStackSize and a balanced op sequence.
  std::array<int64_t, detail::kStackSize> stack;
  size_t top = 0;  // number of values on the stack
  for (const Op& op : ops_) {
    switch (op.code) {
      case kPushConstant: stack[top++] = op.operand; break;
      case kPushSlot:
        if (static_cast<uint64_t>(op.operand) >= slots.size()) {
          throw Error(ErrorCode::kInvalidArgument, "slot " + std::to_string(op.operand) + " of '" + text_ +
                                                       "' is out of range (" + std::to_string(slots.size()) +
                                                       " slots given)");
        }
        stack[top++] = slots[static_cast<size_t>(op.operand)];
        break;
      default:
        if (op.code < kFirstStep) {
          stack[top - 1] = detail::apply(static_cast<UnaryStep>(op.code - kFirstUnaryStep), stack[top - 1], text_);
        } else {
          --top;
          const int64_t a = stack[top - 1], b = stack[top];
          const Step step = static_cast<Step>(op.code - kFirstStep);
          // The common steps inline (the launch path evaluates grids and rules); anything that
          // could fail, and the rest, through apply(), which gives the messages.
          int64_t r = 0;
          switch (step) {
            case Step::kAdd: if (__builtin_add_overflow(a, b, &r)) r = detail::apply(step, a, b, text_); break;
            case Step::kSub: if (__builtin_sub_overflow(a, b, &r)) r = detail::apply(step, a, b, text_); break;
            case Step::kMul: if (__builtin_mul_overflow(a, b, &r)) r = detail::apply(step, a, b, text_); break;
            case Step::kEq: r = a == b; break;
            case Step::kNe: r = a != b; break;
            case Step::kLt: r = a < b; break;
            case Step::kLe: r = a <= b; break;
            case Step::kGt: r = a > b; break;
            case Step::kGe: r = a >= b; break;
            case Step::kMin: r = a < b ? a : b; break;
            case Step::kMax: r = a < b ? b : a; break;
            default: r = detail::apply(step, a, b, text_); break;
          }
          stack[top - 1] = r;
        }
        break;
    }
  }
  return stack[0];
}

}  // namespace tritonpack::expr
