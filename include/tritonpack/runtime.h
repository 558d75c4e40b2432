// tritonpack: loading packs and launching their kernels from C++.
//
//   auto pack = tritonpack::Pack::open("vector_add.tpack");
//   tritonpack::Kernel add(pack, "vector_add");
//   tritonpack::Arg args[] = {Arg::tensor(x, DType::kFp16), Arg::tensor(y, DType::kFp16),
//                             Arg::tensor(out, DType::kFp16), Arg::integer(n)};
//   add.launch(args, stream);
//
// Arguments are the kernel's non-constexpr parameters in order, then its launch variables (values
// the grid and rules use that the kernel does not receive). The variant is chosen from the
// tensors' dtypes, the device's arch, the divisibility of pointers and integers, the kernel's
// rules and heuristics, pinned constexprs and the config; the grid comes from the spec's
// expressions. A tensor may carry its shape: the runtime then checks it against the spec's dims
// and rules may use them (a rule that needs a dim refuses a launch without the shape). A host
// tensor descriptor (tensordesc param) is given as pointer, shape and strides; the runtime builds
// the CUtensorMap. Modules load lazily in each CUDA
// context (so any GPU of the process) the first time a variant runs there. A Kernel is safe to
// launch from several threads at once. Once a variant is loaded in a context, launch performs no
// allocation or synchronization (graph capture works), except the global-scratch pool's first
// growth on a stream when the caller gives no workspace.
//
// A kernel in steps (KernelInfo::steps, e.g. split-KV attention's PHASE 0 then PHASE 1) is one
// operation done as one launch per step, in order, on the same stream with the same arguments:
// launch() selects every step's variant (the step's constexpr values pinned beside the options'
// pins), and launches them only if every step can run. Questions about one variant (select,
// candidates, attributes) need a step: pin its constexprs, or ask select_steps.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/manifest.h"
#include "tritonpack/pack.h"
#include "tritonpack/types.h"

namespace tritonpack {

namespace driver {
class Driver;
}

// One runtime argument value. Shapes and strides are borrowed: they must stay valid during the
// call that takes the Arg (launch, select, ...), not after.
struct Arg {
  enum class Kind : uint8_t { kTensor, kInt, kFloat, kDescriptor };
  static constexpr uint32_t kMaxRank = 8;
  Kind kind = Kind::kInt;
  DType dtype = DType::kI64;  // tensors and descriptors: element dtype
  uint8_t rank = 0;           // tensors: 0 = shape not given; descriptors: 1..5
  union {
    CUdeviceptr pointer;
    int64_t int_value;
    double float_value;
  };
  const int64_t* shape = nullptr;    // `rank` sizes, outermost first
  const int64_t* strides = nullptr;  // descriptors: `rank` strides in elements; the last must be 1

