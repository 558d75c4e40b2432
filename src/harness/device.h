// Small RAII helpers over the driver table for the CLI, GPU tests and benchmarks: a device's
// primary context, device buffers, streams and events. Destructors never throw.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "driver/driver.h"

namespace tritonpack::harness {

// Retains device `ordinal`'s primary context and makes it current on this thread.
class DeviceContext {
 public:
  DeviceContext(std::shared_ptr<const driver::Driver> driver, int ordinal);
  ~DeviceContext();
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;
  void make_current() const;  // for other threads
  const driver::Driver& driver() const { return *driver_; }
  std::shared_ptr<const driver::Driver> driver_ptr() const { return driver_; }
  int ordinal() const { return ordinal_; }
  int arch() const { return arch_; }
  uint32_t sm_count() const { return sm_count_; }  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
  const std::string& name() const { return name_; }

 private:
  std::shared_ptr<const driver::Driver> driver_;
  int ordinal_ = 0;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  int arch_ = 0;
  uint32_t sm_count_ = 0;
  std::string name_;
};

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const driver::Driver& driver, size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  CUdeviceptr get() const { return pointer_; }
  size_t size() const { return size_; }
  void upload(const void* host, size_t bytes);
  void download(void* host, size_t bytes) const;
  void fill(unsigned char byte);

 private:
  const driver::Driver* driver_ = nullptr;
  CUdeviceptr pointer_ = 0;
  size_t size_ = 0;
};

class Stream {
 public:
  explicit Stream(const driver::Driver& driver);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  CUstream get() const { return stream_; }
  void synchronize() const;

 private:
  const driver::Driver& driver_;
  CUstream stream_ = nullptr;
};

class Event {
 public:
  explicit Event(const driver::Driver& driver);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(CUstream stream);
  void synchronize();
  // Milliseconds from `start` to this event.
  float since(const Event& start) const;
  CUevent get() const { return event_; }

 private:
  const driver::Driver& driver_;
  CUevent event_ = nullptr;
};

}  // namespace tritonpack::harness
