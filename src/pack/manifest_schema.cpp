// The kernel part of the manifest schema: reads one element of "kernels" and checks every rule of
// docs/pack-format.md ("Validation rules"), so the runtime can trust indices, names and types.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "pack/constant_json.h"
#include "pack/manifest_json.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/rule.h"
#include "util/text.h"

namespace tritonpack::pack_format {
namespace {

constexpr uint64_t kMaxShared = uint64_t{16} << 20;  // 16 MiB
constexpr uint64_t kMaxScratch = uint64_t{1} << 30;  // 1 GiB
constexpr uint64_t kMaxAlignment = 4096;
constexpr uint32_t kMinArch = 50;
constexpr uint32_t kMaxArch = 200;
constexpr uint32_t kMaxCtas = 16;
constexpr uint32_t kMaxStages = 32;
constexpr uint32_t kMaxClusterDim = 16;

struct KernelContext {
  const KernelInfo& kernel;
  std::vector<uint32_t> runtime_params;   // non-constexpr params, in order
  std::vector<uint32_t> constexpr_params;  // constexpr params, in order
  const std::vector<BlobInfo>& blobs;
};

// Printable ASCII only, so names and versions are safe to print in messages and generated code.
std::string printable_value(const Json& j, const std::string& path, size_t max_length, bool allow_empty) {
  const std::string& s = string_value(j, path, max_length);
  if (s.empty() && !allow_empty) fail(path, "expected a non-empty string");
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) fail(path, "expected printable ASCII, got " + quote_text(s));
  }
  return s;
}

void check_expression(const std::string& text, const std::string& path, bool allow_empty) {
  if (text.empty() && allow_empty) return;
  try {
    (void)expr::Expr::parse(text);
  } catch (const Error& e) {
    fail(path, std::string("invalid expression: ") + e.what());
  }
}

std::string expression_value(const Json& j, const std::string& path, bool allow_empty) {
  std::string text = string_value(j, path);
  check_expression(text, path, allow_empty);
  return text;
}

uint32_t warps_value(const Json& j, const std::string& path) {
  static constexpr uint64_t kChoices[] = {1, 2, 4, 8, 16, 32};
  if (j.is_number_integer()) {
    for (uint64_t c : kChoices) {
      if (j.is_number_unsigned() && j.get<uint64_t>() == c) return static_cast<uint32_t>(c);
    }
  }
  fail(path, "expected one of 1, 2, 4, 8, 16, 32, got " + describe(j));
}

// A variant's launch width: Triton's metadata.num_warps, which a warp-specialized kernel rounds
// up to whole warpgroups (4 warps of the config plus workers: 12, 20, ...). 1, 2 or a multiple
// of 4, at most 32 (1024 threads).
uint32_t launch_warps_value(const Json& j, const std::string& path) {
  if (j.is_number_unsigned()) {
    const uint64_t w = j.get<uint64_t>();
    if (w == 1 || w == 2 || (w % 4 == 0 && w >= 4 && w <= 32)) return static_cast<uint32_t>(w);
  }
  fail(path, "expected 1, 2 or a multiple of 4 up to 32, got " + describe(j));
}

uint32_t power_of_two_value(const Json& j, const std::string& path, uint64_t max) {
  const uint64_t v = j.is_number_unsigned() ? j.get<uint64_t>() : 0;
  if (!is_power_of_two(v) || v > max) {
    fail(path, "expected a power of two up to " + std::to_string(max) + ", got " + describe(j));
  }
  return static_cast<uint32_t>(v);
}

std::vector<TypeVarInfo> read_type_vars(const Json& j, const std::string& path) {
  std::vector<TypeVarInfo> vars;
  std::set<std::string> names;
  for (size_t i = 0; i < array_value(j, path).size(); ++i) {
    const std::string at = child(path, i);
    expect_object(j[i], at);
    TypeVarInfo var;
    var.name = identifier_value(field(j[i], at, "name"), child(at, "name"));
    if (parse_dtype(var.name)) {
      fail(child(at, "name"), "type variable " + quote_text(var.name) + " shadows the dtype of that name");
    }
    if (!names.insert(var.name).second) {
      fail(child(at, "name"), "duplicate type variable " + quote_text(var.name));
    }
    const std::string dpath = child(at, "dtypes");
    const Json& dtypes = array_value(field(j[i], at, "dtypes"), dpath);
    if (dtypes.empty()) fail(dpath, "a type variable needs at least one dtype");
    for (size_t d = 0; d < dtypes.size(); ++d) {
      const std::string& name = string_value(dtypes[d], child(dpath, d));
      const std::optional<DType> dtype = parse_dtype(name);
      if (!dtype) fail(child(dpath, d), "unknown dtype " + quote_text(name));
      for (DType earlier : var.dtypes) {
        if (earlier == *dtype) fail(child(dpath, d), "duplicate dtype " + quote_text(name));
      }
      var.dtypes.push_back(*dtype);
    }
    vars.push_back(std::move(var));
  }
  return vars;
}

