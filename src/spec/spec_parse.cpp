// tritonpack: reads a kernel spec (TOML, docs/spec-format.md) into a validated Spec.
//
// toml++ is slow to compile, so this is the only file that includes it; the rules that need no
// TOML are in spec_rules.cpp. Every error points at the key or value it is about
// ("<path>:<line>:<column>: "), and the planner (spec_plan.cpp) relies on what is checked here.
// toml++ is used with exceptions (toml::parse_error), the default for a C++ build with
// exceptions, spelled out so that the choice cannot drift.
#define TOML_EXCEPTIONS 1
// toml++ 3.3 states preconditions on its input as debug assertions (e.g. "a table name starts
// with a key character", marzer/tomlplusplus#301), so a header-only debug build aborts on
// malformed text that the release library (asserts compiled out, as in Debian's
// libtomlplusplus) reports as a parse_error. Library code must not abort: turn them off here
// too. Where toml++ goes wrong even without its asserts, detail::find_toml_hazard steps in.
#if !defined(NDEBUG) && !defined(TOML_ASSERT)
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "spec/spec_internal.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"
#include "tritonpack/spec.h"
#include "tritonpack/tuning.h"
#include "util/text.h"

namespace tritonpack::spec {
namespace {

namespace fs = std::filesystem;
using detail::is_identifier;

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

// A table's entries in the order they appear in the file: toml::table is a std::map sorted by
// key, but type variables keep their declaration order and errors report the first bad key.
std::vector<std::pair<const toml::key*, const toml::node*>> in_source_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : t) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
  });
  return entries;
}

// An expression string, checked once every param is known.
struct PendingExpr {
  const toml::node* node;
  std::string key;  // "kernel.grid[0]"
  detail::ExprScope scope;
};

class SpecReader {
 public:
  SpecReader(const toml::table& root, std::string path) : root_(root) { spec_.path = std::move(path); }

  Spec read() {
    read_version();
    check_keys(root_, "the top level",
               {"spec_version", "kernel", "types", "params", "launch_vars", "configs", "bench", "plugin", "tuning"});
    read_types(root_.get("types"));
    read_kernel(required_table(root_, "kernel", "the spec"));
    read_params(root_.get("params"));
    read_launch_vars(root_.get("launch_vars"));
    read_configs(root_.get("configs"));
    read_steps();
    read_bench(root_.get("bench"));
    read_plugin(root_.get("plugin"));
    read_tuning(root_.get("tuning"));
    // Syntax first, then the plugin model (its messages are the more specific for plugin
    // kernels), then the names each expression may use.
    for (const PendingExpr& e : pending_exprs_) check_expression(*e.node, e.key, e.node->as_string()->get());
    if (const auto problem = detail::plugin_model_problem(spec_.kernel)) {
      const toml::node* plugin = root_.get("plugin");
      fail(plugin ? plugin->source() : root_.source(), *problem);
    }
    for (const PendingExpr& e : pending_exprs_) {
      auto problem = detail::expression_problem(spec_, e.key, e.node->as_string()->get(), e.scope);
      if (problem) fail(e.node->source(), *problem);
    }
    check_heuristics();
    check_type_vars_used();
    return std::move(spec_);
  }

