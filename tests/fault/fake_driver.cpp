#include "fault/fake_driver.h"

#include <cstdio>
#include <cstring>
#include <string_view>

namespace tritonpack::testing {
namespace {

std::unique_ptr<FakeGpu> gpu = std::make_unique<FakeGpu>();
thread_local CUcontext current = nullptr;

// Counts the call and decides whether it is the one that fails.
bool inject(const char* name) {
  if (gpu->called_functions.find(std::string_view(name)) == gpu->called_functions.end()) gpu->called_functions.insert(name);
  const int64_t n = gpu->calls++;
  if (n == gpu->fail_at) {
    gpu->failed_functions.insert(name);
    return true;
  }
  return false;
}

// Every entry point holds the fake's mutex for its whole call.
#define FAKE_ENTRY(name)                            \
  std::lock_guard<std::mutex> fake_lock(gpu->mutex); \
  if (inject(#name)) return gpu->fail_with;

// Records a call with a module or function handle that is not loaded.
CUresult stale(const char* call, const char* what, const void* handle) {
  char text[128];
  std::snprintf(text, sizeof text, "%s: %s %p is not loaded", call, what, handle);
  gpu->stale_handle_uses.push_back(text);
  return CUDA_ERROR_INVALID_HANDLE;
}

template <class T>
T next_handle() {
  return reinterpret_cast<T>(gpu->next_handle += 0x10);
}

CUresult fake_cuInit(unsigned) { FAKE_ENTRY(cuInit) return CUDA_SUCCESS; }
CUresult fake_cuGetErrorName(CUresult r, const char** s) {
  *s = r == CUDA_ERROR_UNKNOWN ? "CUDA_ERROR_UNKNOWN" : r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_FAKE";
  return CUDA_SUCCESS;
}
CUresult fake_cuGetErrorString(CUresult, const char** s) {
  *s = "injected by the fake driver";
  return CUDA_SUCCESS;
}
CUresult fake_cuDriverGetVersion(int* v) { FAKE_ENTRY(cuDriverGetVersion) *v = 13000; return CUDA_SUCCESS; }
CUresult fake_cuDeviceGet(CUdevice* d, int ordinal) {
  FAKE_ENTRY(cuDeviceGet)
  if (ordinal < 0 || ordinal >= static_cast<int>(gpu->devices.size())) return CUDA_ERROR_INVALID_DEVICE;
  *d = ordinal;
  return CUDA_SUCCESS;
}
CUresult fake_cuDeviceGetCount(int* n) { FAKE_ENTRY(cuDeviceGetCount) *n = static_cast<int>(gpu->devices.size()); return CUDA_SUCCESS; }
CUresult fake_cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  FAKE_ENTRY(cuDeviceGetAttribute)
  if (device < 0 || device >= static_cast<int>(gpu->devices.size())) return CUDA_ERROR_INVALID_DEVICE;
  const FakeDevice& d = gpu->devices[device];
  switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = d.arch / 10; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = d.arch % 10; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = d.max_shared_optin; break;
    case CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH: *value = d.cluster_launch ? 1 : 0; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *value = d.max_grid_x; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: *value = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *value = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = d.sm_count; break;
    default: *value = 0;
  }
  return CUDA_SUCCESS;
}
CUresult fake_cuDeviceGetName(char* name, int len, CUdevice dev) {
  FAKE_ENTRY(cuDeviceGetName)
  std::strncpy(name, gpu->devices.at(static_cast<size_t>(dev)).name.c_str(), static_cast<size_t>(len));
  return CUDA_SUCCESS;
}
// One primary context per device, reference counted; released to zero it is reset (modules
// gone, inactive), and retained again it is a new incarnation (same handle, new id).
CUresult fake_cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice d) {
  FAKE_ENTRY(cuDevicePrimaryCtxRetain)
  auto& p = gpu->primaries[d];
  if (p.context == nullptr) {
    p.context = gpu->make_context(d);
  } else if (p.refs == 0) {
    gpu->contexts[p.context].alive = true;
    gpu->contexts[p.context].id += 1000;
  }
  ++p.refs;
  *ctx = p.context;
  return CUDA_SUCCESS;
}
CUresult fake_cuDevicePrimaryCtxRelease(CUdevice d) {
  FAKE_ENTRY(cuDevicePrimaryCtxRelease)
  auto& p = gpu->primaries[d];
  if (p.refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
  if (--p.refs == 0) gpu->reset_primary_context(p.context);
  return CUDA_SUCCESS;
}
CUresult fake_cuDevicePrimaryCtxGetState(CUdevice d, unsigned int* flags, int* active) {
  FAKE_ENTRY(cuDevicePrimaryCtxGetState)
  *flags = 0;
  *active = gpu->primaries[d].refs > 0 ? 1 : 0;
  return CUDA_SUCCESS;
}
CUresult fake_cuCtxGetCurrent(CUcontext* ctx) { FAKE_ENTRY(cuCtxGetCurrent) *ctx = current; return CUDA_SUCCESS; }
CUresult fake_cuCtxSetCurrent(CUcontext ctx) { FAKE_ENTRY(cuCtxSetCurrent) current = ctx; return CUDA_SUCCESS; }
CUresult fake_cuCtxGetDevice(CUdevice* d) {
  FAKE_ENTRY(cuCtxGetDevice)
  auto it = gpu->contexts.find(current);
  if (it == gpu->contexts.end() || !it->second.alive) return CUDA_ERROR_INVALID_CONTEXT;
  *d = it->second.device;
  return CUDA_SUCCESS;
}
CUresult fake_cuCtxGetId(CUcontext ctx, unsigned long long* id) {
  FAKE_ENTRY(cuCtxGetId)
  auto it = gpu->contexts.find(ctx);
  if (it == gpu->contexts.end() || !it->second.alive) return CUDA_ERROR_INVALID_CONTEXT;
  *id = it->second.id;
  return CUDA_SUCCESS;
}
thread_local std::vector<CUcontext> stack;
CUresult fake_cuCtxPushCurrent(CUcontext ctx) {
  FAKE_ENTRY(cuCtxPushCurrent)
  auto it = gpu->contexts.find(ctx);
  if (it == gpu->contexts.end() || !it->second.alive) return CUDA_ERROR_INVALID_CONTEXT;
  stack.push_back(current);
  current = ctx;
  return CUDA_SUCCESS;
}
CUresult fake_cuCtxPopCurrent(CUcontext* ctx) {
  FAKE_ENTRY(cuCtxPopCurrent)
  if (stack.empty()) return CUDA_ERROR_INVALID_CONTEXT;
  if (ctx) *ctx = current;
  current = stack.back();
  stack.pop_back();
  return CUDA_SUCCESS;
}
CUresult fake_cuModuleLoadDataEx(CUmodule* m, const void* image, unsigned, CUjit_option*, void**) {
  FAKE_ENTRY(cuModuleLoadDataEx)
  auto it = gpu->contexts.find(current);
  if (it == gpu->contexts.end() || !it->second.alive) return CUDA_ERROR_INVALID_CONTEXT;
  if (image == nullptr) return CUDA_ERROR_INVALID_IMAGE;
  *m = next_handle<CUmodule>();
  const bool ptx = std::memcmp(image, "//", 2) == 0 || std::memcmp(image, ".version", 8) == 0;
  gpu->modules[*m] = {current, ptx};
  return CUDA_SUCCESS;
}
CUresult fake_cuModuleUnload(CUmodule m) {
  FAKE_ENTRY(cuModuleUnload)
  if (gpu->modules.erase(m) == 0) return stale("cuModuleUnload", "module", m);  // double unload is an error
  for (auto it = gpu->functions.begin(); it != gpu->functions.end();) {
    it = it->second.module == m ? gpu->functions.erase(it) : std::next(it);
  }
  return CUDA_SUCCESS;
}
CUresult fake_cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
  FAKE_ENTRY(cuModuleGetFunction)
  if (gpu->modules.count(m) == 0) return stale("cuModuleGetFunction", "module", m);
  *f = next_handle<CUfunction>();
  gpu->functions[*f] = {m, name};
  return CUDA_SUCCESS;
}
CUresult fake_cuFuncGetAttribute(int* v, CUfunction_attribute a, CUfunction f) {
  FAKE_ENTRY(cuFuncGetAttribute)
  if (gpu->functions.count(f) == 0) return stale("cuFuncGetAttribute", "function", f);
  *v = a == CU_FUNC_ATTRIBUTE_NUM_REGS ? 32 : a == CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK ? 1024 : 0;
  return CUDA_SUCCESS;
}
CUresult fake_cuFuncSetCacheConfig(CUfunction f, CUfunc_cache) {
  FAKE_ENTRY(cuFuncSetCacheConfig)
  if (gpu->functions.count(f) == 0) return stale("cuFuncSetCacheConfig", "function", f);
  return CUDA_SUCCESS;
}
CUresult fake_cuFuncSetAttribute(CUfunction f, CUfunction_attribute a, int v) {
  FAKE_ENTRY(cuFuncSetAttribute)
  auto it = gpu->functions.find(f);
  if (it == gpu->functions.end()) return stale("cuFuncSetAttribute", "function", f);
  if (a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    const int device = gpu->contexts[gpu->modules[it->second.module].context].device;
    if (v > gpu->devices[device].max_shared_optin) return CUDA_ERROR_INVALID_VALUE;
    it->second.max_dynamic_shared = v;
  }
  return CUDA_SUCCESS;
}
CUresult record_launch(CUfunction f, const unsigned grid[3], const unsigned block[3], unsigned shared,
                       CUstream stream, void** params, unsigned cluster_x, bool ex, bool pdl = false) {
  auto it = gpu->functions.find(f);
  if (it == gpu->functions.end()) return stale(ex ? "cuLaunchKernelEx" : "cuLaunchKernel", "function", f);
  if (gpu->modules[it->second.module].context != current) return CUDA_ERROR_INVALID_CONTEXT;
  if (static_cast<int>(shared) > it->second.max_dynamic_shared) return CUDA_ERROR_INVALID_VALUE;
  if (gpu->failing_entries.count(it->second.entry) != 0) return CUDA_ERROR_LAUNCH_FAILED;
  ++gpu->launch_count;
  if (stream == nullptr || stream == CU_STREAM_LEGACY) gpu->run_legacy_queue();
  if (!gpu->record_launches) return CUDA_SUCCESS;
  FakeLaunch l;
  l.entry = it->second.entry;
  for (int i = 0; i < 3; ++i) {
    l.grid[i] = grid[i];
    l.block[i] = block[i];
  }
  l.shared = shared;
  l.stream = stream;
  l.cluster_x = cluster_x;
  l.used_launch_ex = ex;
  l.pdl = pdl;
  l.context = current;
  for (size_t i = 0; i < gpu->params_to_record; ++i) {
    uint64_t v = 0;
    std::memcpy(&v, params[i], sizeof v);
    l.params.push_back(v);
  }
  gpu->launches.push_back(l);
  if (gpu->on_launch) gpu->on_launch(*gpu, gpu->launches.back());
  if (gpu->launch_ms) gpu->clock_ms += gpu->launch_ms(gpu->launches.back());
  return CUDA_SUCCESS;
}
CUresult fake_cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                             unsigned bz, unsigned shared, CUstream stream, void** params, void**) {
  FAKE_ENTRY(cuLaunchKernel)
  const unsigned grid[3] = {gx, gy, gz};
  const unsigned block[3] = {bx, by, bz};
  return record_launch(f, grid, block, shared, stream, params, 1, false);
}
CUresult fake_cuLaunchKernelEx(const CUlaunchConfig* c, CUfunction f, void** params, void**) {
  FAKE_ENTRY(cuLaunchKernelEx)
  unsigned cluster = 1;
  bool pdl = false;
  for (unsigned i = 0; i < c->numAttrs; ++i) {
    if (c->attrs[i].id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) cluster = c->attrs[i].value.clusterDim.x;
    if (c->attrs[i].id == CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION) {
      pdl = c->attrs[i].value.programmaticStreamSerializationAllowed != 0;
    }
  }
  const unsigned grid[3] = {c->gridDimX, c->gridDimY, c->gridDimZ};
  const unsigned block[3] = {c->blockDimX, c->blockDimY, c->blockDimZ};
  return record_launch(f, grid, block, c->sharedMemBytes, c->hStream, params, cluster, true, pdl);
}
CUresult fake_cuTensorMapEncodeTiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                                     const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                                     const cuuint32_t* element_strides, CUtensorMapInterleave, CUtensorMapSwizzle swizzle,
                                     CUtensorMapL2promotion, CUtensorMapFloatOOBfill) {
  FAKE_ENTRY(cuTensorMapEncodeTiled)
  // The driver's documented limits that the runtime must check first.
  if (rank == 0 || rank > 5 || reinterpret_cast<uintptr_t>(address) % 16 != 0) return CUDA_ERROR_INVALID_VALUE;
  FakeTensorMapEncode e;
  e.data_type = static_cast<int>(type);
  e.rank = rank;
  e.address = reinterpret_cast<uint64_t>(address);
  for (cuuint32_t i = 0; i < rank; ++i) {
    e.dims.push_back(dims[i]);
    e.box.push_back(box[i]);
    e.element_strides.push_back(element_strides[i]);
    if (i + 1 < rank) {
      if (strides[i] % 16 != 0) return CUDA_ERROR_INVALID_VALUE;
      e.strides_bytes.push_back(strides[i]);
    }
  }
  e.swizzle = static_cast<int>(swizzle);
  std::memset(map, 0, sizeof *map);
  std::memcpy(map, &e.address, sizeof e.address);
  gpu->encodes.push_back(std::move(e));
  return CUDA_SUCCESS;
}
CUresult fake_cuMemAlloc(CUdeviceptr* p, size_t bytes) {
  FAKE_ENTRY(cuMemAlloc)
  if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  *p = gpu->next_address;
  gpu->next_address += (bytes + 255) / 256 * 256 + 256;
  gpu->allocations[*p] = bytes;
  if (gpu->back_memory) gpu->memory[*p].assign(bytes, 0);
  return CUDA_SUCCESS;
}
CUresult fake_cuMemFree(CUdeviceptr p) {
  FAKE_ENTRY(cuMemFree)
  gpu->run_legacy_queue();  // queued writes may point into it (a real free waits for the device)
  gpu->memory.erase(p);
  return gpu->allocations.erase(p) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult fake_cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t bytes) {
  FAKE_ENTRY(cuMemcpyHtoD)
  if (!gpu->back_memory) return CUDA_SUCCESS;
  uint8_t* p = gpu->host(dst, bytes);
  if (p == nullptr) return CUDA_ERROR_INVALID_VALUE;
  if (gpu->legacy_stream_lags) {
    std::vector<uint8_t> data(static_cast<const uint8_t*>(src), static_cast<const uint8_t*>(src) + bytes);
    gpu->legacy_queue.push_back([p, data = std::move(data)] { std::memcpy(p, data.data(), data.size()); });
    return CUDA_SUCCESS;
  }
  std::memcpy(p, src, bytes);
  return CUDA_SUCCESS;
}
CUresult fake_cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t bytes) {
  FAKE_ENTRY(cuMemcpyDtoH)
  if (!gpu->back_memory) return CUDA_SUCCESS;
  gpu->run_legacy_queue();  // a synchronous copy on the legacy stream: after the work queued there
  const uint8_t* p = gpu->host(src, bytes);
  if (p == nullptr) return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(dst, p, bytes);
  return CUDA_SUCCESS;
}
CUresult fake_cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t bytes) {
  FAKE_ENTRY(cuMemsetD8)
  if (!gpu->back_memory) return CUDA_SUCCESS;
  uint8_t* p = gpu->host(dst, bytes);
  if (p == nullptr) return CUDA_ERROR_INVALID_VALUE;
  if (gpu->legacy_stream_lags) {
    gpu->legacy_queue.push_back([p, value, bytes] { std::memset(p, value, bytes); });
    return CUDA_SUCCESS;
  }
  std::memset(p, value, bytes);
  return CUDA_SUCCESS;
}
CUresult fake_cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t bytes, CUstream) {
  FAKE_ENTRY(cuMemsetD8Async)
  if (!gpu->back_memory) return CUDA_SUCCESS;
  uint8_t* p = gpu->host(dst, bytes);
  if (p == nullptr) return CUDA_ERROR_INVALID_VALUE;
  std::memset(p, value, bytes);
  return CUDA_SUCCESS;
}
CUresult fake_cuStreamCreate(CUstream* s, unsigned) { FAKE_ENTRY(cuStreamCreate) *s = next_handle<CUstream>(); return CUDA_SUCCESS; }
CUresult fake_cuStreamDestroy(CUstream) { FAKE_ENTRY(cuStreamDestroy) return CUDA_SUCCESS; }
CUresult fake_cuStreamSynchronize(CUstream s) {
  FAKE_ENTRY(cuStreamSynchronize)
  if (s == nullptr || s == CU_STREAM_LEGACY) gpu->run_legacy_queue();
  return CUDA_SUCCESS;
}
CUresult fake_cuEventCreate(CUevent* e, unsigned) { FAKE_ENTRY(cuEventCreate) *e = next_handle<CUevent>(); return CUDA_SUCCESS; }
CUresult fake_cuEventRecord(CUevent e, CUstream) {
  FAKE_ENTRY(cuEventRecord)
  if (gpu->launch_ms) gpu->event_ms[e] = gpu->clock_ms;
  return CUDA_SUCCESS;
}
CUresult fake_cuEventSynchronize(CUevent) { FAKE_ENTRY(cuEventSynchronize) return CUDA_SUCCESS; }
CUresult fake_cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
  FAKE_ENTRY(cuEventElapsedTime)
  *ms = 1.0f;
  if (gpu->launch_ms) *ms = static_cast<float>(gpu->event_ms[end] - gpu->event_ms[start]);
  return CUDA_SUCCESS;
}
CUresult fake_cuEventDestroy(CUevent) { FAKE_ENTRY(cuEventDestroy) return CUDA_SUCCESS; }

}  // namespace