  Arg() : int_value(0) {}
  static Arg tensor(CUdeviceptr p, DType t) {
    Arg a;
    a.kind = Kind::kTensor;
    a.dtype = t;
    a.pointer = p;
    return a;
  }
  static Arg tensor(const void* p, DType t) { return tensor(reinterpret_cast<CUdeviceptr>(p), t); }
  // A tensor with its shape (rank <= kMaxRank; a longer shape is refused at launch).
  static Arg tensor(CUdeviceptr p, DType t, std::span<const int64_t> shape) {
    Arg a = tensor(p, t);
    a.rank = static_cast<uint8_t>(shape.size() > 255 ? 255 : shape.size());
    a.shape = shape.data();
    return a;
  }
  static Arg tensor(const void* p, DType t, std::span<const int64_t> shape) {
    return tensor(reinterpret_cast<CUdeviceptr>(p), t, shape);
  }
  // A host tensor descriptor: base pointer, shape and strides in elements (as Triton's
  // TensorDescriptor(base, shape, strides, block_shape)); the block shape is the variant's.
  static Arg descriptor(CUdeviceptr p, DType t, std::span<const int64_t> shape, std::span<const int64_t> strides) {
    Arg a = tensor(p, t, shape);
    a.kind = Kind::kDescriptor;
    a.strides = shape.size() == strides.size() ? strides.data() : nullptr;  // a mismatch is refused
    return a;
  }
  static Arg descriptor(const void* p, DType t, std::span<const int64_t> shape, std::span<const int64_t> strides) {
    return descriptor(reinterpret_cast<CUdeviceptr>(p), t, shape, strides);
  }
  static Arg integer(int64_t v) {
    Arg a;
    a.kind = Kind::kInt;
    a.int_value = v;
    return a;
  }
  static Arg real(double v) {
    Arg a;
    a.kind = Kind::kFloat;
    a.dtype = DType::kFp64;
    a.float_value = v;
    return a;
  }
};

struct LaunchOptions {
  std::string_view config;                // "" = the first config (spec order) with a match
  std::span<const ConstexprValue> pinned; // constexpr values the variant must have (any kind)
  int32_t variant_id = -1;                // >= 0: exactly this variant (still checked)
  // Global scratch for kernels that need it (query Kernel::workspace_size). 0 = internal pool.
  CUdeviceptr workspace = 0;
  size_t workspace_size = 0;
  // A tuned pack (`tritonpack tune`, docs/tuning.md) tries configs in the order its table measured
  // for the launch's bin; false: spec order, as a pack without a table. A config, variant id or
  // pin above still restricts what may run: an explicit choice overrides the table.
  bool use_tuning = true;
  // For tools planning without the GPU (select_for_arch; candidates and explain with an arch): the
  // GPU model whose table to use ("NVIDIA H200"); empty: the first table of that arch.
  std::string_view tuning_device;
  // For tools planning without the GPU: the SM count SM_COUNT takes in grids and dim-size
  // arguments (114 for an H100 PCIe); 0: that of one common GPU of the arch (132 for sm_90). A
  // launch on a device always uses the device's own count.
  uint32_t sm_count = 0;
};

// Which variant a launch would use, and the launch geometry.
struct Selection {
  const VariantInfo* variant = nullptr;
  bool uses_ptx = false;  // JIT-compiled from PTX by the driver (no cubin for this arch)
  uint32_t device_arch = 0;
  std::array<int64_t, 3> grid{0, 0, 0};
  size_t global_scratch_bytes = 0;
};

// Most runtime arguments a kernel may have (its non-constexpr parameters and launch variables).
inline constexpr size_t kMaxRuntimeArgs = 64;

// Threads (docs/thread-safety.md): every method may be called from several threads at once,
// unload() included (launches racing it load again); destruction and moves may not overlap any
// other call on the same Kernel. Each call acts in the calling thread's current CUDA context.
class Kernel {
 public:
  // Binds a kernel of a pack to the process's CUDA driver (loaded lazily at first launch, so a
  // Kernel can be made and inspected on a machine without one). Throws kNotFound for an unknown
  // name, listing the pack's kernels.
  Kernel(std::shared_ptr<const Pack> pack, std::string_view kernel_name);
  // Same with an explicit driver (tests inject fakes here).
  Kernel(std::shared_ptr<const Pack> pack, std::string_view kernel_name,
         std::shared_ptr<const driver::Driver> driver);
  ~Kernel();  // unloads every module it loaded; never throws

  Kernel(Kernel&&) noexcept;
  Kernel& operator=(Kernel&&) noexcept;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  const KernelInfo& info() const;
  const Pack& pack() const;

  // Launches on `stream` in the current CUDA context. An empty grid launches nothing and returns.
  // Throws Error: kInvalidArgument (argument count/kind/range), kNoMatchingVariant (lists every
  // candidate and why it failed), kUnsupported (device limits), kDriver, kNoDriver.
  // A kernel in steps: unless the options pin a step constexpr or give a variant id, every step,
  // each selected with the options and its own values, sharing the workspace. Every step is
  // selected, loaded and packed first; one that cannot run refuses the whole launch before any
  // runs, the message naming it ("step 2 of 2 (PHASE=1): ..."). (A driver error from launching a
  // step leaves the steps before it enqueued.) Pins that name exactly one step launch that step
  // alone (pins that match several steps: kInvalidArgument); pins in no step, or a variant id,
  // launch exactly what they ask, as for any kernel: one variant, so one step of the operation.
  void launch(std::span<const Arg> args, CUstream stream, const LaunchOptions& options = {});

  // What launch would pick on the current context's device, without launching. A kernel in steps
  // needs the options to pin one step (else kInvalidArgument naming the steps): see select_steps.
  Selection select(std::span<const Arg> args, const LaunchOptions& options = {});

