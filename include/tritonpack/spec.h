// tritonpack: kernel specs (TOML, docs/spec-format.md) and the compile plan made from them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tritonpack/manifest.h"

namespace tritonpack::spec {

inline constexpr int kSpecVersion = 1;
inline constexpr size_t kMaxVariants = 4096;
// The oldest arch with programmatic dependent launch (griddepcontrol): Hopper.
inline constexpr uint32_t kPdlMinArch = 90;

struct Spec {
  uint32_t spec_version = kSpecVersion;
  std::string path;  // the spec file (as given)
  // name, function, source_file (absolute), params, type_vars, grid, configs, bench, reference;
  // variants stay empty until compiled.
  KernelInfo kernel;
  std::vector<uint32_t> archs;  // e.g. {80, 90}
  // Specialization axes that are not configs.
  std::map<std::string, std::vector<uint32_t>> divisibility_choices;  // runtime param -> {16, 1}
  std::map<std::string, std::vector<Constant>> constexpr_choices;      // constexpr param -> values
};

// Parses and validates a spec. Throws Error(kInvalidSpec) whose message starts with
// "<path>:<line>:<column>: " where the TOML parser or the validation knows the place.
Spec load_spec(const std::string& path);
Spec parse_spec(std::string_view toml_text, const std::string& path);

// One compilation for the Python step (python/tritonpack_compile).
struct CompileJob {
  uint32_t id = 0;
  TypeBindings bindings;                              // type variable -> dtype
  std::vector<ConstexprValue> constexprs;            // every constexpr param, param order
  uint32_t config_index = 0;
  uint32_t arch = 0;
  std::map<std::string, uint32_t> divisibility;      // runtime param -> divisor (only > 1)
  // name -> Triton type ("*fp16", "i32", "constexpr", "tensordesc<fp16[64,64]>")
  std::vector<std::pair<std::string, std::string>> signature;
  uint32_t num_warps = 4, num_stages = 3, num_ctas = 1;
  bool launch_pdl = false;
};

// Every (binding x constexpr specialization x config x divisibility x arch), in that nesting
// order, but for a launch_pdl config only its archs from sm_90 on; ids count the jobs planned.
// Throws Error(kInvalidSpec) past kMaxVariants.
std::vector<CompileJob> plan_jobs(const Spec& spec);

// The job file the Python step reads (schema in docs/compile-step.md).
std::string jobs_to_json(const Spec& spec, const std::vector<CompileJob>& jobs, const std::string& cache_dir);

// Turns one job and the Python step's meta.json into a VariantInfo. Blob indices are left -1, and
// ir_blobs holds every stage meta.json's "ir" lists (the kernel.<stage> files of the folder), each
// with -1: the caller adds those blobs (compile --keep-ir) or clears ir_blobs.
// Throws Error(kCompile) if the metadata is malformed or disagrees with the plan (argument list).
VariantInfo make_variant(const Spec& spec, const CompileJob& job, std::string_view meta_json);

}  // namespace tritonpack::spec