constexpr size_t kMaxRank = 16;

// The optional plugin keys of a param (docs/pack-format.md).
void read_plugin_keys(const Json& j, const std::string& at, ParamInfo& p) {
  const bool tensor = p.kind == ParamKind::kTensor;
  const bool scalar = p.kind == ParamKind::kScalar;
  if (const Json* dims = optional_field(j, "dims")) {
    const std::string path = child(at, "dims");
    if (!tensor && p.kind != ParamKind::kTensorDesc) fail(path, "only a tensor or descriptor parameter has dims");
    if (array_value(*dims, path).size() > kMaxRank) {
      fail(path, "has " + std::to_string(dims->size()) + " dims, over the limit of " + std::to_string(kMaxRank));
    }
    for (size_t d = 0; d < dims->size(); ++d) p.dims.push_back(expression_value((*dims)[d], child(path, d), false));
  }
  if (const Json* scratch = optional_field(j, "is_scratch")) {
    p.is_scratch = bool_value(*scratch, child(at, "is_scratch"));
    if (p.is_scratch && !tensor) fail(child(at, "is_scratch"), "only a tensor parameter can be scratch");
    if (p.is_scratch && p.is_output) fail(child(at, "is_scratch"), "a tensor is an output or scratch, not both");
  }
  if (const Json* is_field = optional_field(j, "is_field")) {
    p.is_field = bool_value(*is_field, child(at, "is_field"));
    if (p.is_field && !scalar) fail(child(at, "is_field"), "only a scalar parameter can be a field");
  }
  if (const Json* def = optional_field(j, "default")) {
    if (!p.is_field) fail(child(at, "default"), "only a field has a default");
    if (!def->is_number() || !std::isfinite(def->get<double>())) {
      fail(child(at, "default"), "expected a finite number, got " + describe(*def));
    }
    p.has_default = true;
    p.default_value = def->get<double>();
  }
  if (const Json* dim = optional_field(j, "dim")) {
    p.dim = expression_value(*dim, child(at, "dim"), false);
    if (!scalar || (p.dtype.dtype != DType::kI32 && p.dtype.dtype != DType::kI64)) {
      fail(child(at, "dim"), "only an i32 or i64 scalar parameter can be a dim-size argument");
    }
    if (p.is_field) fail(child(at, "dim"), "a parameter is a field or a dim-size argument, not both");
  }
}

// Constraints moved from the plugin to the kernel; packs that have them under "plugin" add them to
// the kernel's.
PluginInfo read_plugin(const Json& j, const std::string& at, std::vector<std::string>& constraints) {
  expect_object(j, at);
  PluginInfo pl;
  pl.name = printable_value(field(j, at, "name"), child(at, "name"), kMaxNameLength, true);
  pl.version = printable_value(field(j, at, "version"), child(at, "version"), kMaxNameLength, false);
  pl.plugin_namespace = printable_value(field(j, at, "namespace"), child(at, "namespace"), kMaxNameLength, true);
  const std::string rpath = child(at, "rules");
  const Json& rules = array_value(field(j, at, "rules"), rpath);
  for (size_t i = 0; i < rules.size(); ++i) {
    pl.rules.push_back(string_value(rules[i], child(rpath, i)));
    try {
      (void)rule::Rule::parse(pl.rules.back());
    } catch (const Error& e) {
      fail(child(rpath, i), std::string("invalid rule: ") + e.what());
    }
  }
  if (const Json* list = optional_field(j, "constraints")) {
    const std::string cpath = child(at, "constraints");
    for (size_t i = 0; i < array_value(*list, cpath).size(); ++i) {
      constraints.push_back(expression_value((*list)[i], child(cpath, i), false));
    }
  }
  return pl;
}

DTypeRef dtype_ref_value(const Json& j, const std::string& path, const std::vector<TypeVarInfo>& vars) {
  const std::string& text = string_value(j, path);
  if (auto t = parse_dtype(text)) return DTypeRef::of(*t);
  for (const auto& v : vars) {
    if (v.name == text) return DTypeRef::variable(text);
  }
  fail(path, quote_text(text) + " is neither a dtype nor a declared type variable");
}

