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
#include <string_view>
#include <vector>

#include "tritonpack/constant.h"
#include "tritonpack/types.h"

namespace tritonpack {

// The newest manifest schema this tritonpack reads. A pack is written with the oldest version
// that describes it (manifest_version_needed): 1, or 2 when a kernel runs in steps, which a
// reader of version 1 would ignore and launch as one step; the version makes it refuse instead.
inline constexpr int kManifestVersion = 2;
inline constexpr int kStepsManifestVersion = 2;

// kTensorDesc: a host-side tensor descriptor (Triton's `tensordesc<fp16[64,64]>`, a
// TensorDescriptor argument): the caller gives pointer, shape and strides, the runtime builds the
// CUtensorMap.
enum class ParamKind : uint8_t { kTensor, kScalar, kConstexpr, kTensorDesc };

// "tensor", "scalar", "constexpr", "tensordesc": the one spelling of the spec, the manifest and
// messages.
std::string_view param_kind_name(ParamKind kind) noexcept;
std::optional<ParamKind> parse_param_kind(std::string_view name) noexcept;

// A parameter's dtype: a concrete dtype, or a type variable ("T") that each variant binds.
struct DTypeRef {
  std::string type_var;        // non-empty: a type variable
  DType dtype = DType::kFp32;  // when type_var is empty

  static DTypeRef of(DType t) { return DTypeRef{{}, t}; }
  static DTypeRef variable(std::string name) { return DTypeRef{std::move(name), DType::kFp32}; }
  // A dtype name ("fp16") or else a type variable's name ("T").
  static DTypeRef from_text(std::string_view text) {
    if (auto t = parse_dtype(text)) return of(*t);
    return variable(std::string(text));
  }
  bool is_variable() const { return !type_var.empty(); }
  std::string text() const { return is_variable() ? type_var : std::string(dtype_name(dtype)); }
  bool operator==(const DTypeRef&) const = default;
};

// Type variable -> dtype, per variant.
using TypeBindings = std::map<std::string, DType, std::less<>>;

// The dtype `ref` has under `bindings` (nullopt: an unbound type variable).
std::optional<DType> resolve_dtype(const DTypeRef& ref, const TypeBindings& bindings);

// One parameter of the Triton kernel, in the kernel's order (constexprs included).
struct ParamInfo {
  std::string name;
  ParamKind kind = ParamKind::kTensor;
  // Tensors and descriptors: the element dtype. Scalars: the scalar dtype (i32, i64, fp32, fp16,
  // bf16). Constexprs: unused.
  DTypeRef dtype;
  bool is_output = false;  // tensors only
  // Tensors: element count as an expression over scalars and constexprs, used by `tritonpack run`
  // to allocate buffers (optional).
  std::string numel;
  // Constexprs: like @triton.heuristics, an expression of launch values (scalars, launch
  // variables, dims, other constexprs); only the variant whose value equals it may run.
  std::string heuristic;
  // Descriptors: the block shape, expressions over constexprs (rank = its size), and for Gluon
  // kernels the shared-memory layout exactly as the signature spells it.
  std::vector<std::string> block;
  std::string layout;

