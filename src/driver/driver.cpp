#include "driver/driver.h"

#include <dlfcn.h>

#include <mutex>

namespace tritonpack::driver {
namespace {

// Entry points are requested at the CUDA 12.0 ABI, so any driver from CUDA 12.0 on works and the
// prototypes match cuda.h's (none of the functions above changed ABI between 12.0 and 13.0).
constexpr int kRequestedAbi = 12000;

using GetProcAddress = CUresult (*)(const char*, void**, int, cuuint64_t,
                                    CUdriverProcAddressQueryResult*);

std::shared_ptr<const Driver> load_system_driver() {
  // The handle is deliberately never closed: function pointers from it live as long as the process.
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    throw Error(ErrorCode::kNoDriver,
                std::string("cannot load libcuda.so.1 (") + (why ? why : "unknown") +
                    "); this machine needs an NVIDIA GPU with its driver installed to load or launch "
                    "kernels (compile and inspect work without one)");
  }
  auto get_proc = reinterpret_cast<GetProcAddress>(dlsym(lib, "cuGetProcAddress_v2"));
  if (get_proc == nullptr) {
    throw Error(ErrorCode::kNoDriver,
                "the CUDA driver in libcuda.so.1 is too old (no cuGetProcAddress_v2); tritonpack "
                "needs a driver for CUDA 12.0 or newer");
  }
  DriverApi api;
#define TRITONPACK_RESOLVE_ENTRY(name)                                                       \
  {                                                                                          \
    void* fn = nullptr;                                                                      \
    CUdriverProcAddressQueryResult status{};                                                 \
    CUresult r = get_proc(#name, &fn, kRequestedAbi, CU_GET_PROC_ADDRESS_DEFAULT, &status);  \
    if (r != CUDA_SUCCESS || fn == nullptr || status != CU_GET_PROC_ADDRESS_SUCCESS) {       \
      throw Error(ErrorCode::kNoDriver, "the CUDA driver does not provide " #name            \
                                        " at the CUDA 12.0 ABI; update the NVIDIA driver");  \
    }                                                                                        \
    api.name = reinterpret_cast<decltype(api.name)>(fn);                                     \
  }
  TRITONPACK_DRIVER_FUNCTIONS(TRITONPACK_RESOLVE_ENTRY)
#undef TRITONPACK_RESOLVE_ENTRY
  auto driver = std::make_shared<const Driver>(api);
  CUresult r = api.cuInit(0);
  if (r != CUDA_SUCCESS) {
    throw Error(ErrorCode::kNoDriver,
                "the CUDA driver failed to initialize: cuInit(0) returned " + driver->error_text(r) +
                    "; is a GPU visible to this process (CUDA_VISIBLE_DEVICES)?");
  }
  return driver;
}

}  // namespace

std::shared_ptr<const Driver> Driver::system() {
  // Loaded once; a failure is remembered and reported again (no retry storm on hot paths).
  static std::once_flag once;
  static std::shared_ptr<const Driver> driver;
  static std::string failure;
  static ErrorCode failure_code = ErrorCode::kNoDriver;
  std::call_once(once, [] {
    try {
      driver = load_system_driver();
    } catch (const Error& e) {
      failure = e.what();
      failure_code = e.code();
    }
  });
  if (!driver) throw Error(failure_code, failure);
  return driver;
}

std::shared_ptr<const Driver> Driver::from_table(const DriverApi& api) {
#define TRITONPACK_CHECK_ENTRY(name)                                                  \
  if (api.name == nullptr)                                                            \
    throw Error(ErrorCode::kInvalidArgument, "driver table entry " #name " is not set");
  TRITONPACK_DRIVER_FUNCTIONS(TRITONPACK_CHECK_ENTRY)
#undef TRITONPACK_CHECK_ENTRY
  return std::make_shared<const Driver>(api);
}

std::string Driver::error_text(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (api_.cuGetErrorName == nullptr || api_.cuGetErrorName(result, &name) != CUDA_SUCCESS ||
      name == nullptr) {
    return "CUDA error " + std::to_string(static_cast<int>(result));
  }
  std::string out = name;
  if (api_.cuGetErrorString != nullptr && api_.cuGetErrorString(result, &text) == CUDA_SUCCESS &&
      text != nullptr) {
    out += " (";
    out += text;
    out += ")";
  }
  return out;
}

void throw_driver_error(const Driver& driver, CUresult result, const char* call, const char* file,
                        int line, const std::string& context) {
  std::string message = std::string(call) + " failed: " + driver.error_text(result);
  if (!context.empty()) message += " [" + context + "]";
  message += " (";
  message += file;
  message += ":" + std::to_string(line) + ")";
  throw Error(ErrorCode::kDriver, message);
}

}  // namespace tritonpack::driver
