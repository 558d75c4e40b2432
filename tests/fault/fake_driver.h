// A CPU stand-in for the CUDA driver, installed through the driver table. It tracks contexts,
// modules, functions and allocations so tests can check that nothing leaks, records launches so
// tests can check the exact argument bytes, records every use of a module or function handle that
// is not loaded (a stale handle), and fails the Nth driver call on request so that every call
// site's error path runs.
//
// Threads: every driver entry point holds FakeGpu::mutex, as the runtime may call the driver from
// several threads at once (tests/fault/stress_test.cpp). The current context and the context
// stack are per thread, as the real driver's are. A test reads or sets FakeGpu's fields directly
// only while no other thread is in the driver, or holding `mutex`; on_launch and launch_ms run
// with it held.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "driver/driver.h"

namespace tritonpack::testing {

struct FakeDevice {
  int arch = 90;
  int max_shared_optin = 232448;
  bool cluster_launch = true;
  int max_grid_x = 2147483647;
  std::string name = "Fake GPU";  // cuDeviceGetName's answer
  int sm_count = 132;             // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT (an H100 SXM's, an H200's)
};

struct FakeLaunch {
  std::string entry;
  unsigned grid[3] = {0, 0, 0};
  unsigned block[3] = {0, 0, 0};
  unsigned shared = 0;
  CUstream stream = nullptr;
  std::vector<uint64_t> params;  // 8 bytes read from each kernelParams[i]
  unsigned cluster_x = 1;
  bool used_launch_ex = false;
  bool pdl = false;  // cuLaunchKernelEx with programmatic stream serialization allowed
  CUcontext context = nullptr;
};

// One cuTensorMapEncodeTiled call, as the runtime made it (innermost dim first, as the driver takes it).
struct FakeTensorMapEncode {
  int data_type = 0;
  unsigned rank = 0;
  uint64_t address = 0;
  std::vector<uint64_t> dims, strides_bytes;
  std::vector<unsigned> box, element_strides;
  int swizzle = 0;
};

struct FakeGpu {
  std::mutex mutex;
  std::vector<FakeDevice> devices{
      FakeDevice{}, FakeDevice{.arch = 80, .max_shared_optin = 166912, .cluster_launch = false, .sm_count = 108}};
  // Contexts: one primary context per device, created by make_context.
  struct Context {
    unsigned long long id;
    int device;
    bool alive = true;
  };
  std::map<CUcontext, Context> contexts;
  struct Module {
    CUcontext context;
    bool ptx;
  };
  std::map<CUmodule, Module> modules;
  struct Function {
    CUmodule module;
    std::string entry;
    int max_dynamic_shared = 48 * 1024;
  };
  std::map<CUfunction, Function> functions;
  std::map<CUdeviceptr, size_t> allocations;
  // Calls given a module or function handle that is not loaded ("cuLaunchKernel: function 0x1230
  // is not loaded"): unloaded, gone with its context, or never made. Handles are never reused, so
  // a runtime that keeps a stale handle shows here even where it catches the driver's error.
  std::vector<std::string> stale_handle_uses;
  std::vector<FakeLaunch> launches;
  size_t params_to_record = 0;
  // Launches the driver accepted; only counted (not recorded in `launches`) when record_launches
  // is false, so that tests counting the runtime's allocations see none of the fake's.
  size_t launch_count = 0;
  bool record_launches = true;
  // Each encoded map's first 8 bytes hold the global address, so a recorded launch shows it.
  std::vector<FakeTensorMapEncode> encodes;

  // Fault injection: the call numbered fail_at (0-based, counting every entry point) fails.
  int64_t calls = 0;
  int64_t fail_at = -1;
  CUresult fail_with = CUDA_ERROR_UNKNOWN;
  std::set<std::string> failed_functions;
  // Transparent: a call already seen is looked up without making a string (an entry name longer
  // than the short-string buffer, cuLaunchKernelEx's, would allocate on every warm launch).
  std::set<std::string, std::less<>> called_functions;
  // Event timing: by default every pair of events is 1 ms apart. With launch_ms set, a fake clock
  // advances by what it gives for each recorded launch, events record the clock, and an elapsed
  // time is the difference (a tuner test's configs then have their own times).
  std::function<double(const FakeLaunch&)> launch_ms;
  double clock_ms = 0;
  std::map<CUevent, double> event_ms;
  // Launches of functions with these entry names fail (CUDA_ERROR_LAUNCH_FAILED), as a kernel
  // that faults would: a config that cannot run, for the tuner's tests.
  std::set<std::string> failing_entries;

  // Device memory backed by host bytes, for tests that play a kernel on the CPU (the run harness's):
  // with back_memory, every allocation gets its bytes, cuMemcpy and cuMemset act on them, and
  // on_launch (if set) runs after each recorded launch, as the kernel would. Off by default.
  bool back_memory = false;
  std::map<CUdeviceptr, std::vector<uint8_t>> memory;
  // With legacy_stream_lags (and back_memory), cuMemsetD8 and cuMemcpyHtoD only queue their writes
  // on the legacy default stream, as the real driver may (a device memset, and the last DMA of a
  // pageable copy, can still be running when the call returns). The queue runs when the legacy
  // stream is synchronized, before a cuMemcpyDtoH and before a launch on the legacy stream, but not
  // before a launch on another stream: a created stream does not wait for the legacy one.
  bool legacy_stream_lags = false;
  std::vector<std::function<void()>> legacy_queue;
  void run_legacy_queue();
  std::function<void(FakeGpu&, const FakeLaunch&)> on_launch;
  // The host bytes of [address, address + bytes) inside one allocation, or nullptr.
  uint8_t* host(CUdeviceptr address, size_t bytes);

  uintptr_t next_handle = 0x1000;
  CUdeviceptr next_address = 0x7f0000000000ull;

  CUcontext make_context(int device);  // creates and returns a live context
  void destroy_context(CUcontext ctx);  // modules in it vanish, like the real driver
  // What releasing a primary context to zero does: its modules vanish; the handle stays.
  void reset_primary_context(CUcontext ctx);
  struct Primary {
    CUcontext context = nullptr;
    int refs = 0;
  };
  std::map<CUdevice, Primary> primaries;
  static void set_current(CUcontext ctx);
  size_t live_modules() const { return modules.size(); }
  size_t live_allocations() const { return allocations.size(); }
};

// Installs a fresh FakeGpu and returns it; the driver table below talks to it.
FakeGpu& reset_fake_gpu();
FakeGpu& fake_gpu();
std::shared_ptr<const driver::Driver> fake_driver();

}  // namespace tritonpack::testing
