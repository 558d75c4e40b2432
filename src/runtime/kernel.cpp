// Kernel: per-context module cache, selection, scratch and launch.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "driver/driver.h"
#include "runtime/args.h"
#include "runtime/model.h"
#include "runtime/selection.h"
#include "tritonpack/runtime.h"

namespace tritonpack {

using driver::Driver;
using runtime::DevicePlan;
using runtime::Image;

namespace {

constexpr uint32_t kDefaultSharedLimit = 48 * 1024;  // above this the function needs an opt-in

// A device of compute capability `arch` for tools planning without it: the programming guide's
// limits, the GPU model whose tuning table the options name, and the SM count they give.
runtime::DeviceCaps tool_caps(uint32_t arch, const LaunchOptions& options) {
  runtime::DeviceCaps caps = runtime::caps_for_arch(arch);
  caps.name = std::string(options.tuning_device);
  if (options.sm_count != 0) caps.sm_count = options.sm_count;
  return caps;
}

struct ScratchBuffer {
  CUstream stream = nullptr;
  CUdeviceptr pointer = 0;
  size_t size = 0;
};

// Everything tritonpack holds in one CUDA context. Functions are published through atomics so
// that the launch path reads them without a lock once loaded.
struct ContextState {
  CUcontext context = nullptr;
  unsigned long long context_id = 0;
  CUdevice device = 0;
  bool primary = false;  // the device's primary context (it resets when released to zero)
  DevicePlan plan;
  std::unique_ptr<std::atomic<CUfunction>[]> functions;
  std::vector<CUmodule> modules;  // per variant, guarded by load_mutex
  std::mutex load_mutex;
  std::mutex scratch_mutex;
  std::vector<ScratchBuffer> scratch;        // one growing buffer per stream
  std::vector<CUdeviceptr> retired_scratch;  // outgrown buffers, freed at unload
};

}  // namespace

struct Kernel::State {
  std::shared_ptr<const Pack> pack;
  const KernelInfo* info = nullptr;
  runtime::KernelModel model;
  std::once_flag driver_once;
  std::shared_ptr<const Driver> driver;
  std::shared_mutex contexts_mutex;  // shared: launches; exclusive: new context, unload
  std::vector<std::unique_ptr<ContextState>> contexts;

  const Driver& drv() {
    std::call_once(driver_once, [this] {
      if (!driver) driver = Driver::system();
    });
    return *driver;
  }

  std::string where() const { return "kernel '" + info->name + "' of pack '" + pack->origin() + "'"; }

  std::string variant_where(uint32_t index) const {
    return "kernel '" + info->name + "' of pack '" + pack->origin() + "', " + model.variants[index].label;
  }

  ContextState* find_context(unsigned long long id) {
    for (auto& c : contexts) {
      if (c->context_id == id) return c.get();
    }
    return nullptr;
  }

  // The current context's state; creates it on first use. Caller holds contexts_mutex shared;
  // this may briefly take it exclusively (the shared lock is released and re-taken).
  ContextState& current_context(std::shared_lock<std::shared_mutex>& lock) {
    const Driver& d = drv();
    CUcontext ctx = nullptr;
    TRITONPACK_CU(d, cuCtxGetCurrent(&ctx), where());
    if (ctx == nullptr) {
      throw Error(ErrorCode::kInvalidArgument, "no current CUDA context on this thread for " + where() +
                                                   ": make a device current first (cudaSetDevice, or cuCtxSetCurrent)");
    }
    unsigned long long id = 0;
    TRITONPACK_CU(d, cuCtxGetId(ctx, &id), where());
    // The state is made under the exclusive lock, but an unload() on another thread may take
    // that lock between its release and the shared lock's return and drop the state again: make
    // it again then. A launch racing an unload loads again, as one after it does; it used to fail
    // with "the CUDA context was unloaded by another thread" (found by tests/fault/stress_test.cpp).
    for (;;) {
      if (ContextState* found = find_context(id)) return *found;
      lock.unlock();
      {
        std::unique_lock<std::shared_mutex> exclusive(contexts_mutex);
        if (find_context(id) == nullptr) contexts.push_back(make_context(ctx, id));
      }
      lock.lock();
    }
  }

