#include "harness/device.h"

#include <utility>

namespace tritonpack::harness {

DeviceContext::DeviceContext(std::shared_ptr<const driver::Driver> driver, int ordinal)
    : driver_(std::move(driver)), ordinal_(ordinal) {
  const driver::Driver& d = *driver_;
  int count = 0;
  TRITONPACK_CU(d, cuDeviceGetCount(&count), "counting GPUs");
  if (ordinal < 0 || ordinal >= count) {
    throw Error(ErrorCode::kInvalidArgument, "no GPU " + std::to_string(ordinal) + ": this machine has " +
                                                 std::to_string(count) + " (devices 0.." +
                                                 std::to_string(count - 1) + ")");
  }
  TRITONPACK_CU(d, cuDeviceGet(&device_, ordinal), "device " + std::to_string(ordinal));
  int major = 0, minor = 0;
  TRITONPACK_CU(d, cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_), "");
  TRITONPACK_CU(d, cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_), "");
  arch_ = major * 10 + minor;
  int sm_count = 0;
  TRITONPACK_CU(d, cuDeviceGetAttribute(&sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device_), "");
  sm_count_ = static_cast<uint32_t>(sm_count);
  char name[256] = {};
  TRITONPACK_CU(d, cuDeviceGetName(name, sizeof name - 1, device_), "");
  name_ = name;
  TRITONPACK_CU(d, cuDevicePrimaryCtxRetain(&context_, device_), "device " + std::to_string(ordinal));
  const CUresult r = d.api().cuCtxSetCurrent(context_);
  if (r != CUDA_SUCCESS) {
    d.api().cuDevicePrimaryCtxRelease(device_);
    driver::throw_driver_error(d, r, "cuCtxSetCurrent", __FILE__, __LINE__, "device " + std::to_string(ordinal));
  }
}

DeviceContext::~DeviceContext() {
  if (context_ != nullptr) driver_->api().cuDevicePrimaryCtxRelease(device_);
}

void DeviceContext::make_current() const {
  TRITONPACK_CU(*driver_, cuCtxSetCurrent(context_), "device " + std::to_string(ordinal_));
}

DeviceBuffer::DeviceBuffer(const driver::Driver& driver, size_t bytes) : driver_(&driver), size_(bytes) {
  TRITONPACK_CU(driver, cuMemAlloc(&pointer_, bytes == 0 ? 1 : bytes),
                "allocating " + std::to_string(bytes) + " bytes");
}

DeviceBuffer::~DeviceBuffer() {
  if (pointer_ != 0) driver_->api().cuMemFree(pointer_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : driver_(other.driver_), pointer_(std::exchange(other.pointer_, 0)), size_(other.size_) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (pointer_ != 0) driver_->api().cuMemFree(pointer_);
    driver_ = other.driver_;
    pointer_ = std::exchange(other.pointer_, 0);
    size_ = other.size_;
  }
  return *this;
}

// cuMemcpyHtoD from pageable memory and cuMemsetD8 run on the legacy default stream and may still
// be writing when they return (CUDA's "API synchronization behavior"), and the harness launches on
// a created non-blocking stream, which does not wait for the legacy stream: so each waits for its
// own write. Without it a launch could read inputs not yet uploaded, or have its outputs poisoned
// after it wrote them (tritonpack tune saw that: "elements written by one config only").
void DeviceBuffer::upload(const void* host, size_t bytes) {
  if (bytes == 0) return;
  TRITONPACK_CU(*driver_, cuMemcpyHtoD(pointer_, host, bytes), "uploading");
  TRITONPACK_CU(*driver_, cuStreamSynchronize(CU_STREAM_LEGACY), "waiting for an upload");
}

void DeviceBuffer::download(void* host, size_t bytes) const {
  if (bytes == 0) return;
  TRITONPACK_CU(*driver_, cuMemcpyDtoH(host, pointer_, bytes), "downloading");
}

void DeviceBuffer::fill(unsigned char byte) {
  TRITONPACK_CU(*driver_, cuMemsetD8(pointer_, byte, size_ == 0 ? 1 : size_), "filling");
  TRITONPACK_CU(*driver_, cuStreamSynchronize(CU_STREAM_LEGACY), "waiting for a fill");
}

Stream::Stream(const driver::Driver& driver) : driver_(driver) {
  TRITONPACK_CU(driver, cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "creating a stream");
}
Stream::~Stream() {
  if (stream_ != nullptr) driver_.api().cuStreamDestroy(stream_);
}
void Stream::synchronize() const { TRITONPACK_CU(driver_, cuStreamSynchronize(stream_), "synchronizing"); }

Event::Event(const driver::Driver& driver) : driver_(driver) {
  TRITONPACK_CU(driver, cuEventCreate(&event_, CU_EVENT_DEFAULT), "creating an event");
}
Event::~Event() {
  if (event_ != nullptr) driver_.api().cuEventDestroy(event_);
}
void Event::record(CUstream stream) { TRITONPACK_CU(driver_, cuEventRecord(event_, stream), "recording an event"); }
void Event::synchronize() { TRITONPACK_CU(driver_, cuEventSynchronize(event_), "waiting for an event"); }
float Event::since(const Event& start) const {
  float ms = 0;
  TRITONPACK_CU(driver_, cuEventElapsedTime(&ms, start.event_, event_), "timing");
  return ms;
}

}  // namespace tritonpack::harness
