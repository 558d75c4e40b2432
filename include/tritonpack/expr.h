// tritonpack: the integer expression language of grids, sizes and (later) shape rules.
//
// One parser, one syntax tree, several evaluators. Grammar (docs/expressions.md):
//   expr    := sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum | 'in' '{' expr (',' expr)* '}')?
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | '/' | '///' | '%') unary)*      '/' floors, '///' is ceil-div
//   unary   := '-' unary | primary
//   primary := INT | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
//   NAME    := [A-Za-z_][A-Za-z0-9_]* ('.' [A-Za-z_][A-Za-z0-9_]*)*
// Functions: min(a, b, ...), max(a, b, ...), cdiv(a, b), abs(x), clamp(x, lo, hi) and, for
// Triton's heuristics, next_power_of_2(x), log2(x) (floor) and is_power_of_2(x) (1 or 0).
// Arithmetic is int64 and overflow-checked; division or modulo by zero, and log2 of x <= 0, are
// errors, never undefined behaviour.
// Comparisons and 'in' give 1 or 0 and do not chain (constraints: "D in {64, 128}").
// Shape rules (include/tritonpack/rule.h) are built from the same tokens and expressions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tritonpack::expr {

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kFloorDiv, kCeilDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe };
enum class Function : uint8_t { kMin, kMax, kCdiv, kAbs, kClamp, kNextPowerOf2, kLog2, kIsPowerOf2 };

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Node {
  // kIn: args[0] is the value, args[1..] the set ("x in {a, b}").
  enum class Kind : uint8_t { kConstant, kName, kNeg, kBinary, kCall, kIn } kind;
  int64_t value = 0;          // kConstant
  std::string name;           // kName
  BinaryOp op{};              // kBinary
  Function function{};        // kCall
  std::vector<NodePtr> args;  // kNeg: 1, kBinary: 2, kCall: as the function takes, kIn: >= 2
  uint32_t column = 0;        // 1-based column in the source text, for messages
};

// Compiled form for the launch path: variables are slot indices, evaluation allocates nothing.
class Program {
 public:
  // Throws Error(kEvaluation) naming the expression and the operation on overflow, division by
  // zero or log2 of a value <= 0.
  int64_t eval(std::span<const int64_t> slots) const;
  const std::string& text() const { return text_; }

 private:
  friend class Expr;
  struct Op {
    uint8_t code;
    int64_t operand;  // constant value, slot index, or argument count
  };
  std::vector<Op> ops_;
  uint32_t max_depth_ = 0;
  std::string text_;
};

class Expr {
 public:
  // Parses text. Throws Error(kParse) whose message shows the text and a caret at the column.
  // Rejects nesting deeper than 64 and texts longer than 4096 characters.
  static Expr parse(std::string_view text);
  // Wraps a subtree of a parsed rule or expression (source: the whole text, for messages).
  static Expr from_node(NodePtr root, std::string source);

  const Node& root() const { return *root_; }
  const std::string& source() const { return source_; }

  // Canonical text with minimal parentheses; parse(to_string()) gives the same tree.
  std::string to_string() const;

  // Distinct free names in first-appearance order.
  std::vector<std::string> names() const;

  // Evaluates with names looked up by `lookup`, which returns false for an unknown name
  // (then Error(kEvaluation) "unknown name 'x' in '<expr>'").
  int64_t eval(const std::function<bool(std::string_view name, int64_t& value)>& lookup) const;

  // Compiles to a Program; slot_of returns the slot of a name or -1 if unknown (Error kEvaluation).
  Program compile(const std::function<int(std::string_view name)>& slot_of) const;

 private:
  NodePtr root_;
  std::string source_;
};

}  // namespace tritonpack::expr
