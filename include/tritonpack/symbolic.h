// tritonpack: symbolic evaluation of expressions and shape rules through an engine's expression
// builder.
//
// An engine implements Builder<V> for its own handle type V (TensorRT: const IDimensionExpr* over
// IExprBuilder; PyTorch: SymInt; a test: int64_t or text) and gets every expression of the language
// built from the nine operations TensorRT's IExprBuilder offers. Everything else is lowered onto
// them here, in one place:
//   -a        -> 0 - a                     a % b   -> a - (a / b) * b   (floor division, so Python's %)
//   a != b    -> 1 - (a == b)              a > b   -> b < a
//   a <= b    -> 1 - (b < a)               a >= b  -> 1 - (a < b)
//   x in {a, b} -> max(x == a, x == b)     min/max(a, b, c) -> folded pairwise, cdiv -> ceil div
//   abs(x)    -> max(x, 0 - x)             clamp(x, lo, hi) -> min(max(x, lo), hi)
// next_power_of_2, log2 and is_power_of_2 have no such lowering. They fold to a constant where
// their argument is one: an argument without names (evaluated as Expr::eval does), or a handle the
// builder reports through constant_value(). Otherwise building throws Error(kEvaluation) "'f(x)'
// cannot be expressed with an engine's shape operations; ...". Their errors on constants (log2(0),
// next_power_of_2 past 2^62) are Expr::eval's.
// tests/unit/symbolic_test.cpp checks on random expressions that building with integer handles
// gives what Expr::eval gives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"

