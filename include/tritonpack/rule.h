// tritonpack: shape rules, written as in TensorRT-LLM's PluginGen and parsed by the expression
// language's parser (one tokenizer, one syntax tree; docs/expressions.md, "Shape rules").
//
//   rule    := pattern (',' pattern)* ( '->' target (',' target)*      output shapes
//                                     | ':' expr '->' NAME )            a dim-size argument
//   pattern := NAME '[' (dim (',' dim)*)? ']'     dim := NAME | INT | '*'
//   target  := NAME '[' (out (',' out)*)? ']'     out := expr | '*'
//
//   "Q[*] -> Out[*]"            Out has Q's shape
//   "Q[m,n,k,*] -> L[m,n,k]"    L is [Q.0, Q.1, Q.2]
//   "Q[m,n,k,*] : k -> seq_len" the kernel argument seq_len is Q's dim 2
//
// A pattern binds its names to the input's dims (a name bound twice must see equal sizes), an
// integer requires that size, and '*' matches the remaining dims (at most one per pattern). A
// target's '*' stands for the dims matched by the '*' of the one pattern that has one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/expr.h"

namespace tritonpack::rule {

struct DimPattern {
  enum class Kind : uint8_t { kName, kConstant, kRest } kind = Kind::kName;
  std::string name;   // kName
  int64_t value = 0;  // kConstant
  uint32_t column = 0;
};

struct TensorPattern {
  std::string tensor;
  std::vector<DimPattern> dims;
  uint32_t column = 0;
  bool has_rest() const;
};

struct DimTarget {
  bool rest = false;  // '*'
  expr::Expr size;    // when !rest
};

struct TensorTarget {
  std::string tensor;
  std::vector<DimTarget> dims;
  uint32_t column = 0;
};

class Rule {
 public:
  enum class Kind : uint8_t { kShape, kDimSize };

  // Parses one rule. Throws Error(kParse) with the column and a caret, like Expr::parse.
  static Rule parse(std::string_view text);

  Kind kind() const { return kind_; }
  const std::vector<TensorPattern>& inputs() const { return inputs_; }
  const std::vector<TensorTarget>& outputs() const { return outputs_; }  // kShape
  const expr::Expr& value() const { return value_; }                      // kDimSize
  const std::string& target() const { return target_; }                   // kDimSize: the argument
  const std::string& source() const { return source_; }

  // Canonical text; parse(to_string()) gives the same rule.
  std::string to_string() const;

 private:
  Kind kind_ = Kind::kShape;
  std::vector<TensorPattern> inputs_;
  std::vector<TensorTarget> outputs_;
  expr::Expr value_;
  std::string target_;
  std::string source_;
};

// ---------------------------------------------------------------------------------------------
// Concrete evaluation.

using Shape = std::vector<int64_t>;

// What the patterns of a rule bind for given input shapes.
struct Binding {
  std::map<std::string, int64_t, std::less<>> names;
  Shape rest;  // the dims matched by '*'
};

// Binds the rule's patterns. shape_of returns the input's shape, or nullptr when no input has that
// name. Throws Error(kShape) naming the rule, the tensor, the dim and the sizes on a mismatch.
Binding bind(const Rule& rule, const std::function<const Shape*(std::string_view tensor)>& shape_of);

// Evaluates an expression of a rule: names bound by the patterns first, then `outer` (fields,
// other dims; may be empty). Errors (Error(kShape)) quote the rule: it is the expression's source.
int64_t eval_in(const expr::Expr& e, const Binding& binding,
                const std::function<bool(std::string_view, int64_t&)>& outer);

// Output shapes of a kShape rule, in target order.
std::vector<Shape> output_shapes(const Rule& rule, const Binding& binding,
                                 const std::function<bool(std::string_view, int64_t&)>& outer);

}  // namespace tritonpack::rule
