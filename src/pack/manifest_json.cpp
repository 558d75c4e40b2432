// Manifest <-> JSON: the writer, the top level of the reader and the blob table. The kernel part
// of the schema lives in manifest_schema.cpp.
#include <map>
#include <string>

#include "pack/constant_json.h"
#include "pack/container.h"
#include "pack/manifest_json.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"

namespace tritonpack {
namespace pack_format {
namespace {

constexpr std::string_view kFormatName = "tritonpack-manifest";
constexpr size_t kMaxCreatedByLength = 256;

Json constexprs_to_json(const std::vector<ConstexprValue>& values) {
  Json j = Json::object();
  for (const auto& v : values) j[v.name] = constant_to_json(v.value);
  return j;
}

Json tensordesc_to_json(const TensorDescInfo& d) {
  Json j{{"tma", d.tma}, {"block", d.block}};
  if (d.tma) {
    j["swizzle"] = d.swizzle;
    j["elem_size"] = d.elem_size;
    j["elem_type"] = d.elem_type;
    j["box"] = d.box;
    j["fp4_padded"] = d.fp4_padded;
  }
  return j;
}

Json resources_to_json(const ResourceUsage& r) {
  Json j = Json::object();
  for (const auto& [key, member] : kResourceFields) j[std::string(key)] = r.*member;
  return j;
}

Json variant_to_json(const VariantInfo& v) {
  Json j = Json::object();
  j["id"] = v.id;
  Json bindings = Json::object();
  for (const auto& [var, dtype] : v.bindings) bindings[var] = std::string(dtype_name(dtype));
  j["bindings"] = std::move(bindings);
  j["constexprs"] = constexprs_to_json(v.constexprs);
  j["config_index"] = v.config_index;
  j["arch"] = v.arch;
  j["ptx_target"] = v.ptx_target;
  j["entry"] = v.entry;
  j["num_warps"] = v.num_warps;
  j["num_stages"] = v.num_stages;
  j["num_ctas"] = v.num_ctas;
  j["cluster_dims"] = Json::array({v.cluster_dims[0], v.cluster_dims[1], v.cluster_dims[2]});
  j["shared"] = v.shared;
  j["global_scratch_size"] = v.global_scratch_size;
  j["global_scratch_align"] = v.global_scratch_align;
  j["profile_scratch_size"] = v.profile_scratch_size;
  j["profile_scratch_align"] = v.profile_scratch_align;
  j["launch_cooperative_grid"] = v.launch_cooperative_grid;
  j["launch_pdl"] = v.launch_pdl;
  j["triton_version"] = v.triton_version;
  Json args = Json::array();
  for (const auto& a : v.args) {
    args.push_back(Json{{"name", a.name},
                        {"type", std::string(arg_type_name(a.type))},
                        {"param_index", a.param_index},
                        {"divisibility", a.divisibility}});
  }
  j["args"] = std::move(args);
  // Optional fields are written only when set, so packs without them stay as they were.
  if (!v.tensordescs.empty()) {
    Json descs = Json::array();
    for (const auto& d : v.tensordescs) descs.push_back(tensordesc_to_json(d));
    j["tensordescs"] = std::move(descs);
  }
  if (v.resources.registers >= 0) j["resources"] = resources_to_json(v.resources);
  j["cubin_blob"] = v.cubin_blob;
  j["ptx_blob"] = v.ptx_blob;
  if (!v.ir_blobs.empty()) {
    Json ir = Json::object();
    for (const auto& [stage, blob] : v.ir_blobs) ir[stage] = blob;
    j["ir_blobs"] = std::move(ir);
  }
  return j;
}

Json kernel_to_json(const KernelInfo& k) {
  Json j = Json::object();
  j["name"] = k.name;
  j["function"] = k.function;
  j["source_file"] = k.source_file;
  j["source_sha256"] = k.source_sha256;
  Json params = Json::array();
  for (const auto& p : k.params) {
    Json param{{"name", p.name},
               {"kind", std::string(param_kind_name(p.kind))},
               {"dtype", p.kind == ParamKind::kConstexpr ? std::string() : p.dtype.text()},
               {"is_output", p.is_output},
               {"numel", p.numel}};
    if (!p.heuristic.empty()) param["heuristic"] = p.heuristic;
    if (!p.block.empty()) param["block"] = p.block;
    if (!p.layout.empty()) param["layout"] = p.layout;
    // Plugin keys are written only when set, so packs without them read in older readers.
    if (!p.dims.empty()) param["dims"] = p.dims;
    if (p.is_scratch) param["is_scratch"] = true;
    if (p.is_field) param["is_field"] = true;
    if (p.has_default) param["default"] = p.default_value;
    if (!p.dim.empty()) param["dim"] = p.dim;
    params.push_back(std::move(param));
  }
  j["params"] = std::move(params);
  if (!k.launch_vars.empty()) {
    Json vars = Json::array();
    for (const auto& lv : k.launch_vars) {
      Json var{{"name", lv.name}, {"dtype", std::string(dtype_name(lv.dtype))}};
      if (lv.min) var["min"] = *lv.min;
      if (lv.max) var["max"] = *lv.max;
      vars.push_back(std::move(var));
    }
    j["launch_vars"] = std::move(vars);
  }
  Json type_vars = Json::array();
  for (const auto& t : k.type_vars) {
    Json dtypes = Json::array();
    for (DType d : t.dtypes) dtypes.push_back(std::string(dtype_name(d)));
    type_vars.push_back(Json{{"name", t.name}, {"dtypes", std::move(dtypes)}});
  }
  j["type_vars"] = std::move(type_vars);
  j["grid"] = Json::array({k.grid[0], k.grid[1], k.grid[2]});
  if (!k.constraints.empty()) j["constraints"] = k.constraints;
  Json configs = Json::array();
  for (const auto& c : k.configs) {
    configs.push_back(Json{{"name", c.name},
                           {"constexprs", constexprs_to_json(c.constexprs)},
                           {"num_warps", c.num_warps},
                           {"num_stages", c.num_stages},
                           {"num_ctas", c.num_ctas}});
    if (c.launch_pdl) configs.back()["launch_pdl"] = true;  // only then: packs without it read as before
  }
  j["configs"] = std::move(configs);
  j["bench"] = Json{{"bytes", k.bench.bytes}, {"flops", k.bench.flops}};
  j["reference"] = k.reference;
  const PluginInfo& pl = k.plugin;
  if (!pl.name.empty() || pl.version != "1" || !pl.plugin_namespace.empty() || !pl.rules.empty()) {
    j["plugin"] = Json{{"name", pl.name},
                       {"version", pl.version},
                       {"namespace", pl.plugin_namespace},
                       {"rules", pl.rules}};
  }
  if (!k.tuning.key.empty()) j["tuning"] = tuning_to_json(k.tuning);
  if (!k.steps.empty()) {
    Json steps = Json::array();
    for (const auto& step : k.steps) steps.push_back(constexprs_to_json(step));
    j["steps"] = std::move(steps);
  }
  Json variants = Json::array();
  for (const auto& v : k.variants) variants.push_back(variant_to_json(v));
  j["variants"] = std::move(variants);
  return j;
}

// Rejects nesting deeper than kMaxJsonDepth before nlohmann builds anything, so that hostile
// input ("[[[[...") costs neither stack nor memory. Strings are skipped honouring escapes.
void check_nesting(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        fail("", "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels (at byte " +
                     std::to_string(i) + ")");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

std::vector<BlobInfo> read_blobs(const Json& j, const std::string& path) {
  std::vector<BlobInfo> blobs;
  blobs.reserve(array_value(j, path).size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = child(path, i);
    const Json& b = j[i];
    expect_object(b, at);
    BlobInfo blob;
    blob.offset = uint_value(field(b, at, "offset"), child(at, "offset"), 0, kMaxFileSize);
    if (blob.offset % kBlobAlignment != 0) {
      fail(child(at, "offset"), "expected a multiple of 256, got " + std::to_string(blob.offset));
    }
    blob.size = uint_value(field(b, at, "size"), child(at, "size"), 1, kMaxFileSize);
    blob.sha256 = string_value(field(b, at, "sha256"), child(at, "sha256"));
    const bool hex = blob.sha256.size() == 64 &&
                     blob.sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) {
      fail(child(at, "sha256"), "expected 64 lower-case hex digits, got " + quote_text(blob.sha256));
    }
    blob.kind = string_value(field(b, at, "kind"), child(at, "kind"));
    if (blob.kind != "cubin" && blob.kind != "ptx" && !is_ir_stage(blob.kind)) {
      fail(child(at, "kind"), "expected \"cubin\", \"ptx\", \"ttir\", \"ttgir\" or \"llir\", got " +
                                  quote_text(blob.kind));
    }
    blobs.push_back(std::move(blob));
  }
  return blobs;
}

Manifest read_manifest(std::string_view text) {
  check_nesting(text);
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error for syntax, out_of_range for a number too large for a double ("1e999").
    fail("", std::string("manifest is not valid JSON: ") + e.what());
  }
  expect_object(root, "manifest");

