// tritonpack: the in-memory form of a pack's manifest (docs/pack-format.md).
//
// A Manifest is what a pack says about its kernels. src/pack turns JSON into a Manifest and
// validates every field before anyone else sees it, so the runtime may rely on these
// invariants (indices in range, names unique, expressions parse).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tritonpack/types.h"

namespace tritonpack {

inline constexpr int kManifestVersion = 1;

enum class ParamKind : uint8_t { kTensor, kScalar, kConstexpr };

// One parameter of the Triton kernel, in the kernel's order (constexprs included).
struct ParamInfo {
  std::string name;
  ParamKind kind = ParamKind::kTensor;
  // Tensor: element dtype, concrete ("fp16") or a type variable ("T") bound per variant.
  // Scalar: the scalar dtype ("i32", "i64", "fp32", "fp16", "bf16").
  // Constexpr: empty.
  std::string dtype;
  bool is_output = false;  // tensors only
  // Tensors: element count as an expression over scalars and constexprs, used by `tritonpack run`
  // to allocate buffers (optional).
  std::string numel;

  // The plugin model (docs/spec-format.md, "Plugin keys"); all optional.
  // Tensors: one entry per dim. Inputs: a dim name or an integer; outputs and scratch tensors: an
  // expression over dim names, fields, dim-size arguments and constexprs.
  std::vector<std::string> dims;
  bool is_scratch = false;  // tensors: a kernel buffer placed in the workspace, not an engine output
  bool is_field = false;    // scalars: a plugin field (attribute), given once when the op is made
  bool has_default = false;  // fields: whether default_value is set
  double default_value = 0;  // fields: used when the field is not given
  std::string dim;           // scalars: a dim-size argument, this expression over dim names
};

// How the kernel becomes a plugin (engine op): identity, shape rules and constraints.
struct PluginInfo {
  std::string name;              // empty: the kernel's name
  std::string version = "1";
  std::string plugin_namespace;  // empty: "tritonpack"
  std::vector<std::string> rules;        // PluginGen rule strings (include/tritonpack/rule.h)
  std::vector<std::string> constraints;  // expressions that must be nonzero (dims, fields, constexprs)
};

// One runtime argument of a compiled variant, after constexpr removal, in ABI order.
// The two hidden scratch pointers are not listed: every launch appends them.
struct KernelArg {
  std::string name;
  ArgType type = ArgType::kPointer;
  uint32_t param_index = 0;  // index into KernelInfo::params
  // Divisibility the variant was compiled to assume (tt.divisibility); 1 = none.
  // The runtime checks value % divisibility == 0 before choosing the variant.
  uint32_t divisibility = 1;
};

struct ConstexprValue {
  std::string name;
  int64_t value = 0;
};

// One compiled variant: a dtype binding x constexpr specialization x config x divisibility x arch.
struct VariantInfo {
  uint32_t id = 0;
  std::map<std::string, std::string> bindings;  // type variable -> dtype name
  std::vector<ConstexprValue> constexprs;        // every constexpr param, in param order
  uint32_t config_index = 0;                      // index into KernelInfo::configs
  uint32_t arch = 0;                              // compute capability * 10 + minor, e.g. 90
  std::string ptx_target;                         // ".target" of the PTX, e.g. "sm_90a"
  std::string entry;                              // kernel entry symbol in the cubin/PTX

  // From Triton's metadata of this compilation.
  uint32_t num_warps = 4;  // launch with this (may differ from the config's request)
  uint32_t num_stages = 0;
  uint32_t num_ctas = 1;
  std::array<uint32_t, 3> cluster_dims{1, 1, 1};
  uint32_t shared = 0;  // dynamic shared memory bytes
  uint64_t global_scratch_size = 0;
  uint32_t global_scratch_align = 1;
  uint64_t profile_scratch_size = 0;
  uint32_t profile_scratch_align = 1;
  bool launch_cooperative_grid = false;
  bool launch_pdl = false;
  std::string triton_version;

  std::vector<KernelArg> args;
  int32_t cubin_blob = -1;  // index into Manifest::blobs, -1 if absent
  int32_t ptx_blob = -1;
};

struct ConfigInfo {
  std::string name;
  std::vector<ConstexprValue> constexprs;  // the config's own constexpr values
  uint32_t num_warps = 4;
  uint32_t num_stages = 3;
  uint32_t num_ctas = 1;
};

struct TypeVarInfo {
  std::string name;
  std::vector<std::string> dtypes;
};

// Formulas that turn a launch into work done, for `tritonpack run --bench`.
struct BenchInfo {
  std::string bytes;  // expression: bytes moved through device memory
  std::string flops;  // expression: floating-point operations
};

struct KernelInfo {
  std::string name;      // the pack-level name of the kernel
  std::string function;  // the Triton function's name in the source file
  std::string source_file;
  std::string source_sha256;
  std::vector<ParamInfo> params;
  std::vector<TypeVarInfo> type_vars;
  std::array<std::string, 3> grid;  // expressions over scalar params and constexprs
  std::vector<ConfigInfo> configs;
  BenchInfo bench;
  std::string reference;  // name of a host reference known to `tritonpack run`, or empty
  PluginInfo plugin;
  std::vector<VariantInfo> variants;
};

struct BlobInfo {
  uint64_t offset = 0;  // from the start of the blob section
  uint64_t size = 0;
  std::string sha256;   // lower-case hex of the blob's bytes
  std::string kind;     // "cubin" or "ptx"
};

struct Manifest {
  uint32_t manifest_version = kManifestVersion;
  std::string created_by;  // "tritonpack 0.1.0"
  std::vector<KernelInfo> kernels;
  std::vector<BlobInfo> blobs;
};

}  // namespace tritonpack