namespace tritonpack::symbolic {

// The operations of TensorRT's DimensionOperation that the language needs. kEqual and kLess give
// 1 or 0; kFloorDiv rounds toward negative infinity, kCeilDiv toward positive infinity.
enum class Op : uint8_t { kSum, kProd, kMax, kMin, kSub, kEqual, kLess, kFloorDiv, kCeilDiv };

template <class V>
class Builder {
 public:
  virtual ~Builder() = default;
  virtual V constant(int64_t value) = 0;
  virtual V operation(Op op, V a, V b) = 0;
  // The value of a handle the engine knows to be constant, else nullopt (the default: none known).
  // Only next_power_of_2, log2 and is_power_of_2 ask, to fold. TensorRT: isConstant() and
  // getConstantValue() of the IDimensionExpr.
  virtual std::optional<int64_t> constant_value(const V& /*value*/) { return std::nullopt; }
};

// Looks a name up; false if unknown (then Error(kEvaluation) names it and the expression).
template <class V>
using Lookup = std::function<bool(std::string_view name, V& value)>;

namespace detail {

template <class V>
V build_node(const expr::Node& node, Builder<V>& b, const Lookup<V>& lookup, const std::string& text);

// next_power_of_2(x), log2(x) or is_power_of_2(x): no shape operation computes them, so they fold
// where x is a constant and are refused otherwise (see the top of this file).
template <class V>
V fold_constant_call(const expr::Node& call, Builder<V>& b, const Lookup<V>& lookup, const std::string& text) {
  const auto no_names = [](std::string_view, int64_t&) { return false; };
  const expr::Expr argument = expr::Expr::from_node(call.args[0], text);
  const std::optional<int64_t> value = argument.names().empty()
                                           ? std::optional<int64_t>(argument.eval(no_names))
                                           : b.constant_value(build_node(*call.args[0], b, lookup, text));
  auto folded = std::make_shared<expr::Node>(call);
  if (!value) {
    throw Error(ErrorCode::kEvaluation, "'" + expr::Expr::from_node(folded, text).to_string() +
                                            "' cannot be expressed with an engine's shape operations; "
                                            "next_power_of_2, log2 and is_power_of_2 need a constant argument (in '" +
                                            text + "')");
  }
  // The call on the constant, evaluated as Expr::eval does: the same value, or the same message.
  auto constant = std::make_shared<expr::Node>();
  constant->kind = expr::Node::Kind::kConstant;
  constant->value = *value;
  constant->column = call.args[0]->column;
  folded->args = {std::move(constant)};
  return b.constant(expr::Expr::from_node(std::move(folded), text).eval(no_names));
}

template <class V>
V build_node(const expr::Node& node, Builder<V>& b, const Lookup<V>& lookup, const std::string& text) {
  using expr::BinaryOp;
  using Kind = expr::Node::Kind;
  auto sub = [&](const expr::Node& n) { return build_node(n, b, lookup, text); };
  switch (node.kind) {
    case Kind::kConstant: return b.constant(node.value);
    case Kind::kName: {
      V value{};
      if (!lookup(node.name, value)) {
        throw Error(ErrorCode::kEvaluation, "unknown name '" + node.name + "' in '" + text + "'");
      }
      return value;
    }
    case Kind::kNeg: return b.operation(Op::kSub, b.constant(0), sub(*node.args[0]));
    case Kind::kBinary: {
      V x = sub(*node.args[0]);
      V y = sub(*node.args[1]);
      switch (node.op) {
        case BinaryOp::kAdd: return b.operation(Op::kSum, x, y);
        case BinaryOp::kSub: return b.operation(Op::kSub, x, y);
        case BinaryOp::kMul: return b.operation(Op::kProd, x, y);
        case BinaryOp::kFloorDiv: return b.operation(Op::kFloorDiv, x, y);
        case BinaryOp::kCeilDiv: return b.operation(Op::kCeilDiv, x, y);
        case BinaryOp::kMod:
          return b.operation(Op::kSub, x, b.operation(Op::kProd, b.operation(Op::kFloorDiv, x, y), y));
        case BinaryOp::kEq: return b.operation(Op::kEqual, x, y);
        case BinaryOp::kNe: return b.operation(Op::kSub, b.constant(1), b.operation(Op::kEqual, x, y));
        case BinaryOp::kLt: return b.operation(Op::kLess, x, y);
        case BinaryOp::kGt: return b.operation(Op::kLess, y, x);
        case BinaryOp::kLe: return b.operation(Op::kSub, b.constant(1), b.operation(Op::kLess, y, x));
        case BinaryOp::kGe: return b.operation(Op::kSub, b.constant(1), b.operation(Op::kLess, x, y));
      }
      break;
    }
    case Kind::kCall: {
      using expr::Function;
      Op op = Op::kCeilDiv;
      switch (node.function) {
        case Function::kNextPowerOf2:
        case Function::kLog2:
        case Function::kIsPowerOf2: return fold_constant_call(node, b, lookup, text);
        case Function::kAbs: {
          V x = sub(*node.args[0]);
          return b.operation(Op::kMax, x, b.operation(Op::kSub, b.constant(0), x));
        }
        case Function::kClamp: {
          // Operands left to right, as Expr::eval evaluates them.
          V x = sub(*node.args[0]);
          V at_least = b.operation(Op::kMax, x, sub(*node.args[1]));
          return b.operation(Op::kMin, at_least, sub(*node.args[2]));
        }
        case Function::kMin: op = Op::kMin; break;
        case Function::kMax: op = Op::kMax; break;
        case Function::kCdiv: op = Op::kCeilDiv; break;
      }
      V acc = sub(*node.args[0]);
      for (size_t i = 1; i < node.args.size(); ++i) acc = b.operation(op, acc, sub(*node.args[i]));
      return acc;
    }
    case Kind::kIn: {
      V value = sub(*node.args[0]);
      V acc = b.operation(Op::kEqual, value, sub(*node.args[1]));
      for (size_t i = 2; i < node.args.size(); ++i) {
        acc = b.operation(Op::kMax, acc, b.operation(Op::kEqual, value, sub(*node.args[i])));
      }
      return acc;
    }
  }
  throw Error(ErrorCode::kInternal, "unknown node in '" + text + "'");
}

}  // namespace detail

template <class V>
V build(const expr::Expr& e, Builder<V>& builder, const Lookup<V>& lookup) {
  return detail::build_node(e.root(), builder, lookup, e.source());
}

namespace detail {

// Binds a rule's patterns to symbolic dims. Sizes that a pattern requires (an integer, or a name
// bound twice) cannot be checked symbolically: rule::bind checks them when shapes are known.
template <class V>
Lookup<V> bind_symbolic(const rule::Rule& rule,
                        const std::function<const std::vector<V>*(std::string_view)>& dims_of,
                        const Lookup<V>& outer, std::vector<std::pair<std::string, V>>& bound,
                        std::vector<V>& rest) {
  for (const rule::TensorPattern& pattern : rule.inputs()) {
    const std::vector<V>* dims = dims_of(pattern.tensor);
    if (dims == nullptr) {
      throw Error(ErrorCode::kShape, "rule '" + rule.source() + "': no input named '" + pattern.tensor + "'");
    }
    const size_t fixed = pattern.dims.size() - (pattern.has_rest() ? 1 : 0);
    if (dims->size() < fixed || (!pattern.has_rest() && dims->size() != fixed)) {
      throw Error(ErrorCode::kShape, "rule '" + rule.source() + "': '" + pattern.tensor + "' has rank " +
                                         std::to_string(dims->size()) + ", the pattern wants " +
                                         (pattern.has_rest() ? "at least " : "") + std::to_string(fixed));
    }
    size_t d = 0;
    for (const rule::DimPattern& p : pattern.dims) {
      if (p.kind == rule::DimPattern::Kind::kRest) {
        const size_t n = dims->size() - fixed;
        rest.assign(dims->begin() + static_cast<ptrdiff_t>(d), dims->begin() + static_cast<ptrdiff_t>(d + n));
        d += n;
        continue;
      }
      if (p.kind == rule::DimPattern::Kind::kName) bound.emplace_back(p.name, (*dims)[d]);
      ++d;
    }
  }
  return [&bound, outer](std::string_view name, V& value) {
    for (const auto& [n, v] : bound) {
      if (n == name) {
        value = v;
        return true;
      }
    }
    return outer ? outer(name, value) : false;
  };
}

}  // namespace detail

// Output shapes of a kShape rule, in target order. dims_of returns an input's dims, or nullptr if
// no input has that name. Names bound by the patterns come first, then `outer` (may be empty).
template <class V>
std::vector<std::vector<V>> output_shapes(const rule::Rule& rule, Builder<V>& builder,
                                          const std::function<const std::vector<V>*(std::string_view)>& dims_of,
                                          const Lookup<V>& outer = {}) {
  std::vector<std::pair<std::string, V>> bound;
  std::vector<V> rest;
  const Lookup<V> lookup = detail::bind_symbolic(rule, dims_of, outer, bound, rest);
  std::vector<std::vector<V>> shapes;
  for (const rule::TensorTarget& target : rule.outputs()) {
    std::vector<V> shape;
    for (const rule::DimTarget& t : target.dims) {
      if (t.rest) {
        shape.insert(shape.end(), rest.begin(), rest.end());
      } else {
        shape.push_back(build(t.size, builder, lookup));
      }
    }
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

// The value of a kDimSize rule's argument, symbolically.
template <class V>
V dim_size(const rule::Rule& rule, Builder<V>& builder,
           const std::function<const std::vector<V>*(std::string_view)>& dims_of, const Lookup<V>& outer = {}) {
  std::vector<std::pair<std::string, V>> bound;
  std::vector<V> rest;
  const Lookup<V> lookup = detail::bind_symbolic(rule, dims_of, outer, bound, rest);
  return build(rule.value(), builder, lookup);
}

// A Builder that writes canonical text ("(Q.2 + 127) / 128"): the text evaluator, and a model
// for engine builders.
class TextBuilder final : public Builder<std::string> {
 public:
  std::string constant(int64_t value) override { return std::to_string(value); }
  std::string operation(Op op, std::string a, std::string b) override;
  // An integer literal ("-5", as constant() writes it) is a constant; any other text is not.
  std::optional<int64_t> constant_value(const std::string& value) override;
};

}  // namespace tritonpack::symbolic
