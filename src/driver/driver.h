// The CUDA driver, reached only through one function table.
//
// libcuda.so.1 is opened at run time (never linked), so every tritonpack binary starts on a
// machine without a GPU and says "no CUDA driver" when it needs one. The table is also the seam
// where tests put a fake or failing driver (tests/fault).
#pragma once

#include <cuda.h>

#include <memory>
#include <string>

#include "tritonpack/error.h"

namespace tritonpack::driver {

#define TRITONPACK_DRIVER_FUNCTIONS(X) \
  X(cuInit)                            \
  X(cuGetErrorName)                    \
  X(cuGetErrorString)                  \
  X(cuDriverGetVersion)                \
  X(cuDeviceGet)                       \
  X(cuDeviceGetCount)                  \
  X(cuDeviceGetAttribute)              \
  X(cuDeviceGetName)                   \
  X(cuDevicePrimaryCtxRetain)          \
  X(cuDevicePrimaryCtxRelease)         \
  X(cuDevicePrimaryCtxGetState)        \
  X(cuCtxGetCurrent)                   \
  X(cuCtxSetCurrent)                   \
  X(cuCtxGetDevice)                    \
  X(cuCtxGetId)                        \
  X(cuCtxPushCurrent)                  \
  X(cuCtxPopCurrent)                   \
  X(cuModuleLoadDataEx)                \
  X(cuModuleUnload)                    \
  X(cuModuleGetFunction)               \
  X(cuFuncGetAttribute)                \
  X(cuFuncSetAttribute)                \
  X(cuFuncSetCacheConfig)              \
  X(cuLaunchKernel)                    \
  X(cuLaunchKernelEx)                  \
  X(cuTensorMapEncodeTiled)            \
  X(cuMemAlloc)                        \
  X(cuMemFree)                         \
  X(cuMemcpyHtoD)                      \
  X(cuMemcpyDtoH)                      \
  X(cuMemsetD8)                        \
  X(cuMemsetD8Async)                   \
  X(cuStreamCreate)                    \
  X(cuStreamDestroy)                   \
  X(cuStreamSynchronize)               \
  X(cuEventCreate)                     \
  X(cuEventRecord)                     \
  X(cuEventSynchronize)                \
  X(cuEventElapsedTime)                \
  X(cuEventDestroy)

// One pointer per driver entry point, typed from cuda.h's prototypes.
struct DriverApi {
#define TRITONPACK_DECLARE_ENTRY(name) decltype(&::name) name = nullptr;
  TRITONPACK_DRIVER_FUNCTIONS(TRITONPACK_DECLARE_ENTRY)
#undef TRITONPACK_DECLARE_ENTRY
};

class Driver {
 public:
  // The process's real driver: opens libcuda.so.1 and calls cuInit(0) once; later calls return
  // the same object. Throws Error(kNoDriver) saying what is missing and what to do.
  static std::shared_ptr<const Driver> system();

  // A driver made of the given table (tests: fakes and fault injection). All entries must be set.
  static std::shared_ptr<const Driver> from_table(const DriverApi& api);

  const DriverApi& api() const { return api_; }

  // "CUDA_ERROR_OUT_OF_MEMORY (out of memory)"; never fails.
  std::string error_text(CUresult result) const;

  explicit Driver(const DriverApi& api) : api_(api) {}

 private:
  DriverApi api_;
};

// Throws Error(kDriver): "<call> failed: <CUDA_ERROR_X (text)> [<context>] (<file>:<line>)".
[[noreturn]] void throw_driver_error(const Driver& driver, CUresult result, const char* call,
                                     const char* file, int line, const std::string& context);

}  // namespace tritonpack::driver

// Evaluates a driver call once (through the table); on failure throws an Error naming the call,
// the driver's error, the context (a std::string expression, evaluated only on failure), and the
// place. Example: TRITONPACK_CU(drv, cuModuleUnload(mod), "kernel " + name);
#define TRITONPACK_CU(drv, call, context)                                                   \
  do {                                                                                      \
    const CUresult tritonpack_result_ = (drv).api().call;                                   \
    if (tritonpack_result_ != CUDA_SUCCESS) [[unlikely]]                                    \
      ::tritonpack::driver::throw_driver_error((drv), tritonpack_result_, #call, __FILE__, \
                                               __LINE__, (context));                        \
  } while (0)
