// tritonpack: the compile plan made from a Spec (jobs for the Python step) and the VariantInfo
// made from each job's result (meta.json). The job file's schema is in docs/compile-step.md.
#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "pack/constant_json.h"
#include "pack/manifest_json.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/spec.h"

namespace tritonpack::spec {
namespace {

using OrderedJson = nlohmann::ordered_json;

// One axis of the plan: how many choices it has and what to call it in the variant-limit error.
struct Axis {
  std::string label;
  size_t size = 0;
};

std::string arch_name(uint32_t arch) { return "sm_" + std::to_string(arch); }

std::string bound_dtype(const TypeBindings& bindings, const DTypeRef& dtype) {
  const std::optional<DType> t = resolve_dtype(dtype, bindings);
  return t ? std::string(dtype_name(*t)) : dtype.text();
}

// A descriptor's block shape for a job: its block expressions with the job's constexprs.
std::vector<uint32_t> descriptor_block(const ParamInfo& p, const CompileJob& job) {
  auto lookup = [&](std::string_view name, int64_t& value) {
    for (const ConstexprValue& c : job.constexprs) {
      if (c.name == name && c.value.is_integral()) {
        value = c.value.as_int();
        return true;
      }
    }
    return false;
  };
  std::vector<uint32_t> block;
  for (size_t d = 0; d < p.block.size(); ++d) {
    const int64_t size = expr::Expr::parse(p.block[d]).eval(lookup);
    if (size < 1 || size > kMaxBlockDim) {
      throw Error(ErrorCode::kInvalidSpec, "param '" + p.name + "' block[" + std::to_string(d) + "] = '" + p.block[d] +
                                               "' is " + std::to_string(size) + "; a block dim is 1 to " +
                                               std::to_string(kMaxBlockDim));
    }
    block.push_back(static_cast<uint32_t>(size));
  }
  return block;
}

// A descriptor's Triton type: "tensordesc<fp16[64,64]>", or for a Gluon kernel
// "tensordesc<fp16[64,64],LAYOUT>".
std::string descriptor_type(const ParamInfo& p, const CompileJob& job) {
  std::string out = "tensordesc<" + bound_dtype(job.bindings, p.dtype) + "[";
  const std::vector<uint32_t> block = descriptor_block(p, job);
  for (size_t d = 0; d < block.size(); ++d) out += (d ? "," : "") + std::to_string(block[d]);
  out += "]";
  if (!p.layout.empty()) out += "," + p.layout;
  return out + ">";
}

// The axes in nesting order, outermost first: type variables, constexpr specializations,
// configs, divisibility, archs. Pointers into spec stay valid while spec lives.
struct Plan {
  std::vector<Axis> axes;
  std::vector<const std::vector<Constant>*> constexpr_axes;      // per param, or null
  std::vector<const std::vector<uint32_t>*> divisibility_axes;   // per param, or null
};

Plan make_plan(const Spec& spec) {
  const KernelInfo& k = spec.kernel;
  Plan plan;
  for (const TypeVarInfo& var : k.type_vars) plan.axes.push_back({"dtypes of " + var.name, var.dtypes.size()});
  plan.constexpr_axes.assign(k.params.size(), nullptr);
  plan.divisibility_axes.assign(k.params.size(), nullptr);
  for (size_t i = 0; i < k.params.size(); ++i) {
    auto it = spec.constexpr_choices.find(k.params[i].name);
    if (k.params[i].kind == ParamKind::kConstexpr && it != spec.constexpr_choices.end()) {
      plan.constexpr_axes[i] = &it->second;
      plan.axes.push_back({"values of " + k.params[i].name, it->second.size()});
    }
  }
  plan.axes.push_back({"configs", k.configs.size()});
  for (size_t i = 0; i < k.params.size(); ++i) {
    auto it = spec.divisibility_choices.find(k.params[i].name);
    if (k.params[i].kind != ParamKind::kConstexpr && it != spec.divisibility_choices.end()) {
      plan.divisibility_axes[i] = &it->second;
      plan.axes.push_back({"divisibilities of " + k.params[i].name, it->second.size()});
    }
  }
  plan.axes.push_back({"archs", spec.archs.size()});
  return plan;
}

std::string describe_variant(const Spec& spec, const CompileJob& job) {
  std::vector<std::string> parts;
  for (const TypeVarInfo& var : spec.kernel.type_vars) {
    auto it = job.bindings.find(var.name);
    if (it != job.bindings.end()) parts.push_back(var.name + "=" + std::string(dtype_name(it->second)));
  }
  for (const ConstexprValue& c : job.constexprs) parts.push_back(c.name + "=" + c.value.text());
  const auto& configs = spec.kernel.configs;
  parts.push_back("config " + (job.config_index < configs.size() ? configs[job.config_index].name
                                                                  : "#" + std::to_string(job.config_index)));
  parts.push_back(arch_name(job.arch));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return "variant " + std::to_string(job.id) + " (" + out + ")";
}

}  // namespace

std::vector<CompileJob> plan_jobs(const Spec& spec) {
  const KernelInfo& k = spec.kernel;
  Plan plan = make_plan(spec);

  size_t total = 1;
  std::string sizes;
  for (const Axis& axis : plan.axes) {
    if (axis.size == 0) throw Error(ErrorCode::kInvalidSpec, "the spec plans no variants: it has no " + axis.label);
    total = total > std::numeric_limits<size_t>::max() / axis.size ? std::numeric_limits<size_t>::max()
                                                                    : total * axis.size;
    sizes += (sizes.empty() ? "" : " x ") + std::to_string(axis.size) + " " + axis.label;
  }
  if (total > kMaxVariants) {
    std::string count = total == std::numeric_limits<size_t>::max() ? "more than " + std::to_string(total)
                                                                     : std::to_string(total);
    throw Error(ErrorCode::kInvalidSpec, "the spec asks for " + count + " variants (limit " +
                                             std::to_string(kMaxVariants) + "): " + sizes);
  }

  std::vector<CompileJob> jobs;
  jobs.reserve(total);
  std::vector<size_t> index(plan.axes.size(), 0);  // odometer over the axes; the last turns fastest
  for (size_t n = 0; n < total; ++n) {
    CompileJob job;
    job.id = static_cast<uint32_t>(jobs.size());
    size_t axis = 0;
    for (const TypeVarInfo& var : k.type_vars) job.bindings[var.name] = var.dtypes[index[axis++]];
    std::vector<size_t> constexpr_pick(k.params.size());
    for (size_t i = 0; i < k.params.size(); ++i) {
      if (plan.constexpr_axes[i]) constexpr_pick[i] = index[axis++];
    }
    job.config_index = static_cast<uint32_t>(index[axis++]);
    const ConfigInfo& config = k.configs[job.config_index];
    for (size_t i = 0; i < k.params.size(); ++i) {
      if (plan.divisibility_axes[i]) {
        uint32_t divisor = (*plan.divisibility_axes[i])[index[axis++]];
        if (divisor > 1) job.divisibility[k.params[i].name] = divisor;
      }
    }
    job.arch = spec.archs[index[axis++]];
    const bool planned = !config.launch_pdl || job.arch >= kPdlMinArch;

    for (size_t i = 0; i < k.params.size(); ++i) {
      const ParamInfo& p = k.params[i];
      if (p.kind != ParamKind::kConstexpr) continue;
      if (plan.constexpr_axes[i]) {
        job.constexprs.push_back({p.name, (*plan.constexpr_axes[i])[constexpr_pick[i]]});
        continue;
      }
      auto it = std::find_if(config.constexprs.begin(), config.constexprs.end(),
                             [&](const ConstexprValue& c) { return c.name == p.name; });
      if (it == config.constexprs.end()) {
        throw Error(ErrorCode::kInvalidSpec, "constexpr '" + p.name + "' has no value in config '" + config.name + "'");
      }
      job.constexprs.push_back(*it);
    }
    for (const ParamInfo& p : k.params) {
      switch (p.kind) {
        case ParamKind::kTensor: job.signature.emplace_back(p.name, "*" + bound_dtype(job.bindings, p.dtype)); break;
        case ParamKind::kScalar: job.signature.emplace_back(p.name, p.dtype.text()); break;
        case ParamKind::kConstexpr: job.signature.emplace_back(p.name, "constexpr"); break;
        case ParamKind::kTensorDesc: job.signature.emplace_back(p.name, descriptor_type(p, job)); break;
      }
    }
    job.num_warps = config.num_warps;
    job.num_stages = config.num_stages;
    job.num_ctas = config.num_ctas;
    job.launch_pdl = config.launch_pdl;
    if (planned) jobs.push_back(std::move(job));

    for (size_t a = plan.axes.size(); a-- > 0;) {
      if (++index[a] < plan.axes[a].size) break;
      index[a] = 0;
    }
  }
  return jobs;
}

std::string jobs_to_json(const Spec& spec, const std::vector<CompileJob>& jobs, const std::string& cache_dir) {
  OrderedJson out;
  out["schema"] = "tritonpack-compile-jobs";
  out["version"] = 1;
  out["source_file"] = spec.kernel.source_file;
  out["function"] = spec.kernel.function;
  out["cache_dir"] = cache_dir;
  OrderedJson list = OrderedJson::array();
  for (const CompileJob& job : jobs) {
    OrderedJson j;
    j["id"] = job.id;
    OrderedJson signature = OrderedJson::array();
    for (const auto& [name, type] : job.signature) signature.push_back(OrderedJson::array({name, type}));
    j["signature"] = std::move(signature);
    OrderedJson constexprs = OrderedJson::object();
    for (const ConstexprValue& c : job.constexprs) constexprs[c.name] = pack_format::constant_to_json(c.value);
    j["constexprs"] = std::move(constexprs);
    // Param order, like the signature (the map itself is sorted by name).
    OrderedJson divisibility = OrderedJson::object();
    for (const ParamInfo& p : spec.kernel.params) {
      auto it = job.divisibility.find(p.name);
      if (it != job.divisibility.end()) divisibility[p.name] = it->second;
    }
    j["divisibility"] = std::move(divisibility);
    j["arch"] = job.arch;
    j["options"] = {{"num_warps", job.num_warps}, {"num_stages", job.num_stages}, {"num_ctas", job.num_ctas}};
    if (job.launch_pdl) j["options"]["launch_pdl"] = true;
    list.push_back(std::move(j));
  }
  out["jobs"] = std::move(list);
  try {
    return out.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {  // a string that is not UTF-8 (a path)
    throw Error(ErrorCode::kInvalidArgument, std::string("cannot write the compile job file: ") + e.what());
  }
}

namespace {

// Reads meta.json's fields with the type each must have; every failure names the variant.
class MetaReader {
 public:
  MetaReader(const nlohmann::json& meta, std::string variant) : meta_(meta), variant_(std::move(variant)) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(ErrorCode::kCompile, variant_ + ": " + message);
  }
  const nlohmann::json& field(const char* key) const {
    auto it = meta_.find(key);
    if (it == meta_.end()) fail(std::string("meta.json has no '") + key + "'");
    return *it;
  }
  std::string string(const char* key) const {
    const auto& v = field(key);
    if (!v.is_string()) fail(std::string("meta.json: '") + key + "' must be a string");
    return v.get<std::string>();
  }
  bool boolean(const char* key) const {
    const auto& v = field(key);
    if (!v.is_boolean()) fail(std::string("meta.json: '") + key + "' must be true or false");
    return v.get<bool>();
  }
  uint64_t unsigned_int(const nlohmann::json& v, const std::string& key, uint64_t max, uint64_t min = 0) const {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max || v.get<uint64_t>() < min) {
      fail("meta.json: '" + key + "' must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return v.get<uint64_t>();
  }
  uint32_t u32(const char* key) const {
    return static_cast<uint32_t>(unsigned_int(field(key), key, std::numeric_limits<uint32_t>::max()));
  }
  uint64_t u64(const char* key) const {
    return unsigned_int(field(key), key, std::numeric_limits<uint64_t>::max());
  }

 private:
  const nlohmann::json& meta_;
  std::string variant_;
};

// How each descriptor argument was compiled: meta.json "tensordesc_meta", one entry per descriptor
// param in order, null when Triton did not lower it to TMA (docs/compile-step.md).
std::vector<TensorDescInfo> read_tensordescs(const MetaReader& read, const nlohmann::json& meta, const KernelInfo& k,
                                             const CompileJob& job) {
  std::vector<const ParamInfo*> descs;
  for (const ParamInfo& p : k.params) {
    if (p.kind == ParamKind::kTensorDesc) descs.push_back(&p);
  }
  if (descs.empty()) return {};
  auto list = meta.find("tensordesc_meta");
  // Triton's metadata is an empty list when nothing was lowered to TMA (seen for sm_80).
  const bool none_lowered = list != meta.end() && list->is_array() && list->empty();
  if (!none_lowered && (list == meta.end() || !list->is_array() || list->size() != descs.size())) {
    read.fail("meta.json: 'tensordesc_meta' must list " + std::to_string(descs.size()) +
              " entries, one per tensordesc param");
  }
  std::vector<TensorDescInfo> out;
  for (size_t i = 0; i < descs.size(); ++i) {
    TensorDescInfo d;
    d.block = descriptor_block(*descs[i], job);
    const nlohmann::json& m = none_lowered ? nlohmann::json() : (*list)[i];
    d.tma = !m.is_null();
    if (d.tma) {
      const std::string at = "tensordesc_meta[" + std::to_string(i) + "]";
      // The ranges the manifest reader takes (pack/manifest_schema.cpp): refused here, per variant.
      auto number = [&](const char* key, uint64_t min, uint64_t max) {
        auto it = m.is_object() ? m.find(key) : m.end();
        if (it == m.end()) read.fail("meta.json: " + at + " has no '" + key + "'");
        return static_cast<uint32_t>(read.unsigned_int(*it, at + "." + key, max, min));
      };
      d.swizzle = number("swizzle", 0, 3);
      d.elem_size = number("elem_size", 1, 16);
      d.elem_type = number("elem_type", 0, 15);
      auto fp4 = m.find("fp4_padded");
      if (fp4 == m.end() || !fp4->is_boolean()) read.fail("meta.json: " + at + ".fp4_padded must be true or false");
      d.fp4_padded = fp4->get<bool>();
      auto box = m.find("block_size");
      if (box == m.end() || !box->is_array() || box->size() != d.block.size()) {
        read.fail("meta.json: " + at + ".block_size must list " + std::to_string(d.block.size()) + " dims");
      }
      for (size_t b = 0; b < box->size(); ++b) {
        d.box.push_back(static_cast<uint32_t>(read.unsigned_int((*box)[b], at + ".block_size", 256, 1)));
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

// ptxas's resource report, where the compile step could read it (null or missing: unknown).
ResourceUsage read_resources(const nlohmann::json& meta) {
  ResourceUsage r;
  for (const auto& [key, member] : pack_format::kResourceFields) {
    auto it = meta.find(key);
    if (it != meta.end() && it->is_number_unsigned() && it->get<uint64_t>() <= INT32_MAX) {
      r.*member = static_cast<int32_t>(it->get<uint64_t>());
    }
  }
  return r;
}

std::string arg_list(const std::vector<std::pair<std::string, std::string>>& args) {
  std::string out;
  for (const auto& [name, type] : args) out += (out.empty() ? "" : ", ") + name + ": " + type;
  return "[" + out + "]";
}

}  // namespace

VariantInfo make_variant(const Spec& spec, const CompileJob& job, std::string_view meta_json) {
  const KernelInfo& k = spec.kernel;
  const std::string variant = describe_variant(spec, job);
  if (job.config_index >= k.configs.size()) {
    throw Error(ErrorCode::kCompile, variant + ": config index " + std::to_string(job.config_index) +
                                         " is out of range (" + std::to_string(k.configs.size()) + " configs)");
  }
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(meta_json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kCompile, variant + ": meta.json does not parse: " + e.what());
  }
  if (!meta.is_object()) throw Error(ErrorCode::kCompile, variant + ": meta.json is not a JSON object");
  MetaReader read(meta, variant);

  VariantInfo v;
  v.id = job.id;
  v.bindings = job.bindings;
  v.constexprs = job.constexprs;
  v.config_index = job.config_index;
  v.arch = read.u32("arch");
  if (v.arch != job.arch) {
    read.fail("meta.json says arch " + std::to_string(v.arch) + ", the job asked for " + arch_name(job.arch));
  }
  v.entry = read.string("entry");
  if (v.entry.empty()) read.fail("meta.json: 'entry' is empty");
  v.ptx_target = read.string("ptx_target");
  v.num_warps = read.u32("num_warps");
  v.num_stages = read.u32("num_stages");
  v.num_ctas = read.u32("num_ctas");
  const auto& cluster = read.field("cluster_dims");
  if (!cluster.is_array() || cluster.size() != 3) read.fail("meta.json: 'cluster_dims' must be an array of 3 integers");
  for (size_t i = 0; i < 3; ++i) {
    v.cluster_dims[i] = static_cast<uint32_t>(
        read.unsigned_int(cluster[i], "cluster_dims[" + std::to_string(i) + "]", std::numeric_limits<uint32_t>::max()));
  }
  v.shared = read.u32("shared");
  v.global_scratch_size = read.u64("global_scratch_size");
  v.global_scratch_align = read.u32("global_scratch_align");
  v.profile_scratch_size = read.u64("profile_scratch_size");
  v.profile_scratch_align = read.u32("profile_scratch_align");
  v.launch_cooperative_grid = read.boolean("launch_cooperative_grid");
  v.launch_pdl = read.boolean("launch_pdl");
  if (v.launch_pdl != job.launch_pdl) {
    read.fail(std::string("meta.json says launch_pdl ") + (v.launch_pdl ? "true" : "false") + ", the job asked for " +
              (job.launch_pdl ? "true" : "false"));
  }
  v.triton_version = read.string("triton_version");

  // What the spec expects: every non-constexpr param, in order, with its ABI type.
  std::vector<std::pair<std::string, std::string>> expected;
  for (uint32_t i = 0; i < k.params.size(); ++i) {
    const ParamInfo& p = k.params[i];
    if (p.kind == ParamKind::kConstexpr) continue;
    ArgType type = ArgType::kPointer;
    if (p.kind == ParamKind::kScalar) {
      std::optional<ArgType> scalar = scalar_arg_type(p.dtype.dtype);
      if (!scalar) read.fail("param '" + p.name + "' has no scalar argument type for dtype '" + p.dtype.text() + "'");
      type = *scalar;
    } else if (p.kind == ParamKind::kTensorDesc) {
      type = ArgType::kTensorDesc;
    }
    expected.emplace_back(p.name, std::string(arg_type_name(type)));
    auto div = job.divisibility.find(p.name);
    v.args.push_back({p.name, type, i, div == job.divisibility.end() ? 1u : div->second});
  }

  const auto& args = read.field("args");
  if (!args.is_array()) read.fail("meta.json: 'args' must be an array of {name, type} objects");
  std::vector<std::pair<std::string, std::string>> compiled;
  for (const auto& a : args) {
    auto name = a.is_object() ? a.find("name") : a.end();
    auto type = a.is_object() ? a.find("type") : a.end();
    if (!a.is_object() || name == a.end() || type == a.end() || !name->is_string() || !type->is_string()) {
      read.fail("meta.json: each of 'args' must be an object with string 'name' and 'type'");
    }
    compiled.emplace_back(name->get<std::string>(), type->get<std::string>());
  }
  if (compiled != expected) {
    read.fail("the compiled kernel's arguments " + arg_list(compiled) + " differ from the spec's " +
              arg_list(expected));
  }
  v.tensordescs = read_tensordescs(read, meta, k, job);
  v.resources = read_resources(meta);

  // The IR stages the compile step wrote next to the cubin (kernel.<stage>): ir_blobs names them,
  // their blobs left -1 like the cubin's and the PTX's. A Gluon kernel has no ttir.
  const auto& ir = read.field("ir");
  if (!ir.is_array()) read.fail("meta.json: 'ir' must be a list of stages among ttir, ttgir, llir");
  for (const auto& stage : ir) {
    if (!stage.is_string() || !pack_format::is_ir_stage(stage.get<std::string>())) {
      read.fail("meta.json: 'ir' must be a list of stages among ttir, ttgir, llir");
    }
    if (!v.ir_blobs.emplace(stage.get<std::string>(), -1).second) {
      read.fail("meta.json: 'ir' lists '" + stage.get<std::string>() + "' twice");
    }
  }
  return v;
}

}  // namespace tritonpack::spec
