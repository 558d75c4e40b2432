// Unit tests of shape rules (include/tritonpack/rule.h) and of the comparisons the expression
// language gained for constraints. Error texts are checked in golden_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"

namespace tritonpack::rule {
namespace {

using Shapes = std::map<std::string, Shape, std::less<>>;

auto shapes_of(const Shapes& shapes) {
  return [&shapes](std::string_view name) -> const Shape* {
    auto it = shapes.find(name);
    return it == shapes.end() ? nullptr : &it->second;
  };
}

std::vector<Shape> outputs(std::string_view text, const Shapes& shapes) {
  const Rule rule = Rule::parse(text);
  return output_shapes(rule, bind(rule, shapes_of(shapes)), {});
}

int64_t dim_arg(std::string_view text, const Shapes& shapes) {
  const Rule rule = Rule::parse(text);
  return eval_in(rule.value(), bind(rule, shapes_of(shapes)), {});
}

int64_t eval(std::string_view text) {
  return expr::Expr::parse(text).eval([](std::string_view, int64_t&) { return false; });
}

TEST(RuleTest, PluginGenFmhaRulesMeanWhatTheySay) {
  const Shapes q{{"Q", {2, 4, 100, 64}}};
  EXPECT_EQ(outputs("Q[*] -> Out[*]", q), (std::vector<Shape>{{2, 4, 100, 64}}));
  EXPECT_EQ(outputs("Q[m,n,k,*] -> L[m,n,k]", q), (std::vector<Shape>{{2, 4, 100}}));
  EXPECT_EQ(outputs("Q[m,n,k,*] -> M[m,n,k]", q), (std::vector<Shape>{{2, 4, 100}}));
  EXPECT_EQ(dim_arg("Q[m,n,k,*] : m -> batch_size", q), 2);
  EXPECT_EQ(dim_arg("Q[m,n,k,*] : k -> seq_len", q), 100);
}

TEST(RuleTest, KindsAndParts) {
  const Rule shape = Rule::parse("A[m, k], B[k, n, *] -> C[m, n], D[*]");
  EXPECT_EQ(shape.kind(), Rule::Kind::kShape);
  ASSERT_EQ(shape.inputs().size(), 2u);
  ASSERT_EQ(shape.outputs().size(), 2u);
  EXPECT_EQ(shape.outputs()[1].tensor, "D");
  EXPECT_TRUE(shape.outputs()[1].dims[0].rest);
  const Rule dim = Rule::parse("Q[m,n,k,*] : (k + 127) / 128 -> blocks");
  EXPECT_EQ(dim.kind(), Rule::Kind::kDimSize);
  EXPECT_EQ(dim.target(), "blocks");
  EXPECT_EQ(dim.value().to_string(), "(k + 127) / 128");
}

TEST(RuleTest, CanonicalTextRoundTrips) {
  for (const char* text : {"Q[*] -> Out[*]", "Q[m,n,k,*] -> L[m,n,k]", "Q[m,n,k,*] : k -> seq_len",
                           "A[m,k],B[k,n]->C[m,n]", "X[a, 3, *] -> Y[a*2+1, *, max(a, 8) /// 4]",
                           "S[] -> T[]", "Q[b, *, d] : b * d % 7 -> n",
                           // Found by rule_fuzz: a parenthesised comparison must keep its parentheses.
                           "Q[b,h,s,d] : (s == U) -> g", "X[a] -> Y[(a in {1, 2}), (a < 3) * 4]"}) {
    const Rule rule = Rule::parse(text);
    const std::string canonical = rule.to_string();
    EXPECT_EQ(Rule::parse(canonical).to_string(), canonical) << text;
  }
  EXPECT_EQ(Rule::parse("Q[m,n,k,*]->L[m,n,k]").to_string(), "Q[m, n, k, *] -> L[m, n, k]");
}

TEST(RuleTest, ExpressionsInTargetsHaveRealPrecedence) {
  // PluginGen has no precedence; tritonpack does: 2 + 3 * k is 2 + (3 * k).
  EXPECT_EQ(outputs("X[k] -> Y[2 + 3 * k, (2 + 3) * k, k - 1 - 1, k / 2 * 2, k /// 4]", {{"X", {7}}}),
            (std::vector<Shape>{{23, 35, 5, 6, 2}}));
}

TEST(RuleTest, RestMatchesTheRemainingDimsWherever) {
  EXPECT_EQ(outputs("X[a, *, z] -> Y[z, *, a]", {{"X", {1, 2, 3, 4}}}), (std::vector<Shape>{{4, 2, 3, 1}}));
  EXPECT_EQ(outputs("X[a, *] -> Y[*]", {{"X", {5}}}), (std::vector<Shape>{{}}));
  EXPECT_EQ(outputs("X[*] -> Y[*, 2]", {{"X", {}}}), (std::vector<Shape>{{2}}));
}

TEST(RuleTest, RepeatedNamesAndConstantsAreChecked) {
  EXPECT_EQ(outputs("A[m, k], B[k, n] -> C[m, n]", {{"A", {2, 3}}, {"B", {3, 5}}}), (std::vector<Shape>{{2, 5}}));
  EXPECT_THROW(outputs("A[m, k], B[k, n] -> C[m, n]", {{"A", {2, 3}}, {"B", {4, 5}}}), Error);
  EXPECT_EQ(outputs("X[n, 64] -> Y[n]", {{"X", {3, 64}}}), (std::vector<Shape>{{3}}));
  EXPECT_THROW(outputs("X[n, 64] -> Y[n]", {{"X", {3, 128}}}), Error);
}

TEST(RuleTest, OuterNamesResolveAfterBoundOnes) {
  const Rule rule = Rule::parse("X[n] -> Y[n * heads, n]");
  const Shapes shapes{{"X", {3}}};
  const auto outer = [](std::string_view name, int64_t& v) {
    if (name == "heads") v = 8;
    if (name == "n") v = 1000;  // shadowed by the pattern's n
    return name == "heads" || name == "n";
  };
  EXPECT_EQ(output_shapes(rule, bind(rule, shapes_of(shapes)), outer), (std::vector<Shape>{{24, 3}}));
}

TEST(RuleTest, ErrorsAreShapeErrors) {
  try {
    outputs("X[n] -> Y[n - 10]", {{"X", {3}}});
    FAIL() << "a negative size must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kShape);
  }
  try {
    outputs("X[n] -> Y[n / 0]", {{"X", {3}}});
    FAIL() << "division by zero must be an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kShape);
  }
}

TEST(ExprComparisonTest, ComparisonsAndSets) {
  EXPECT_EQ(eval("3 == 3"), 1);
  EXPECT_EQ(eval("3 != 3"), 0);
  EXPECT_EQ(eval("2 < 3"), 1);
  EXPECT_EQ(eval("3 <= 3"), 1);
  EXPECT_EQ(eval("2 > 3"), 0);
  EXPECT_EQ(eval("3 >= 4"), 0);
  EXPECT_EQ(eval("64 in {64, 128}"), 1);
  EXPECT_EQ(eval("96 in {64, 128}"), 0);
  EXPECT_EQ(eval("2 * 32 in {64}"), 1);  // the sum binds tighter than 'in'
  EXPECT_EQ(eval("1 + 2 == 3"), 1);      // and tighter than '=='
  EXPECT_EQ(eval("(1 == 1) + (2 == 2)"), 2);
  EXPECT_EQ(eval("max(1 < 2, 0)"), 1);
}

TEST(ExprComparisonTest, CanonicalTextRoundTrips) {
  for (const char* text : {"a == b", "(a == b) == c", "a == (b == c)", "a + 1 in {2, 3 * 4}", "(a in {1}) < 2",
                           "-(a < b)", "min(a >= b, c)"}) {
    const expr::Expr e = expr::Expr::parse(text);
    EXPECT_EQ(expr::Expr::parse(e.to_string()).to_string(), e.to_string()) << text;
  }
}

TEST(ExprComparisonTest, CompiledProgramAgrees) {
  const expr::Expr e = expr::Expr::parse("(x in {1, y, 3}) + (x < y) * 10");
  EXPECT_THROW(expr::Expr::parse("x in {1, y, 3} + 1"), Error);  // the set ends the comparison
  for (int64_t x = 0; x < 5; ++x) {
    for (int64_t y = 0; y < 5; ++y) {
      const int64_t slots[] = {x, y};
      const expr::Program program = e.compile([](std::string_view n) { return n == "x" ? 0 : n == "y" ? 1 : -1; });
      const int64_t want = e.eval([&](std::string_view n, int64_t& v) {
        v = n == "x" ? x : y;
        return true;
      });
      EXPECT_EQ(program.eval(slots), want) << x << " " << y;
    }
  }
}

}  // namespace
}  // namespace tritonpack::rule