  std::unique_ptr<ContextState> make_context(CUcontext ctx, unsigned long long id) {
    const Driver& d = drv();
    auto state = std::make_unique<ContextState>();
    state->context = ctx;
    state->context_id = id;
    TRITONPACK_CU(d, cuCtxGetDevice(&state->device), where());
    // Whether ctx is the device's primary context: retaining an active primary context and
    // releasing it again leaves its reference count as it was.
    unsigned int flags = 0;
    int active = 0;
    TRITONPACK_CU(d, cuDevicePrimaryCtxGetState(state->device, &flags, &active), where());
    if (active != 0) {
      CUcontext primary = nullptr;
      TRITONPACK_CU(d, cuDevicePrimaryCtxRetain(&primary, state->device), where());
      TRITONPACK_CU(d, cuDevicePrimaryCtxRelease(state->device), where());
      state->primary = primary == ctx;
    }
    auto attribute = [&](CUdevice_attribute a, const char* name) {
      int value = 0;
      TRITONPACK_CU(d, cuDeviceGetAttribute(&value, a, state->device), where() + ", reading " + name);
      return value;
    };
    runtime::DeviceCaps caps;
    const int major = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability");
    const int minor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability");
    caps.arch = static_cast<uint32_t>(major * 10 + minor);
    char name[256] = {};
    TRITONPACK_CU(d, cuDeviceGetName(name, sizeof name - 1, state->device), where() + ", reading the device name");
    caps.name = name;
    caps.max_shared_optin =
        static_cast<uint32_t>(attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "shared memory limit"));
    caps.cluster_launch = major >= 9 && attribute(CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH, "cluster launch") != 0;
    caps.max_grid = {attribute(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, "grid limit"),
                     attribute(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, "grid limit"),
                     attribute(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z, "grid limit")};
    caps.sm_count = static_cast<uint32_t>(attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count"));
    state->plan = runtime::plan_for_device(model, caps);
    const size_t n = model.variants.size();
    state->functions = std::make_unique<std::atomic<CUfunction>[]>(n);
    for (size_t i = 0; i < n; ++i) state->functions[i].store(nullptr, std::memory_order_relaxed);
    state->modules.assign(n, nullptr);
    return state;
  }

  // Loads variant `index` into the current context (which is `cs`) once.
  CUfunction function(ContextState& cs, uint32_t index) {
    CUfunction fn = cs.functions[index].load(std::memory_order_acquire);
    if (fn != nullptr) return fn;
    std::lock_guard<std::mutex> guard(cs.load_mutex);
    fn = cs.functions[index].load(std::memory_order_acquire);
    if (fn != nullptr) return fn;

    const Driver& d = drv();
    const VariantInfo& v = *model.variants[index].info;
    const bool ptx = cs.plan.images[index] == Image::kPtx;
    const std::span<const uint8_t> blob = pack->blob(ptx ? v.ptx_blob : v.cubin_blob);
    std::string ptx_text;  // the driver wants PTX NUL-terminated
    const void* image = blob.data();
    if (ptx) {
      ptx_text.assign(reinterpret_cast<const char*>(blob.data()), blob.size());
      image = ptx_text.c_str();
    }
    char log[4096] = {};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* values[] = {log, reinterpret_cast<void*>(sizeof log - 1)};
    CUmodule module = nullptr;
    const CUresult load = d.api().cuModuleLoadDataEx(&module, image, 2, options, values);
    if (load != CUDA_SUCCESS) {
      driver::throw_driver_error(d, load, "cuModuleLoadDataEx", __FILE__, __LINE__,
                                 variant_where(index) + (ptx ? ", from PTX" : ", from cubin") +
                                     (log[0] ? std::string(", JIT log: ") + log : std::string()));
    }
    try {
      TRITONPACK_CU(d, cuModuleGetFunction(&fn, module, v.entry.c_str()),
                    variant_where(index) + ", entry '" + v.entry + "'");
      if (v.shared > kDefaultSharedLimit) {
        // Raised on the function in this context, hence on the device that runs it (unlike
        // Triton's generated loader, which asks device 0). Like Triton's loader, such a function
        // prefers shared memory over L1 in the SM's carveout: the variant was tuned (by Triton's
        // autotuner or `tritonpack tune`) running that way.
        TRITONPACK_CU(
            d, cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(v.shared)),
            variant_where(index) + ", " + std::to_string(v.shared) + " bytes of shared memory");
        TRITONPACK_CU(d, cuFuncSetCacheConfig(fn, CU_FUNC_CACHE_PREFER_SHARED),
                      variant_where(index) + ", preferring shared memory");
      }
      if (v.num_ctas > 8) {
        TRITONPACK_CU(d, cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
                      variant_where(index) + ", cluster of " + std::to_string(v.num_ctas));
      }
    } catch (...) {
      d.api().cuModuleUnload(module);  // do not leak the module; the first error is what matters
      throw;
    }
    cs.modules[index] = module;
    cs.functions[index].store(fn, std::memory_order_release);
    return fn;
  }

  // Pooled scratch for `stream`, at least `bytes`. A buffer outgrown is retired, not freed: another
  // thread may hold it for a launch it has not enqueued yet (freeing it after a stream
  // synchronization would race with that launch). Retired buffers are freed at unload; growth at
  // least doubles, so they add up to less than the buffer in use.
  CUdeviceptr pooled_scratch(ContextState& cs, CUstream stream, size_t bytes, uint32_t index) {
    const Driver& d = drv();
    std::lock_guard<std::mutex> guard(cs.scratch_mutex);
    ScratchBuffer* buffer = nullptr;
    for (auto& b : cs.scratch) {
      if (b.stream == stream) buffer = &b;
    }
    if (buffer != nullptr && buffer->size >= bytes) return buffer->pointer;
    const size_t size = buffer != nullptr ? std::max(bytes, buffer->size * 2) : bytes;
    CUdeviceptr fresh = 0;
    TRITONPACK_CU(d, cuMemAlloc(&fresh, size),
                  variant_where(index) + ", " + std::to_string(size) + " bytes of global scratch");
    if (buffer != nullptr) {
      cs.retired_scratch.push_back(buffer->pointer);
      buffer->pointer = fresh;
      buffer->size = size;
    } else {
      cs.scratch.push_back({stream, fresh, size});
    }
    return fresh;
  }