// Descriptors: the block shape (1 to 5 expressions) and, for Gluon kernels, the layout.
void read_descriptor_keys(const Json& j, const std::string& at, ParamInfo& p) {
  const Json* block = optional_field(j, "block");
  const Json* layout = optional_field(j, "layout");
  if (p.kind != ParamKind::kTensorDesc) {
    if (block) fail(child(at, "block"), "only a tensordesc parameter has a block shape");
    if (layout) fail(child(at, "layout"), "only a tensordesc parameter has a layout");
    return;
  }
  const std::string bpath = child(at, "block");
  if (!block) fail(at, "a tensordesc parameter needs 'block', its block shape");
  if (array_value(*block, bpath).empty() || block->size() > 5) {
    fail(bpath, "expected 1 to 5 block dims, got " + std::to_string(block->size()));
  }
  for (size_t d = 0; d < block->size(); ++d) p.block.push_back(expression_value((*block)[d], child(bpath, d), false));
  if (layout) p.layout = printable_value(*layout, child(at, "layout"), kMaxTextLength, false);
  if (const Json* dims = optional_field(j, "dims"); dims && dims->size() != p.block.size()) {
    fail(child(at, "dims"), "has " + std::to_string(dims->size()) + " dims, the block shape has " +
                                std::to_string(p.block.size()));
  }
}

ParamInfo read_param(const Json& j, const std::string& at, const std::vector<TypeVarInfo>& vars) {
  expect_object(j, at);
  ParamInfo p;
  p.name = identifier_value(field(j, at, "name"), child(at, "name"));
  const std::string& kind = string_value(field(j, at, "kind"), child(at, "kind"));
  const std::optional<ParamKind> parsed = parse_param_kind(kind);
  if (!parsed) {
    fail(child(at, "kind"), "expected \"tensor\", \"scalar\", \"constexpr\" or \"tensordesc\", got " + quote_text(kind));
  }
  p.kind = *parsed;
  p.is_output = bool_value(field(j, at, "is_output"), child(at, "is_output"));
  p.numel = string_value(field(j, at, "numel"), child(at, "numel"));
  const std::string dpath = child(at, "dtype");
  switch (p.kind) {
    case ParamKind::kTensor:
    case ParamKind::kTensorDesc:
      p.dtype = dtype_ref_value(field(j, at, "dtype"), dpath, vars);
      check_expression(p.numel, child(at, "numel"), /*allow_empty=*/true);
      break;
    case ParamKind::kScalar: {
      const std::string& text = string_value(field(j, at, "dtype"), dpath);
      const std::optional<DType> dtype = parse_dtype(text);
      if (!dtype || !is_scalar_dtype(*dtype)) {
        fail(dpath, "a scalar parameter needs one of i32, i64, fp32, fp16, bf16, got " + quote_text(text));
      }
      p.dtype = DTypeRef::of(*dtype);
      break;
    }
    case ParamKind::kConstexpr: {
      const std::string& text = string_value(field(j, at, "dtype"), dpath);
      if (!text.empty()) fail(dpath, "a constexpr parameter has no dtype, got " + quote_text(text));
      break;
    }
  }
  if (p.kind != ParamKind::kTensor) {
    if (p.is_output && p.kind != ParamKind::kTensorDesc) {
      fail(child(at, "is_output"), "only a tensor or descriptor parameter can be an output");
    }
    if (!p.numel.empty() && p.kind != ParamKind::kTensorDesc) {
      fail(child(at, "numel"), "only a tensor or descriptor parameter has a numel");
    }
  }
  if (const Json* heuristic = optional_field(j, "heuristic")) {
    if (p.kind != ParamKind::kConstexpr) fail(child(at, "heuristic"), "only a constexpr parameter has a heuristic");
    p.heuristic = expression_value(*heuristic, child(at, "heuristic"), false);
  }
  read_descriptor_keys(j, at, p);
  read_plugin_keys(j, at, p);
  return p;
}

