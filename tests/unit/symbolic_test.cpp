// Property tests: the symbolic evaluator (include/tritonpack/symbolic.h) agrees with the concrete
// one on random expressions, through an integer builder that implements TensorRT's nine
// operations independently, and through the text builder (build, print, parse, evaluate).
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/error_of.h"
#include "common/int_builder.h"
#include "common/symbolic_refusal.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"
#include "tritonpack/symbolic.h"

namespace tritonpack::symbolic {
namespace {

using testing::IntBuilder;
using testing::is_symbolic_refusal;

// Random expression text over a, b, c with every operator and function of the language.
class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  std::string expression(int depth) {
    if (depth == 0 || pick(4) == 0) return atom();
    switch (pick(9)) {
      case 0: return "(" + expression(depth - 1) + " " + arithmetic() + " " + expression(depth - 1) + ")";
      case 1: return "(" + expression(depth - 1) + " " + arithmetic() + " " + expression(depth - 1) + ")";
      case 2: return "-" + atom();
      case 3: return std::string(pick(2) ? "min(" : "max(") + expression(depth - 1) + ", " + expression(depth - 1) + ")";
      case 4: return "cdiv(" + expression(depth - 1) + ", " + expression(depth - 1) + ")";
      case 5: return "(" + expression(depth - 1) + " " + comparison() + " " + expression(depth - 1) + ")";
      case 6: return function_of_one() + "(" + expression(depth - 1) + ")";
      case 7:
        return "clamp(" + expression(depth - 1) + ", " + expression(depth - 1) + ", " + expression(depth - 1) + ")";
      default: return "(" + expression(depth - 1) + " in {" + expression(depth - 1) + ", " + atom() + "})";
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string atom() {
    if (pick(2)) return std::string(1, static_cast<char>('a' + pick(3)));
    return std::to_string(pick(41) - 20);
  }
  std::string arithmetic() {
    static const char* ops[] = {"+", "-", "*", "/", "///", "%"};
    return ops[pick(6)];
  }
  std::string comparison() {
    static const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
    return ops[pick(6)];
  }
  std::string function_of_one() {
    static const char* functions[] = {"abs", "next_power_of_2", "log2", "is_power_of_2"};
    return functions[pick(4)];
  }
  std::mt19937 rng_;
};

template <class Fn>
bool refused(Fn&& build_it) {
  try {
    build_it();
  } catch (const Error& e) {
    return is_symbolic_refusal(e);
  }
  return false;
}

using Vars = std::map<std::string, int64_t, std::less<>>;

// a and b in [-50, 50], c in [1, 1000], drawn in that order.
Vars random_vars(std::mt19937& rng) {
  return {{"a", std::uniform_int_distribution<int64_t>(-50, 50)(rng)},
          {"b", std::uniform_int_distribution<int64_t>(-50, 50)(rng)},
          {"c", std::uniform_int_distribution<int64_t>(1, 1000)(rng)}};
}

std::optional<int64_t> concrete(const expr::Expr& e, const Vars& vars) {
  try {
    return e.eval([&](std::string_view name, int64_t& v) {
      auto it = vars.find(name);
      if (it == vars.end()) return false;
      v = it->second;
      return true;
    });
  } catch (const Error&) {
    return std::nullopt;
  }
}

// e built on integer handles, every name looked up in vars.
int64_t build_int(const expr::Expr& e, IntBuilder& builder, const Vars& vars) {
  return build<int64_t>(e, builder, [&](std::string_view name, int64_t& v) {
    v = vars.find(name)->second;
    return true;
  });
}

TEST(SymbolicTest, IntegerBuilderAgreesWithConcreteEvaluation) {
  Generator gen(12345);
  std::mt19937 rng(777);
  int compared = 0;
  for (int i = 0; i < 4000; ++i) {
    const expr::Expr e = expr::Expr::parse(gen.expression(4));
    const Vars vars = random_vars(rng);
    const std::optional<int64_t> want = concrete(e, vars);
    if (!want) continue;  // division by zero or overflow: the concrete evaluator refuses
    IntBuilder builder;
    const int64_t got = build_int(e, builder, vars);
    ASSERT_EQ(got, *want) << e.source();
    ++compared;
  }
  EXPECT_GT(compared, 2000);  // most random expressions evaluate
}

// A builder that cannot see constants (an engine's dynamic dims) builds every expression the same
// way, except that next_power_of_2, log2 and is_power_of_2 of a name are refused.
TEST(SymbolicTest, HiddenConstantsAgreeOrAreRefused) {
  Generator gen(4242);
  std::mt19937 rng(31);
  int compared = 0, refusals = 0;
  for (int i = 0; i < 4000; ++i) {
    const expr::Expr e = expr::Expr::parse(gen.expression(4));
    const Vars vars = random_vars(rng);
    const std::optional<int64_t> want = concrete(e, vars);
    if (!want) continue;
    IntBuilder builder(IntBuilder::Constants::kHidden);
    try {
      const int64_t got = build_int(e, builder, vars);
      ASSERT_EQ(got, *want) << e.source();
      ++compared;
    } catch (const Error& error) {
      ASSERT_TRUE(is_symbolic_refusal(error)) << e.source() << ": " << error.what();
      ++refusals;
    }
  }
  EXPECT_GT(compared, 1000);
  EXPECT_GT(refusals, 100);
}

TEST(SymbolicTest, TextBuilderParsesBackToTheSameValue) {
  Generator gen(99);
  int compared = 0;
  for (int i = 0; i < 2000; ++i) {
    const expr::Expr e = expr::Expr::parse(gen.expression(3));
    const Vars vars{{"a", 7}, {"b", -3}, {"c", 12}};
    const std::optional<int64_t> want = concrete(e, vars);
    if (!want) continue;
    TextBuilder text;
    std::string built;
    try {
      built = build<std::string>(e, text, [](std::string_view name, std::string& v) {
        v = std::string(name);
        return true;
      });
    } catch (const Error& error) {
      ASSERT_TRUE(is_symbolic_refusal(error)) << e.source() << ": " << error.what();
      continue;
    }
    // The lowered text computes the same value, so it may fail only where the original did.
    ASSERT_EQ(concrete(expr::Expr::parse(built), vars), want) << e.source() << "  =>  " << built;
    ++compared;
  }
  EXPECT_GT(compared, 1000);
}

TEST(SymbolicTest, RuleOutputShapesAgreeWithConcreteShapes) {
  // Symbolic dims are the concrete dims through IntBuilder: both paths must give the same shapes.
  const char* rules[] = {"Q[*] -> Out[*]", "Q[m,n,k,*] -> L[m,n,k]", "Q[m,n,k,*] -> L[m * n, k]",
                         "Q[b, h, s, d] -> O[b, h, (s + 127) / 128, d % 7, max(s, d) /// 16]",
                         "A[m, k], B[k2, n] -> C[m, n, k - k2 + 1]"};
  const std::map<std::string, rule::Shape, std::less<>> shapes{{"Q", {2, 3, 130, 64}}, {"A", {5, 6}}, {"B", {6, 7}}};
  for (const char* text : rules) {
    const rule::Rule r = rule::Rule::parse(text);
    const auto shape_of = [&](std::string_view n) -> const rule::Shape* {
      auto it = shapes.find(n);
      return it == shapes.end() ? nullptr : &it->second;
    };
    const std::vector<rule::Shape> want = rule::output_shapes(r, rule::bind(r, shape_of), {});
    IntBuilder builder;
    const std::vector<std::vector<int64_t>> got = output_shapes<int64_t>(r, builder, shape_of);
    EXPECT_EQ(got, want) << text;
  }
  const rule::Rule seq = rule::Rule::parse("Q[m,n,k,*] : k -> seq_len");
  IntBuilder builder;
  const auto q_dims = [&](std::string_view n) -> const std::vector<int64_t>* {
    static const std::vector<int64_t> q{2, 3, 130, 64};
    return n == "Q" ? &q : nullptr;
  };
  EXPECT_EQ(dim_size<int64_t>(seq, builder, q_dims), 130);
}

TEST(SymbolicTest, FunctionsLowerOrFold) {
  TextBuilder text;
  const auto names = [](std::string_view name, std::string& v) {
    v = name == "n_static" ? "64" : std::string(name);  // a dim the builder knows to be 64
    return true;
  };
  const auto text_of = [&](std::string_view source) {
    return build<std::string>(expr::Expr::parse(source), text, names);
  };
  EXPECT_EQ(text_of("abs(a)"), "max(a, (0 - a))");
  EXPECT_EQ(text_of("clamp(x, 16, hi)"), "min(max(x, 16), hi)");
  // Name-free arguments and arguments the builder knows to be constant fold.
  EXPECT_EQ(text_of("next_power_of_2(100) * n"), "(128 * n)");
  EXPECT_EQ(text_of("log2(2 * 512) + is_power_of_2(-(4))"), "(10 + 0)");
  EXPECT_EQ(text_of("next_power_of_2(n_static)"), "64");
  EXPECT_EQ(text_of("log2(n_static) - is_power_of_2(n_static)"), "(6 - 1)");
  // Folding evaluates as Expr::eval does, errors included.
  EXPECT_EQ(testing::error_of([&] { text_of("n + log2(3 - 3)"); }, ErrorCode::kEvaluation),
            "logarithm of a non-positive value in 'n + log2(3 - 3)' (log2(0))");
  // Anything else is refused, naming the call and the expression.
  EXPECT_EQ(testing::error_of([&] { text_of("cdiv(n, next_power_of_2(m - 1))"); }, ErrorCode::kEvaluation),
            "'next_power_of_2(m - 1)' cannot be expressed with an engine's shape operations; next_power_of_2, log2 "
            "and is_power_of_2 need a constant argument (in 'cdiv(n, next_power_of_2(m - 1))')");

  // Through integer handles: known constants fold, hidden ones are refused.
  const auto m_is_100 = [](std::string_view, int64_t& v) {
    v = 100;
    return true;
  };
  const expr::Expr block = expr::Expr::parse("next_power_of_2(m) + log2(m) + is_power_of_2(m)");
  IntBuilder known;
  EXPECT_EQ(build<int64_t>(block, known, m_is_100), 128 + 6 + 0);
  IntBuilder hidden(IntBuilder::Constants::kHidden);
  EXPECT_TRUE(refused([&] { build<int64_t>(block, hidden, m_is_100); }));
  EXPECT_EQ(testing::error_of([&] { build<int64_t>(expr::Expr::parse("log2(m - 100)"), known, m_is_100); },
                              ErrorCode::kEvaluation),
            "logarithm of a non-positive value in 'log2(m - 100)' (log2(0))");
  EXPECT_EQ(build<int64_t>(expr::Expr::parse("clamp(abs(0 - m), 1, 64)"), hidden, m_is_100), 64);

  // In a rule: the block size of a softmax row.
  const rule::Rule r = rule::Rule::parse("X[rows, n] -> Y[rows, next_power_of_2(n)]");
  const std::vector<int64_t> x{8, 1000};
  const auto dims_of = [&](std::string_view) -> const std::vector<int64_t>* { return &x; };
  EXPECT_EQ(output_shapes<int64_t>(r, known, dims_of), (std::vector<std::vector<int64_t>>{{8, 1024}}));
  EXPECT_TRUE(refused([&] { output_shapes<int64_t>(r, hidden, dims_of); }));
}

TEST(SymbolicTest, TextOfPluginGenGrid) {
  TextBuilder text;
  const expr::Expr grid = expr::Expr::parse("(seq_len + 127) / 128");
  EXPECT_EQ(build<std::string>(grid, text, [](std::string_view n, std::string& v) {
              v = "Q.d" + std::string(n == "seq_len" ? "2" : "?");
              return true;
            }),
            "((Q.d2 + 127) / 128)");
}

}  // namespace
}  // namespace tritonpack::symbolic
