// libFuzzer target for the shape-rule parser and evaluators (include/tritonpack/rule.h,
// symbolic.h).
//
// Any bytes either parse or throw Error(kParse). For what parses: the canonical text is a fixed
// point; binding to several shapes either works or throws Error(kShape); where the concrete
// output shapes (or dim-size value) exist, the symbolic evaluation through an integer builder
// gives the same numbers; through one that hides constants (an engine's dynamic dims) it gives
// them too, or refuses next_power_of_2, log2 and is_power_of_2 of a non-constant value as
// documented.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/int_builder.h"
#include "common/symbolic_refusal.h"
#include "tritonpack/error.h"
#include "tritonpack/rule.h"
#include "tritonpack/symbolic.h"

namespace {

using tritonpack::Error;
using tritonpack::ErrorCode;
using tritonpack::rule::Rule;
using tritonpack::rule::Shape;

[[noreturn]] void violated(const char* what, std::string_view text, const std::string& detail) {
  std::fprintf(stderr, "rule_fuzz: %s\ninput: %.*s\n%s\n", what, static_cast<int>(text.size()), text.data(),
               detail.c_str());
  std::abort();
}

using tritonpack::testing::IntBuilder;
using tritonpack::testing::is_symbolic_refusal;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<Rule> rule;
  try {
    rule = Rule::parse(text);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kParse) violated("parse threw a non-parse error", text, e.what());
    return 0;
  }
  const std::string canonical = rule->to_string();
  try {
    if (Rule::parse(canonical).to_string() != canonical) violated("to_string is not a fixed point", text, canonical);
  } catch (const Error& e) {
    violated("the canonical text does not parse", text, canonical + "\n" + e.what());
  }

  // Every input of the rule gets the same shape; several shapes of several ranks.
  const std::vector<Shape> shapes = {{}, {3}, {2, 5}, {2, 4, 100, 64}, {1, 1, 1, 1, 7}, {0, 9, 128}};
  for (const Shape& shape : shapes) {
    const auto shape_of = [&](std::string_view) -> const Shape* { return &shape; };
    const auto outer = [](std::string_view, int64_t& v) {
      v = 6;  // every free name is 6
      return true;
    };
    std::vector<Shape> concrete;
    std::optional<int64_t> value;
    try {
      const tritonpack::rule::Binding b = tritonpack::rule::bind(*rule, shape_of);
      if (rule->kind() == Rule::Kind::kDimSize) {
        value = tritonpack::rule::eval_in(rule->value(), b, outer);
      } else {
        concrete = tritonpack::rule::output_shapes(*rule, b, outer);
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kShape) violated("bind/evaluate threw a non-shape error", text, e.what());
      continue;
    }
    const auto dims_of = [&](std::string_view) -> const std::vector<int64_t>* { return &shape; };
    const tritonpack::symbolic::Lookup<int64_t> sym_outer = [](std::string_view, int64_t& v) {
      v = 6;
      return true;
    };
    for (const auto constants : {IntBuilder::Constants::kKnown, IntBuilder::Constants::kHidden}) {
      IntBuilder builder(constants);
      try {
        if (value) {
          const int64_t got = tritonpack::symbolic::dim_size<int64_t>(*rule, builder, dims_of, sym_outer);
          if (got != *value) violated("symbolic and concrete dim sizes differ", text, std::to_string(got));
        } else {
          const auto got = tritonpack::symbolic::output_shapes<int64_t>(*rule, builder, dims_of, sym_outer);
          if (got != concrete) violated("symbolic and concrete shapes differ", text, canonical);
        }
      } catch (const Error& e) {
        // One known difference: a % b is lowered to a - (a / b) * b, whose product can overflow
        // where % itself does not (INT64_MIN % -1 gives 0). Engines' builders have the same
        // operations.
        if (canonical.find('%') != std::string::npos) continue;
        if (constants == IntBuilder::Constants::kHidden && is_symbolic_refusal(e)) continue;
        violated("symbolic evaluation failed where the concrete one succeeded", text, e.what());
      }
    }
  }
  return 0;
}