std::vector<LaunchVarInfo> read_launch_vars(const Json& j, const std::string& path, const KernelInfo& k) {
  // The limit first: each name is compared with every earlier one.
  if (array_value(j, path).size() > kMaxLaunchVars) {
    fail(path, "at most " + std::to_string(kMaxLaunchVars) + " launch variables, got " + std::to_string(j.size()));
  }
  std::vector<LaunchVarInfo> vars;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = child(path, i);
    expect_object(j[i], at);
    LaunchVarInfo v;
    v.name = identifier_value(field(j[i], at, "name"), child(at, "name"));
    for (const auto& p : k.params) {
      if (p.name == v.name) fail(child(at, "name"), quote_text(v.name) + " is also a parameter of the kernel");
    }
    for (const auto& other : vars) {
      if (other.name == v.name) fail(child(at, "name"), "duplicate launch variable " + quote_text(v.name));
    }
    const std::string& dtype = string_value(field(j[i], at, "dtype"), child(at, "dtype"));
    if (dtype != "i32" && dtype != "i64") fail(child(at, "dtype"), "expected \"i32\" or \"i64\", got " + quote_text(dtype));
    v.dtype = *parse_dtype(dtype);
    if (const Json* lo = optional_field(j[i], "min")) v.min = int64_value(*lo, child(at, "min"));
    if (const Json* hi = optional_field(j[i], "max")) v.max = int64_value(*hi, child(at, "max"));
    if (v.min && v.max && *v.min > *v.max) fail(at, "min " + std::to_string(*v.min) + " is above max " + std::to_string(*v.max));
    vars.push_back(std::move(v));
  }
  return vars;
}

// {"BLOCK": 1024, ...}: keys must name constexpr params of the kernel.
std::vector<ConstexprValue> read_constexprs(const Json& j, const std::string& path, const KernelContext& ctx) {
  expect_object(j, path);
  if (j.size() > kMaxArrayItems) fail(path, "has too many entries");
  std::vector<ConstexprValue> values;
  for (const auto& [key, value] : j.items()) {
    const std::string at = child(path, key);
    bool known = false;
    for (uint32_t idx : ctx.constexpr_params) known = known || ctx.kernel.params[idx].name == key;
    if (!known) fail(at, quote_text(key) + " is not a constexpr parameter of kernel " + quote_text(ctx.kernel.name));
    std::string why;
    std::optional<Constant> c = constant_from_json(value, why);
    if (!c) fail(at, why + ", got " + describe(value));
    values.push_back(ConstexprValue{key, std::move(*c)});
  }
  return values;
}

std::vector<ConfigInfo> read_configs(const Json& j, const std::string& path, const KernelContext& ctx) {
  std::vector<ConfigInfo> configs;
  std::set<std::string> names;
  for (size_t i = 0; i < array_value(j, path).size(); ++i) {
    const std::string at = child(path, i);
    expect_object(j[i], at);
    ConfigInfo c;
    c.name = printable_value(field(j[i], at, "name"), child(at, "name"), kMaxNameLength, false);
    if (!names.insert(c.name).second) fail(child(at, "name"), "duplicate config name " + quote_text(c.name));
    c.constexprs = read_constexprs(field(j[i], at, "constexprs"), child(at, "constexprs"), ctx);
    c.num_warps = warps_value(field(j[i], at, "num_warps"), child(at, "num_warps"));
    c.num_stages = static_cast<uint32_t>(
        uint_value(field(j[i], at, "num_stages"), child(at, "num_stages"), 0, kMaxStages));
    c.num_ctas = static_cast<uint32_t>(
        uint_value(field(j[i], at, "num_ctas"), child(at, "num_ctas"), 1, kMaxCtas));
    if (const Json* pdl = optional_field(j[i], "launch_pdl")) c.launch_pdl = bool_value(*pdl, child(at, "launch_pdl"));
    configs.push_back(std::move(c));
  }
  return configs;
}

ArgType expected_arg_type(const ParamInfo& p) {
  if (p.kind == ParamKind::kTensor) return ArgType::kPointer;
  if (p.kind == ParamKind::kTensorDesc) return ArgType::kTensorDesc;
  return *scalar_arg_type(p.dtype.dtype);  // read_param checked it is a scalar dtype
}

