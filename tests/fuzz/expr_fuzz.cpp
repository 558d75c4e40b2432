// libFuzzer target for the expression parser and evaluators (include/tritonpack/expr.h).
//
// Any bytes either parse or throw Error(kParse). For what parses: the canonical text parses to
// the same tree and is a fixed point of to_string, and Expr::eval and the compiled Program agree
// (same value, or the same error message) under several assignments of values to the names.
// Where the value exists, every call of abs, clamp, next_power_of_2, log2 and is_power_of_2 in
// the tree has the value its definition gives, and the symbolic evaluation (symbolic.h) through
// integer handles gives it too; a builder that hides constants gives it or refuses
// next_power_of_2, log2 and is_power_of_2 as documented.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/int_builder.h"
#include "common/same_tree.h"
#include "common/symbolic_refusal.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/symbolic.h"

namespace {

using tritonpack::Error;
using tritonpack::ErrorCode;
using tritonpack::expr::Expr;
using tritonpack::expr::Function;
using tritonpack::expr::Node;
using tritonpack::expr::Program;
using tritonpack::testing::IntBuilder;
using tritonpack::testing::is_symbolic_refusal;

[[noreturn]] void violated(const char* what, std::string_view text, const std::string& detail) {
  std::fprintf(stderr, "expr_fuzz: %s\ninput: %.*s\n%s\n", what, static_cast<int>(text.size()), text.data(),
               detail.c_str());
  std::abort();
}

using tritonpack::testing::same_tree;

// A value, or the message of the evaluation error.
struct Outcome {
  std::optional<int64_t> value;
  std::string error;
  std::string show() const { return value ? std::to_string(*value) : "error: " + error; }
  bool operator==(const Outcome& o) const { return value == o.value && error == o.error; }
};

template <typename Fn>
Outcome outcome_of(std::string_view text, Fn&& fn) {
  try {
    return {fn(), ""};
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kEvaluation) violated("evaluation threw a non-evaluation error", text, e.what());
    return {std::nullopt, e.what()};
  }
}

constexpr int64_t kInteresting[] = {
    0, 1, -1, 2, -2, 3, 7, -7, 127, 128, 4096, 3037000500, -4294967296,
    std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
    int64_t{1} << 62, (int64_t{1} << 62) + 1,
};
constexpr size_t kNumInteresting = sizeof(kInteresting) / sizeof(kInteresting[0]);

__extension__ typedef __int128 Wide;

// The value of a call from its definition (docs/expressions.md), written apart from the library;
// nullopt for other functions. Evaluation succeeded, so the arguments are in each one's domain.
std::optional<Wide> defined_value(Function function, const std::vector<int64_t>& x) {
  switch (function) {
    case Function::kAbs: return x[0] < 0 ? -Wide{x[0]} : Wide{x[0]};
    case Function::kClamp: return std::min(std::max(x[0], x[1]), x[2]);
    case Function::kNextPowerOf2: {
      Wide p = 1;
      while (p < x[0]) p *= 2;
      return x[0] <= 0 ? 0 : p;
    }
    case Function::kLog2: {
      Wide log = 0;
      for (Wide p = 2; p <= x[0]; p *= 2) ++log;
      return log;
    }
    case Function::kIsPowerOf2: return x[0] > 0 && (x[0] & (x[0] - 1)) == 0 ? 1 : 0;
    case Function::kMin:
    case Function::kMax:
    case Function::kCdiv: return std::nullopt;
  }
  return std::nullopt;
}

// After the whole tree evaluated, every subtree does too (nothing short-circuits).
void check_calls(const Node& node, const std::string& source, const tritonpack::symbolic::Lookup<int64_t>& lookup,
                 std::string_view text) {
  for (const auto& arg : node.args) check_calls(*arg, source, lookup, text);
  if (node.kind != Node::Kind::kCall || node.function == Function::kMin || node.function == Function::kMax ||
      node.function == Function::kCdiv) {
    return;
  }
  std::vector<int64_t> args;
  for (const auto& arg : node.args) args.push_back(Expr::from_node(arg, source).eval(lookup));
  const Expr call = Expr::from_node(std::make_shared<Node>(node), source);
  if (Wide{call.eval(lookup)} != defined_value(node.function, args)) {
    violated("a call does not have its defined value", text, call.to_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<Expr> expr;
  try {
    expr = Expr::parse(text);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kParse) violated("parse threw a non-parse error", text, e.what());
    return 0;
  }

  const std::string canonical = expr->to_string();
  std::optional<Expr> again;
  try {
    again = Expr::parse(canonical);
  } catch (const Error& e) {
    violated("the canonical text does not parse", text, canonical + "\n" + e.what());
  }
  if (again->to_string() != canonical) violated("to_string is not a fixed point", text, canonical);
  if (!same_tree(expr->root(), again->root())) violated("the canonical text parses to another tree", text, canonical);

  const std::vector<std::string> names = expr->names();
  const auto slot_of = [&](std::string_view name) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  // Every name has a slot, so compile throws only for a program over its size limit (nested 'in').
  Program program;
  try {
    program = expr->compile(slot_of);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kParse || std::string(e.what()).find("operations") == std::string::npos) {
      violated("compile threw", text, e.what());
    }
    return 0;
  }

  std::vector<int64_t> slots(names.size());
  for (size_t assignment = 0; assignment < 6; ++assignment) {
    // The first assignments give every name the same value; later ones mix them.
    for (size_t i = 0; i < slots.size(); ++i) {
      slots[i] = kInteresting[(assignment < 3 ? assignment : assignment * 5 + i * 7 + size) % kNumInteresting];
    }
    const auto lookup = [&](std::string_view name, int64_t& value) {
      const int slot = slot_of(name);
      if (slot < 0) return false;
      value = slots[static_cast<size_t>(slot)];
      return true;
    };
    const Outcome tree = outcome_of(text, [&] { return expr->eval(lookup); });
    const Outcome compiled = outcome_of(text, [&] { return program.eval(slots); });
    if (!(tree == compiled)) {
      violated("Expr::eval and Program::eval disagree", text, tree.show() + " vs " + compiled.show());
    }
    // The canonical tree evaluates to the same value (messages differ: they quote the source).
    const Outcome canon = outcome_of(text, [&] { return again->eval(lookup); });
    if (canon.value != tree.value) violated("the canonical text evaluates differently", text, canonical);
    if (!tree.value) continue;

    check_calls(expr->root(), expr->source(), lookup, text);
    for (const auto constants : {IntBuilder::Constants::kKnown, IntBuilder::Constants::kHidden}) {
      IntBuilder builder(constants);
      try {
        const int64_t got = tritonpack::symbolic::build<int64_t>(*expr, builder, lookup);
        if (got != *tree.value) violated("symbolic and concrete evaluation differ", text, std::to_string(got));
      } catch (const Error& e) {
        // a % b is lowered to a - (a / b) * b, whose product can overflow where % does not (as
        // in engines' builders, which have the same operations).
        if (canonical.find('%') != std::string::npos) continue;
        if (constants == IntBuilder::Constants::kHidden && is_symbolic_refusal(e)) continue;
        violated("symbolic evaluation failed where the concrete one succeeded", text, e.what());
      }
    }
  }
  return 0;
}
