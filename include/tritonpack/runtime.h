// tritonpack: loading packs and launching their kernels from C++.
//
//   auto pack = tritonpack::Pack::open("vector_add.tpack");
//   tritonpack::Kernel add(pack, "vector_add");
//   tritonpack::Arg args[] = {Arg::tensor(x, DType::kFp16), Arg::tensor(y, DType::kFp16),
//                             Arg::tensor(out, DType::kFp16), Arg::integer(n)};
//   add.launch(args, stream);
//
// Arguments are the kernel's non-constexpr parameters in order. The variant is chosen from the
// tensors' dtypes, the device's arch, the divisibility of pointers and integers, pinned constexprs
// and the config; the grid comes from the spec's expressions. Modules load lazily in each CUDA
// context (so any GPU of the process) the first time a variant runs there. A Kernel is safe to
// launch from several threads at once. Once a variant is loaded in a context, launch performs no
// allocation or synchronization (graph capture works), except the global-scratch pool's first
// growth on a stream when the caller gives no workspace.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
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

// One runtime argument value.
struct Arg {
  enum class Kind : uint8_t { kTensor, kInt, kFloat };
  Kind kind = Kind::kInt;
  DType dtype = DType::kI64;  // tensors: element dtype
  union {
    CUdeviceptr pointer;
    int64_t int_value;
    double float_value;
  };

  Arg() : int_value(0) {}
  static Arg tensor(CUdeviceptr p, DType t) {
    Arg a;
    a.kind = Kind::kTensor;
    a.dtype = t;
    a.pointer = p;
    return a;
  }
  static Arg tensor(const void* p, DType t) { return tensor(reinterpret_cast<CUdeviceptr>(p), t); }
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
  std::span<const ConstexprValue> pinned; // constexpr values the variant must have
  int32_t variant_id = -1;                // >= 0: exactly this variant (still checked)
  // Global scratch for kernels that need it (query Kernel::workspace_size). 0 = internal pool.
  CUdeviceptr workspace = 0;
  size_t workspace_size = 0;
};

// Which variant a launch would use, and the launch geometry.
struct Selection {
  const VariantInfo* variant = nullptr;
  bool uses_ptx = false;  // JIT-compiled from PTX by the driver (no cubin for this arch)
  uint32_t device_arch = 0;
  std::array<int64_t, 3> grid{0, 0, 0};
  size_t global_scratch_bytes = 0;
};

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
  void launch(std::span<const Arg> args, CUstream stream, const LaunchOptions& options = {});

  // What launch would pick on the current context's device, without launching.
  Selection select(std::span<const Arg> args, const LaunchOptions& options = {});

  // What launch would pick on a device of compute capability `arch` (90 = sm_90), without a driver
  // or GPU: for tools (`tritonpack shapes`). Grid included; scratch bytes are not computed.
  Selection select_for_arch(std::span<const Arg> args, uint32_t arch, const LaunchOptions& options = {}) const;

  // Bytes of workspace a launch with these arguments needs (0 if the variant needs no scratch).
  size_t workspace_size(std::span<const Arg> args, const LaunchOptions& options = {});

  // Function attributes of the chosen variant's loaded function (loads it if needed).
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

// Names of the kernel's runtime parameters (non-constexpr), in launch order.
std::vector<std::string> runtime_param_names(const KernelInfo& kernel);

}  // namespace tritonpack