std::vector<KernelArg> read_args(const Json& j, const std::string& path, const KernelContext& ctx) {
  const auto& params = ctx.kernel.params;
  if (array_value(j, path).size() != ctx.runtime_params.size()) {
    std::vector<std::string> names;
    for (uint32_t idx : ctx.runtime_params) names.push_back(params[idx].name);
    fail(path, "expected " + std::to_string(ctx.runtime_params.size()) +
                   " arguments (the kernel's non-constexpr params " + text::join(names) + "), got " +
                   std::to_string(j.size()));
  }
  std::vector<KernelArg> args;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = child(path, i);
    expect_object(j[i], at);
    KernelArg a;
    const uint32_t want = ctx.runtime_params[i];
    a.param_index = static_cast<uint32_t>(uint_value(field(j[i], at, "param_index"), child(at, "param_index"),
                                                     0, params.size() - 1));
    if (a.param_index != want) {
      fail(child(at, "param_index"), "expected " + std::to_string(want) + " (param " +
                                         quote_text(params[want].name) + "), got " +
                                         std::to_string(a.param_index));
    }
    const ParamInfo& p = params[want];
    a.name = string_value(field(j[i], at, "name"), child(at, "name"));
    if (a.name != p.name) {
      fail(child(at, "name"), "expected " + quote_text(p.name) + " (the name of params[" +
                                  std::to_string(want) + "]), got " + quote_text(a.name));
    }
    const std::string& type = string_value(field(j[i], at, "type"), child(at, "type"));
    const auto parsed = parse_arg_type(type);
    a.type = expected_arg_type(p);
    if (!parsed || *parsed != a.type) {
      fail(child(at, "type"), "expected " + quote_text(arg_type_name(a.type)) + " for " +
                                  std::string(param_kind_name(p.kind)) + " param " +
                                  quote_text(p.name) + ", got " + quote_text(type));
    }
    a.divisibility = power_of_two_value(field(j[i], at, "divisibility"), child(at, "divisibility"),
                                        kMaxAlignment);
    const bool is_float_arg = a.type == ArgType::kFp32 || a.type == ArgType::kFp16 || a.type == ArgType::kBf16;
    if ((is_float_arg || a.type == ArgType::kTensorDesc) && a.divisibility != 1) {
      fail(child(at, "divisibility"), "must be 1 for " + std::string(is_float_arg ? "floating-point" : "descriptor") +
                                          " argument " + quote_text(p.name));
    }
    args.push_back(std::move(a));
  }
  return args;
}

int32_t blob_ref_value(const Json& j, const std::string& path, const KernelContext& ctx, const char* kind) {
  const auto& blobs = ctx.blobs;
  const bool ok = j.is_number_integer() &&
                  ((j.is_number_unsigned() && j.get<uint64_t>() < blobs.size()) ||
                   (!j.is_number_unsigned() && j.get<int64_t>() == -1));
  if (!ok) {
    fail(path, blobs.empty() ? "expected -1 (the pack has no blobs), got " + describe(j)
                             : "expected -1 or a blob index in 0.." + std::to_string(blobs.size() - 1) +
                                   ", got " + describe(j));
  }
  const auto index = static_cast<int32_t>(j.get<int64_t>());
  if (index >= 0 && blobs[index].kind != kind) {
    fail(path, "blobs[" + std::to_string(index) + "] has kind " + quote_text(blobs[index].kind) +
                   ", expected " + quote_text(kind));
  }
  return index;
}

std::vector<uint32_t> dims_value(const Json& j, const std::string& path, size_t rank, uint64_t max) {
  if (array_value(j, path).size() != rank) {
    fail(path, "expected " + std::to_string(rank) + " integers, got " + std::to_string(j.size()));
  }
  std::vector<uint32_t> out;
  for (size_t d = 0; d < rank; ++d) out.push_back(static_cast<uint32_t>(uint_value(j[d], child(path, d), 1, max)));
  return out;
}

// One entry per descriptor parameter, in order; required exactly when the kernel has some.
std::vector<TensorDescInfo> read_tensordescs(const Json& j, const std::string& at, const KernelContext& ctx) {
  std::vector<const ParamInfo*> descs;
  for (const ParamInfo& p : ctx.kernel.params) {
    if (p.kind == ParamKind::kTensorDesc) descs.push_back(&p);
  }
  const Json* list = optional_field(j, "tensordescs");
  const std::string path = child(at, "tensordescs");
  if (!list) {
    if (!descs.empty()) fail(at, "missing required field 'tensordescs' (the kernel has descriptor parameters)");
    return {};
  }
  if (array_value(*list, path).size() != descs.size()) {
    fail(path, "expected " + std::to_string(descs.size()) + " entries (one per descriptor parameter), got " +
                   std::to_string(list->size()));
  }
  std::vector<TensorDescInfo> out;
  for (size_t i = 0; i < descs.size(); ++i) {
    const std::string dat = child(path, i);
    const Json& d = (*list)[i];
    expect_object(d, dat);
    TensorDescInfo info;
    info.tma = bool_value(field(d, dat, "tma"), child(dat, "tma"));
    const size_t rank = descs[i]->block.size();
    info.block = dims_value(field(d, dat, "block"), child(dat, "block"), rank, kMaxBlockDim);
    if (info.tma) {
      info.swizzle = static_cast<uint32_t>(uint_value(field(d, dat, "swizzle"), child(dat, "swizzle"), 0, 3));
      info.elem_size = static_cast<uint32_t>(uint_value(field(d, dat, "elem_size"), child(dat, "elem_size"), 1, 16));
      info.elem_type = static_cast<uint32_t>(uint_value(field(d, dat, "elem_type"), child(dat, "elem_type"), 0, 15));
      // The box is at most 256 elements a dim (cuTensorMapEncodeTiled's limit).
      info.box = dims_value(field(d, dat, "box"), child(dat, "box"), rank, 256);
      info.fp4_padded = bool_value(field(d, dat, "fp4_padded"), child(dat, "fp4_padded"));
    }
    out.push_back(std::move(info));
  }
  return out;
}