  // What launch would pick on a device of compute capability `arch` (90 = sm_90), without a driver
  // or GPU: for tools (`tritonpack shapes`). Grid included; scratch bytes are not computed. A
  // kernel in steps needs a step pinned, as select().
  Selection select_for_arch(std::span<const Arg> args, uint32_t arch, const LaunchOptions& options = {}) const;

  // What each launch of launch() would be: one Selection per step of a kernel in steps (in step
  // order; throws like launch() if a step cannot run), else one (what select() gives).
  std::vector<Selection> select_steps(std::span<const Arg> args, const LaunchOptions& options = {});
  std::vector<Selection> select_steps_for_arch(std::span<const Arg> args, uint32_t arch,
                                               const LaunchOptions& options = {}) const;

  // The candidates query: every variant that can run this launch on the current context's device
  // (arch 0) or on a device of compute capability `arch`, in preference order (the first is what
  // launch picks), each with its grid and global scratch bytes. Selection's own test, applied to
  // every variant instead of stopping at the first: "supported?" and "which variant?" cannot
  // disagree. Empty when nothing can run it; throws like launch() for malformed arguments and
  // kNoMatchingVariant when a launch-wide rule does not hold. A kernel in steps needs a step
  // pinned, as select() (the plugin core asks for each step).
  std::vector<Selection> candidates(std::span<const Arg> args, const LaunchOptions& options = {}, uint32_t arch = 0);

  // The same before any shape or value is known (an engine's build phase asking "can this dtype
  // combination run here?"): the variants the device can run (image, shared memory, clusters),
  // that `options` allow, and whose dtypes agree with `arg_dtypes` (per runtime argument; empty
  // or missing = not known yet). Grids are not computed.
  std::vector<Selection> dtype_candidates(std::span<const std::optional<DType>> arg_dtypes,
                                          const LaunchOptions& options = {}, uint32_t arch = 0);

  // What SM_COUNT is for a launch (grids and dim-size arguments may name it): the SM count of the
  // current context's device (arch 0), or for a device of compute capability `arch`,
  // options.sm_count or the count of one common GPU of that arch (132 for sm_90). Throws like
  // select() for a missing driver or context when arch is 0.
  uint32_t sm_count(const LaunchOptions& options = {}, uint32_t arch = 0);

  // Bytes of workspace a launch with these arguments needs (0 if the variant needs no scratch); a
  // kernel in steps: the most any step needs.
  size_t workspace_size(std::span<const Arg> args, const LaunchOptions& options = {});

  // Which variant a launch would use on a device of compute capability `arch`, and why each other
  // variant would not: one line per variant in preference order, "variant 3 (...): chosen" or
  // "variant 2 (...): rule 'n_cols <= BLOCK_SIZE' does not hold: n_cols=2000, BLOCK_SIZE=1024".
  // Never throws for a launch nothing can serve (the lines say why); throws for malformed
  // arguments like launch() does. arch 0 = the current context's device. A kernel in steps without
  // a step pinned: a section per step, "step 1 of 2 (PHASE=0): grid (4, 1, 1)" then that step's
  // lines indented; `chosen` is then the first step's variant, and null unless every step can run.
  struct Explanation {
    const VariantInfo* chosen = nullptr;
    std::vector<std::string> lines;
    std::string text() const;  // the lines joined, with the launch's summary first
    std::string summary;       // arguments, pins, heuristics and launch-wide rule results
    // A tuned kernel: which table and entry ordered the configs, or why none did ("table 'NVIDIA
    // H200' (sm_90, ...); key ...; entry 3 (...): ..."); also a line of the summary. Empty otherwise.
    std::string tuning;
  };
  Explanation explain(std::span<const Arg> args, const LaunchOptions& options = {}, uint32_t arch = 0);

  // Function attributes of the chosen variant's loaded function (loads it if needed). A kernel in
  // steps needs a step pinned, as select().
  struct FunctionAttributes {
    int registers = 0;
    int local_bytes = 0;  // spill / stack bytes per thread
    int max_threads = 0;
  };
  FunctionAttributes attributes(std::span<const Arg> args, const LaunchOptions& options = {});

  // Unloads every module and frees pooled scratch in every context. Idempotent: a second call
  // does nothing; a later launch loads again. Reports the first driver error after trying all.
  void unload();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// Names of the kernel's runtime arguments in launch order: its non-constexpr parameters, then its
// launch variables.
std::vector<std::string> runtime_param_names(const KernelInfo& kernel);

}  // namespace tritonpack
