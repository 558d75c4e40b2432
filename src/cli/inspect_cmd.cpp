// `tritonpack inspect`: what a pack holds, as text or JSON.
#include <algorithm>
#include <array>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/kernel_choice.h"
#include "cli/text.h"
#include "plugin/model.h"
#include "pack/cubin_info.h"
#include "pack/manifest_json.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "tritonpack/tuning.h"
#include "util/text.h"

namespace tritonpack::cli {
namespace {

std::string variant_key(const KernelInfo& k, const VariantInfo& v) {
  std::ostringstream os;
  bool first = true;
  for (const auto& [var, dtype] : v.bindings) {
    os << (first ? "" : " ") << var << "=" << dtype_name(dtype);
    first = false;
  }
  for (const auto& c : v.constexprs) {
    os << (first ? "" : " ") << c.name << "=" << c.value.text();
    first = false;
  }
  os << (first ? "" : " ") << "cfg=" << k.configs[v.config_index].name;
  for (const auto& a : v.args) {
    if (a.divisibility > 1) os << " " << a.name << "%" << a.divisibility;
  }
  return os.str();
}

// A variant's resource columns: registers from its cubin (what the driver allocates), spills and
// stack frame from ptxas's report kept in the manifest. "-" where unknown; "*" marks a number
// the cubin and ptxas disagree on, explained by a note.
struct ResourceCells {
  std::string registers{"-"}, spills{"-"}, stack{"-"};
  std::vector<std::string> notes;
};

ResourceCells resource_cells(const Pack& pack, const VariantInfo& v) {
  ResourceCells cells;
  const ResourceUsage& ptxas = v.resources;
  if (ptxas.spill_stores >= 0 && ptxas.spill_loads >= 0) {
    cells.spills = std::to_string(ptxas.spill_stores) + "/" + std::to_string(ptxas.spill_loads);
  }
  if (ptxas.stack_frame >= 0) cells.stack = std::to_string(ptxas.stack_frame);
  if (v.cubin_blob < 0) return cells;
  const std::string variant = "variant " + std::to_string(v.id) + ": ";
  std::optional<pack_format::CubinResources> cubin;
  std::string unreadable;
  try {
    cubin = pack_format::read_cubin_resources(pack.blob(v.cubin_blob), v.entry);
    if (!cubin) unreadable = "the cubin records no register count for '" + v.entry + "'";
  } catch (const Error& e) {
    unreadable = e.what();  // "cubin: ..."
  }
  if (!cubin) {
    cells.registers.assign(1, '?');  // = "?" trips GCC 12's bogus -Wrestrict (GCC PR 105329)
    cells.notes.push_back(variant + unreadable);
    return cells;
  }
  cells.registers = std::to_string(cubin->registers);
  if (ptxas.registers >= 0 && static_cast<uint32_t>(ptxas.registers) != cubin->registers) {
    cells.registers += "*";
    cells.notes.push_back(variant + "the cubin records " + std::to_string(cubin->registers) +
                          " registers, ptxas reported " + std::to_string(ptxas.registers) +
                          " (the driver uses the cubin's)");
  }
  if (cubin->frame_size && ptxas.stack_frame >= 0 && static_cast<uint32_t>(ptxas.stack_frame) != *cubin->frame_size) {
    cells.stack += "*";
    cells.notes.push_back(variant + "the cubin records a stack frame of " + std::to_string(*cubin->frame_size) +
                          " bytes, ptxas reported " + std::to_string(ptxas.stack_frame));
  }
  return cells;
}

std::string variant_ids(const KernelInfo& k) {
  std::vector<uint32_t> ids;
  for (const VariantInfo& v : k.variants) ids.push_back(v.id);
  std::sort(ids.begin(), ids.end());
  return "ids " + id_ranges(ids);
}

constexpr std::array<std::string_view, 4> kStages = {"ttir", "ttgir", "llir", "ptx"};  // in compiler order

// The blob holding a variant's text at `stage`, or -1.
int32_t stage_blob(const VariantInfo& v, std::string_view stage) {
  if (stage == "ptx") return v.ptx_blob;
  const auto it = v.ir_blobs.find(std::string(stage));
  return it == v.ir_blobs.end() ? -1 : it->second;
}

// The stages of `v`, or with v = nullptr those any variant of `k` has.
std::vector<std::string> stages(const KernelInfo& k, const VariantInfo* v) {
  std::vector<std::string> out;
  for (std::string_view stage : kStages) {
    const bool has = v != nullptr ? stage_blob(*v, stage) >= 0
                                  : std::any_of(k.variants.begin(), k.variants.end(),
                                                [&](const VariantInfo& w) { return stage_blob(w, stage) >= 0; });
    if (has) out.emplace_back(stage);
  }
  return out;
}

// "a, b", or "nothing".
std::string join(const std::vector<std::string>& items) { return items.empty() ? "nothing" : text::join(items); }

const VariantInfo& chosen_variant(const KernelInfo& k, const InspectOptions& o) {
  if (!o.variant) {
    if (k.variants.size() != 1) {
      throw Error(ErrorCode::kInvalidArgument, "kernel '" + k.name + "' has " + std::to_string(k.variants.size()) +
                                                   " variants: choose one with --variant (" + variant_ids(k) + ")");
    }
    return k.variants[0];
  }
  for (const VariantInfo& v : k.variants) {
    if (v.id == *o.variant) return v;
  }
  throw Error(ErrorCode::kNotFound, "kernel '" + k.name + "' has no variant " + std::to_string(*o.variant) + " (" +
                                        variant_ids(k) + ")");
}

// `inspect --ir STAGE [--variant ID]`: that stage's text, exactly as stored.
int print_ir(const Pack& pack, const InspectOptions& o) {
  const KernelInfo& k = choose_kernel(pack, o.kernel);
  const std::vector<std::string> kept = stages(k, nullptr);
  const bool is_ir = pack_format::is_ir_stage(o.ir);
  if (!is_ir && o.ir != "ptx") {
    throw Error(ErrorCode::kInvalidArgument,
                "unknown stage '" + o.ir + "' for --ir; " + o.pack + " has: " + join(kept) +
                    (o.ir == "sass" ? " (SASS is not stored: disassemble the cubin with cuobjdump -sass)" : ""));
  }
  if (is_ir && std::none_of(kept.begin(), kept.end(), pack_format::is_ir_stage)) {
    throw Error(ErrorCode::kNotFound, o.pack + " holds no compiler IR (ttir, ttgir, llir): recompile with "
                                       "`tritonpack compile --keep-ir` (--ir ptx works without it)");
  }
  const VariantInfo& variant = chosen_variant(k, o);
  const int32_t blob = stage_blob(variant, o.ir);
  if (blob < 0) {
    throw Error(ErrorCode::kNotFound, "variant " + std::to_string(variant.id) + " of '" + k.name + "' has no " +
                                          o.ir + "; it has: " + join(stages(k, &variant)));
  }
  const auto text = pack.blob(blob);
  std::cout.write(reinterpret_cast<const char*>(text.data()), static_cast<std::streamsize>(text.size()));
  return 0;
}

// The tuning key, the launches `tune` measures, and each table: per entry its dtypes, bins and
// configs fastest first (docs/tuning.md).
void print_tuning(const KernelInfo& k) {
  const TuningInfo& t = k.tuning;
  if (t.key.empty()) return;
  std::cout << "  tuning key:";
  for (size_t i = 0; i < t.key.size(); ++i) {
    std::cout << (i ? "," : "") << " " << t.key[i] << " (" << tuning::bins_text(t.bins[i]) << ")";
  }
  std::cout << "\n  tuning launches: " << t.shapes.size() << " (measured by tritonpack tune)\n";
  if (t.tables.empty()) std::cout << "  tuning tables: none (configs run in spec order; run tritonpack tune on a GPU)\n";
  for (const TuningTable& table : t.tables) {
    std::cout << "  tuning table '" << table.device << "' (sm_" << table.arch << ", driver " << table.driver
              << ", triton " << table.triton_version << ", " << table.date << ", " << table.tool
              << "): " << table.entries.size() << " entries\n";
    for (size_t e = 0; e < table.entries.size(); ++e) {
      const TuningEntry& entry = table.entries[e];
      std::ostringstream line;
      line << "    " << e << ":";
      for (const auto& [var, dtype] : entry.bindings) line << " " << var << "=" << dtype_name(dtype);
      for (size_t i = 0; i < t.key.size(); ++i) line << " " << t.key[i] << " " << tuning::bin_text(t.bins[i], entry.bin[i]);
      line << " ->";
      for (size_t c = 0; c < entry.configs.size() && c < 3; ++c) {
        line << (c ? ", " : " ") << entry.configs[c] << " " << std::fixed << std::setprecision(2) << entry.times_us[c]
             << " us";
      }
      if (entry.configs.size() > 3) line << ", ... (" << entry.configs.size() << " configs)";
      std::cout << line.str() << "\n";
    }
  }
}

void print_kernel(const KernelInfo& k) {
  std::cout << "\nkernel " << k.name << " = " << k.function << " from " << k.source_file << "\n";
  if (!k.variants.empty()) std::cout << "  triton " << k.variants.front().triton_version << "\n";
  std::cout << "  params:\n";
  for (const ParamInfo& p : k.params) {
    std::cout << "    " << std::left << std::setw(20) << p.name << std::setw(11) << param_kind_name(p.kind)
              << (p.kind == ParamKind::kConstexpr ? "" : p.dtype.text());
    if (p.kind == ParamKind::kTensor) std::cout << (p.is_output ? " out" : p.is_scratch ? " scratch" : " in");
    if (!p.block.empty()) {
      std::cout << " block [";
      for (size_t d = 0; d < p.block.size(); ++d) std::cout << (d ? ", " : "") << p.block[d];
      std::cout << "]";
    }
    if (!p.layout.empty()) std::cout << " layout " << p.layout;
    if (!p.dims.empty()) {
      std::cout << "  dims [";
      for (size_t d = 0; d < p.dims.size(); ++d) std::cout << (d ? ", " : "") << p.dims[d];
      std::cout << "]";
    }
    if (!p.numel.empty()) std::cout << "  numel=" << p.numel;
    if (p.is_field) std::cout << "  field" << (p.has_default ? " default=" + Constant(p.default_value).text() : "");
    if (!p.dim.empty()) std::cout << "  dim=" << p.dim;  // a dim-size argument (may name SM_COUNT)
    if (p.kind == ParamKind::kConstexpr) {
      const std::vector<Constant> values = compiled_values(k, p.name);
      std::cout << "values {";
      for (size_t i = 0; i < values.size(); ++i) std::cout << (i ? ", " : "") << values[i].text();
      std::cout << "}";
    }
    if (!p.heuristic.empty()) std::cout << "  heuristic " << p.name << " = " << p.heuristic;
    std::cout << "\n";
  }
  for (const LaunchVarInfo& v : k.launch_vars) {
    std::cout << "  launch variable " << v.name << ": " << dtype_name(v.dtype);
    if (v.min) std::cout << " min " << *v.min;
    if (v.max) std::cout << " max " << *v.max;
    std::cout << "\n";
  }
  for (const std::string& c : k.constraints) std::cout << "  rule: " << c << "\n";
  // An output's dtype no input decides: an engine chooses it through the plugin's dtype field.
  const std::vector<const TypeVarInfo*> unbound = plugin::unbound_type_vars(k);
  for (const TypeVarInfo& t : k.type_vars) {
    std::cout << "  type " << t.name << " in {";
    for (size_t i = 0; i < t.dtypes.size(); ++i) std::cout << (i ? ", " : "") << dtype_name(t.dtypes[i]);
    std::cout << "}";
    if (std::find(unbound.begin(), unbound.end(), &t) != unbound.end()) {
      std::cout << "  (no input binds it";
      if (plugin::has_plugin_keys(k)) std::cout << ": the plugin's dtype field " << t.name << ", default " << dtype_name(t.dtypes[0]);
      std::cout << ")";
    }
    std::cout << "\n";
  }
  std::cout << "  grid: (" << k.grid[0] << ", " << k.grid[1] << ", " << k.grid[2] << ")\n";
  if (!k.steps.empty()) {
    std::cout << "  steps:";
    for (size_t i = 0; i < k.steps.size(); ++i) std::cout << (i ? "; " : " ") << step_text(k.steps[i]);
    std::cout << " (one launch each, in order)\n";
  }
  for (const ConfigInfo& c : k.configs) {
    std::cout << "  config " << c.name << ": num_warps=" << c.num_warps << " num_stages=" << c.num_stages
              << " num_ctas=" << c.num_ctas;
    for (const auto& v : c.constexprs) std::cout << " " << v.name << "=" << v.value.text();
    std::cout << "\n";
  }
  if (!k.bench.bytes.empty()) std::cout << "  bench bytes: " << k.bench.bytes << "\n";
  if (!k.bench.flops.empty()) std::cout << "  bench flops: " << k.bench.flops << "\n";
  if (!k.reference.empty()) std::cout << "  reference: " << k.reference << "\n";
  print_tuning(k);
}

// One row per variant; resources as resource_cells() explains, with its notes below the table.
void print_variants(const Pack& pack, const KernelInfo& k) {
  const Manifest& m = pack.manifest();
  std::cout << "  variants: " << k.variants.size() << "\n";
  // The specialization column is as wide as its longest entry (at least the heading), plus a gap.
  int key_width = 16;
  for (const VariantInfo& v : k.variants) key_width = std::max(key_width, static_cast<int>(variant_key(k, v).size()) + 2);
  std::cout << "    " << std::left << std::setw(4) << "id" << std::setw(key_width) << "specialization" << std::setw(8)
            << "arch" << std::setw(7) << "warps" << std::setw(7) << "stages" << std::setw(5) << "ctas"
            << std::setw(8) << "shared" << std::setw(9) << "scratch" << std::setw(8) << "cubin" << std::setw(8)
            << "ptx" << std::setw(6) << "regs" << std::setw(13) << "spill st/ld" << "stack\n";
  std::vector<std::string> notes;
  for (const VariantInfo& v : k.variants) {
    ResourceCells cells = resource_cells(pack, v);
    notes.insert(notes.end(), cells.notes.begin(), cells.notes.end());
    std::cout << "    " << std::left << std::setw(4) << v.id << std::setw(key_width) << variant_key(k, v) << std::setw(8)
              << v.ptx_target << std::setw(7) << v.num_warps << std::setw(7) << v.num_stages << std::setw(5)
              << v.num_ctas << std::setw(8) << v.shared << std::setw(9) << v.global_scratch_size << std::setw(8)
              << (v.cubin_blob >= 0 ? std::to_string(m.blobs[v.cubin_blob].size) : "-") << std::setw(8)
              << (v.ptx_blob >= 0 ? std::to_string(m.blobs[v.ptx_blob].size) : "-") << std::setw(6)
              << cells.registers << std::setw(13) << cells.spills << cells.stack << "\n";
  }
  for (const std::string& note : notes) std::cout << "    * " << note << "\n";
  std::cout << "  (regs: registers per thread, read from each cubin: what the driver allocates. spill st/ld, stack:\n"
               "   bytes per thread of spill stores/loads and stack frame, from ptxas's report at compile time)\n";
  std::vector<std::string> ir = stages(k, nullptr);
  std::erase(ir, "ptx");
  if (!ir.empty()) std::cout << "  IR kept: " << join(ir) << " (print one with --ir STAGE --variant ID)\n";
}

}  // namespace

int inspect(const InspectOptions& o) {
  const auto pack = Pack::open(o.pack);
  // Opening leaves each blob's hash to its first use; inspect is where a pack is checked whole.
  pack->verify_blobs();
  const Manifest& m = pack->manifest();
  if (o.json) {
    std::cout << manifest_to_json(m, 2) << "\n";
    return 0;
  }
  if (!o.ir.empty()) return print_ir(*pack, o);
  if (!o.kernel.empty()) pack->kernel(o.kernel);  // throws kNotFound, naming the kernels it holds
  std::map<std::string, uint64_t> bytes_by_kind;
  for (const BlobInfo& b : m.blobs) bytes_by_kind[pack_format::is_ir_stage(b.kind) ? "ir" : b.kind] += b.size;
  std::cout << "pack " << o.pack << ": " << pack->bytes().size() << " bytes, manifest v" << m.manifest_version
            << ", " << m.created_by << "\n"
            << "blobs: " << m.blobs.size() << " (cubin " << bytes_by_kind["cubin"] << " bytes, ptx "
            << bytes_by_kind["ptx"] << " bytes";
  if (bytes_by_kind.count("ir")) std::cout << ", ir " << bytes_by_kind["ir"] << " bytes";
  std::cout << ")\n";
  for (const KernelInfo& k : m.kernels) {
    if (!o.kernel.empty() && k.name != o.kernel) continue;
    print_kernel(k);
    print_variants(*pack, k);
  }
  return 0;
}

}  // namespace tritonpack::cli