 private:
  // ---- errors and typed access ----

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
    std::string place = spec_.path;
    if (where.begin.line > 0) {
      place += ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
    }
    throw Error(ErrorCode::kInvalidSpec, place + ": " + message);
  }
  [[noreturn]] void type_error(const toml::node& n, const std::string& key, std::string_view expected) const {
    fail(n.source(), key + ": expected " + std::string(expected) + ", got " + type_name(n));
  }

  void check_keys(const toml::table& t, std::string_view where,
                  std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, node] : in_source_order(t)) {
      if (std::find(allowed.begin(), allowed.end(), key->str()) == allowed.end()) {
        fail(key->source(), detail::unknown_key_message(key->str(), where, allowed));
      }
    }
  }

  const toml::node& required(const toml::table& t, std::string_view key, const std::string& where,
                             std::string_view expected) const {
    const toml::node* n = t.get(key);
    if (!n) {
      fail(t.source(), where + " is missing the required key '" + std::string(key) + "' (" +
                           std::string(expected) + ")");
    }
    return *n;
  }
  const toml::table& required_table(const toml::table& t, std::string_view key, const std::string& where) const {
    return as_table(required(t, key, where, "a table"), std::string(key));
  }

  std::string as_string(const toml::node& n, const std::string& key) const {
    if (const auto* s = n.as_string()) return s->get();
    type_error(n, key, "a string");
  }
  int64_t as_int(const toml::node& n, const std::string& key) const {
    if (const auto* i = n.as_integer()) return i->get();
    type_error(n, key, "an integer");
  }
  // Constexpr values, of every kind Triton's JIT accepts: integers, booleans, floats, strings,
  // { dtype = "fp16" } (a Triton dtype) and { none = true } (None).
  Constant as_constexpr_value(const toml::node& n, const std::string& key) const {
    if (const auto* i = n.as_integer()) return Constant(i->get());
    if (const auto* b = n.as_boolean()) return Constant(b->get());
    if (const auto* f = n.as_floating_point()) {
      if (!std::isfinite(f->get())) fail(n.source(), key + ": a float constexpr must be finite");
      return Constant(f->get());
    }
    if (const auto* s = n.as_string()) {
      if (s->get().size() > kMaxConstantString) {
        fail(n.source(), key + ": a string constexpr is at most " + std::to_string(kMaxConstantString) + " bytes");
      }
      return Constant(s->get());
    }
    if (const auto* t = n.as_table(); t && t->size() == 1) {
      if (const toml::node* d = t->get("dtype")) {
        const std::string name = as_string(*d, key + ".dtype");
        const std::optional<DType> dtype = parse_dtype(name);
        if (!dtype) fail(d->source(), key + ".dtype: '" + name + "' is not a dtype; expected one of " + detail::all_dtype_names());
        return Constant::dtype(*dtype);
      }
      if (const toml::node* none = t->get("none")) {
        if (!none->is_boolean() || !none->as_boolean()->get()) type_error(*none, key + ".none", "true");
        return Constant::none();
      }
    }
    type_error(n, key, "an integer, boolean, float, string, { dtype = \"fp16\" } or { none = true }");
  }
  const toml::array& as_array(const toml::node& n, const std::string& key, std::string_view expected) const {
    if (const auto* a = n.as_array()) return *a;
    type_error(n, key, expected);
  }
  const toml::table& as_table(const toml::node& n, const std::string& key) const {
    if (const auto* t = n.as_table()) return *t;
    type_error(n, key, "a table");
  }
  std::string identifier(const toml::node& n, const std::string& key) const {
    std::string s = as_string(n, key);
    if (!is_identifier(s)) {
      fail(n.source(), key + ": '" + s + "' is not an identifier (letters, digits and '_', not starting with a digit)");
    }
    return s;
  }
  int64_t int_in_range(const toml::node& n, const std::string& key, int64_t lo, int64_t hi,
                       bool power_of_two) const {
    int64_t v = as_int(n, key);
    if (v < lo || v > hi || (power_of_two && !detail::is_power_of_two(v))) {
      fail(n.source(), key + ": " + std::to_string(v) + " is out of range; expected " +
                           (power_of_two ? "a power of two" : "an integer") + " from " + std::to_string(lo) +
                           " to " + std::to_string(hi));
    }
    return v;
  }
  [[noreturn]] void listed_twice(const toml::node& n, const std::string& key, const std::string& value) const {
    fail(n.source(), key + ": " + value + " is listed twice");
  }

  // ---- the top level, [types] and [kernel] ----

  void read_version() {
    const toml::node& n = required(root_, "spec_version", "the spec", "an integer; write spec_version = 1");
    int64_t v = as_int(n, "spec_version");
    if (v > kSpecVersion) {
      fail(n.source(), "spec_version " + std::to_string(v) + " is newer than this tritonpack supports (" +
                           std::to_string(kSpecVersion) + ")");
    }
    if (v < 1) fail(n.source(), "spec_version " + std::to_string(v) + " is not a version; the first is 1");
    spec_.spec_version = static_cast<uint32_t>(v);
  }

  void read_types(const toml::node* node) {
    if (!node) return;
    for (const auto& [key, value] : in_source_order(as_table(*node, "types"))) {
      std::string name(key->str());
      std::string where = "types." + name;
      if (!is_identifier(name)) fail(key->source(), where + ": a type variable's name must be an identifier");
      if (parse_dtype(name)) {
        fail(key->source(), where + ": '" + name + "' is a dtype; a type variable needs another name");
      }
      const toml::array& list = as_array(*value, where, "an array of dtype names");
      if (list.empty()) fail(value->source(), where + ": list at least one dtype");
      TypeVarInfo var{name, {}};
      for (size_t i = 0; i < list.size(); ++i) {
        std::string item_key = where + "[" + std::to_string(i) + "]";
        std::string text = as_string(list[i], item_key);
        const std::optional<DType> dtype = parse_dtype(text);
        if (!dtype) {
          fail(list[i].source(),
               item_key + ": '" + text + "' is not a dtype; expected one of " + detail::all_dtype_names());
        }
        if (std::count(var.dtypes.begin(), var.dtypes.end(), *dtype)) listed_twice(list[i], item_key, "'" + text + "'");
        var.dtypes.push_back(*dtype);
      }
      spec_.kernel.type_vars.push_back(std::move(var));
    }
  }

  bool is_real_scalar(std::string_view name) const {
    const auto& params = spec_.kernel.params;
    return std::any_of(params.begin(), params.end(), [&](const ParamInfo& p) {
      return p.name == name && p.kind == ParamKind::kScalar && !p.dtype.is_variable() && is_float(p.dtype.dtype);
    });
  }

  bool is_type_var(std::string_view name) const {
    const auto& vars = spec_.kernel.type_vars;
    return std::any_of(vars.begin(), vars.end(), [&](const TypeVarInfo& v) { return v.name == name; });
  }

  void read_kernel(const toml::table& t) {
    check_keys(t, "[kernel]", {"name", "source", "function", "archs", "grid", "reference", "constraints", "steps"});
    KernelInfo& k = spec_.kernel;
    k.name = identifier(required(t, "name", "[kernel]", "a string"), "kernel.name");
    k.source_file = resolve_source(required(t, "source", "[kernel]", "a string, the Triton source file"));
    k.function = identifier(required(t, "function", "[kernel]", "a string, the Triton function's name"),
                            "kernel.function");
    if (const toml::node* r = t.get("reference")) k.reference = as_string(*r, "kernel.reference");
    read_archs(t.get("archs"));

    const std::string_view grid_type = "an array of 1 to 3 expression strings";
    const toml::node& grid_node = required(t, "grid", "[kernel]", grid_type);
    const toml::array& grid = as_array(grid_node, "kernel.grid", grid_type);
    if (grid.empty() || grid.size() > 3) {
      fail(grid_node.source(), "kernel.grid: expected 1 to 3 expressions, got " + std::to_string(grid.size()));
    }
    k.grid = {"1", "1", "1"};
    for (size_t i = 0; i < grid.size(); ++i) {
      std::string key = "kernel.grid[" + std::to_string(i) + "]";
      k.grid[i] = as_string(grid[i], key);
      pending_exprs_.push_back({&grid[i], key, {.sm_count = true}});
    }
    read_constraints(t.get("constraints"), "kernel.constraints");
    steps_node_ = t.get("steps");  // read once the params are known
  }

  // [kernel] steps: 2 to kMaxSteps tables of constexpr values. Each names the same constexprs, each
  // a variant axis ('values') that no heuristic chooses, with one of its values; no two steps alike.
  void read_steps() {
    if (!steps_node_) return;
    const std::string_view expected = "an array of 2 to 8 tables of constexpr values, e.g. [{ PHASE = 0 }, { PHASE = 1 }]";
    const toml::array& list = as_array(*steps_node_, "kernel.steps", expected);
    if (list.size() < 2 || list.size() > kMaxSteps) {
      fail(steps_node_->source(), "kernel.steps: expected 2 to " + std::to_string(kMaxSteps) + " steps, got " +
                                      std::to_string(list.size()));
    }
    KernelInfo& k = spec_.kernel;
    const auto param_index = [&](std::string_view name) {
      const auto it = std::find_if(k.params.begin(), k.params.end(), [&](const ParamInfo& p) { return p.name == name; });
      return static_cast<size_t>(it - k.params.begin());
    };
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "kernel.steps[" + std::to_string(i) + "]";
      const toml::table& t = as_table(list[i], where);
      if (t.empty()) fail(list[i].source(), where + ": a step names at least one constexpr, e.g. { PHASE = 0 }");
      std::vector<ConstexprValue> step;
      for (const auto& [key, value] : in_source_order(t)) {
        const std::string name(key->str());
        const std::string at = where + "." + name;
        const size_t index = param_index(name);
        if (index == k.params.size()) fail(key->source(), at + ": there is no param '" + name + "'");
        const ParamInfo& p = k.params[index];
        if (p.kind != ParamKind::kConstexpr) fail(key->source(), at + ": '" + name + "' is not a constexpr param");
        if (!listed_values_.count(name)) {
          fail(key->source(), at + ": '" + name + "' " +
                                  (spec_.constexpr_choices.count(name) ? "has one 'value'" : "is set by [[configs]]") +
                                  "; a step constexpr needs 'values' in [[params]], a variant for each step");
        }
        if (!p.heuristic.empty()) {
          fail(key->source(), at + ": '" + name + "' has a heuristic; a step constexpr takes its step's value");
        }
        Constant v = as_constexpr_value(*value, at);
        const std::vector<Constant>& allowed = spec_.constexpr_choices.at(name);
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
          std::vector<std::string> texts;
          for (const Constant& c : allowed) texts.push_back(c.text());
          fail(value->source(), at + ": " + v.text() + " is not one of the values of '" + name + "' (" +
                                    detail::join(texts, ", ") + ")");
        }
        step.push_back({name, std::move(v)});
      }
      const StepProblem problem = order_and_check_step(k, step, k.steps);
      const auto names = [](const std::vector<ConstexprValue>& values) {
        std::vector<std::string> out;
        for (const ConstexprValue& c : values) out.push_back(c.name);
        return out;
      };
      if (problem.kind == StepProblem::kOtherNames) {
        fail(list[i].source(), where + ": names " + detail::join(names(step), ", ") + ", kernel.steps[0] names " +
                                   detail::join(names(k.steps.front()), ", ") + "; every step names the same constexprs");
      }
      if (problem.kind == StepProblem::kSameValues) {
        fail(list[i].source(), where + ": the same values as kernel.steps[" + std::to_string(problem.earlier) +
                                   "] (" + step_text(step) + "); each step runs different ones");
      }
      k.steps.push_back(std::move(step));
    }
  }

  // Validity rules: each an expression that must be nonzero for a variant to run.
  void read_constraints(const toml::node* node, const std::string& key) {
    if (!node) return;
    const toml::array& list = as_array(*node, key, "an array of expression strings");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      spec_.kernel.constraints.push_back(as_string(list[i], item_key));
      pending_exprs_.push_back({&list[i], item_key, {.dims = true}});
    }
  }

  // Relative to the spec file's folder; stored absolute and canonical.
  std::string resolve_source(const toml::node& n) const {
    std::string given = as_string(n, "kernel.source");
    std::error_code ec;
    fs::path resolved = fs::absolute(fs::path(spec_.path).parent_path() / fs::path(given), ec);
    if (!ec) resolved = fs::weakly_canonical(resolved, ec);
    if (ec) fail(n.source(), "kernel.source: cannot resolve '" + given + "': " + ec.message());
    if (!fs::exists(resolved, ec)) {
      fail(n.source(), "kernel.source: the source file " + resolved.string() + " does not exist");
    }
    if (!fs::is_regular_file(resolved, ec)) fail(n.source(), "kernel.source: " + resolved.string() + " is not a file");
    return resolved.string();
  }

  void read_archs(const toml::node* node) {
    if (!node) {
      spec_.archs = {80, 90};
      return;
    }
    const toml::array& list = as_array(*node, "kernel.archs", "an array of strings like \"sm_90\"");
    if (list.empty()) fail(node->source(), "kernel.archs: list at least one arch, e.g. [\"sm_90\"]");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string key = "kernel.archs[" + std::to_string(i) + "]";
      std::string text = as_string(list[i], key);
      std::optional<uint32_t> arch = tritonpack::text::parse_arch(text);
      if (!arch) {
        fail(list[i].source(),
             key + ": '" + text + "' is not an arch; write sm_NN with NN from 50 to 200, e.g. \"sm_90\"");
      }
      if (std::count(spec_.archs.begin(), spec_.archs.end(), *arch)) listed_twice(list[i], key, "'" + text + "'");
      spec_.archs.push_back(*arch);
    }
  }

  // ---- [[params]] ----

  void read_params(const toml::node* node) {
    if (!node) fail(root_.source(), "the spec has no [[params]]; list every kernel parameter, in order");
    const toml::array& list = as_array(*node, "params", "an array of tables ([[params]])");
    if (list.empty()) fail(node->source(), "params: list at least one parameter");
    for (size_t i = 0; i < list.size(); ++i) read_param(list[i], "params[" + std::to_string(i) + "]");
    const auto& params = spec_.kernel.params;
    if (std::none_of(params.begin(), params.end(), [](const ParamInfo& p) {
          return p.kind == ParamKind::kTensor || p.kind == ParamKind::kTensorDesc;
        })) {
      fail(node->source(), "params: a kernel needs at least one tensor or tensordesc param");
    }
  }

  void read_param(const toml::node& node, const std::string& where) {
    const toml::table& t = as_table(node, where);
    check_keys(t, where, {"name", "kind", "dtype", "io", "divisibility", "numel", "value", "values", "heuristic",
                          "block", "layout", "dims", "field", "default", "dim"});
    ParamInfo p;
    const toml::node& name_node = required(t, "name", where, "a string");
    p.name = identifier(name_node, where + ".name");
    if (const std::string reserved = detail::reserved_name_problem(p.name); !reserved.empty()) {
      fail(name_node.source(), where + ".name: " + reserved);
    }
    for (const ParamInfo& other : spec_.kernel.params) {
      if (other.name == p.name) fail(name_node.source(), where + ".name: '" + p.name + "' is already a param");
    }
    const toml::node& kind_node = required(t, "kind", where, kKindChoices);
    const std::string kind = as_string(kind_node, where + ".kind");
    const std::optional<ParamKind> parsed_kind = parse_param_kind(kind);
    if (!parsed_kind) fail(kind_node.source(), where + ".kind: '" + kind + "' is not a kind; expected " + std::string(kKindChoices));
    p.kind = *parsed_kind;

    // Returns the key's node if this kind of param may set it; fails if it may not but does.
    auto only_for = [&](std::string_view key, bool allowed, std::string_view who) -> const toml::node* {
      const toml::node* n = t.get(key);
      if (n && !allowed) {
        fail(n->source(), where + "." + std::string(key) + ": only " + std::string(who) + " may set '" +
                              std::string(key) + "'; '" + p.name + "' is a " + kind + " param");
      }
      return n;
    };
    const bool tensor = p.kind == ParamKind::kTensor;
    const bool descriptor = p.kind == ParamKind::kTensorDesc;
    const bool constexpr_param = p.kind == ParamKind::kConstexpr;
    if (!constexpr_param) read_dtype(t, where, p);
    only_for("dtype", !constexpr_param, "tensor, descriptor and scalar params");
    if (const toml::node* io = only_for("io", tensor || descriptor, "tensor and tensordesc params")) {
      std::string value = as_string(*io, where + ".io");
      if (value != "in" && value != "out" && (value != "scratch" || descriptor)) {
        fail(io->source(), where + ".io: '" + value + "' must be \"in\", \"out\"" +
                               (descriptor ? " (a descriptor the kernel stores through)" : " or \"scratch\""));
      }
      p.is_output = value == "out";
      p.is_scratch = value == "scratch";
    }
    if (const toml::node* block = only_for("block", descriptor, "tensordesc params")) {
      read_block(*block, where + ".block", p);
    } else if (descriptor) {
      fail(t.source(), where + ": a tensordesc param needs 'block', its block shape (e.g. block = [64, 64] or "
                               "[\"BLOCK_M\", \"BLOCK_K\"])");
    }
    if (const toml::node* layout = only_for("layout", descriptor, "tensordesc params")) {
      p.layout = printable(*layout, where + ".layout", 4096);
    }
    if (const toml::node* dims = only_for("dims", tensor || descriptor, "tensor and tensordesc params")) {
      const toml::array& list = as_array(*dims, where + ".dims", "an array of dim names, integers or expressions");
      if (list.size() > 16) fail(dims->source(), where + ".dims: at most 16 dims");
      if (descriptor && list.size() != p.block.size()) {
        fail(dims->source(), where + ".dims: " + std::to_string(list.size()) + " dims, the block shape has " +
                                 std::to_string(p.block.size()));
      }
      for (size_t d = 0; d < list.size(); ++d) {
        const std::string key = where + ".dims[" + std::to_string(d) + "]";
        if (const auto* i = list[d].as_integer()) {
          if (i->get() < 0) fail(list[d].source(), key + ": a size is >= 0, got " + std::to_string(i->get()));
          p.dims.push_back(std::to_string(i->get()));
          continue;
        }
        p.dims.push_back(as_string(list[d], key));
        check_expression(list[d], key, p.dims.back());
        refuse_sm_count(list[d], key, p.dims.back());
      }
    }
    if (const toml::node* field = only_for("field", p.kind == ParamKind::kScalar, "scalar params")) {
      if (!field->is_boolean()) type_error(*field, where + ".field", "true or false");
      p.is_field = field->as_boolean()->get();
    }
    if (const toml::node* def = only_for("default", p.kind == ParamKind::kScalar, "scalar params")) {
      if (!p.is_field) fail(def->source(), where + ".default: only a field (field = true) has a default");
      if (const auto* i = def->as_integer()) {
        p.default_value = static_cast<double>(i->get());
      } else if (const auto* f = def->as_floating_point()) {
        p.default_value = f->get();
      } else {
        type_error(*def, where + ".default", "a number");
      }
      if (!std::isfinite(p.default_value)) fail(def->source(), where + ".default: must be finite");
      p.has_default = true;
    }
    if (const toml::node* dim = only_for("dim", p.kind == ParamKind::kScalar, "scalar params")) {
      p.dim = as_string(*dim, where + ".dim");
      check_expression(*dim, where + ".dim", p.dim);  // SM_COUNT allowed: the plugin model checks the names
      if (p.dtype.dtype != DType::kI32 && p.dtype.dtype != DType::kI64) {
        fail(dim->source(), where + ".dim: a dim-size argument is i32 or i64, not " + p.dtype.text());
      }
      if (p.is_field) fail(dim->source(), where + ": a param is a field or a dim-size argument ('dim'), not both");
    }
    const bool integer =
        tensor || (p.kind == ParamKind::kScalar && is_integer_scalar(p.dtype.dtype));
    if (const toml::node* div = only_for("divisibility", integer, "tensor params and i32/i64 scalar params")) {
      spec_.divisibility_choices[p.name] = read_divisibility(*div, where + ".divisibility");
    }
    if (const toml::node* numel = only_for("numel", tensor, "tensor params")) {
      p.numel = as_string(*numel, where + ".numel");
      pending_exprs_.push_back({numel, where + ".numel", {}});
    }
    const toml::node* value = only_for("value", constexpr_param, "constexpr params");
    const toml::node* values = only_for("values", constexpr_param, "constexpr params");
    if (value && values) fail(values->source(), where + ": set 'value' or 'values', not both");
    if (value) spec_.constexpr_choices[p.name] = {as_constexpr_value(*value, where + ".value")};
    if (values) {
      spec_.constexpr_choices[p.name] = read_constexpr_values(*values, where + ".values");
      listed_values_.insert(p.name);
    }
    if (const toml::node* heuristic = only_for("heuristic", constexpr_param, "constexpr params")) {
      p.heuristic = as_string(*heuristic, where + ".heuristic");
      pending_exprs_.push_back({heuristic, where + ".heuristic", {.dims = true}});
      heuristic_places_[p.name] = heuristic->source();
    }
    param_places_.push_back(node.source());
    spec_.kernel.params.push_back(std::move(p));
  }

  void read_dtype(const toml::table& t, const std::string& where, ParamInfo& p) const {
    const bool tensor = p.kind == ParamKind::kTensor || p.kind == ParamKind::kTensorDesc;
    const toml::node& n =
        required(t, "dtype", where, tensor ? "a dtype or a type variable" : "i32, i64, fp32, fp16 or bf16");
    const std::string text = as_string(n, where + ".dtype");
    const std::optional<DType> dtype = parse_dtype(text);
    if (tensor && !dtype && !is_type_var(text)) {
      fail(n.source(), where + ".dtype: '" + text + "' is neither a dtype (" + detail::all_dtype_names() +
                           ") nor a type variable from [types]");
    }
    if (!tensor && (!dtype || !is_scalar_dtype(*dtype))) {
      std::string why = is_type_var(text) ? "type variables are for tensor params; " : "";
      fail(n.source(),
           where + ".dtype: " + why + "a scalar param's dtype is i32, i64, fp32, fp16 or bf16, not '" + text + "'");
    }
    p.dtype = dtype ? DTypeRef::of(*dtype) : DTypeRef::variable(text);
  }

  // A descriptor's block shape: 1 to 5 positive integers or expressions over constexprs.
  void read_block(const toml::node& n, const std::string& key, ParamInfo& p) {
    const toml::array& list = as_array(n, key, "an array of 1 to 5 integers or expression strings");
    if (list.empty() || list.size() > 5) {
      fail(n.source(), key + ": a block shape has 1 to 5 dims, got " + std::to_string(list.size()));
    }
    for (size_t d = 0; d < list.size(); ++d) {
      const std::string item_key = key + "[" + std::to_string(d) + "]";
      if (list[d].is_integer()) {
        p.block.push_back(std::to_string(int_in_range(list[d], item_key, 1, kMaxBlockDim, false)));
        continue;
      }
      p.block.push_back(as_string(list[d], item_key));
      pending_exprs_.push_back({&list[d], item_key, {.runtime_values = false}});
    }
  }

  std::vector<uint32_t> read_divisibility(const toml::node& n, const std::string& key) const {
    std::vector<uint32_t> out;
    auto add = [&](const toml::node& item, const std::string& item_key) {
      if (!item.is_integer()) type_error(item, item_key, "an integer or an array of integers");
      auto v = static_cast<uint32_t>(int_in_range(item, item_key, 1, 4096, true));
      if (std::count(out.begin(), out.end(), v)) listed_twice(item, item_key, std::to_string(v));
      out.push_back(v);
    };
    if (const toml::array* list = n.as_array()) {
      if (list->empty()) fail(n.source(), key + ": list at least one value (1 = no hint)");
      for (size_t i = 0; i < list->size(); ++i) add((*list)[i], key + "[" + std::to_string(i) + "]");
    } else {
      add(n, key);
    }
    return out;
  }

  std::vector<Constant> read_constexpr_values(const toml::node& n, const std::string& key) const {
    const toml::array& list = as_array(n, key, "an array of constexpr values");
    if (list.empty()) fail(n.source(), key + ": list at least one value");
    std::vector<Constant> out;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string item_key = key + "[" + std::to_string(i) + "]";
      Constant v = as_constexpr_value(list[i], item_key);
      if (std::count(out.begin(), out.end(), v)) listed_twice(list[i], item_key, v.text());
      out.push_back(std::move(v));
    }
    return out;
  }

  // ---- [[configs]] and [bench] ----

  // Indices of the constexpr params that neither value nor values fixes: every config sets them.
  std::vector<size_t> config_set_constexprs() const {
    std::vector<size_t> out;
    const auto& params = spec_.kernel.params;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].kind == ParamKind::kConstexpr && !spec_.constexpr_choices.count(params[i].name)) out.push_back(i);
    }
    return out;
  }

  void read_configs(const toml::node* node) {
    const std::vector<size_t> open = config_set_constexprs();
    if (!node) {
      if (!open.empty()) {
        fail(param_places_[open[0]], "constexpr '" + spec_.kernel.params[open[0]].name +
                                         "' has no value: give it 'value' or 'values' in [[params]], or set it in "
                                         "every [[configs]]");
      }
      spec_.kernel.configs.push_back(ConfigInfo{"default", {}, 4, 3, 1});
      return;
    }
    const toml::array& list = as_array(*node, "configs", "an array of tables ([[configs]])");
    if (list.empty()) {
      fail(node->source(), "configs: list at least one config, or leave [[configs]] out for the default");
    }
    for (size_t i = 0; i < list.size(); ++i) read_config(list[i], "configs[" + std::to_string(i) + "]", i, open);
  }

  void read_config(const toml::node& node, const std::string& where, size_t index, const std::vector<size_t>& open) {
    const toml::table& t = as_table(node, where);
    check_keys(t, where, {"name", "num_warps", "num_stages", "num_ctas", "launch_pdl", "constexprs"});
    ConfigInfo c;
    c.name = "c" + std::to_string(index);
    const toml::node* name = t.get("name");
    if (name) c.name = identifier(*name, where + ".name");
    for (const ConfigInfo& other : spec_.kernel.configs) {
      if (other.name == c.name) {
        fail(name ? name->source() : t.source(), where + ".name: config name '" + c.name + "' is already taken");
      }
    }
    auto number = [&](const char* key, int64_t lo, int64_t hi, bool power_of_two, uint32_t& out) {
      if (const toml::node* n = t.get(key)) {
        out = static_cast<uint32_t>(int_in_range(*n, where + "." + key, lo, hi, power_of_two));
      }
    };
    number("num_warps", 1, 32, true, c.num_warps);
    number("num_stages", 1, 8, false, c.num_stages);
    number("num_ctas", 1, 16, false, c.num_ctas);
    if (const toml::node* n = t.get("launch_pdl")) {
      if (!n->is_boolean()) type_error(*n, where + ".launch_pdl", "true or false");
      c.launch_pdl = n->as_boolean()->get();
      const auto& archs = spec_.archs;
      if (c.launch_pdl && std::none_of(archs.begin(), archs.end(), [](uint32_t a) { return a >= kPdlMinArch; })) {
        std::string listed;
        for (uint32_t a : archs) listed += (listed.empty() ? "sm_" : ", sm_") + std::to_string(a);
        fail(n->source(), where + ".launch_pdl: programmatic dependent launch needs sm_90 or newer and the kernel's "
                                  "archs are " + listed + ": the config would have no variants");
      }
    }

    std::map<std::string, Constant> values;
    if (const toml::node* n = t.get("constexprs")) {
      for (const auto& [key, value] : in_source_order(as_table(*n, where + ".constexprs"))) {
        std::string param(key->str());
        std::string key_path = where + ".constexprs." + param;
        const auto& params = spec_.kernel.params;
        auto it = std::find_if(params.begin(), params.end(), [&](const ParamInfo& p) { return p.name == param; });
        if (it == params.end()) fail(key->source(), key_path + ": there is no param '" + param + "'");
        if (it->kind != ParamKind::kConstexpr) {
          fail(key->source(), key_path + ": '" + param + "' is not a constexpr param");
        }
        if (spec_.constexpr_choices.count(param)) {
          fail(key->source(), key_path + ": '" + param + "' has a fixed value in [[params]]; a config cannot set it");
        }
        values[param] = as_constexpr_value(*value, key_path);
      }
    }
    for (size_t i : open) {  // param order
      const std::string& param = spec_.kernel.params[i].name;
      auto it = values.find(param);
      if (it == values.end()) {
        fail(t.source(), where + " ('" + c.name + "') does not set constexpr '" + param +
                             "'; every config must set the constexprs that have no value in [[params]]");
      }
      c.constexprs.push_back({param, it->second});
    }
    spec_.kernel.configs.push_back(std::move(c));
  }

  void read_bench(const toml::node* node) {
    if (!node) return;
    const toml::table& t = as_table(*node, "bench");
    check_keys(t, "[bench]", {"bytes", "flops"});
    if (const toml::node* n = t.get("bytes")) {
      spec_.kernel.bench.bytes = as_string(*n, "bench.bytes");
      pending_exprs_.push_back({n, "bench.bytes", {.type_sizes = true}});
    }
    if (const toml::node* n = t.get("flops")) {
      spec_.kernel.bench.flops = as_string(*n, "bench.flops");
      pending_exprs_.push_back({n, "bench.flops", {.type_sizes = true}});
    }
  }

  // ---- [plugin] ----

  void read_plugin(const toml::node* node) {
    if (!node) return;
    const toml::table& t = as_table(*node, "plugin");
    check_keys(t, "[plugin]", {"name", "version", "namespace", "rules", "constraints"});
    PluginInfo& pl = spec_.kernel.plugin;
    if (const toml::node* n = t.get("name")) pl.name = identifier(*n, "plugin.name");
    if (const toml::node* n = t.get("version")) pl.version = printable(*n, "plugin.version");
    if (const toml::node* n = t.get("namespace")) pl.plugin_namespace = printable(*n, "plugin.namespace");
    auto strings = [&](const char* key, std::vector<std::string>& out) {
      const toml::node* n = t.get(key);
      if (!n) return;
      const toml::array& list = as_array(*n, std::string("plugin.") + key, "an array of strings");
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string item_key = std::string("plugin.") + key + "[" + std::to_string(i) + "]";
        out.push_back(as_string(list[i], item_key));
        try {
          (void)rule::Rule::parse(out.back());
        } catch (const Error& e) {
          fail(list[i].source(), item_key + ": " + e.what());
        }
      }
    };
    strings("rules", pl.rules);
    // Constraints are the kernel's ([kernel] constraints); [plugin] constraints are read as such
    // (specs written before constraints belonged to every kernel).
    read_constraints(t.get("constraints"), "plugin.constraints");
  }

  // ---- [tuning] ----

  // key: expressions; bins: per key text, "pow2" or ascending edges; shapes: tables of launch values,
  // each expanded to the product of its arrays (docs/tuning.md).
  void read_tuning(const toml::node* node) {
    if (!node) return;
    const toml::table& t = as_table(*node, "tuning");
    check_keys(t, "[tuning]", {"key", "bins", "shapes"});
    TuningInfo& tuning = spec_.kernel.tuning;
    const toml::node& key_node = required(t, "key", "[tuning]", "an array of expressions, as @triton.autotune's key");
    const toml::array& keys = as_array(key_node, "tuning.key", "an array of expression strings");
    if (keys.empty() || keys.size() > tuning::kMaxKeys) {
      fail(key_node.source(), "tuning.key: expected 1 to " + std::to_string(tuning::kMaxKeys) + " expressions");
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string item_key = "tuning.key[" + std::to_string(i) + "]";
      const std::string text = as_string(keys[i], item_key);
      if (std::find(tuning.key.begin(), tuning.key.end(), text) != tuning.key.end()) listed_twice(keys[i], item_key, "'" + text + "'");
      tuning.key.push_back(text);
      pending_exprs_.push_back({&keys[i], item_key, {.dims = true, .constexprs = false}});
    }
    tuning.bins.resize(tuning.key.size());
    if (const toml::node* bins = t.get("bins")) {
      for (const auto& [name, value] : in_source_order(as_table(*bins, "tuning.bins"))) {
        const std::string where = "tuning.bins." + std::string(name->str());
        const auto it = std::find(tuning.key.begin(), tuning.key.end(), name->str());
        if (it == tuning.key.end()) {
          fail(name->source(), where + ": '" + std::string(name->str()) + "' is not in tuning.key (" +
                                   detail::join(tuning.key, ", ") + ")");
        }
        tuning.bins[static_cast<size_t>(it - tuning.key.begin())] = read_bins(*value, where);
      }
    }
    if (const toml::node* shapes = t.get("shapes")) {
      const toml::array& list = as_array(*shapes, "tuning.shapes", "an array of tables ([[tuning.shapes]])");
      for (size_t i = 0; i < list.size(); ++i) {
        read_tuning_shape(as_table(list[i], "tuning.shapes[" + std::to_string(i) + "]"),
                          "tuning.shapes[" + std::to_string(i) + "]");
      }
    }
  }

  TuningBins read_bins(const toml::node& n, const std::string& where) const {
    if (const auto* s = n.as_string()) {
      if (s->get() != "pow2") fail(n.source(), where + ": expected \"pow2\" or an array of ascending integers");
      return {};
    }
    const toml::array& list = as_array(n, where, "\"pow2\" or an array of ascending integers (bin edges)");
    if (list.empty() || list.size() > tuning::kMaxEdges) {
      fail(n.source(), where + ": expected 1 to " + std::to_string(tuning::kMaxEdges) + " edges");
    }
    TuningBins bins;
    for (size_t i = 0; i < list.size(); ++i) {
      const int64_t edge = as_int(list[i], where + "[" + std::to_string(i) + "]");
      if (!bins.edges.empty() && edge <= bins.edges.back()) {
        fail(list[i].source(), where + "[" + std::to_string(i) + "]: " + std::to_string(edge) +
                                   " is not above the edge before it; edges ascend strictly");
      }
      bins.edges.push_back(edge);
    }
    return bins;
  }

  // One [[tuning.shapes]] table: every combination of its arrays is one launch to measure.
  void read_tuning_shape(const toml::table& t, const std::string& where) {
    TuningInfo& tuning = spec_.kernel.tuning;
    const KernelInfo& k = spec_.kernel;
    const std::vector<std::string> dims = detail::dim_names(k);
    // Per name: the values it takes (dtype names for type variables).
    std::vector<std::pair<std::string, std::vector<std::string>>> axes;
    for (const auto& [name_key, value] : in_source_order(t)) {
      const std::string name(name_key->str());
      const std::string at = where + "." + name;
      const bool type_var = is_type_var(name);
      bool real = false;  // a float scalar
      if (!type_var) {
        const auto p = std::find_if(k.params.begin(), k.params.end(), [&](const ParamInfo& q) { return q.name == name; });
        const bool scalar = p != k.params.end() && p->kind == ParamKind::kScalar && !p->dtype.is_variable();
        const bool integer_scalar = scalar && (p->dtype.dtype == DType::kI32 || p->dtype.dtype == DType::kI64);
        real = scalar && !integer_scalar;
        const bool launch_var = std::any_of(k.launch_vars.begin(), k.launch_vars.end(),
                                            [&](const LaunchVarInfo& v) { return v.name == name; });
        const bool dim = std::find(dims.begin(), dims.end(), name) != dims.end();
        if (!scalar && !launch_var && !dim) {
          fail(name_key->source(), at + ": '" + name +
                                       "' is not a type variable, a scalar param, a launch variable or a dim name");
        }
      }
      std::vector<std::string> values;
      auto one = [&](const toml::node& v, const std::string& vkey) {
        if (type_var) {
          const std::string text = as_string(v, vkey);
          const auto& vars = k.type_vars;
          const TypeVarInfo& var = *std::find_if(vars.begin(), vars.end(), [&](const TypeVarInfo& x) { return x.name == name; });
          const std::optional<DType> dtype = parse_dtype(text);
          if (!dtype || std::find(var.dtypes.begin(), var.dtypes.end(), *dtype) == var.dtypes.end()) {
            fail(v.source(), vkey + ": '" + text + "' is not one of the dtypes of " + name + " in [types]");
          }
          values.push_back(text);
        } else if (real) {
          const double x = v.is_integer() ? static_cast<double>(v.as_integer()->get()) : [&] {
            if (const auto* f = v.as_floating_point(); f && std::isfinite(f->get())) return f->get();
            type_error(v, vkey, "a finite number");
          }();
          char text[40];
          std::snprintf(text, sizeof text, "%.17g", x);
          values.push_back(text);
        } else {
          values.push_back(std::to_string(as_int(v, vkey)));
        }
      };
      if (const auto* list = value->as_array()) {
        if (list->empty()) fail(value->source(), at + ": an empty array gives no launch");
        for (size_t i = 0; i < list->size(); ++i) one((*list)[i], at + "[" + std::to_string(i) + "]");
      } else if (const auto* range = value->as_table()) {
        check_keys(*range, at, {"from", "to"});
        const auto key = std::find(tuning.key.begin(), tuning.key.end(), name);
        if (type_var || real || key == tuning.key.end()) {
          fail(value->source(), at + ": { from, to } takes one value per bin of a key; '" + name + "' is not in tuning.key");
        }
        const TuningBins& bins = tuning.bins[static_cast<size_t>(key - tuning.key.begin())];
        const int64_t from = as_int(required(*range, "from", at, "an integer"), at + ".from");
        const int64_t to = as_int(required(*range, "to", at, "an integer"), at + ".to");
        if (from > to) fail(value->source(), at + ": from " + std::to_string(from) + " is above to " + std::to_string(to));
        for (uint32_t b = tuning::bin_of(bins, from); b <= tuning::bin_of(bins, to); ++b) {
          values.push_back(std::to_string(std::max(from, tuning::bin_low(bins, b))));
        }
      } else {
        one(*value, at);
      }
      axes.emplace_back(name, std::move(values));
    }
    // The product, the first name varying slowest.
    size_t count = 1;
    for (const auto& [name, values] : axes) {
      count *= values.size();
      if (count + tuning.shapes.size() > tuning::kMaxShapes) {
        fail(t.source(), where + ": more than " + std::to_string(tuning::kMaxShapes) + " launches to measure in all");
      }
    }
    for (size_t n = 0; n < count; ++n) {
      TuningShape shape;
      for (const TypeVarInfo& var : k.type_vars) shape.bindings[var.name] = var.dtypes.front();
      size_t rest = n;
      for (size_t a = axes.size(); a-- > 0;) {
        const auto& [name, values] = axes[a];
        const std::string& v = values[rest % values.size()];
        rest /= values.size();
        if (is_type_var(name)) {
          shape.bindings[name] = *parse_dtype(v);
        } else if (is_real_scalar(name)) {
          shape.reals[name] = std::stod(v);
        } else {
          shape.values[name] = std::stoll(v);
        }
      }
      tuning.shapes.push_back(std::move(shape));
    }
  }

  std::string printable(const toml::node& n, const std::string& key, size_t max_length = 128) const {
    std::string s = as_string(n, key);
    if (s.empty() || s.size() > max_length) {
      fail(n.source(), key + ": expected 1 to " + std::to_string(max_length) + " characters");
    }
    for (char c : s) {
      if (c < 0x20 || c > 0x7e) fail(n.source(), key + ": expected printable ASCII");
    }
    return s;
  }

  void check_expression(const toml::node& n, const std::string& key, const std::string& text) const {
    try {
      (void)expr::Expr::parse(text);
    } catch (const Error& e) {
      fail(n.source(), key + ": " + e.what());
    }
  }

  // Dims are checked by name only later (by the plugin model, and by the runtime where it can);
  // SM_COUNT is refused here so that the message says why (a scratch tensor's dims may use a
  // dim-size argument that names it). A dim named SM_COUNT is refused too: it reads as the
  // device's count and is not.
  void refuse_sm_count(const toml::node& n, const std::string& key, const std::string& text) const {
    const std::vector<std::string> names = expr::Expr::parse(text).names();
    if (std::find(names.begin(), names.end(), kSmCountName) == names.end()) return;
    fail(n.source(), key + ": '" + text + "': " + detail::sm_count_refusal() + ", and no dim may be named so");
  }

  // An unused type variable would multiply the variants by copies the runtime cannot tell apart.
  void check_type_vars_used() const {
    const auto& params = spec_.kernel.params;
    for (const TypeVarInfo& var : spec_.kernel.type_vars) {
      if (std::none_of(params.begin(), params.end(), [&](const ParamInfo& p) {
            return (p.kind == ParamKind::kTensor || p.kind == ParamKind::kTensorDesc) && p.dtype.type_var == var.name;
          })) {
        fail(root_.get("types")->as_table()->get(var.name)->source(),
             "types." + var.name + ": no tensor param has dtype '" + var.name + "'; remove the unused type variable");
      }
    }
  }

  // ---- [[launch_vars]] ----

  void read_launch_vars(const toml::node* node) {
    if (!node) return;
    const toml::array& list = as_array(*node, "launch_vars", "an array of tables ([[launch_vars]])");
    if (list.size() > kMaxLaunchVars) {
      fail(node->source(), "launch_vars: at most " + std::to_string(kMaxLaunchVars) + " launch variables");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "launch_vars[" + std::to_string(i) + "]";
      const toml::table& t = as_table(list[i], where);
      check_keys(t, where, {"name", "dtype", "min", "max"});
      LaunchVarInfo v;
      const toml::node& name = required(t, "name", where, "a string");
      v.name = identifier(name, where + ".name");
      if (const std::string reserved = detail::reserved_name_problem(v.name); !reserved.empty()) {
        fail(name.source(), where + ".name: " + reserved);
      }
      for (const ParamInfo& p : spec_.kernel.params) {
        if (p.name == v.name) fail(name.source(), where + ".name: '" + v.name + "' is already a param of the kernel");
      }
      for (const LaunchVarInfo& other : spec_.kernel.launch_vars) {
        if (other.name == v.name) fail(name.source(), where + ".name: '" + v.name + "' is already a launch variable");
      }
      if (const toml::node* dtype = t.get("dtype")) {
        const std::string text = as_string(*dtype, where + ".dtype");
        if (text != "i32" && text != "i64") fail(dtype->source(), where + ".dtype: a launch variable is i32 or i64, not '" + text + "'");
        v.dtype = *parse_dtype(text);
      }
      if (const toml::node* lo = t.get("min")) v.min = as_int(*lo, where + ".min");
      if (const toml::node* hi = t.get("max")) v.max = as_int(*hi, where + ".max");
      if (v.min && v.max && *v.min > *v.max) {
        fail(t.source(), where + ": min " + std::to_string(*v.min) + " is above max " + std::to_string(*v.max));
      }
      spec_.kernel.launch_vars.push_back(std::move(v));
    }
  }

  // A constexpr with a heuristic chooses among the values compiled for it: it needs several
  // ('values' or configs) or one, never none; an expression cannot pick a float or a string.
  void check_heuristics() const {
    for (const ParamInfo& p : spec_.kernel.params) {
      if (p.heuristic.empty()) continue;
      const toml::source_region& at = heuristic_places_.at(p.name);
      for (const Constant& value : detail::compiled_values(spec_, p.name)) {
        if (!value.is_integral()) {
          fail(at, "params '" + p.name + "'.heuristic: the heuristic gives an integer, but '" + p.name + "' takes " +
                       Constant::kind_name(value.kind()) + " value (" + value.text() + ")");
        }
      }
    }
  }

  static constexpr std::string_view kKindChoices = "\"tensor\", \"scalar\", \"constexpr\" or \"tensordesc\"";

  const toml::table& root_;
  Spec spec_;
  std::vector<toml::source_region> param_places_;  // each param's table, for later errors
  std::vector<PendingExpr> pending_exprs_;
  std::map<std::string, toml::source_region> heuristic_places_;
  std::set<std::string> listed_values_;     // constexprs given 'values' (variant axes)
  const toml::node* steps_node_ = nullptr;  // [kernel] steps, read after the params
};

}  // namespace

Spec parse_spec(std::string_view toml_text, const std::string& path) {
  auto syntax_error = [&](uint32_t line, uint32_t column, std::string_view message) {
    return Error(ErrorCode::kInvalidSpec, path + ":" + std::to_string(line) + ":" + std::to_string(column) +
                                              ": TOML syntax error: " + std::string(message));
  };
  if (auto hazard = detail::find_toml_hazard(toml_text)) {
    throw syntax_error(hazard->at.line, hazard->at.column, hazard->message);
  }
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw syntax_error(e.source().begin.line, e.source().begin.column, e.description());
  }
  return SpecReader(root, path).read();
}

Spec load_spec(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(ErrorCode::kNotFound, "spec file '" + path + "' does not exist");
  if (!fs::is_regular_file(path, ec)) throw Error(ErrorCode::kIo, "spec file '" + path + "' is not a file");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.is_open() || in.bad()) throw Error(ErrorCode::kIo, "cannot read spec file '" + path + "'");
  return parse_spec(text, path);
}

}  // namespace tritonpack::spec