ResourceUsage read_resources(const Json& j, const std::string& path) {
  expect_object(j, path);
  ResourceUsage r;
  for (const auto& [key, member] : kResourceFields) {
    const Json& v = field(j, path, key);
    r.*member = v.is_number_integer() && v.get<int64_t>() == -1
                    ? -1
                    : static_cast<int32_t>(uint_value(v, child(path, key), 0, INT32_MAX));
  }
  return r;
}

VariantInfo read_variant(const Json& j, const std::string& at, const KernelContext& ctx) {
  expect_object(j, at);
  auto get = [&](std::string_view key) -> const Json& { return field(j, at, key); };
  auto u32 = [&](std::string_view key, uint64_t lo, uint64_t hi) {
    return static_cast<uint32_t>(uint_value(get(key), child(at, key), lo, hi));
  };
  const KernelInfo& k = ctx.kernel;
  VariantInfo v;
  v.id = u32("id", 0, UINT32_MAX);
  v.bindings = read_type_bindings(get("bindings"), child(at, "bindings"), ctx.kernel);

  const std::string cpath = child(at, "config_index");
  if (k.configs.empty()) fail(cpath, "kernel " + quote_text(k.name) + " has no configs");
  v.config_index = u32("config_index", 0, k.configs.size() - 1);

  v.constexprs = read_constexprs(get("constexprs"), child(at, "constexprs"), ctx);
  bool in_order = v.constexprs.size() == ctx.constexpr_params.size();
  for (size_t i = 0; in_order && i < v.constexprs.size(); ++i) {
    in_order = v.constexprs[i].name == k.params[ctx.constexpr_params[i]].name;
  }
  if (!in_order) {
    std::vector<std::string> want, got;
    for (uint32_t idx : ctx.constexpr_params) want.push_back(k.params[idx].name);
    for (const auto& c : v.constexprs) got.push_back(c.name);
    fail(child(at, "constexprs"), "expected the kernel's constexpr params in order (" + text::join(want) +
                                      "), got (" + text::join(got) + ")");
  }
  const ConfigInfo& config = k.configs[v.config_index];
  for (const auto& fixed : config.constexprs) {
    for (const auto& c : v.constexprs) {
      if (c.name == fixed.name && !(c.value == fixed.value)) {
        fail(child(child(at, "constexprs"), c.name),
             c.value.text() + " disagrees with configs[" + std::to_string(v.config_index) + "] (" +
                 quote_text(config.name) + "), which sets " + fixed.value.text());
      }
    }
  }

  v.arch = u32("arch", kMinArch, kMaxArch);
  v.ptx_target = printable_value(get("ptx_target"), child(at, "ptx_target"), kMaxNameLength, true);
  v.entry = printable_value(get("entry"), child(at, "entry"), kMaxEntryLength, false);
  const bool symbol = v.entry.find_first_not_of(
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$.") ==
                          std::string::npos &&
                      !(v.entry[0] >= '0' && v.entry[0] <= '9');
  if (!symbol) fail(child(at, "entry"), "expected a symbol name ([A-Za-z_$.][A-Za-z0-9_$.]*), got " + quote_text(v.entry));

  v.num_warps = launch_warps_value(get("num_warps"), child(at, "num_warps"));
  v.num_stages = u32("num_stages", 0, kMaxStages);
  v.num_ctas = u32("num_ctas", 1, kMaxCtas);
  const std::string dims_path = child(at, "cluster_dims");
  const Json& dims = array_value(get("cluster_dims"), dims_path);
  if (dims.size() != 3) fail(dims_path, "expected 3 integers, got " + std::to_string(dims.size()));
  for (size_t d = 0; d < 3; ++d) {
    v.cluster_dims[d] = static_cast<uint32_t>(uint_value(dims[d], child(dims_path, d), 1, kMaxClusterDim));
  }
  v.shared = u32("shared", 0, kMaxShared);
  v.global_scratch_size = uint_value(get("global_scratch_size"), child(at, "global_scratch_size"), 0, kMaxScratch);
  v.global_scratch_align = power_of_two_value(get("global_scratch_align"), child(at, "global_scratch_align"),
                                              kMaxAlignment);
  v.profile_scratch_size =
      uint_value(get("profile_scratch_size"), child(at, "profile_scratch_size"), 0, kMaxScratch);
  v.profile_scratch_align = power_of_two_value(get("profile_scratch_align"),
                                               child(at, "profile_scratch_align"), kMaxAlignment);
  v.launch_cooperative_grid = bool_value(get("launch_cooperative_grid"), child(at, "launch_cooperative_grid"));
  v.launch_pdl = bool_value(get("launch_pdl"), child(at, "launch_pdl"));
  if (v.launch_pdl != config.launch_pdl) {
    fail(child(at, "launch_pdl"), std::string(v.launch_pdl ? "true" : "false") + ", but configs[" +
                                      std::to_string(v.config_index) + "] (" + quote_text(config.name) + ") " +
                                      (config.launch_pdl ? "sets launch_pdl" : "does not set launch_pdl"));
  }
  v.triton_version = printable_value(get("triton_version"), child(at, "triton_version"), kMaxNameLength, true);
  v.args = read_args(get("args"), child(at, "args"), ctx);
  v.tensordescs = read_tensordescs(j, at, ctx);
  if (const Json* r = optional_field(j, "resources")) v.resources = read_resources(*r, child(at, "resources"));
  v.cubin_blob = blob_ref_value(get("cubin_blob"), child(at, "cubin_blob"), ctx, "cubin");
  v.ptx_blob = blob_ref_value(get("ptx_blob"), child(at, "ptx_blob"), ctx, "ptx");
  if (v.cubin_blob < 0 && v.ptx_blob < 0) fail(at, "neither cubin_blob nor ptx_blob is set");
  if (const Json* ir = optional_field(j, "ir_blobs")) {
    const std::string ipath = child(at, "ir_blobs");
    expect_object(*ir, ipath);
    for (const auto& [stage, blob] : ir->items()) {
      if (!is_ir_stage(stage)) fail(child(ipath, stage), "expected a stage ttir, ttgir or llir");
      v.ir_blobs[stage] = blob_ref_value(blob, child(ipath, stage), ctx, stage.c_str());
    }
  }
  return v;
}

// "steps" (docs/pack-format.md): 2 to kMaxSteps objects of constexpr values, each naming the same
// constexprs (kept in param order), none of them chosen by a heuristic, no two alike, and each
// step's values those of some variant, so that every step can be selected.
std::vector<std::vector<ConstexprValue>> read_steps(const Json& j, const std::string& path, const KernelContext& ctx,
                                                    uint32_t manifest_version) {
  const KernelInfo& k = ctx.kernel;
  if (manifest_version < kStepsManifestVersion) {
    fail(path, "a kernel in steps needs manifest_version " + std::to_string(kStepsManifestVersion) +
                   " (older readers would launch one step), the manifest has " + std::to_string(manifest_version));
  }
  if (array_value(j, path).size() < 2 || j.size() > kMaxSteps) {
    fail(path, "expected 2 to " + std::to_string(kMaxSteps) + " steps, got " + std::to_string(j.size()));
  }
  const auto param_index = [&](const std::string& name) {
    for (size_t i = 0; i < k.params.size(); ++i) {
      if (k.params[i].name == name) return i;
    }
    return k.params.size();
  };
  std::vector<std::vector<ConstexprValue>> steps;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = child(path, i);
    std::vector<ConstexprValue> step = read_constexprs(j[i], at, ctx);
    if (step.empty()) fail(at, "a step names at least one constexpr");
    const StepProblem problem = order_and_check_step(k, step, steps);
    for (const ConstexprValue& c : step) {
      if (!k.params[param_index(c.name)].heuristic.empty()) {
        fail(child(at, c.name), quote_text(c.name) + " has a heuristic; a step constexpr takes the step's value");
      }
    }
    const auto names = [](const std::vector<ConstexprValue>& values) {
      std::vector<std::string> out;
      for (const ConstexprValue& c : values) out.push_back(c.name);
      return out;
    };
    if (problem.kind == StepProblem::kOtherNames) {
      fail(at, "names " + text::join(names(step)) + "; steps[0] names " + text::join(names(steps.front())) +
                   " (every step names the same constexprs)");
    }
    if (problem.kind == StepProblem::kSameValues) {
      fail(at, "the same values as steps[" + std::to_string(problem.earlier) + "] (" + step_text(step) + ")");
    }
    const bool compiled = std::any_of(k.variants.begin(), k.variants.end(), [&](const VariantInfo& v) {
      return std::all_of(step.begin(), step.end(), [&](const ConstexprValue& want) {
        return std::any_of(v.constexprs.begin(), v.constexprs.end(),
                           [&](const ConstexprValue& c) { return c.name == want.name && c.value == want.value; });
      });
    });
    if (!compiled) fail(at, "no variant is compiled with " + step_text(step));
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace

KernelInfo read_kernel(const Json& j, const std::string& at, const std::vector<BlobInfo>& blobs,
                       uint32_t manifest_version) {
  expect_object(j, at);
  auto get = [&](std::string_view key) -> const Json& { return field(j, at, key); };
  KernelInfo k;
  k.name = identifier_value(get("name"), child(at, "name"));
  k.function = identifier_value(get("function"), child(at, "function"));
  k.source_file = string_value(get("source_file"), child(at, "source_file"));
  k.source_sha256 = string_value(get("source_sha256"), child(at, "source_sha256"));
  if (!k.source_sha256.empty() &&
      (k.source_sha256.size() != 64 || k.source_sha256.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    fail(child(at, "source_sha256"), "expected empty or 64 lower-case hex digits, got " + quote_text(k.source_sha256));
  }
  k.type_vars = read_type_vars(get("type_vars"), child(at, "type_vars"));

  const std::string ppath = child(at, "params");
  const Json& params = array_value(get("params"), ppath);
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < params.size(); ++i) {
    k.params.push_back(read_param(params[i], child(ppath, i), k.type_vars));
    auto [it, fresh] = seen.emplace(k.params.back().name, i);
    if (!fresh) {
      fail(child(child(ppath, i), "name"), "duplicate parameter name " + quote_text(it->first) + " (also params[" +
                                               std::to_string(it->second) + "])");
    }
  }
  if (const Json* vars = optional_field(j, "launch_vars")) {
    k.launch_vars = read_launch_vars(*vars, child(at, "launch_vars"), k);
  }
  KernelContext ctx{k, {}, {}, blobs};
  for (size_t i = 0; i < k.params.size(); ++i) {
    (k.params[i].kind == ParamKind::kConstexpr ? ctx.constexpr_params : ctx.runtime_params)
        .push_back(static_cast<uint32_t>(i));
  }

  const std::string gpath = child(at, "grid");
  const Json& grid = array_value(get("grid"), gpath);
  if (grid.size() != 3) fail(gpath, "expected an array of 3 expressions, got " + std::to_string(grid.size()));
  for (size_t d = 0; d < 3; ++d) k.grid[d] = expression_value(grid[d], child(gpath, d), false);
  if (const Json* constraints = optional_field(j, "constraints")) {
    const std::string cpath = child(at, "constraints");
    for (size_t i = 0; i < array_value(*constraints, cpath).size(); ++i) {
      k.constraints.push_back(expression_value((*constraints)[i], child(cpath, i), false));
    }
  }

  k.configs = read_configs(get("configs"), child(at, "configs"), ctx);
  const std::string bpath = child(at, "bench");
  const Json& bench = get("bench");
  expect_object(bench, bpath);
  k.bench.bytes = expression_value(field(bench, bpath, "bytes"), child(bpath, "bytes"), true);
  k.bench.flops = expression_value(field(bench, bpath, "flops"), child(bpath, "flops"), true);
  k.reference = string_value(get("reference"), child(at, "reference"));
  if (!k.reference.empty() && !is_identifier(k.reference)) {
    fail(child(at, "reference"), "expected empty or an identifier, got " + quote_text(k.reference));
  }
  if (const Json* plugin = optional_field(j, "plugin")) {
    k.plugin = read_plugin(*plugin, child(at, "plugin"), k.constraints);
  }

  if (const Json* tuning = optional_field(j, "tuning")) k.tuning = read_tuning(*tuning, child(at, "tuning"), k);

  const std::string vpath = child(at, "variants");
  const Json& variants = array_value(get("variants"), vpath);
  std::map<uint32_t, size_t> ids;
  for (size_t i = 0; i < variants.size(); ++i) {
    k.variants.push_back(read_variant(variants[i], child(vpath, i), ctx));
    auto [it, fresh] = ids.emplace(k.variants.back().id, i);
    if (!fresh) {
      fail(child(child(vpath, i), "id"), "duplicate variant id " + std::to_string(it->first) +
                                             " (also variants[" + std::to_string(it->second) + "])");
    }
  }
  if (const Json* steps = optional_field(j, "steps")) k.steps = read_steps(*steps, child(at, "steps"), ctx, manifest_version);
  return k;
}

}  // namespace tritonpack::pack_format