void FakeGpu::run_legacy_queue() {
  for (const std::function<void()>& write : legacy_queue) write();
  legacy_queue.clear();
}

uint8_t* FakeGpu::host(CUdeviceptr address, size_t bytes) {
  auto it = memory.upper_bound(address);
  if (it == memory.begin()) return nullptr;
  --it;
  const CUdeviceptr offset = address - it->first;
  if (offset + bytes > it->second.size()) return nullptr;
  return it->second.data() + offset;
}

CUcontext FakeGpu::make_context(int device) {
  auto ctx = reinterpret_cast<CUcontext>(next_handle += 0x10);
  contexts[ctx] = Context{static_cast<unsigned long long>(contexts.size() + 1), device, true};
  return ctx;
}

void FakeGpu::reset_primary_context(CUcontext ctx) {
  const CUcontext was_current = current;
  destroy_context(ctx);  // modules gone; the handle stays (alive = false until retained again)
  current = was_current;
}

void FakeGpu::destroy_context(CUcontext ctx) {
  contexts[ctx].alive = false;
  for (auto it = modules.begin(); it != modules.end();) {
    if (it->second.context == ctx) {
      for (auto f = functions.begin(); f != functions.end();) {
        f = f->second.module == it->first ? functions.erase(f) : std::next(f);
      }
      it = modules.erase(it);
    } else {
      ++it;
    }
  }
  if (current == ctx) current = nullptr;
}

void FakeGpu::set_current(CUcontext ctx) { current = ctx; }

FakeGpu& reset_fake_gpu() {
  gpu = std::make_unique<FakeGpu>();
  current = nullptr;
  stack.clear();
  return *gpu;
}

FakeGpu& fake_gpu() { return *gpu; }

std::shared_ptr<const driver::Driver> fake_driver() {
  driver::DriverApi api;
#define FAKE_SET(name) api.name = &fake_##name;
  TRITONPACK_DRIVER_FUNCTIONS(FAKE_SET)
#undef FAKE_SET
  return driver::Driver::from_table(api);
}

}  // namespace tritonpack::testing