  Manifest m;
  const std::string& format = string_value(field(root, "", "format"), "format");
  if (format != kFormatName) {
    fail("format", "expected \"tritonpack-manifest\", got " + quote_text(format));
  }
  const Json& version = field(root, "", "manifest_version");
  const bool positive = version.is_number_unsigned() ||
                        (version.is_number_integer() && version.get<int64_t>() > 0);
  if (!positive || version.get<uint64_t>() == 0) {
    fail("manifest_version", "expected a positive integer, got " + describe(version));
  }
  if (version.get<uint64_t>() > static_cast<uint64_t>(kManifestVersion)) {
    fail("manifest_version", "manifest version " + describe(version) +
                                 " is newer than this tritonpack supports (" +
                                 std::to_string(kManifestVersion) + "); upgrade tritonpack");
  }
  m.manifest_version = static_cast<uint32_t>(version.get<uint64_t>());
  m.created_by = string_value(field(root, "", "created_by"), "created_by", kMaxCreatedByLength);
  // Blobs first: variants refer to them by index and kind.
  m.blobs = read_blobs(field(root, "", "blobs"), "blobs");

  const Json& kernels = array_value(field(root, "", "kernels"), "kernels");
  std::map<std::string, size_t> seen;
  m.kernels.reserve(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    m.kernels.push_back(read_kernel(kernels[i], child("kernels", i), m.blobs, m.manifest_version));
    auto [it, fresh] = seen.emplace(m.kernels.back().name, i);
    if (!fresh) {
      fail(child(child("kernels", i), "name"), "duplicate kernel name " + quote_text(it->first) +
                                                   " (also kernels[" + std::to_string(it->second) + "])");
    }
  }
  return m;
}

}  // namespace

Manifest parse_manifest(std::string_view json, const std::string& error_prefix) {
  try {
    return read_manifest(json);
  } catch (const SchemaError& e) {
    throw Error(ErrorCode::kCorruptPack,
                error_prefix + (e.path.empty() ? "" : e.path + ": ") + e.what);
  }
}

}  // namespace pack_format

std::string manifest_to_json(const Manifest& manifest, int indent) {
  using pack_format::Json;
  Json j = Json::object();
  j["format"] = pack_format::kFormatName;
  j["manifest_version"] = manifest_version_needed(manifest);
  j["created_by"] = manifest.created_by;
  Json kernels = Json::array();
  for (const auto& k : manifest.kernels) kernels.push_back(pack_format::kernel_to_json(k));
  j["kernels"] = std::move(kernels);
  Json blobs = Json::array();
  for (const auto& b : manifest.blobs) {
    blobs.push_back(Json{{"offset", b.offset}, {"size", b.size}, {"sha256", b.sha256}, {"kind", b.kind}});
  }
  j["blobs"] = std::move(blobs);
  try {
    return j.dump(indent);
  } catch (const Json::exception& e) {
    // Only invalid UTF-8 in a string field can make dump() fail.
    throw Error(ErrorCode::kInvalidArgument, std::string("cannot write manifest: ") + e.what());
  }
}

Manifest manifest_from_json(std::string_view json) {
  return pack_format::parse_manifest(json, "corrupt manifest: ");
}

}  // namespace tritonpack
