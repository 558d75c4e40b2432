// tritonpack: tokenizer and recursive-descent parser of the expression language.
//
// The grammar is in include/tritonpack/expr.h and docs/expressions.md. Every parse error throws
// Error(kParse) with "<message> at column N", the source text and a caret line under column N.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/expr_internal.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"

namespace tritonpack::expr {
namespace {

using rule::DimPattern;
using rule::DimTarget;
using rule::TensorPattern;
using rule::TensorTarget;

enum class TokenKind : uint8_t {
  kInt, kName, kPlus, kMinus, kStar, kSlash, kCeilSlash, kPercent, kLParen, kRParen, kComma,
  kLBracket, kRBracket, kLBrace, kRBrace, kArrow, kColon, kEq, kNe, kLt, kLe, kGt, kGe, kEnd,
};

struct Token {
  TokenKind kind;
  std::string_view text;  // points into the source
  uint32_t column;        // 1-based; columns count bytes
  int64_t value = 0;      // kInt only
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_printable(char c) { return c >= 0x20 && c < 0x7f; }

// "'$'" for a printable character, "'\x01'" for any other byte.
std::string quote_char(char c) {
  if (is_printable(c)) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "'\\x%02x'", static_cast<unsigned char>(c));
  return buf;
}

[[noreturn]] void fail(std::string_view source, size_t column, const std::string& message) {
  // Echo the source on one line: newlines become spaces and other unprintable bytes '?', so the
  // caret (which copies tabs) stays under the right byte.
  std::string echo;
  echo.reserve(source.size());
  for (char c : source) {
    echo += (c == '\t' || is_printable(c)) ? c : (c == '\n' || c == '\r') ? ' ' : '?';
  }
  std::string caret;
  for (size_t i = 0; i + 1 < column; ++i) caret += (i < source.size() && source[i] == '\t') ? '\t' : ' ';
  caret += '^';
  throw Error(ErrorCode::kParse,
              message + " at column " + std::to_string(column) + "\n" + echo + "\n" + caret);
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  for (;;) {
    while (i < s.size() && is_space(s[i])) ++i;
    const auto column = static_cast<uint32_t>(i + 1);
    if (i == s.size()) {
      tokens.push_back({TokenKind::kEnd, s.substr(i), column});
      return tokens;
    }
    const size_t start = i;
    const char c = s[i];
    if (is_digit(c)) {
      int64_t value = 0;
      for (; i < s.size() && is_digit(s[i]); ++i) {
        if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, s[i] - '0', &value)) {
          fail(s, column, "integer literal too large");
        }
      }
      tokens.push_back({TokenKind::kInt, s.substr(start, i - start), column, value});
      continue;
    }
    if (is_name_start(c)) {
      // A name is identifiers joined by dots ("T.size"); a dot not followed by one is no part of it.
      for (;;) {
        while (i < s.size() && is_name_char(s[i])) ++i;
        if (i + 1 < s.size() && s[i] == '.' && is_name_start(s[i + 1])) {
          ++i;
          continue;
        }
        break;
      }
      tokens.push_back({TokenKind::kName, s.substr(start, i - start), column});
      continue;
    }
    TokenKind kind;
    size_t length = 1;
    // Two-character operators are read before their one-character prefixes.
    const std::string_view two = s.substr(i, 2);
    switch (c) {
      case '+': kind = TokenKind::kPlus; break;
      case '-':
        kind = two == "->" ? TokenKind::kArrow : TokenKind::kMinus;
        length = two == "->" ? 2 : 1;
        break;
      case '[': kind = TokenKind::kLBracket; break;
      case ']': kind = TokenKind::kRBracket; break;
      case '{': kind = TokenKind::kLBrace; break;
      case '}': kind = TokenKind::kRBrace; break;
      case ':': kind = TokenKind::kColon; break;
      case '=':
        if (two != "==") fail(s, column, "unexpected character '=' (comparison is '==')");
        kind = TokenKind::kEq;
        length = 2;
        break;
      case '!':
        if (two != "!=") fail(s, column, "unexpected character '!' (not-equal is '!=')");
        kind = TokenKind::kNe;
        length = 2;
        break;
      case '<':
        kind = two == "<=" ? TokenKind::kLe : TokenKind::kLt;
        length = two == "<=" ? 2 : 1;
        break;
      case '>':
        kind = two == ">=" ? TokenKind::kGe : TokenKind::kGt;
        length = two == ">=" ? 2 : 1;
        break;
      case '*': kind = TokenKind::kStar; break;
      case '%': kind = TokenKind::kPercent; break;
      case '(': kind = TokenKind::kLParen; break;
      case ')': kind = TokenKind::kRParen; break;
      case ',': kind = TokenKind::kComma; break;
      case '/':
        // "///" is one token, read before "/".
        if (s.substr(i, 3) == "///") {
          kind = TokenKind::kCeilSlash;
          length = 3;
        } else {
          kind = TokenKind::kSlash;
        }
        break;
      default: fail(s, column, "unexpected character " + quote_char(c));
    }
    i += length;
    tokens.push_back({kind, s.substr(start, length), column});
  }
}

