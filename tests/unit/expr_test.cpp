// Unit tests of the expression language (include/tritonpack/expr.h, docs/expressions.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/same_tree.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"

namespace tritonpack::expr {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

using Vars = std::map<std::string, int64_t, std::less<>>;

auto lookup_in(const Vars& vars) {
  return [&vars](std::string_view name, int64_t& value) {
    auto it = vars.find(name);
    if (it == vars.end()) return false;
    value = it->second;
    return true;
  };
}

int64_t eval(std::string_view text, const Vars& vars = {}) { return Expr::parse(text).eval(lookup_in(vars)); }

// Compiles with slots in names() order and evaluates the Program.
int64_t eval_compiled(const Expr& expr, const Vars& vars) {
  const std::vector<std::string> names = expr.names();
  std::vector<int64_t> slots;
  for (const std::string& name : names) slots.push_back(vars.at(name));
  Program program = expr.compile([&](std::string_view name) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<int>(i);
    }
    return -1;
  });
  return program.eval(slots);
}

// The message of the Error(code) that `fn` throws; fails the test if it throws none.
template <typename Fn>
std::string error_of(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(error_code_name(e.code()), std::string(error_code_name(code))) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

std::string parse_error(std::string_view text) {
  return error_of(ErrorCode::kParse, [&] { Expr::parse(text); });
}

// Evaluates both ways; they must throw the same message, which is returned.
std::string eval_error(std::string_view text, const Vars& vars = {}) {
  const Expr expr = Expr::parse(text);
  const std::string tree = error_of(ErrorCode::kEvaluation, [&] { expr.eval(lookup_in(vars)); });
  const std::string program = error_of(ErrorCode::kEvaluation, [&] { eval_compiled(expr, vars); });
  EXPECT_EQ(tree, program);
  return tree;
}

using tritonpack::testing::same_tree;

// --- Precedence, associativity, canonical text --------------------------------------------------

struct Case {
  const char* text;
  const char* canonical;
  int64_t value;
};

TEST(ExprTest, PrecedenceAndAssociativity) {
  const Vars vars = {{"a", 2}, {"b", 3}, {"c", 5}, {"d", 7}, {"T.size", 11}};
  const Case cases[] = {
      {"a + b * c", "a + b * c", 17},
      {"a * b + c", "a * b + c", 11},
      {"(a + b) * c", "(a + b) * c", 25},
      {"a - b - c", "a - b - c", -6},
      {"a - (b - c)", "a - (b - c)", 4},
      {"(a - b) - c", "a - b - c", -6},
      {"a + b - c + d", "a + b - c + d", 7},
      {"100 / 10 / 5", "100 / 10 / 5", 2},
      {"100 / (10 / 5)", "100 / (10 / 5)", 50},
      {"2 * 3 % 4", "2 * 3 % 4", 2},
      {"2 * (3 % 4)", "2 * (3 % 4)", 6},
      {"17 % 5 * 3", "17 % 5 * 3", 6},
      {"7 * 3 /// 2", "7 * 3 /// 2", 11},
      {"7 * (3 /// 2)", "7 * (3 /// 2)", 14},
      {"10 - 4 /// 3", "10 - 4 /// 3", 8},
      {"1+2*3-4/2", "1 + 2 * 3 - 4 / 2", 5},
      {"-a * b", "-a * b", -6},
      {"-(a * b)", "-(a * b)", -6},
      {"-a + b", "-a + b", 1},
      {"-(a + b)", "-(a + b)", -5},
      {"-7 / 2", "-7 / 2", -4},
      {"-(7 / 2)", "-(7 / 2)", -3},
      {"-7 % 3", "-7 % 3", 2},
      {"-(7 % 3)", "-(7 % 3)", -1},
      {"- - a", "--a", 2},
      {"a - -b", "a - -b", 5},
      {"a--b", "a - -b", 5},
      {"a * -b", "a * -b", -6},
      {"((a))", "a", 2},
      {"(((a + b)))", "a + b", 5},
      {"a * (b * c)", "a * (b * c)", 30},
      {"(a * b) * c", "a * b * c", 30},
      {"a + (b + c)", "a + (b + c)", 10},
      {"min(a, b) * max(c, d)", "min(a, b) * max(c, d)", 14},
      {"min(a)", "min(a)", 2},
      {"max(a,b,c,d)", "max(a, b, c, d)", 7},
      {"min(-a, c - d * b)", "min(-a, c - d * b)", -16},
      {"cdiv(a + b, c)", "cdiv(a + b, c)", 1},
      {"-min(a, b)", "-min(a, b)", -2},
      {"T.size * 2", "T.size * 2", 22},
      {"007", "7", 7},
      {" \t a\n+\r\nb ", "a + b", 5},
      {"min (a , b)", "min(a, b)", 2},
      {"abs(a - c) * 2", "abs(a - c) * 2", 6},
      {"-abs(a)", "-abs(a)", -2},
      {"clamp(d, a, c)", "clamp(d, a, c)", 5},
      {"clamp ( a*b , c,d )", "clamp(a * b, c, d)", 6},
      {"next_power_of_2(c) / b", "next_power_of_2(c) / b", 2},
      {"next_power_of_2(T.size + 1)", "next_power_of_2(T.size + 1)", 16},
      {"log2(next_power_of_2(d)) + 1", "log2(next_power_of_2(d)) + 1", 4},
      {"is_power_of_2(a * 4) + is_power_of_2(b)", "is_power_of_2(a * 4) + is_power_of_2(b)", 1},
      {"is_power_of_2(a == 2)", "is_power_of_2(a == 2)", 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const Expr expr = Expr::parse(c.text);
    EXPECT_EQ(expr.source(), c.text);
    EXPECT_EQ(expr.to_string(), c.canonical);
    EXPECT_EQ(expr.eval(lookup_in(vars)), c.value);
    EXPECT_EQ(eval_compiled(expr, vars), c.value);
    const Expr again = Expr::parse(expr.to_string());
    EXPECT_TRUE(same_tree(expr.root(), again.root()));
    EXPECT_EQ(again.to_string(), c.canonical);
  }
}

TEST(ExprTest, TreeShapeAndColumns) {
  const Expr expr = Expr::parse("a + b * -c");
  const Node& root = expr.root();
  ASSERT_EQ(root.kind, Node::Kind::kBinary);
  EXPECT_EQ(root.op, BinaryOp::kAdd);
  EXPECT_EQ(root.column, 3u);
  EXPECT_EQ(root.args[0]->kind, Node::Kind::kName);
  EXPECT_EQ(root.args[0]->column, 1u);
  const Node& product = *root.args[1];
  EXPECT_EQ(product.op, BinaryOp::kMul);
  EXPECT_EQ(product.column, 7u);
  EXPECT_EQ(product.args[1]->kind, Node::Kind::kNeg);
  EXPECT_EQ(product.args[1]->column, 9u);
  EXPECT_EQ(product.args[1]->args[0]->name, "c");
  EXPECT_EQ(product.args[1]->args[0]->column, 10u);

  const Expr call = Expr::parse("x + cdiv(n, 4)");
  const Node& cdiv = *call.root().args[1];
  EXPECT_EQ(cdiv.kind, Node::Kind::kCall);
  EXPECT_EQ(cdiv.function, Function::kCdiv);
  EXPECT_EQ(cdiv.column, 5u);
  ASSERT_EQ(cdiv.args.size(), 2u);
  EXPECT_EQ(cdiv.args[1]->value, 4);

  // "///" is one token; "//" is two slashes.
  EXPECT_EQ(Expr::parse("a///b").root().op, BinaryOp::kCeilDiv);
  EXPECT_EQ(Expr::parse("a/b").root().op, BinaryOp::kFloorDiv);
  EXPECT_EQ(Expr::parse("a%b").root().op, BinaryOp::kMod);
}

TEST(ExprTest, FunctionNamesAreVariablesUnlessCalled) {
  const Vars vars = {{"min", 3}, {"cdiv", 4}, {"max.x", 5}, {"log2", 8}, {"abs", -6}};
  EXPECT_EQ(eval("min + 1", vars), 4);
  EXPECT_EQ(eval("min(min, cdiv)", vars), 3);
  EXPECT_EQ(eval("cdiv(cdiv, 3) + max.x", vars), 7);
  EXPECT_EQ(Expr::parse("min(min, cdiv)").names(), (std::vector<std::string>{"min", "cdiv"}));
  EXPECT_EQ(eval("log2(log2) + abs(abs)", vars), 9);
  EXPECT_EQ(Expr::parse("log2(log2) + abs(abs)").names(), (std::vector<std::string>{"log2", "abs"}));
}

// --- Division semantics --------------------------------------------------------------------------

TEST(ExprTest, FloorCeilAndModuloFollowPython) {
  struct Row {
    int64_t a, b, floor, ceil, mod;
  };
  // Expected values computed with Python's //, -(-a // b) and %.
  const Row rows[] = {
      {7, 2, 3, 4, 1},
      {-7, 2, -4, -3, 1},
      {7, -2, -4, -3, -1},
      {-7, -2, 3, 4, -1},
      {7, 3, 2, 3, 1},
      {-7, 3, -3, -2, 2},
      {7, -3, -3, -2, -2},
      {-7, -3, 2, 3, -1},
      {6, 3, 2, 2, 0},
      {-6, 3, -2, -2, 0},
      {0, 5, 0, 0, 0},
      {0, -5, 0, 0, 0},
      {1, 128, 0, 1, 1},
      {-1, 128, -1, 0, 127},
      {kMax, 2, 4611686018427387903, 4611686018427387904, 1},
      {kMin, 2, -4611686018427387904, -4611686018427387904, 0},
      {kMin, kMax, -2, -1, 9223372036854775806},
      {kMax, kMin, -1, 0, -1},
      {5, kMin, -1, 0, -9223372036854775803},
      {kMax, -1, -kMax, -kMax, 0},
      {kMin, 1, kMin, kMin, 0},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(std::to_string(r.a) + " and " + std::to_string(r.b));
    const Vars vars = {{"a", r.a}, {"b", r.b}};
    EXPECT_EQ(eval("a / b", vars), r.floor);
    EXPECT_EQ(eval("a /// b", vars), r.ceil);
    EXPECT_EQ(eval("cdiv(a, b)", vars), r.ceil);
    EXPECT_EQ(eval("a % b", vars), r.mod);
    EXPECT_EQ(eval_compiled(Expr::parse("a / b"), vars), r.floor);
    EXPECT_EQ(eval_compiled(Expr::parse("a /// b"), vars), r.ceil);
    EXPECT_EQ(eval_compiled(Expr::parse("a % b"), vars), r.mod);
    // The modulo has the sign of the divisor (or is zero).
    EXPECT_TRUE(r.mod == 0 || (r.mod < 0) == (r.b < 0));
  }
  // INT64_MIN % -1 is 0, not an error (the division overflows, the remainder does not).
  EXPECT_EQ(eval("a % b", {{"a", kMin}, {"b", -1}}), 0);
  // a == (a / b) * b + a % b.
  for (int64_t a = -20; a <= 20; ++a) {
    for (int64_t b = -6; b <= 6; ++b) {
      if (b == 0) continue;
      EXPECT_EQ(eval("a / b * b + a % b", {{"a", a}, {"b", b}}), a) << a << ", " << b;
    }
  }
}

// --- Overflow and division by zero ----------------------------------------------------------------

TEST(ExprTest, OverflowOnEveryOperation) {
  EXPECT_EQ(eval_error("a + b", {{"a", kMax}, {"b", 1}}), "integer overflow in 'a + b' (9223372036854775807 + 1)");
  EXPECT_EQ(eval_error("a + b", {{"a", kMin}, {"b", -1}}),
            "integer overflow in 'a + b' (-9223372036854775808 + -1)");
  EXPECT_EQ(eval_error("a - b", {{"a", kMin}, {"b", 1}}), "integer overflow in 'a - b' (-9223372036854775808 - 1)");
  EXPECT_EQ(eval_error("a - b", {{"a", 0}, {"b", kMin}}), "integer overflow in 'a - b' (0 - -9223372036854775808)");
  EXPECT_EQ(eval_error("a * b", {{"a", kMax}, {"b", 2}}), "integer overflow in 'a * b' (9223372036854775807 * 2)");
  EXPECT_EQ(eval_error("a * b", {{"a", kMin}, {"b", -1}}),
            "integer overflow in 'a * b' (-9223372036854775808 * -1)");
  EXPECT_EQ(eval_error("-a", {{"a", kMin}}), "integer overflow in '-a' (-(-9223372036854775808))");
  EXPECT_EQ(eval_error("a / b", {{"a", kMin}, {"b", -1}}),
            "integer overflow in 'a / b' (-9223372036854775808 / -1)");
  EXPECT_EQ(eval_error("a /// b", {{"a", kMin}, {"b", -1}}),
            "integer overflow in 'a /// b' (-9223372036854775808 /// -1)");
  EXPECT_EQ(eval_error("cdiv(a, b)", {{"a", kMin}, {"b", -1}}),
            "integer overflow in 'cdiv(a, b)' (cdiv(-9223372036854775808, -1))");
  EXPECT_EQ(eval_error("9223372036854775807 + 1"),
            "integer overflow in '9223372036854775807 + 1' (9223372036854775807 + 1)");
  EXPECT_EQ(eval_error("3037000500 * 3037000500"),
            "integer overflow in '3037000500 * 3037000500' (3037000500 * 3037000500)");
  // The message names the whole expression and the failing operation with its values.
  EXPECT_EQ(eval_error("(x * x) + 1", {{"x", 4294967296}}),
            "integer overflow in '(x * x) + 1' (4294967296 * 4294967296)");

  // Right at the edges nothing overflows.
  EXPECT_EQ(eval("9223372036854775807 + 0"), kMax);
  EXPECT_EQ(eval("-9223372036854775807 - 1"), kMin);
  EXPECT_EQ(eval("3037000499 * 3037000499"), 9223372030926249001);
  EXPECT_EQ(eval("-4611686018427387904 * 2"), kMin);
  EXPECT_EQ(eval("-a", {{"a", kMax}}), -kMax);
  EXPECT_EQ(eval("a - b", {{"a", -1}, {"b", kMax}}), kMin);
}

TEST(ExprTest, DivisionByZero) {
  const Vars vars = {{"n", 7}, {"d", 0}, {"seq_len", 128}};
  EXPECT_EQ(eval_error("n / d", vars), "division by zero in 'n / d' (7 / 0)");
  EXPECT_EQ(eval_error("n /// d", vars), "division by zero in 'n /// d' (7 /// 0)");
  EXPECT_EQ(eval_error("n % d", vars), "modulo by zero in 'n % d' (7 % 0)");
  EXPECT_EQ(eval_error("cdiv(n, d)", vars), "division by zero in 'cdiv(n, d)' (cdiv(7, 0))");
  EXPECT_EQ(eval_error("1 / 0"), "division by zero in '1 / 0' (1 / 0)");
  EXPECT_EQ(eval_error("0 * (1 % 0)"), "modulo by zero in '0 * (1 % 0)' (1 % 0)");
  EXPECT_EQ(eval_error("(seq_len + 127) / d", vars), "division by zero in '(seq_len + 127) / d' (255 / 0)");
  EXPECT_EQ(eval_error("d / d", {{"d", 0}}), "division by zero in 'd / d' (0 / 0)");
}

// --- The functions of Triton's heuristics ----------------------------------------------------------

// Checks `text` with x bound to each row's input, through both evaluators.
void expect_table(std::string_view text, std::initializer_list<std::pair<int64_t, int64_t>> rows) {
  const Expr expr = Expr::parse(text);
  for (const auto& [x, want] : rows) {
    SCOPED_TRACE(std::string(text) + " with x = " + std::to_string(x));
    EXPECT_EQ(expr.eval(lookup_in({{"x", x}})), want);
    EXPECT_EQ(eval_compiled(expr, {{"x", x}}), want);
  }
}

TEST(ExprTest, NextPowerOf2FollowsTriton) {
  // Expected values computed with triton.next_power_of_2 (triton/__init__.py), which gives 0 for
  // every n <= 0.
  expect_table("next_power_of_2(x)", {{kMin, 0},
                                      {-5, 0},
                                      {-1, 0},
                                      {0, 0},
                                      {1, 1},
                                      {2, 2},
                                      {3, 4},
                                      {4, 4},
                                      {5, 8},
                                      {7, 8},
                                      {8, 8},
                                      {9, 16},
                                      {127, 128},
                                      {128, 128},
                                      {129, 256},
                                      {1000, 1024},
                                      {1024, 1024},
                                      {1025, 2048},
                                      {65535, 65536},
                                      {65536, 65536},
                                      {65537, 131072},
                                      {1099511627777, 2199023255552},
                                      {4611686018427387903, 4611686018427387904},
                                      {4611686018427387904, 4611686018427387904}});
  // Past 2^62 the next power of two (2^63) does not fit in int64.
  EXPECT_EQ(eval_error("next_power_of_2(x)", {{"x", 4611686018427387905}}),
            "integer overflow in 'next_power_of_2(x)' (next_power_of_2(4611686018427387905))");
  EXPECT_EQ(eval_error("next_power_of_2(x) + 1", {{"x", kMax}}),
            "integer overflow in 'next_power_of_2(x) + 1' (next_power_of_2(9223372036854775807))");
}

TEST(ExprTest, Log2IsTheFloor) {
  // int(math.log2(x)) in Python for these; it rounds up just below large powers of two
  // (int(math.log2(2**63 - 1)) == 63), where log2 here stays exact.
  expect_table("log2(x)", {{1, 0},
                           {2, 1},
                           {3, 1},
                           {4, 2},
                           {7, 2},
                           {8, 3},
                           {9, 3},
                           {1023, 9},
                           {1024, 10},
                           {1025, 10},
                           {4294967296, 32},
                           {4611686018427387904, 62},
                           {4611686018427387903, 61},
                           {kMax, 62}});
  EXPECT_EQ(eval_error("log2(x)", {{"x", 0}}), "logarithm of a non-positive value in 'log2(x)' (log2(0))");
  EXPECT_EQ(eval_error("1 + log2(x - 8)", {{"x", 1}}),
            "logarithm of a non-positive value in '1 + log2(x - 8)' (log2(-7))");
  EXPECT_EQ(eval_error("log2(x)", {{"x", kMin}}),
            "logarithm of a non-positive value in 'log2(x)' (log2(-9223372036854775808))");
  // A Triton heuristic: the number of stages from a power-of-two block.
  EXPECT_EQ(eval("log2(next_power_of_2(n_cols)) - 4", {{"n_cols", 1000}}), 6);
}

TEST(ExprTest, AbsClampAndIsPowerOf2) {
  expect_table("abs(x)", {{0, 0}, {5, 5}, {-5, 5}, {kMax, kMax}, {kMin + 1, kMax}});
  EXPECT_EQ(eval_error("abs(x)", {{"x", kMin}}), "integer overflow in 'abs(x)' (abs(-9223372036854775808))");

  expect_table("clamp(x, 16, 1024)",
               {{kMin, 16}, {-3, 16}, {16, 16}, {100, 100}, {1024, 1024}, {1025, 1024}, {kMax, 1024}});
  // lo > hi gives hi: the value is min(max(x, lo), hi), whatever x.
  expect_table("clamp(x, 10, 5)", {{0, 5}, {7, 5}, {20, 5}});
  // Every argument is evaluated, left to right.
  EXPECT_EQ(eval_error("clamp(x, 1 / 0, x % 0)", {{"x", 3}}), "division by zero in 'clamp(x, 1 / 0, x % 0)' (1 / 0)");
  EXPECT_EQ(eval_error("clamp(x, 1, x % 0)", {{"x", 3}}), "modulo by zero in 'clamp(x, 1, x % 0)' (3 % 0)");

  expect_table("is_power_of_2(x)", {{kMin, 0},
                                    {-4, 0},
                                    {-1, 0},
                                    {0, 0},
                                    {1, 1},
                                    {2, 1},
                                    {3, 0},
                                    {64, 1},
                                    {96, 0},
                                    {4611686018427387904, 1},
                                    {kMax, 0}});
  // is_power_of_2 agrees with next_power_of_2 on positive values.
  for (int64_t x = 1; x <= 300; ++x) {
    EXPECT_EQ(eval("is_power_of_2(x) == (next_power_of_2(x) == x)", {{"x", x}}), 1) << x;
  }
}

// --- Parse errors (golden messages with column and caret) ----------------------------------------

TEST(ExprTest, ParseErrorMessages) {
  const std::string kKnown = "(known: min, max, cdiv, abs, clamp, next_power_of_2, log2, is_power_of_2)";
  const std::pair<std::string, std::string> cases[] = {
      {"a $ b", "unexpected character '$' at column 3\na $ b\n  ^"},
      {"2 * (a + b", "expected ')' to close '(' at column 5 at column 11\n2 * (a + b\n          ^"},
      {"(a + b c)", "expected ')' to close '(' at column 1 at column 8\n(a + b c)\n       ^"},
      {"a +", "expected an expression at column 4\na +\n   ^"},
      {")", "expected an expression at column 1\n)\n^"},
      {"a * / b", "expected an expression at column 5\na * / b\n    ^"},
      {"a // b", "expected an expression at column 4\na // b\n   ^"},
      {"a b", "unexpected 'b' after the end of the expression at column 3\na b\n  ^"},
      {"(a))", "unexpected ')' after the end of the expression at column 4\n(a))\n   ^"},
      {"a, b", "unexpected ',' after the end of the expression at column 2\na, b\n ^"},
      {"12abc", "unexpected 'abc' after the end of the expression at column 3\n12abc\n  ^"},
      {"99999999999999999999 + 1", "integer literal too large at column 1\n99999999999999999999 + 1\n^"},
      {"x + 9223372036854775808", "integer literal too large at column 5\nx + 9223372036854775808\n    ^"},
      {"-9223372036854775808", "integer literal too large at column 2\n-9223372036854775808\n ^"},
      {"foo(1)", "unknown function 'foo' " + kKnown + " at column 1\nfoo(1)\n^"},
      {"1 + T.size(2)", "unknown function 'T.size' " + kKnown + " at column 5\n1 + T.size(2)\n    ^"},
      {"log(8)", "unknown function 'log' " + kKnown + " at column 1\nlog(8)\n^"},
      {"cdiv(1, 2, 3)", "'cdiv' takes 2 arguments, got 3 at column 1\ncdiv(1, 2, 3)\n^"},
      {"2 * cdiv(1)", "'cdiv' takes 2 arguments, got 1 at column 5\n2 * cdiv(1)\n    ^"},
      {"cdiv()", "'cdiv' takes 2 arguments, got 0 at column 1\ncdiv()\n^"},
      {"min()", "'min' takes at least 1 argument, got 0 at column 1\nmin()\n^"},
      {"max()", "'max' takes at least 1 argument, got 0 at column 1\nmax()\n^"},
      {"abs()", "'abs' takes 1 argument, got 0 at column 1\nabs()\n^"},
      {"abs(a, b)", "'abs' takes 1 argument, got 2 at column 1\nabs(a, b)\n^"},
      {"1 + log2(a, 2)", "'log2' takes 1 argument, got 2 at column 5\n1 + log2(a, 2)\n    ^"},
      {"next_power_of_2()", "'next_power_of_2' takes 1 argument, got 0 at column 1\nnext_power_of_2()\n^"},
      {"is_power_of_2(a, b, c)", "'is_power_of_2' takes 1 argument, got 3 at column 1\nis_power_of_2(a, b, c)\n^"},
      {"clamp(a, 1)", "'clamp' takes 3 arguments, got 2 at column 1\nclamp(a, 1)\n^"},
      {"2 * clamp(a, 1, 2, 3)", "'clamp' takes 3 arguments, got 4 at column 5\n2 * clamp(a, 1, 2, 3)\n    ^"},
      {"clamp()", "'clamp' takes 3 arguments, got 0 at column 1\nclamp()\n^"},
      {"log2(a b)", "expected ',' or ')' to close 'log2(' at column 1 at column 8\nlog2(a b)\n       ^"},
      {"min(a b)", "expected ',' or ')' to close 'min(' at column 1 at column 7\nmin(a b)\n      ^"},
      {"max(a,", "expected an expression at column 7\nmax(a,\n      ^"},
      {"min(a,)", "expected an expression at column 7\nmin(a,)\n      ^"},
      {"T.", "unexpected character '.' at column 2\nT.\n ^"},
      {"T.5", "unexpected character '.' at column 2\nT.5\n ^"},
      {"a\t$", "unexpected character '$' at column 3\na\t$\n \t^"},
      {"a \x01", "unexpected character '\\x01' at column 3\na ?\n  ^"},
      {"a \xc3\x97 b", "unexpected character '\\xc3' at column 3\na ?? b\n  ^"},
      {"a +\n$", "unexpected character '$' at column 5\na + $\n    ^"},
      {"", "empty expression at column 1\n\n^"},
      {"  \t ", "empty expression at column 1\n  \t \n^"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_error(text), message);
  }
}

TEST(ExprTest, NestingLimit) {
  const auto nest = [](int n, const std::string& open, const std::string& inner, const std::string& close) {
    std::string s;
    for (int i = 0; i < n; ++i) s += open;
    s += inner;
    for (int i = 0; i < n; ++i) s += close;
    return s;
  };
  EXPECT_EQ(eval(nest(64, "(", "a", ")"), {{"a", 5}}), 5);
  EXPECT_EQ(eval(nest(64, "-", "a", ""), {{"a", 5}}), 5);
  const std::string too_deep = nest(65, "(", "a", ")");
  EXPECT_EQ(parse_error(too_deep),
            "expression nests deeper than 64 levels at column 65\n" + too_deep + "\n" + std::string(64, ' ') + "^");
  const std::string minus = nest(65, "-", "a", "");
  EXPECT_EQ(parse_error(minus),
            "expression nests deeper than 64 levels at column 65\n" + minus + "\n" + std::string(64, ' ') + "^");
  // Each call and each right-hand operand opens a level too.
  EXPECT_NO_THROW(Expr::parse(nest(64, "min(1, ", "a", ")")));
  EXPECT_NE(parse_error(nest(65, "min(1, ", "a", ")")).find("nests deeper than 64 levels at column 449"),
            std::string::npos);
  EXPECT_NO_THROW(Expr::parse(nest(64, "abs(", "a", ")")));
  EXPECT_NE(parse_error(nest(65, "abs(", "a", ")")).find("nests deeper than 64 levels at column 257"),
            std::string::npos);
  EXPECT_NO_THROW(Expr::parse(nest(32, "1 - (", "a", ")")));
  EXPECT_NE(parse_error(nest(33, "1 - (", "a", ")")).find("nests deeper than 64 levels at column 163"),
            std::string::npos);
  // A long left-associative chain stays on one level.
  std::string chain = "a";
  for (int i = 0; i < 1000; ++i) chain += " + a";
  EXPECT_EQ(eval(chain, {{"a", 2}}), 2002);

  // The deepest Program stack the parser allows (65 values) evaluates correctly.
  const Expr deepest = Expr::parse(nest(64, "min(9, ", "a", ")"));
  EXPECT_EQ(eval_compiled(deepest, {{"a", 3}}), 3);
  EXPECT_EQ(eval_compiled(deepest, {{"a", 30}}), 9);
  const Expr deepest_clamp = Expr::parse(nest(64, "clamp(9, 1, ", "a", ")"));
  EXPECT_EQ(eval_compiled(deepest_clamp, {{"a", 3}}), 3);
  EXPECT_EQ(eval_compiled(deepest_clamp, {{"a", 30}}), 9);
  EXPECT_EQ(deepest_clamp.eval(lookup_in({{"a", 3}})), 3);
  const Expr deepest_unary = Expr::parse(nest(64, "next_power_of_2(", "a", ")"));
  EXPECT_EQ(eval_compiled(deepest_unary, {{"a", 30}}), 32);
  const Expr right_deep = Expr::parse(nest(32, "1 - (", "a", ")"));
  EXPECT_EQ(eval_compiled(right_deep, {{"a", 7}}), 7);
  EXPECT_EQ(right_deep.eval(lookup_in({{"a", 7}})), 7);

  // Pathological inputs fail cleanly instead of overflowing the parser's stack.
  EXPECT_EQ(parse_error(std::string(100000, '(')),
            "expression is longer than 4096 characters (100000, not counting whitespace)");
  EXPECT_EQ(parse_error(std::string(100000, '-')),
            "expression is longer than 4096 characters (100000, not counting whitespace)");
  EXPECT_EQ(parse_error(std::string(4000, '-') + "a").rfind("expression nests deeper than 64 levels at column 65\n", 0),
            0u);
  EXPECT_EQ(parse_error(std::string(4000, '(')).rfind("expression nests deeper than 64 levels at column 65\n", 0), 0u);
}

TEST(ExprTest, LengthLimit) {
  std::string longest;  // 4096 characters: "1+1+...+11"
  for (int i = 0; i < 2047; ++i) longest += "1+";
  longest += "11";
  ASSERT_EQ(longest.size(), 4096u);
  const Expr expr = Expr::parse(longest);
  EXPECT_EQ(expr.eval(lookup_in({})), 2047 + 11);
  // The canonical text is longer than 4096 characters, but whitespace does not count.
  EXPECT_GT(expr.to_string().size(), 4096u);
  EXPECT_TRUE(same_tree(Expr::parse(expr.to_string()).root(), expr.root()));
  EXPECT_EQ(parse_error(longest + "1"), "expression is longer than 4096 characters (4097, not counting whitespace)");
  EXPECT_NO_THROW(Expr::parse(std::string(10000, ' ') + "a" + std::string(10000, '\n')));
}

// --- to_string, names, lookup -------------------------------------------------------------------

TEST(ExprTest, ToStringRoundTrips) {
  const char* texts[] = {
      "a",  "42", "-a", "--a", "a + b * c", "(a + b) * c", "a - (b - c)", "a - b - c", "a / (b * c)",
      "a /// b % c", "a % (b /// c)", "-(a + b)", "-(-a * b)", "min(a, b)", "max(a, b, c)", "cdiv(a * b, c + 1)",
      "min(max(a, 1), cdiv(b, 2))", "-min(a)", "T.size - T.stride.x * 2", "((a * (b + (c - d))) / (e % f))",
      "abs(-a)", "-abs(a - b)", "clamp(a, b - 1, c * 2)", "next_power_of_2(a) * 2", "log2(a + 1) - 1",
      "is_power_of_2(a) * a", "clamp(abs(a), log2(b), next_power_of_2(c in {1, 2}))",
  };
  for (const char* text : texts) {
    SCOPED_TRACE(text);
    const Expr expr = Expr::parse(text);
    const std::string canonical = expr.to_string();
    const Expr again = Expr::parse(canonical);
    EXPECT_TRUE(same_tree(expr.root(), again.root()));
    EXPECT_EQ(again.to_string(), canonical);
  }
  EXPECT_EQ(Expr::parse("((a * (b + (c - d))) / (e % f))").to_string(), "a * (b + (c - d)) / (e % f)");
}

TEST(ExprTest, Names) {
  EXPECT_EQ(Expr::parse("a + b * a + T.size - min(b, c)").names(),
            (std::vector<std::string>{"a", "b", "T.size", "c"}));
  EXPECT_EQ(Expr::parse("cdiv(n, BLOCK) * 2 + 1").names(), (std::vector<std::string>{"n", "BLOCK"}));
  EXPECT_TRUE(Expr::parse("min(1, 2) + 3").names().empty());
  EXPECT_EQ(Expr::parse("x.y").names(), (std::vector<std::string>{"x.y"}));
  EXPECT_EQ(Expr::parse("clamp(next_power_of_2(n), lo, hi) + log2(lo) * abs(x) - is_power_of_2(n)").names(),
            (std::vector<std::string>{"n", "lo", "hi", "x"}));
}

TEST(ExprTest, UnknownNames) {
  const Expr expr = Expr::parse("a + zz");
  EXPECT_EQ(error_of(ErrorCode::kEvaluation, [&] { expr.eval(lookup_in({{"a", 1}})); }),
            "unknown name 'zz' in 'a + zz'");
  EXPECT_EQ(error_of(ErrorCode::kEvaluation,
                     [&] { expr.compile([](std::string_view name) { return name == "a" ? 0 : -1; }); }),
            "unknown name 'zz' in 'a + zz'");
  EXPECT_EQ(expr.eval(lookup_in({{"a", 1}, {"zz", 2}})), 3);
}

TEST(ExprTest, ProgramEvaluation) {
  const Expr expr = Expr::parse("(seq_len + 127) / 128 * heads");
  // Slots need not follow names() order, and slots may be unused.
  const Program program = expr.compile([](std::string_view name) { return name == "heads" ? 0 : 2; });
  EXPECT_EQ(program.text(), "(seq_len + 127) / 128 * heads");
  const int64_t slots[] = {8, 999, 300};
  EXPECT_EQ(program.eval(slots), 3 * 8);
  const Program copy = program;  // a Program is a value
  EXPECT_EQ(copy.eval(std::vector<int64_t>{2, 0, 1}), 2);

  EXPECT_EQ(error_of(ErrorCode::kInvalidArgument, [&] { program.eval(std::vector<int64_t>{8}); }),
            "slot 2 of '(seq_len + 127) / 128 * heads' is out of range (1 slots given)");
  EXPECT_EQ(error_of(ErrorCode::kInvalidArgument, [] { Program().eval({}); }),
            "empty Program: make one with Expr::compile");
  EXPECT_EQ(error_of(ErrorCode::kInvalidArgument, [] { Expr().to_string(); }), "empty Expr: make one with Expr::parse");
  EXPECT_EQ(Expr::parse("42").compile([](std::string_view) { return -1; }).eval({}), 42);
}

// PluginGen's grid expressions.
TEST(ExprTest, GridExpressions) {
  const Expr seq = Expr::parse("(seq_len + 127) / 128");
  EXPECT_EQ(seq.to_string(), "(seq_len + 127) / 128");
  const std::pair<int64_t, int64_t> seq_cases[] = {{0, 0}, {1, 1}, {127, 1}, {128, 1}, {129, 2}, {4096, 32}, {4097, 33}};
  for (const auto& [seq_len, blocks] : seq_cases) {
    EXPECT_EQ(seq.eval(lookup_in({{"seq_len", seq_len}})), blocks) << seq_len;
    EXPECT_EQ(eval_compiled(seq, {{"seq_len", seq_len}}), blocks) << seq_len;
  }
  const Expr bh = Expr::parse("batch_size * num_heads");
  EXPECT_EQ(bh.names(), (std::vector<std::string>{"batch_size", "num_heads"}));
  EXPECT_EQ(eval_compiled(bh, {{"batch_size", 4}, {"num_heads", 32}}), 128);
  const Expr blocks = Expr::parse("n /// BLOCK");
  for (int64_t n : {0, 1, 127, 128, 129, 1000, 1024, 1025}) {
    const Vars vars = {{"n", n}, {"BLOCK", 128}};
    const int64_t expected = (n + 127) / 128;
    EXPECT_EQ(blocks.eval(lookup_in(vars)), expected) << n;
    EXPECT_EQ(eval_compiled(blocks, vars), expected) << n;
    EXPECT_EQ(eval("cdiv(n, BLOCK)", vars), expected) << n;
    EXPECT_EQ(eval("(n + BLOCK - 1) / BLOCK", vars), expected) << n;
  }
}

// --- Property test: random expressions against an independent 128-bit reference ---------------

__extension__ typedef __int128 Wide;

struct RefNode {
  enum Kind { kConstant, kName, kNeg, kBinary, kCall } kind = kConstant;
  int64_t value = 0;
  std::string name;
  char op = '+';  // '+', '-', '*', '/', 'c' (///), '%'
  std::string function;
  std::vector<RefNode> args;
};

// Floor division written differently from the library: normalise the divisor's sign first.
Wide floor_div(Wide a, Wide b) {
  if (b < 0) {
    a = -a;
    b = -b;
  }
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// The functions of one argument, by loops over 128-bit values rather than bit tricks.
std::optional<int64_t> function_of_one(const std::string& function, int64_t value) {
  const Wide v = value;
  if (function == "abs") {
    const Wide r = v < 0 ? -v : v;
    return r > kMax ? std::nullopt : std::optional<int64_t>(static_cast<int64_t>(r));
  }
  if (function == "next_power_of_2") {
    if (v <= 0) return 0;  // as triton.next_power_of_2
    Wide p = 1;
    while (p < v) p *= 2;
    return p > kMax ? std::nullopt : std::optional<int64_t>(static_cast<int64_t>(p));
  }
  if (function == "log2") {
    if (v <= 0) return std::nullopt;
    int64_t log = 0;
    for (Wide p = 2; p <= v; p *= 2) ++log;
    return log;
  }
  // is_power_of_2
  for (Wide p = 1; p <= v; p *= 2) {
    if (p == v) return 1;
  }
  return 0;
}

// The value, or nullopt where evaluation must fail (a result outside int64, a zero divisor or log2
// of a value <= 0).
std::optional<int64_t> reference(const RefNode& n, const Vars& vars) {
  const auto in_range = [](Wide v) -> std::optional<int64_t> {
    if (v < kMin || v > kMax) return std::nullopt;
    return static_cast<int64_t>(v);
  };
  const auto combine = [&](char op, Wide a, Wide b) -> std::optional<int64_t> {
    switch (op) {
      case '+': return in_range(a + b);
      case '-': return in_range(a - b);
      case '*': return in_range(a * b);
      case '/': return b == 0 ? std::nullopt : in_range(floor_div(a, b));
      case 'c': return b == 0 ? std::nullopt : in_range(-floor_div(-a, b));
      case '%': return b == 0 ? std::nullopt : in_range(a - b * floor_div(a, b));
      case '<': return static_cast<int64_t>(a < b ? a : b);
      case '>': return static_cast<int64_t>(a > b ? a : b);
    }
    return std::nullopt;
  };
  switch (n.kind) {
    case RefNode::kConstant: return n.value;
    case RefNode::kName: return vars.at(n.name);
    case RefNode::kNeg: {
      auto v = reference(n.args[0], vars);
      return v ? in_range(-Wide{*v}) : std::nullopt;
    }
    case RefNode::kBinary: {
      auto a = reference(n.args[0], vars);
      auto b = reference(n.args[1], vars);
      return a && b ? combine(n.op, *a, *b) : std::nullopt;
    }
    case RefNode::kCall: {
      if (n.args.size() == 1 && n.function != "min" && n.function != "max") {
        const auto v = reference(n.args[0], vars);
        return v ? function_of_one(n.function, *v) : std::nullopt;
      }
      if (n.function == "clamp") {
        std::optional<int64_t> x = reference(n.args[0], vars), lo = reference(n.args[1], vars),
                               hi = reference(n.args[2], vars);
        if (!x || !lo || !hi) return std::nullopt;
        return *x < *lo ? std::min(*lo, *hi) : std::min(*x, *hi);
      }
      const char op = n.function == "min" ? '<' : n.function == "max" ? '>' : 'c';
      auto acc = reference(n.args[0], vars);
      for (size_t i = 1; i < n.args.size() && acc; ++i) {
        auto v = reference(n.args[i], vars);
        acc = v ? combine(op, *acc, *v) : std::nullopt;
      }
      return acc;
    }
  }
  return std::nullopt;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  RefNode node(int depth) {
    RefNode n;
    const uint64_t choice = depth == 0 ? pick(2) : pick(10);
    if (choice == 0) {
      static const int64_t constants[] = {0, 1, 2, 3, 7, 127, 128, 4294967296, kMax};
      n.value = constants[pick(std::size(constants))];
    } else if (choice == 1) {
      n.kind = RefNode::kName;
      static const char* names[] = {"a", "b", "c", "T.size"};
      n.name = names[pick(std::size(names))];
    } else if (choice == 2) {
      n.kind = RefNode::kNeg;
      n.args.push_back(node(depth - 1));
    } else if (choice <= 7) {
      n.kind = RefNode::kBinary;
      n.op = "+-*/c%"[pick(6)];
      n.args.push_back(node(depth - 1));
      n.args.push_back(node(depth - 1));
    } else {
      n.kind = RefNode::kCall;
      static const char* functions[] = {"min",  "max",   "cdiv", "abs", "clamp", "next_power_of_2", "log2",
                                        "is_power_of_2"};
      n.function = functions[pick(std::size(functions))];
      const bool variadic = n.function == "min" || n.function == "max";
      const size_t count = variadic ? 1 + pick(3) : n.function == "cdiv" ? 2 : n.function == "clamp" ? 3 : 1;
      for (size_t i = 0; i < count; ++i) n.args.push_back(node(depth - 1));
    }
    return n;
  }

  // Fully parenthesised, with random spacing and occasional redundant parentheses.
  std::string render(const RefNode& n) {
    std::string s;
    switch (n.kind) {
      case RefNode::kConstant: s = std::to_string(n.value); break;
      case RefNode::kName: s = n.name; break;
      case RefNode::kNeg: s = "-" + space() + render(n.args[0]); break;
      case RefNode::kBinary: {
        const std::string op = n.op == 'c' ? "///" : std::string(1, n.op);
        s = "(" + render(n.args[0]) + space() + op + space() + render(n.args[1]) + ")";
        break;
      }
      case RefNode::kCall:
        s = n.function + space() + "(";
        for (size_t i = 0; i < n.args.size(); ++i) s += (i ? "," + space() : "") + render(n.args[i]);
        s += ")";
        break;
    }
    return pick(8) == 0 ? "(" + s + ")" : s;
  }

  Vars values() {
    static const int64_t interesting[] = {0, 1, -1, 2, -2, 3, -7, 127, 128, 1000, 3037000500,
                                          -4294967296, kMax, kMin, kMax - 1, kMin + 1};
    Vars vars;
    for (const char* name : {"a", "b", "c", "T.size"}) vars[name] = interesting[pick(std::size(interesting))];
    return vars;
  }

 private:
  uint64_t pick(uint64_t n) { return rng_() % n; }
  std::string space() { return pick(3) == 0 ? " " : ""; }
  std::mt19937_64 rng_;
};

TEST(ExprTest, RandomExpressionsAgreeWithReference) {
  uint64_t seed = 20240601;
  if (const char* env = std::getenv("TRITONPACK_EXPR_SEED")) seed = std::strtoull(env, nullptr, 10);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with TRITONPACK_EXPR_SEED=" + std::to_string(seed) + ")");
  Generator gen(seed);
  int values_checked = 0, errors_checked = 0;
  for (int i = 0; i < 500; ++i) {
    const RefNode tree = gen.node(5);
    const std::string text = gen.render(tree);
    SCOPED_TRACE("expression #" + std::to_string(i) + ": " + text);
    std::optional<Expr> expr;
    ASSERT_NO_THROW(expr = Expr::parse(text));
    const Expr canonical = Expr::parse(expr->to_string());
    ASSERT_TRUE(same_tree(expr->root(), canonical.root())) << expr->to_string();
    ASSERT_EQ(canonical.to_string(), expr->to_string());
    for (int k = 0; k < 3; ++k) {
      const Vars vars = gen.values();
      std::string shown;
      for (const auto& [name, value] : vars) shown += name + "=" + std::to_string(value) + " ";
      SCOPED_TRACE(shown);
      const std::optional<int64_t> want = reference(tree, vars);
      if (want) {
        ++values_checked;
        ASSERT_EQ(expr->eval(lookup_in(vars)), *want);
        ASSERT_EQ(eval_compiled(*expr, vars), *want);
        ASSERT_EQ(canonical.eval(lookup_in(vars)), *want);
      } else {
        ++errors_checked;
        ASSERT_FALSE(eval_error(text, vars).empty());
      }
    }
  }
  // The generator must exercise both outcomes substantially.
  EXPECT_GT(values_checked, 300);
  EXPECT_GT(errors_checked, 100);
}

}  // namespace
}  // namespace tritonpack::expr

// Nested 'in' repeats its value per member when compiled: a hostile expression would grow
// exponentially, so compiling stops at a size limit with a parse error instead of taking minutes.
TEST(ExprCompile, NestedInStopsAtTheProgramSizeLimit) {
  std::string text = "x";
  for (int i = 0; i < 10; ++i) text = "(" + text + " in {1, 2, 3, 4})";
  const tritonpack::expr::Expr e = tritonpack::expr::Expr::parse(text);
  try {
    (void)e.compile([](std::string_view) { return 0; });
    ADD_FAILURE() << "compiled";
  } catch (const tritonpack::Error& error) {
    EXPECT_EQ(error.code(), tritonpack::ErrorCode::kParse);
    EXPECT_NE(std::string(error.what()).find("compiles to more than 16384 operations"), std::string::npos) << error.what();
  }
  int64_t x = 3;
  EXPECT_EQ(e.eval([&](std::string_view, int64_t& v) { v = x; return true; }), 1);  // the tree evaluates it once
}