  // Dims (docs/spec-format.md); all optional. Tensors and descriptors: one entry per dim. Inputs: a
  // dim name or an integer; outputs and scratch tensors: an expression over dim names, fields,
  // dim-size arguments and constexprs. When a launch gives shapes, the runtime checks them.
  std::vector<std::string> dims;
  bool is_scratch = false;  // tensors: a kernel buffer placed in the workspace, not an engine output
  bool is_field = false;    // scalars: a plugin field (attribute), given once when the op is made
  bool has_default = false;  // fields: whether default_value is set
  double default_value = 0;  // fields: used when the field is not given
  std::string dim;           // scalars: a dim-size argument, this expression over dim names (and SM_COUNT)
};

// How the kernel becomes a plugin (engine op): identity and shape rules. (Its constraints are the
// kernel's, KernelInfo::constraints.)
struct PluginInfo {
  std::string name;              // empty: the kernel's name
  std::string version = "1";
  std::string plugin_namespace;  // empty: "tritonpack"
  std::vector<std::string> rules;  // PluginGen rule strings (include/tritonpack/rule.h)
};

// The most launch variables a kernel may declare.
inline constexpr size_t kMaxLaunchVars = 16;

// The built-in name a grid expression may use for the number of streaming multiprocessors of the
// device the launch runs on (persistent kernels: "min(SM_COUNT, cdiv(n, BLOCK))"), and a dim-size
// argument's (ParamInfo::dim) for the device a plugin plans for (the decode attention's key
// chunks). Reserved: a spec may not name a param, launch variable or dim so. Nothing else may use
// it.
inline constexpr std::string_view kSmCountName = "SM_COUNT";

// A value given at launch that grid, numel, rules and heuristics may use but the kernel does not
// receive (the row count of a layer norm whose grid is (M,)). Passed after the kernel's
// arguments, like an integer scalar.
struct LaunchVarInfo {
  std::string name;
  DType dtype = DType::kI64;  // i32 or i64: the range a value must fit
  std::optional<int64_t> min, max;
};

// One runtime argument of a compiled variant, after constexpr removal, in ABI order.
// The two hidden scratch pointers are not listed: every launch appends them.
struct KernelArg {
  std::string name;
  ArgType type = ArgType::kPointer;  // kTensorDesc: expands as the variant's TensorDescInfo says
  uint32_t param_index = 0;          // index into KernelInfo::params
  // Divisibility the variant was compiled to assume (tt.divisibility); 1 = none.
  // The runtime checks value % divisibility == 0 before choosing the variant.
  uint32_t divisibility = 1;
};

struct ConstexprValue {
  std::string name;
  Constant value;
};

// How a descriptor argument was compiled (Triton's metadata.tensordesc_meta), which decides how
// it travels (docs/compile-step.md): lowered to TMA, the 128-byte CUtensorMap then the shape (i32)
// and strides (i64); else the base pointer, shape and strides (i64), a padding flag (i1), then
// shape (i32) and strides (i64) again.
// The largest dim of a descriptor's block shape (the TMA box, at most 256 a dim, may be smaller).
inline constexpr uint32_t kMaxBlockDim = 65536;

struct TensorDescInfo {
  bool tma = false;
  std::vector<uint32_t> block;  // the signature's block shape, outermost first
  // TMA only: what cuTensorMapEncodeTiled takes.
  uint32_t swizzle = 0;          // CUtensorMapSwizzle
  uint32_t elem_size = 0;        // bytes
  uint32_t elem_type = 0;        // Triton's device-side enum (remapped for the host when encoding)
  std::vector<uint32_t> box;     // the box, outermost first (may be smaller than the block)
  bool fp4_padded = false;
};

// ptxas's resource report of a compiled variant (-1: unknown).
struct ResourceUsage {
  int32_t registers = -1;
  int32_t spill_stores = -1;  // bytes
  int32_t spill_loads = -1;   // bytes
  int32_t stack_frame = -1;   // bytes per thread
};

// One compiled variant: a dtype binding x constexpr specialization x config x divisibility x arch.
struct VariantInfo {
  uint32_t id = 0;
  TypeBindings bindings;                          // type variable -> dtype
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
  std::vector<TensorDescInfo> tensordescs;  // one per descriptor param, in param order
  ResourceUsage resources;
  int32_t cubin_blob = -1;  // index into Manifest::blobs, -1 if absent
  int32_t ptx_blob = -1;
  // The compiler's stages kept by `tritonpack compile --keep-ir`: stage ("ttir", "ttgir",
  // "llir") -> index into Manifest::blobs.
  std::map<std::string, int32_t> ir_blobs;
};

struct ConfigInfo {
  std::string name;
  std::vector<ConstexprValue> constexprs;  // the config's own constexpr values
  uint32_t num_warps = 4;
  uint32_t num_stages = 3;
  uint32_t num_ctas = 1;
  // Programmatic dependent launch (sm_90 and newer; the config has no variants for older archs):
  // the launch may start before the previous one on its stream ends, so the kernel waits for it
  // (griddepcontrol.wait) before touching memory; the compile step refuses a kernel that does not.
  bool launch_pdl = false;
};

struct TypeVarInfo {
  std::string name;
  std::vector<DType> dtypes;
};

// Formulas that turn a launch into work done, for `tritonpack run --bench`.
struct BenchInfo {
  std::string bytes;  // expression: bytes moved through device memory
  std::string flops;  // expression: floating-point operations
};

// Ahead-of-time tuning (docs/tuning.md): the autotune key, how each key value bins, the launches
// `tritonpack tune` measures, and the tables it wrote (one per GPU model measured on).
// How one key value bins: powers of two (edges empty: bin 0 holds values < 1, bin b >= 1 holds
// [2^(b-1), 2^b)), or explicit ascending edges e: bin 0 holds values < e[0], bin i holds
// [e[i-1], e[i]), the last bin values >= e.back().
struct TuningBins {
  std::vector<int64_t> edges;
};

// One launch to measure: a dtype for every type variable, and values by name for the integer
// scalars, launch variables and dim names the run needs (harness::RunRequest's -a values), and
// for float scalars (fmha's sm_scale).
struct TuningShape {
  TypeBindings bindings;
  std::map<std::string, int64_t> values;
  std::map<std::string, double> reals;
};

// What was measured for one bin of one dtype binding: the configs that computed the right
// result, fastest first, with their median times; the first is the one launches in the bin run.
struct TuningEntry {
  TypeBindings bindings;
  std::vector<uint32_t> bin;               // per key
  std::vector<std::string> configs;        // config names, fastest first (at least one)
  std::vector<double> times_us;            // per config above
  std::map<std::string, int64_t> values;   // the launch measured (its shape)
};

// The entries measured on one GPU model.
struct TuningTable {
  std::string device;          // cuDeviceGetName: "NVIDIA H200"
  uint32_t arch = 0;           // 90
  std::string driver;          // the CUDA driver's version: "13.0"
  std::string triton_version;  // of the variants measured
  std::string date;            // UTC, ISO 8601: "2026-11-29T16:40:00Z"
  std::string tool;            // "tritonpack 0.1.0"
  std::vector<TuningEntry> entries;
};

struct TuningInfo {
  // Expressions over integer scalars, launch variables and dim names (no constexprs: the key is
  // known before a variant is chosen). Empty: the kernel is not tuned.
  std::vector<std::string> key;
  std::vector<TuningBins> bins;      // per key
  std::vector<TuningShape> shapes;   // what `tritonpack tune` measures, in order
  std::vector<TuningTable> tables;   // at most one per device name
};

struct KernelInfo {
  std::string name;      // the pack-level name of the kernel
  std::string function;  // the Triton function's name in the source file
  std::string source_file;
  std::string source_sha256;
  std::vector<ParamInfo> params;
  std::vector<LaunchVarInfo> launch_vars;
  std::vector<TypeVarInfo> type_vars;
  std::array<std::string, 3> grid;  // expressions over integer scalars, launch variables, constexprs, SM_COUNT
  // Validity rules: expressions over integer scalars, launch variables, constexprs and dim names
  // that must be nonzero for a variant to serve a launch ("n_cols <= BLOCK_SIZE").
  std::vector<std::string> constraints;
  std::vector<ConfigInfo> configs;
  BenchInfo bench;
  std::string reference;  // name of a host reference known to `tritonpack run`, or empty
  PluginInfo plugin;
  TuningInfo tuning;
  // A kernel that runs in steps (docs/spec-format.md, "Steps"): one launch per step, in order, on
  // the same stream with the same arguments; in step i the named constexprs take steps[i]'s
  // values (each step names the same constexprs, in param order). Empty: a one-launch kernel.
  std::vector<std::vector<ConstexprValue>> steps;
  std::vector<VariantInfo> variants;
};

// The most steps a kernel may run in (a launch keeps one selection per step on its stack).
inline constexpr size_t kMaxSteps = 8;

// "PHASE=1" or "PHASE=1, SPLIT=4": a step's values for messages and `tritonpack inspect`.
std::string step_text(const std::vector<ConstexprValue>& step);

// The rules of a kernel's step list, shared by the spec and the manifest readers (each words its
// own message): sorts `step` (constexprs of `kernel`) into parameter order, then says what is
// wrong with it after the steps before it: it names other constexprs than the first step, or the
// same values as one of them (`earlier` is its index).
struct StepProblem {
  enum Kind { kNone, kOtherNames, kSameValues } kind = kNone;
  size_t earlier = 0;
};
StepProblem order_and_check_step(const KernelInfo& kernel, std::vector<ConstexprValue>& step,
                                 const std::vector<std::vector<ConstexprValue>>& earlier);

// The distinct values the variants of `kernel` are compiled with for the constexpr `name`, in the
// order the variants first have them; empty when no variant has that constexpr.
std::vector<Constant> compiled_values(const KernelInfo& kernel, std::string_view name);

struct BlobInfo {
  uint64_t offset = 0;  // from the start of the blob section
  uint64_t size = 0;
  std::string sha256;   // lower-case hex of the blob's bytes
  std::string kind;     // "cubin", "ptx", or an IR stage: "ttir", "ttgir", "llir"
};

struct Manifest {
  // The version read (reading accepts 1..kManifestVersion). Writing ignores it and writes
  // manifest_version_needed: a pack of one-launch kernels stays readable by older readers.
  uint32_t manifest_version = kManifestVersion;
  std::string created_by;  // "tritonpack 0.1.0"
  std::vector<KernelInfo> kernels;
  std::vector<BlobInfo> blobs;
};

// The oldest manifest version that describes `manifest`: kStepsManifestVersion when a kernel runs
// in steps, else 1.
uint32_t manifest_version_needed(const Manifest& manifest);

}  // namespace tritonpack