std::shared_ptr<Node> make_node(Node::Kind kind, uint32_t column, std::vector<NodePtr> args = {}) {
  auto node = std::make_shared<Node>();
  node->kind = kind;
  node->column = column;
  node->args = std::move(args);
  return node;
}

// Nesting: a parenthesised group, a function call, a unary minus and the right-hand operand of a
// binary operator each open one level; a chain of left-associative operators stays on one level.
// This bounds both the parser's recursion and the evaluation stack of a compiled Program.
class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens) : source_(source), tokens_(std::move(tokens)) {}

  NodePtr parse() {
    NodePtr root = parse_comparison(0);
    expect_end("expression");
    return root;
  }

  // The grammar is in include/tritonpack/rule.h.
  // Returns true for a dim-size rule (value and target set), false for a shape rule (outputs set).
  bool parse_rule(std::vector<TensorPattern>& inputs, std::vector<TensorTarget>& outputs, NodePtr& value,
                  std::string& target) {
    for (;;) {
      inputs.push_back(parse_pattern());
      if (peek().kind != TokenKind::kComma) break;
      next();
    }
    if (peek().kind == TokenKind::kColon) {
      next();
      value = parse_sum(0);
      expect(TokenKind::kArrow, "'->' before the argument's name");
      const Token& name = peek();
      if (name.kind != TokenKind::kName || name.text.find('.') != std::string_view::npos) {
        fail(source_, name.column, "expected the name of a dim-size argument after '->'");
      }
      next();
      target = std::string(name.text);
      expect_end("rule");
      return true;
    }
    if (peek().kind != TokenKind::kArrow) {
      fail(source_, peek().column, "expected ',' and another input, ':' (a dim-size rule) or '->' (a shape rule)");
    }
    next();
    for (;;) {
      outputs.push_back(parse_target());
      if (peek().kind != TokenKind::kComma) break;
      next();
    }
    expect_end("rule");
    return false;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_++]; }  // never moves past kEnd: callers check first

  void expect(TokenKind kind, const std::string& what) {
    if (peek().kind != kind) fail(source_, peek().column, "expected " + what);
    next();
  }

  void expect_end(const std::string& what) {
    const Token& extra = peek();
    if (extra.kind != TokenKind::kEnd) {
      fail(source_, extra.column, "unexpected '" + std::string(extra.text) + "' after the end of the " + what);
    }
  }

  // NAME '[': the tensor's name, plain (no dots).
  const Token& tensor_name(const char* role) {
    const Token& name = peek();
    if (name.kind != TokenKind::kName || name.text.find('.') != std::string_view::npos) {
      fail(source_, name.column, std::string("expected the name of ") + role + " tensor");
    }
    next();
    if (peek().kind != TokenKind::kLBracket) {
      fail(source_, peek().column, "expected '[' after '" + std::string(name.text) + "'");
    }
    next();
    return name;
  }

  // After a dim: ',' continues, ']' ends. Returns true at the end.
  bool dim_separator(const Token& tensor) {
    if (peek().kind == TokenKind::kRBracket) {
      next();
      return true;
    }
    if (peek().kind != TokenKind::kComma) {
      fail(source_, peek().column, "expected ',' or ']' to close '" + std::string(tensor.text) + "['");
    }
    next();
    return false;
  }

  TensorPattern parse_pattern() {
    const Token& name = tensor_name("an input");
    TensorPattern pattern;
    pattern.tensor = std::string(name.text);
    pattern.column = name.column;
    if (peek().kind == TokenKind::kRBracket) {
      next();
      return pattern;
    }
    bool rest_seen = false;
    for (;;) {
      const Token& t = peek();
      DimPattern dim;
      dim.column = t.column;
      if (t.kind == TokenKind::kStar) {
        if (rest_seen) fail(source_, t.column, "'*' may appear once in a pattern");
        rest_seen = true;
        dim.kind = DimPattern::Kind::kRest;
      } else if (t.kind == TokenKind::kInt) {
        dim.kind = DimPattern::Kind::kConstant;
        dim.value = t.value;
      } else if (t.kind == TokenKind::kName && t.text.find('.') == std::string_view::npos) {
        dim.kind = DimPattern::Kind::kName;
        dim.name = std::string(t.text);
      } else {
        fail(source_, t.column, "expected a dim name, an integer or '*' in the pattern of '" + pattern.tensor + "'");
      }
      next();
      pattern.dims.push_back(std::move(dim));
      if (dim_separator(name)) return pattern;
    }
  }

  TensorTarget parse_target() {
    const Token& name = tensor_name("an output");
    TensorTarget target;
    target.tensor = std::string(name.text);
    target.column = name.column;
    if (peek().kind == TokenKind::kRBracket) {
      next();
      return target;
    }
    for (;;) {
      DimTarget dim;
      // A lone '*' (followed by ',' or ']') is the rest; otherwise an expression.
      const TokenKind after = tokens_[std::min(pos_ + 1, tokens_.size() - 1)].kind;
      if (peek().kind == TokenKind::kStar && (after == TokenKind::kComma || after == TokenKind::kRBracket)) {
        next();
        dim.rest = true;
      } else {
        NodePtr size = parse_sum(0);
        dim.size = Expr::from_node(std::move(size), std::string(source_));
      }
      target.dims.push_back(std::move(dim));
      if (dim_separator(name)) return target;
    }
  }

  int enter(int depth, const Token& opener) const {
    if (depth >= detail::kMaxNesting) {
      fail(source_, opener.column,
           "expression nests deeper than " + std::to_string(detail::kMaxNesting) + " levels");
    }
    return depth + 1;
  }

  NodePtr binary(BinaryOp op, const Token& token, NodePtr left, NodePtr right) {
    auto node = make_node(Node::Kind::kBinary, token.column, {std::move(left), std::move(right)});
    node->op = op;
    return node;
  }

  // sum (cmp sum | 'in' '{' sum (',' sum)* '}')?  Comparisons do not chain.
  NodePtr parse_comparison(int depth) {
    NodePtr left = parse_sum(depth);
    const Token& token = peek();
    if (token.kind == TokenKind::kName && token.text == "in") {
      next();
      if (peek().kind != TokenKind::kLBrace) fail(source_, peek().column, "expected '{' after 'in'");
      const Token& brace = next();
      const int inner = enter(depth, brace);
      std::vector<NodePtr> args{std::move(left)};
      for (;;) {
        args.push_back(parse_sum(inner));
        if (peek().kind == TokenKind::kComma) {
          next();
          continue;
        }
        if (peek().kind == TokenKind::kRBrace) break;
        fail(source_, peek().column, "expected ',' or '}' to close '{' at column " + std::to_string(brace.column));
      }
      next();
      auto node = make_node(Node::Kind::kIn, token.column, std::move(args));
      reject_chain(token);
      return node;
    }
    BinaryOp op;
    switch (token.kind) {
      case TokenKind::kEq: op = BinaryOp::kEq; break;
      case TokenKind::kNe: op = BinaryOp::kNe; break;
      case TokenKind::kLt: op = BinaryOp::kLt; break;
      case TokenKind::kLe: op = BinaryOp::kLe; break;
      case TokenKind::kGt: op = BinaryOp::kGt; break;
      case TokenKind::kGe: op = BinaryOp::kGe; break;
      default: return left;
    }
    next();
    NodePtr right = parse_sum(enter(depth, token));
    NodePtr node = binary(op, token, std::move(left), std::move(right));
    reject_chain(token);
    return node;
  }

  void reject_chain(const Token& first) {
    switch (peek().kind) {
      case TokenKind::kEq: case TokenKind::kNe: case TokenKind::kLt:
      case TokenKind::kLe: case TokenKind::kGt: case TokenKind::kGe:
        fail(source_, peek().column, "comparisons do not chain (the first is at column " +
                                         std::to_string(first.column) + "): use two constraints");
      default:
        if (peek().kind == TokenKind::kName && peek().text == "in") {
          fail(source_, peek().column, "comparisons do not chain (the first is at column " +
                                           std::to_string(first.column) + "): use two constraints");
        }
    }
  }

  NodePtr parse_sum(int depth) {
    NodePtr left = parse_product(depth);
    while (peek().kind == TokenKind::kPlus || peek().kind == TokenKind::kMinus) {
      const Token& op = next();
      NodePtr right = parse_product(enter(depth, op));
      left = binary(op.kind == TokenKind::kPlus ? BinaryOp::kAdd : BinaryOp::kSub, op, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_product(int depth) {
    NodePtr left = parse_unary(depth);
    for (;;) {
      BinaryOp op;
      switch (peek().kind) {
        case TokenKind::kStar: op = BinaryOp::kMul; break;
        case TokenKind::kSlash: op = BinaryOp::kFloorDiv; break;
        case TokenKind::kCeilSlash: op = BinaryOp::kCeilDiv; break;
        case TokenKind::kPercent: op = BinaryOp::kMod; break;
        default: return left;
      }
      const Token& token = next();
      NodePtr right = parse_unary(enter(depth, token));
      left = binary(op, token, std::move(left), std::move(right));
    }
  }

  NodePtr parse_unary(int depth) {
    if (peek().kind != TokenKind::kMinus) return parse_primary(depth);
    const Token& minus = next();
    NodePtr operand = parse_unary(enter(depth, minus));
    return make_node(Node::Kind::kNeg, minus.column, {std::move(operand)});
  }

  NodePtr parse_primary(int depth) {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kInt: {
        next();
        auto node = make_node(Node::Kind::kConstant, token.column);
        node->value = token.value;
        return node;
      }
      case TokenKind::kName: {
        next();
        if (peek().kind == TokenKind::kLParen) return parse_call(token, depth);
        auto node = make_node(Node::Kind::kName, token.column);
        node->name = std::string(token.text);
        return node;
      }
      case TokenKind::kLParen: {
        next();
        NodePtr inner = parse_comparison(enter(depth, token));
        if (peek().kind != TokenKind::kRParen) {
          fail(source_, peek().column, "expected ')' to close '(' at column " + std::to_string(token.column));
        }
        next();
        return inner;
      }
      default: fail(source_, token.column, "expected an expression");
    }
  }

  // `name` has been consumed and the current token is '('.
  NodePtr parse_call(const Token& name, int depth) {
    const detail::FunctionInfo* function = nullptr;
    for (const detail::FunctionInfo& f : detail::kFunctions) {
      if (name.text == f.name) function = &f;
    }
    if (function == nullptr) {
      std::string known;
      for (const detail::FunctionInfo& f : detail::kFunctions) {
        known += (known.empty() ? "" : ", ") + std::string(f.name);
      }
      fail(source_, name.column, "unknown function '" + std::string(name.text) + "' (known: " + known + ")");
    }
    const int inner = enter(depth, name);
    next();  // '('
    std::vector<NodePtr> args;
    if (peek().kind != TokenKind::kRParen) {
      for (;;) {
        args.push_back(parse_comparison(inner));
        if (peek().kind == TokenKind::kComma) {
          next();
          continue;
        }
        if (peek().kind == TokenKind::kRParen) break;
        fail(source_, peek().column,
             "expected ',' or ')' to close '" + std::string(name.text) + "(' at column " + std::to_string(name.column));
      }
    }
    next();  // ')'
    const bool exact = function->min_args == function->max_args;
    if (args.size() < function->min_args || (function->max_args != 0 && args.size() > function->max_args)) {
      fail(source_, name.column,
           "'" + std::string(name.text) + "' takes " + (exact ? "" : "at least ") + std::to_string(function->min_args) +
               (function->min_args == 1 ? " argument" : " arguments") + ", got " + std::to_string(args.size()));
    }
    auto node = make_node(Node::Kind::kCall, name.column, std::move(args));
    node->function = function->function;
    return node;
  }

  std::string_view source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

namespace {

// Length limit and emptiness, shared by expressions and rules.
void check_length(std::string_view text, const char* what) {
  size_t length = 0;
  for (char c : text) length += is_space(c) ? 0 : 1;
  if (length > detail::kMaxLength) {
    // No caret: echoing thousands of characters would bury the message.
    throw Error(ErrorCode::kParse, std::string(what) + " is longer than " + std::to_string(detail::kMaxLength) +
                                       " characters (" + std::to_string(length) + ", not counting whitespace)");
  }
  if (length == 0) fail(text, 1, std::string("empty ") + what);
}

}  // namespace

Expr Expr::parse(std::string_view text) {
  check_length(text, "expression");
  Expr expr;
  expr.root_ = Parser(text, tokenize(text)).parse();
  expr.source_ = std::string(text);
  return expr;
}

}  // namespace tritonpack::expr

namespace tritonpack::rule {

Rule Rule::parse(std::string_view text) {
  expr::check_length(text, "rule");
  Rule rule;
  expr::NodePtr value;
  expr::Parser parser(text, expr::tokenize(text));
  const bool dim_size = parser.parse_rule(rule.inputs_, rule.outputs_, value, rule.target_);
  rule.kind_ = dim_size ? Kind::kDimSize : Kind::kShape;
  rule.source_ = std::string(text);
  if (dim_size) rule.value_ = expr::Expr::from_node(std::move(value), rule.source_);
  // A target's '*' copies the dims matched by '*': exactly one pattern must have one.
  const TensorPattern* with_rest = nullptr;
  for (const TensorPattern& p : rule.inputs_) {
    if (!p.has_rest()) continue;
    if (with_rest != nullptr && !dim_size) {
      bool target_rest = false;
      for (const TensorTarget& t : rule.outputs_) {
        for (const DimTarget& d : t.dims) target_rest = target_rest || d.rest;
      }
      if (target_rest) {
        expr::fail(text, p.column, "an output uses '*', so only one input may have '*' ('" + with_rest->tensor +
                                       "' already has one)");
      }
    }
    with_rest = &p;
  }
  for (const TensorTarget& t : rule.outputs_) {
    for (const DimTarget& d : t.dims) {
      if (d.rest && with_rest == nullptr) {
        expr::fail(text, t.column, "'" + t.tensor + "' uses '*' but no input pattern has '*'");
      }
    }
  }
  return rule;
}

}  // namespace tritonpack::rule