  struct Prepared {
    ContextState* cs = nullptr;
    uint32_t index = 0;
    std::array<int64_t, 3> grid{};
    size_t scratch_bytes = 0;  // global + profile, laid out global first
    size_t profile_offset = 0;
  };

  // The options' pins and config name what this kernel has (nothing to check without either).
  void check_options(const LaunchOptions& options) const {
    for (const ConstexprValue& pin : options.pinned) {
      bool known = false;
      for (const ParamInfo& p : info->params) known |= p.kind == ParamKind::kConstexpr && p.name == pin.name;
      if (!known) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot pin '" + pin.name + "': " + where() + " has no constexpr of that name");
      }
    }
    if (!options.config.empty()) {
      bool known = false;
      for (const ConfigInfo& c : info->configs) known |= c.name == options.config;
      if (!known) {
        std::string names;
        for (const ConfigInfo& c : info->configs) names += (names.empty() ? "" : ", ") + c.name;
        throw Error(ErrorCode::kNotFound,
                    "no config '" + std::string(options.config) + "' in " + where() + " (configs: " + names + ")");
      }
    }
  }

  // The launch's values bound from `args` (bind_launch), the options checked.
  runtime::LaunchValues bind_checked(std::span<const Arg> args, const LaunchOptions& options) const {
    runtime::LaunchValues values;
    runtime::bind_launch(model, args, values);
    check_options(options);
    return values;
  }

  // Runs f(); an Error it throws for step `step` (>= 0) is thrown again naming the step.
  template <class F>
  auto in_step(int32_t step, F&& f) const {
    if (step < 0) return f();
    try {
      return f();
    } catch (const Error& e) {
      throw Error(e.code(), step_where(step) + ": " + e.what());
    }
  }

  // Selection, grid and scratch size for a launch in the current context; `values` bound by
  // bind_launch, `step` >= 0 selects among that step's variants only.
  Prepared select_in(ContextState& cs, std::span<const Arg> args, const LaunchOptions& options,
                     runtime::LaunchValues& values, int32_t step) {
    values.step = step;
    Prepared p;
    p.cs = &cs;
    const int32_t index = runtime::select_variant(model, cs.plan, args, options, values);
    if (index < 0) runtime::throw_no_match(model, cs.plan, args, options, values, pack->origin());
    p.index = static_cast<uint32_t>(index);
    p.grid = values.grid;  // accepted: within the device's limits, scratch within 256 TiB
    const runtime::ScratchLayout scratch = runtime::scratch_layout(*model.variants[p.index].info, p.grid);
    p.scratch_bytes = scratch.bytes;
    p.profile_offset = scratch.profile_offset;
    return p;
  }

  Prepared prepare(std::span<const Arg> args, const LaunchOptions& options, std::shared_lock<std::shared_mutex>& lock,
                   int32_t step = -1) {
    runtime::LaunchValues values = bind_checked(args, options);
    ContextState& cs = current_context(lock);
    runtime::bind_device(model, cs.plan, values);
    return in_step(step, [&] { return select_in(cs, args, options, values, step); });
  }

  // ---- kernels in steps ----

  // What a launch of a kernel in steps runs: every step in order (kAll); the one step that the
  // pinned step constexprs name (kOne); or, for a one-launch kernel, a variant id, or pins that
  // name no step (an explicit choice), exactly what was asked (kAsked).
  struct StepChoice {
    enum Kind : uint8_t { kAsked, kAll, kOne } kind = kAsked;
    int32_t step = -1;  // kOne
  };

  StepChoice step_choice(const LaunchOptions& options) const {
    if (info->steps.empty() || options.variant_id >= 0) return {};
    bool pinned = false;
    int32_t match = -1;
    uint32_t matches = 0;
    for (size_t i = 0; i < info->steps.size(); ++i) {
      bool agrees = true;
      for (const ConstexprValue& pin : options.pinned) {
        for (const ConstexprValue& c : info->steps[i]) {
          if (c.name != pin.name) continue;
          pinned = true;
          agrees = agrees && c.value == pin.value;
        }
      }
      if (agrees) {
        match = static_cast<int32_t>(i);
        ++matches;
      }
    }
    if (!pinned) return {StepChoice::kAll, -1};
    if (matches == 0) return {};
    if (matches == 1) return {StepChoice::kOne, match};
    throw Error(ErrorCode::kInvalidArgument, "the pins of this launch match " + std::to_string(matches) +
                                                 " steps of " + where() + " (" + steps_text() +
                                                 "): pin every step constexpr to run one step");
  }

  // Calls add(step) for the one step the choice names, or for every step in order (kAll).
  template <class F>
  void each_step(const StepChoice& choice, F&& add) const {
    if (choice.kind != StepChoice::kAll) {
      add(choice.step);
      return;
    }
    for (size_t i = 0; i < model.step_labels.size(); ++i) add(static_cast<int32_t>(i));
  }

  std::string steps_text() const {
    std::string out;
    for (size_t i = 0; i < model.step_labels.size(); ++i) {
      out += (i ? "; " : "") + std::string("step ") + std::to_string(i + 1) + ": " + model.step_labels[i];
    }
    return out;
  }

  std::string step_where(int32_t step) const {
    return "step " + std::to_string(step + 1) + " of " + std::to_string(model.step_labels.size()) + " (" +
           model.step_labels[static_cast<size_t>(step)] + ")";
  }

  // A question about one variant (select, candidates, attributes) asked of a kernel in steps
  // without naming a step.
  [[noreturn]] void refuse_steps(const char* call) const {
    throw Error(ErrorCode::kInvalidArgument,
                std::string(call) + ": " + where() + " runs in " + std::to_string(model.step_labels.size()) +
                    " steps (" + steps_text() + "), one launch each: pin a step's constexprs (LaunchOptions::pinned) " +
                    "to ask about that step, or call select_steps for every step");
  }

  // Loads the function of `p` and finds its global scratch: the caller's workspace (checked) or
  // the pool's.
  CUdeviceptr scratch_for(const Prepared& p, CUstream stream, const LaunchOptions& options) {
    if (p.scratch_bytes == 0) return 0;
    const VariantInfo& v = *model.variants[p.index].info;
    if (options.workspace == 0) return pooled_scratch(*p.cs, stream, p.scratch_bytes, p.index);
    if (options.workspace_size < p.scratch_bytes) {
      throw Error(ErrorCode::kInvalidArgument,
                  variant_where(p.index) + " needs " + std::to_string(p.scratch_bytes) +
                      " bytes of workspace for this grid, got " + std::to_string(options.workspace_size));
    }
    if (options.workspace % std::max<uint32_t>(v.global_scratch_align, 1) != 0) {
      throw Error(ErrorCode::kInvalidArgument, variant_where(p.index) + " needs its workspace aligned to " +
                                                   std::to_string(v.global_scratch_align) + " bytes");
    }
    return options.workspace;
  }

  // Appends the launch of `p` to `packed`; returns its parameters (what cuLaunchKernel reads).
  void** pack_for(const Prepared& p, std::span<const Arg> args, CUdeviceptr scratch, runtime::PackedArgs& packed) {
    const runtime::VariantModel& vm = model.variants[p.index];
    const VariantInfo& v = *vm.info;
    const size_t first = packed.count;
    runtime::pack_args(model, vm, args, v.global_scratch_size > 0 ? scratch : 0,
                       v.profile_scratch_size > 0 ? scratch + p.profile_offset : 0, drv(), packed);
    return packed.pointers.data() + first;
  }

  void enqueue(const Prepared& p, CUfunction fn, void** params, CUstream stream);
  void launch_steps(std::span<const Arg> args, CUstream stream, const LaunchOptions& options,
                    std::shared_lock<std::shared_mutex>& lock);
};

