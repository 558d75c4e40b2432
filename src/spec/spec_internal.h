// tritonpack: internals shared by the spec reader's files. spec_parse.cpp reads TOML (and is the
// only file that includes toml++); the rules that need no TOML live in spec_rules.cpp, and the
// pre-pass that guards toml++ in spec_toml_guard.cpp.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/manifest.h"
#include "tritonpack/spec.h"
#include "util/text.h"

namespace tritonpack::spec::detail {

using text::is_identifier;
using text::join;
bool is_power_of_two(int64_t v);
std::string all_dtype_names();  // "fp16, bf16, fp32, ..."

// "unknown key 'nmae' in [kernel] (did you mean 'name'?); allowed keys: name, source, ..."
std::string unknown_key_message(std::string_view key, std::string_view where,
                                std::initializer_list<std::string_view> allowed);

// What an expression may name. Always: constexpr params whose values are integers or booleans.
struct ExprScope {
  bool runtime_values = true;  // i32/i64 scalar params and launch variables
  bool dims = false;           // dim names of input tensors and descriptors (constraints, heuristics)
  bool type_sizes = false;     // <TypeVar>.size ([bench])
  bool constexprs = true;      // constexpr params (not in a tuning key: it is known before a variant)
  bool sm_count = false;       // SM_COUNT, the device's SM count (grids only; a scalar's `dim` too)
};

// Why an expression elsewhere may not name SM_COUNT: "SM_COUNT (the device's SM count) may only be
// used in kernel.grid and in dim-size arguments (a scalar's dim)".
std::string sm_count_refusal();

// Why `name` cannot name a param, launch variable or dim (SM_COUNT is reserved), or an empty string.
std::string reserved_name_problem(std::string_view name);

// Checks that `text` (the value of `key`) parses as an expression and names only what `scope`
// allows. Returns the problem, starting with `key`, or nullopt.
std::optional<std::string> expression_problem(const Spec& spec, const std::string& key, const std::string& text,
                                              ExprScope scope);

// Every value a constexpr param is compiled with: its value/values, or what the configs set.
std::vector<Constant> compiled_values(const Spec& spec, const std::string& constexpr_name);

// The dim names of a kernel: identifiers in the dims of its input tensors and descriptors.
std::vector<std::string> dim_names(const KernelInfo& kernel);

// Checks the plugin keys of a kernel for consistency (docs/spec-format.md, "Plugin keys"): rule
// patterns name input tensors, targets name outputs/scratch tensors or dim-size scalars, every
// name a dims/dim/constraint expression uses is known. Returns the first problem, or nullopt.
std::optional<std::string> plugin_model_problem(const KernelInfo& kernel);

struct TextPosition {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in code points (as toml++ counts)
};

struct TomlHazard {
  TextPosition at;
  std::string message;
};

// Finds the first place in the text where toml++ 3.3 would abort or hit undefined behaviour
// instead of failing to parse (details and upstream bugs in spec_toml_guard.cpp), so the reader
// can report a syntax error there before toml++ sees the text.
std::optional<TomlHazard> find_toml_hazard(std::string_view toml_text);

}  // namespace tritonpack::spec::detail
