// libFuzzer target for the expression parser and evaluators (include/tritonpack/expr.h).
//
// Any bytes either parse or throw Error(kParse). For what parses: the canonical text parses to
// the same tree and is a fixed point of to_string, and Expr::eval and the compiled Program agree
// (same value, or the same error message) under several assignments of values to the names.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/same_tree.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"

namespace {

using tritonpack::Error;
using tritonpack::ErrorCode;
using tritonpack::expr::Expr;
using tritonpack::expr::Node;
using tritonpack::expr::Program;

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
};
constexpr size_t kNumInteresting = sizeof(kInteresting) / sizeof(kInteresting[0]);

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
  const Program program = expr->compile(slot_of);  // every name has a slot: must not throw

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
  }
  return 0;
}
