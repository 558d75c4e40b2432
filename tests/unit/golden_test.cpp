// Golden tests of error messages: every parse and evaluation error of the expression and rule
// language, compared in full with tests/golden/*.golden.
//
// A golden file is a list of cases. "### <kind> <input>" starts one; the lines after it, up to the
// next "###", are the expected message. Kinds:
//   expr TEXT                 Expr::parse(TEXT) must fail
//   eval TEXT                 Expr::parse(TEXT).eval() with a = 5, b = 0, big = 2^62 must fail
//   rule TEXT                 Rule::parse(TEXT) must fail
//   bind TEXT | Q=2x3 K=4     the rule parses; binding it to these shapes must fail
//   symbolic TEXT             symbolic::build of Expr::parse(TEXT) through TextBuilder, every name
//                             standing for itself (not a constant), must fail
//   long-expr N / long-rule N an expression (rule) of N non-space characters must fail
// TRITONPACK_UPDATE_GOLDEN=1 rewrites the files with the messages of this build (review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"
#include "tritonpack/symbolic.h"

namespace tritonpack {
namespace {

struct Case {
  std::string kind, input, expected;
};

std::vector<Case> read_cases(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("### ", 0) == 0) {
      const size_t space = line.find(' ', 4);
      cases.push_back({line.substr(4, space - 4), space == std::string::npos ? "" : line.substr(space + 1), ""});
    } else if (!cases.empty()) {
      cases.back().expected += line + "\n";
    }
  }
  for (Case& c : cases) {
    while (!c.expected.empty() && c.expected.back() == '\n') c.expected.pop_back();
  }
  return cases;
}

rule::Shape parse_shape(const std::string& text) {
  rule::Shape shape;
  std::stringstream in(text);
  std::string dim;
  while (std::getline(in, dim, 'x')) {
    if (!dim.empty()) shape.push_back(std::stoll(dim));
  }
  return shape;
}

// The message the case produces, or "" if it does not fail.
std::string message_of(const Case& c) {
  try {
    if (c.kind == "expr") {
      (void)expr::Expr::parse(c.input);
    } else if (c.kind == "eval") {
      (void)expr::Expr::parse(c.input).eval([](std::string_view name, int64_t& v) {
        if (name == "a") v = 5;
        if (name == "b") v = 0;
        if (name == "big") v = int64_t{1} << 62;
        return name == "a" || name == "b" || name == "big";
      });
    } else if (c.kind == "symbolic") {
      symbolic::TextBuilder text;
      (void)symbolic::build<std::string>(expr::Expr::parse(c.input), text, [](std::string_view name, std::string& v) {
        v = std::string(name);
        return true;
      });
    } else if (c.kind == "rule") {
      (void)rule::Rule::parse(c.input);
    } else if (c.kind == "long-expr") {
      (void)expr::Expr::parse(std::string(std::stoul(c.input), 'a'));
    } else if (c.kind == "long-rule") {
      (void)rule::Rule::parse("Q[*] -> Out[" + std::string(std::stoul(c.input) - 11, 'a') + "]");
    } else if (c.kind == "bind") {
      const size_t bar = c.input.find(" | ");
      const rule::Rule r = rule::Rule::parse(c.input.substr(0, bar));
      std::map<std::string, rule::Shape, std::less<>> shapes;
      std::stringstream in(c.input.substr(bar + 3));
      std::string item;
      while (in >> item) {
        const size_t eq = item.find('=');
        shapes[item.substr(0, eq)] = parse_shape(item.substr(eq + 1));
      }
      const auto shape_of = [&](std::string_view n) -> const rule::Shape* {
        auto it = shapes.find(n);
        return it == shapes.end() ? nullptr : &it->second;
      };
      const rule::Binding b = rule::bind(r, shape_of);
      if (r.kind() == rule::Rule::Kind::kDimSize) {
        (void)rule::eval_in(r.value(), b, {});
      } else {
        (void)rule::output_shapes(r, b, {});
      }
    } else {
      return "unknown case kind '" + c.kind + "'";
    }
  } catch (const Error& e) {
    return std::string(error_code_name(e.code())) + ": " + e.what();
  }
  return "";
}

void check_golden(const std::string& name) {
  const std::string path = std::string(TRITONPACK_SOURCE_DIR) + "/tests/golden/" + name;
  const std::vector<Case> cases = read_cases(path);
  ASSERT_FALSE(cases.empty()) << path;
  const char* update = std::getenv("TRITONPACK_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ifstream in(path);
    std::string header, line;
    while (std::getline(in, line) && line.rfind("### ", 0) != 0) header += line + "\n";
    std::ofstream out(path);
    out << header;
    for (const Case& c : cases) out << "### " << c.kind << " " << c.input << "\n" << message_of(c) << "\n\n";
    return;
  }
  for (const Case& c : cases) {
    const std::string got = message_of(c);
    EXPECT_FALSE(got.empty()) << c.kind << " " << c.input << ": expected an error, got none";
    EXPECT_EQ(got, c.expected) << c.kind << " " << c.input;
  }
}

TEST(Golden, ExpressionAndRuleErrors) { check_golden("language_errors.golden"); }

}  // namespace
}  // namespace tritonpack