Kernel::Kernel(std::shared_ptr<const Pack> pack, std::string_view kernel_name)
    : Kernel(std::move(pack), kernel_name, nullptr) {}

Kernel::Kernel(std::shared_ptr<const Pack> pack, std::string_view kernel_name,
               std::shared_ptr<const driver::Driver> drv)
    : state_(std::make_unique<State>()) {
  if (!pack) throw Error(ErrorCode::kInvalidArgument, "Kernel needs a pack (got null)");
  state_->pack = std::move(pack);
  state_->info = &state_->pack->kernel(std::string(kernel_name));
  state_->model = runtime::build_model(*state_->info);
  state_->driver = std::move(drv);
}

Kernel::~Kernel() {
  if (!state_) return;
  try {
    unload();
  } catch (...) {
    // A destructor must not throw; unload() reports errors to callers who ask for them.
  }
}

Kernel::Kernel(Kernel&&) noexcept = default;
Kernel& Kernel::operator=(Kernel&& other) noexcept {
  if (this != &other) {
    if (state_) {
      try {
        unload();
      } catch (...) {
      }
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

const KernelInfo& Kernel::info() const { return *state_->info; }
const Pack& Kernel::pack() const { return *state_->pack; }

void Kernel::launch(std::span<const Arg> args, CUstream stream, const LaunchOptions& options) {
  State& s = *state_;
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  const State::StepChoice choice = s.step_choice(options);
  if (choice.kind == State::StepChoice::kAll) {
    s.launch_steps(args, stream, options, lock);
    return;
  }
  const State::Prepared p = s.prepare(args, options, lock, choice.step);
  if (p.grid[0] == 0 || p.grid[1] == 0 || p.grid[2] == 0) return;  // empty grid: nothing to run
  s.in_step(choice.step, [&] {
    const CUfunction fn = s.function(*p.cs, p.index);
    runtime::PackedArgs packed;
    s.enqueue(p, fn, s.pack_for(p, args, s.scratch_for(p, stream, options), packed), stream);
  });
}

// Every step is selected, loaded, given its scratch and packed before the first is launched: a
// step that cannot run refuses the whole launch, and nothing runs. The steps share the workspace:
// they run one after another on the stream. Allocation-free once loaded (the pool aside), like a
// one-launch kernel: the selections and every step's parameters live on the stack.
void Kernel::State::launch_steps(std::span<const Arg> args, CUstream stream, const LaunchOptions& options,
                                 std::shared_lock<std::shared_mutex>& lock) {
  State& s = *this;
  runtime::LaunchValues values = s.bind_checked(args, options);
  ContextState& cs = s.current_context(lock);
  runtime::bind_device(s.model, cs.plan, values);
  const size_t steps = s.model.step_labels.size();
  std::array<State::Prepared, kMaxSteps> prepared;
  std::array<CUfunction, kMaxSteps> functions{};
  std::array<CUdeviceptr, kMaxSteps> scratch{};
  std::array<void**, kMaxSteps> params{};
  for (size_t i = 0; i < steps; ++i) {
    const auto step = static_cast<int32_t>(i);
    prepared[i] = s.in_step(step, [&] { return s.select_in(cs, args, options, values, step); });
  }
  const auto empty = [](const State::Prepared& p) { return p.grid[0] == 0 || p.grid[1] == 0 || p.grid[2] == 0; };
  // Every step's parameters one after another in `packed`, each step packed once: packing can
  // refuse a value or fail to encode a descriptor, and that refuses the launch before any step
  // runs. Steps whose parameters do not fit together (more than kMaxAbiParams, or more descriptors
  // than kMaxDescriptors, in all; no kernel tritonpack ships comes near) are packed here to check
  // them, then again each just before it launches (the first step's packing there is its own check).
  size_t abi_params = 0, descriptors = 0;
  for (size_t i = 0; i < steps; ++i) {
    if (empty(prepared[i])) continue;
    abi_params += s.model.variants[prepared[i].index].abi_params;
    descriptors += s.model.num_descriptors;
  }
  const bool together = abi_params <= runtime::kMaxAbiParams && descriptors <= runtime::kMaxDescriptors;
  runtime::PackedArgs packed;
  for (size_t i = 0; i < steps; ++i) {
    if (empty(prepared[i])) continue;
    s.in_step(static_cast<int32_t>(i), [&] {
      functions[i] = s.function(cs, prepared[i].index);
      scratch[i] = s.scratch_for(prepared[i], stream, options);
      if (together) {
        params[i] = s.pack_for(prepared[i], args, scratch[i], packed);
      } else if (i > 0) {
        packed.clear();
        (void)s.pack_for(prepared[i], args, scratch[i], packed);
      }
    });
  }
  for (size_t i = 0; i < steps; ++i) {
    if (empty(prepared[i])) continue;
    s.in_step(static_cast<int32_t>(i), [&] {
      if (!together) {
        packed.clear();
        params[i] = s.pack_for(prepared[i], args, scratch[i], packed);
      }
      s.enqueue(prepared[i], functions[i], params[i], stream);
    });
  }
}

void Kernel::State::enqueue(const Prepared& p, CUfunction fn, void** params, CUstream stream) {
  const VariantInfo& v = *model.variants[p.index].info;
  const Driver& d = drv();
  const unsigned grid_x = static_cast<unsigned>(p.grid[0]) * v.num_ctas;
  if (v.num_ctas == 1 && !v.launch_pdl && !v.launch_cooperative_grid) {
    TRITONPACK_CU(d,
                  cuLaunchKernel(fn, grid_x, static_cast<unsigned>(p.grid[1]), static_cast<unsigned>(p.grid[2]),
                                 32 * v.num_warps, 1, 1, v.shared, stream, params, nullptr),
                  variant_where(p.index));
    return;
  }
  CUlaunchAttribute attributes[3] = {};
  unsigned count = 0;
  if (v.num_ctas > 1) {
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attributes[count].value.clusterDim.x = v.num_ctas;
    attributes[count].value.clusterDim.y = 1;
    attributes[count].value.clusterDim.z = 1;
    ++count;
  }
  if (v.launch_pdl) {
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attributes[count].value.programmaticStreamSerializationAllowed = 1;
    ++count;
  }
  if (v.launch_cooperative_grid) {
    attributes[count].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    attributes[count].value.cooperative = 1;
    ++count;
  }
  CUlaunchConfig config = {};
  config.gridDimX = grid_x;
  config.gridDimY = static_cast<unsigned>(p.grid[1]);
  config.gridDimZ = static_cast<unsigned>(p.grid[2]);
  config.blockDimX = 32 * v.num_warps;
  config.blockDimY = 1;
  config.blockDimZ = 1;
  config.sharedMemBytes = v.shared;
  config.hStream = stream;
  config.attrs = attributes;
  config.numAttrs = count;
  TRITONPACK_CU(d, cuLaunchKernelEx(&config, fn, params, nullptr), variant_where(p.index));
}

namespace {

Selection selection_of(const runtime::KernelModel& model, const DevicePlan& plan, uint32_t index,
                       const std::array<int64_t, 3>& grid) {
  Selection out;
  out.variant = model.variants[index].info;
  out.uses_ptx = plan.images[index] == Image::kPtx;
  out.device_arch = plan.caps.arch;
  out.grid = grid;
  return out;
}

}  // namespace

Selection Kernel::select(std::span<const Arg> args, const LaunchOptions& options) {
  State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  if (choice.kind == State::StepChoice::kAll) s.refuse_steps("select");
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  const State::Prepared p = s.prepare(args, options, lock, choice.step);
  Selection out = selection_of(s.model, p.cs->plan, p.index, p.grid);
  out.global_scratch_bytes = p.scratch_bytes;
  return out;
}

Selection Kernel::select_for_arch(std::span<const Arg> args, uint32_t arch, const LaunchOptions& options) const {
  const State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  if (choice.kind == State::StepChoice::kAll) s.refuse_steps("select_for_arch");
  const std::vector<Selection> one = select_steps_for_arch(args, arch, options);
  return one.front();
}

std::vector<Selection> Kernel::select_steps(std::span<const Arg> args, const LaunchOptions& options) {
  State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  runtime::LaunchValues values = s.bind_checked(args, options);
  ContextState& cs = s.current_context(lock);
  runtime::bind_device(s.model, cs.plan, values);
  std::vector<Selection> out;
  const auto add = [&](int32_t step) {
    const State::Prepared p = s.in_step(step, [&] { return s.select_in(cs, args, options, values, step); });
    out.push_back(selection_of(s.model, cs.plan, p.index, p.grid));
    out.back().global_scratch_bytes = p.scratch_bytes;
  };
  // Every step is selected before any is returned: one that cannot run refuses them all.
  s.each_step(choice, add);
  return out;
}

std::vector<Selection> Kernel::select_steps_for_arch(std::span<const Arg> args, uint32_t arch,
                                                     const LaunchOptions& options) const {
  const State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  runtime::LaunchValues values = s.bind_checked(args, options);
  const runtime::DevicePlan plan = runtime::plan_for_device(s.model, tool_caps(arch, options));
  runtime::bind_device(s.model, plan, values);
  std::vector<Selection> out;
  const auto add = [&](int32_t step) {
    s.in_step(step, [&] {
      values.step = step;
      const int32_t index = runtime::select_variant(s.model, plan, args, options, values);
      if (index < 0) runtime::throw_no_match(s.model, plan, args, options, values, s.pack->origin());
      out.push_back(selection_of(s.model, plan, static_cast<uint32_t>(index), values.grid));
      out.back().device_arch = arch;
    });
  };
  s.each_step(choice, add);
  return out;
}

std::vector<Selection> Kernel::candidates(std::span<const Arg> args, const LaunchOptions& options, uint32_t arch) {
  State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  if (choice.kind == State::StepChoice::kAll) s.refuse_steps("candidates");
  runtime::LaunchValues values = s.bind_checked(args, options);
  values.step = choice.step;
  std::vector<std::pair<uint32_t, std::array<int64_t, 3>>> found;
  const auto collect = [&](const runtime::DevicePlan& plan) {
    runtime::bind_device(s.model, plan, values);
    runtime::candidate_variants(s.model, plan, args, options, values, found);
    std::vector<Selection> out;
    for (const auto& [index, grid] : found) {
      out.push_back(selection_of(s.model, plan, index, grid));
      out.back().global_scratch_bytes = runtime::scratch_layout(*out.back().variant, grid).bytes;
    }
    return out;
  };
  if (arch != 0) return collect(runtime::plan_for_device(s.model, tool_caps(arch, options)));
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  return collect(s.current_context(lock).plan);
}

std::vector<Selection> Kernel::dtype_candidates(std::span<const std::optional<DType>> arg_dtypes,
                                                const LaunchOptions& options, uint32_t arch) {
  State& s = *state_;
  s.check_options(options);
  std::vector<uint32_t> found;
  const auto collect = [&](const runtime::DevicePlan& plan) {
    runtime::dtype_candidates(s.model, plan, arg_dtypes, options, found);
    std::vector<Selection> out;
    for (uint32_t index : found) {
      Selection sel;
      sel.variant = s.model.variants[index].info;
      sel.uses_ptx = plan.images[index] == Image::kPtx;
      sel.device_arch = plan.caps.arch;
      out.push_back(sel);
    }
    return out;
  };
  if (arch != 0) return collect(runtime::plan_for_device(s.model, tool_caps(arch, options)));
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  return collect(s.current_context(lock).plan);
}

namespace {

// One launch explained (one step of a kernel in steps when `step` >= 0); `grid` is then the
// chosen variant's.
Kernel::Explanation explain_launch(const runtime::KernelModel& model, const DevicePlan& plan, std::span<const Arg> args,
                                   const LaunchOptions& options, uint32_t arch, int32_t step,
                                   std::array<int64_t, 3>& grid) {
  Kernel::Explanation out;
  runtime::LaunchValues values;
  values.step = step;
  try {
    runtime::bind_launch(model, args, values);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNoMatchingVariant) throw;
    // A launch-wide rule or heuristic refuses it: no variant is even considered.
    out.summary = e.what();
    for (const runtime::VariantModel& vm : model.variants) out.lines.push_back(vm.label + ": " + e.what());
    return out;
  }
  runtime::bind_device(model, plan, values);
  out.summary = runtime::describe_launch(model, args, options, values);
  if (std::string tuning = runtime::describe_tuning(model, plan, args, options, values); !tuning.empty()) {
    out.summary += "\n  " + tuning;
    out.tuning = tuning.substr(tuning.find(": ") + 2);  // without the "tuning: " label
  }
  for (const auto& [index, why] : runtime::variant_reasons(model, plan, args, options, values)) {
    const runtime::VariantModel& vm = model.variants[index];
    if (!why.empty()) {
      out.lines.push_back(vm.label + ": " + why);
    } else if (out.chosen == nullptr) {
      out.chosen = vm.info;
      out.lines.push_back(vm.label + ": chosen");
    } else {
      out.lines.push_back(vm.label + ": could run; an earlier variant is preferred");
    }
  }
  // A grid or dim-size argument that names SM_COUNT differs from device to device: say which count
  // it took, the grid the chosen variant gets with it and the arguments' values.
  const bool placed = out.chosen != nullptr && runtime::select_variant(model, plan, args, options, values) >= 0;
  if (placed) grid = values.grid;
  std::vector<std::string> uses;
  const auto& sm_axes = model.grid_names_sm_count;
  if (placed && std::find(sm_axes.begin(), sm_axes.end(), true) != sm_axes.end()) {
    uses.push_back("grid (" + std::to_string(grid[0]) + ", " + std::to_string(grid[1]) + ", " +
                   std::to_string(grid[2]) + ")");
  }
  for (const runtime::DimArgCheck& c : model.dim_args) {
    if (!c.per_device) continue;
    const ParamInfo& p = model.info->params[c.param];
    const std::string value = std::to_string(values.slots[c.param]);
    uses.push_back(p.name + " = " + ((c.dims_needed & ~values.known_dims) == 0
                                         ? p.dim + " = " + value
                                         : value + " (as given: its dim " + p.dim + " needs shapes not given)"));
  }
  const bool names_sm_count = std::find(sm_axes.begin(), sm_axes.end(), true) != sm_axes.end() ||
                              std::any_of(model.dim_args.begin(), model.dim_args.end(),
                                          [](const runtime::DimArgCheck& c) { return c.per_device; });
  if (names_sm_count) {
    out.summary += "\n  " + std::string(kSmCountName) + " = " + std::to_string(plan.caps.sm_count) +
                   (arch == 0                ? " (the device's)"
                    : options.sm_count != 0 ? " (as given)"
                                            : " (assumed for an sm_" + std::to_string(arch) +
                                                  " GPU; --sm-count or LaunchOptions::sm_count sets another)");
    for (size_t i = 0; i < uses.size(); ++i) out.summary += (i ? ", " : ": ") + uses[i];
  }
  return out;
}

}  // namespace

Kernel::Explanation Kernel::explain(std::span<const Arg> args, const LaunchOptions& options, uint32_t arch) {
  State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  s.check_options(options);
  runtime::DevicePlan plan;
  if (arch == 0) {
    std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
    plan = s.current_context(lock).plan;
  } else {
    plan = runtime::plan_for_device(s.model, tool_caps(arch, options));
  }
  std::array<int64_t, 3> grid{};
  if (choice.kind != State::StepChoice::kAll) {
    Explanation out = explain_launch(s.model, plan, args, options, arch, choice.step, grid);
    if (choice.step >= 0) out.summary += "\n  " + s.step_where(choice.step) + " only (pinned)";
    return out;
  }
  // A section per step: its header ("step 2 of 2 (PHASE=1): grid (4, 1, 1)") then its lines. The
  // launch's summary is the first step's; `chosen` is set only when every step can run.
  const size_t steps = s.model.step_labels.size();
  Explanation out;
  bool every_step = true;
  for (size_t i = 0; i < steps; ++i) {
    grid = {0, 0, 0};
    Explanation e = explain_launch(s.model, plan, args, options, arch, static_cast<int32_t>(i), grid);
    if (i == 0) {
      out.summary = e.summary + "\n  runs in " + std::to_string(steps) + " steps, one launch each: " + s.steps_text();
      out.tuning = e.tuning;
      out.chosen = e.chosen;
    }
    every_step = every_step && e.chosen != nullptr;
    out.lines.push_back(s.step_where(static_cast<int32_t>(i)) + ": " +
                        (e.chosen == nullptr ? std::string("no variant can run it")
                                             : "grid (" + std::to_string(grid[0]) + ", " + std::to_string(grid[1]) +
                                                   ", " + std::to_string(grid[2]) + ")"));
    for (std::string& line : e.lines) out.lines.push_back("  " + std::move(line));
  }
  if (!every_step) out.chosen = nullptr;
  return out;
}

std::string Kernel::Explanation::text() const {
  std::string out = summary;
  for (const std::string& line : lines) out += "\n  " + line;
  return out;
}

uint32_t Kernel::sm_count(const LaunchOptions& options, uint32_t arch) {
  if (arch != 0) return tool_caps(arch, options).sm_count;
  State& s = *state_;
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  return s.current_context(lock).plan.caps.sm_count;
}

// A kernel in steps: the most any step needs (they run one after another in the same workspace).
size_t Kernel::workspace_size(std::span<const Arg> args, const LaunchOptions& options) {
  if (state_->step_choice(options).kind != State::StepChoice::kAll) return select(args, options).global_scratch_bytes;
  size_t bytes = 0;
  for (const Selection& step : select_steps(args, options)) bytes = std::max(bytes, step.global_scratch_bytes);
  return bytes;
}

Kernel::FunctionAttributes Kernel::attributes(std::span<const Arg> args, const LaunchOptions& options) {
  State& s = *state_;
  const State::StepChoice choice = s.step_choice(options);
  if (choice.kind == State::StepChoice::kAll) s.refuse_steps("attributes");
  std::shared_lock<std::shared_mutex> lock(s.contexts_mutex);
  const State::Prepared p = s.prepare(args, options, lock, choice.step);
  const CUfunction fn = s.function(*p.cs, p.index);
  const Driver& d = s.drv();
  FunctionAttributes out;
  const std::string place = s.variant_where(p.index);
  TRITONPACK_CU(d, cuFuncGetAttribute(&out.registers, CU_FUNC_ATTRIBUTE_NUM_REGS, fn), place);
  TRITONPACK_CU(d, cuFuncGetAttribute(&out.local_bytes, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, fn), place);
  TRITONPACK_CU(d, cuFuncGetAttribute(&out.max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, fn), place);
  return out;
}

void Kernel::unload() {
  State& s = *state_;
  std::unique_lock<std::shared_mutex> lock(s.contexts_mutex);
  if (s.contexts.empty()) return;
  const Driver& d = s.drv();
  std::string first_error;
  auto note = [&](CUresult r, const char* call) {
    if (r != CUDA_SUCCESS && first_error.empty()) {
      first_error = std::string(call) + " failed: " + d.error_text(r) + " [" + s.where() + "]";
    }
  };
  std::vector<std::unique_ptr<ContextState>> kept;  // contexts to retry on the next unload
  for (auto& cs : s.contexts) {
    if (cs->primary) {
      // A primary context released to zero by its last user is reset: its modules are gone
      // although its handle still pushes. Unloading them would be seed 01's double unload (seen
      // on two H200s: cuModuleUnload -> CUDA_ERROR_INVALID_HANDLE).
      unsigned int flags = 0;
      int active = 0;
      const CUresult state = d.api().cuDevicePrimaryCtxGetState(cs->device, &flags, &active);
      if ((state == CUDA_SUCCESS && active == 0) || state == CUDA_ERROR_DEINITIALIZED) continue;
      if (state != CUDA_SUCCESS) {
        note(state, "cuDevicePrimaryCtxGetState");
        kept.push_back(std::move(cs));
        continue;
      }
    }
    const CUresult pushed = d.api().cuCtxPushCurrent(cs->context);
    if (pushed == CUDA_ERROR_INVALID_CONTEXT || pushed == CUDA_ERROR_CONTEXT_IS_DESTROYED ||
        pushed == CUDA_ERROR_DEINITIALIZED) {
      // The context is gone (destroyed, or the driver shut down at exit): its modules and
      // memory went with it. Nothing to unload, and nothing worth reporting.
      continue;
    }
    if (pushed != CUDA_SUCCESS) {
      note(pushed, "cuCtxPushCurrent");
      kept.push_back(std::move(cs));
      continue;
    }
    // A primary context reset and retained again since is a new incarnation with a new id: the
    // modules recorded here went with the old one.
    unsigned long long id = 0;
    const CUresult identified = d.api().cuCtxGetId(cs->context, &id);
    if (identified == CUDA_ERROR_INVALID_CONTEXT || identified == CUDA_ERROR_CONTEXT_IS_DESTROYED ||
        (identified == CUDA_SUCCESS && id != cs->context_id)) {
      CUcontext popped = nullptr;
      note(d.api().cuCtxPopCurrent(&popped), "cuCtxPopCurrent");
      continue;
    }
    if (identified != CUDA_SUCCESS) {
      note(identified, "cuCtxGetId");
      CUcontext popped = nullptr;
      note(d.api().cuCtxPopCurrent(&popped), "cuCtxPopCurrent");
      kept.push_back(std::move(cs));
      continue;
    }
    // A handle is forgotten once cuModuleUnload / cuMemFree has been called on it, whatever the
    // result: a handle is never released twice (seed 01, known issue 4).
    for (CUmodule& m : cs->modules) {
      if (m != nullptr) note(d.api().cuModuleUnload(m), "cuModuleUnload");
      m = nullptr;
    }
    for (ScratchBuffer& b : cs->scratch) note(d.api().cuMemFree(b.pointer), "cuMemFree");
    for (CUdeviceptr p : cs->retired_scratch) note(d.api().cuMemFree(p), "cuMemFree");
    cs->scratch.clear();
    cs->retired_scratch.clear();
    CUcontext popped = nullptr;
    note(d.api().cuCtxPopCurrent(&popped), "cuCtxPopCurrent");
  }
  s.contexts = std::move(kept);
  if (!first_error.empty()) throw Error(ErrorCode::kDriver, first_error);
}

std::vector<std::string> runtime_param_names(const KernelInfo& kernel) {
  std::vector<std::string> names;
  for (const ParamInfo& p : kernel.params) {
    if (p.kind != ParamKind::kConstexpr) names.push_back(p.name);
  }
  for (const LaunchVarInfo& v : kernel.launch_vars) names.push_back(v.name);
  return names;
}

}  // namespace tritonpack
