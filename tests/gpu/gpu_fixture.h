// The GPU test fixture: a context on GPU 0, or the test reports itself skipped (never passed)
// where there is no driver or no GPU.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "driver/driver.h"
#include "gpu/test_paths.h"
#include "runtime/selection.h"
#include "harness/device.h"
#include "tritonpack/pack.h"

namespace tritonpack {

inline std::shared_ptr<const driver::Driver> gpu_or_skip_reason(std::string& reason) {
  try {
    auto d = driver::Driver::system();
    int count = 0;
    if (d->api().cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
      reason = "no GPU visible";
      return nullptr;
    }
    return d;
  } catch (const Error& e) {
    reason = e.what();
    return nullptr;
  }
}

class Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    auto d = gpu_or_skip_reason(reason);
    if (!d) GTEST_SKIP() << "no GPU: " << reason;
    device_ = std::make_unique<harness::DeviceContext>(d, 0);
  }
  std::shared_ptr<const Pack> pack(const std::string& name) {
    const std::string path = test_packs_dir() + "/" + name + ".tpack";
    if (!std::filesystem::exists(path)) throw Error(ErrorCode::kNotFound, "missing test pack " + path);
    return Pack::open(path);
  }
  bool runs_here(const VariantInfo& v) {
    runtime::DeviceCaps caps;
    caps.arch = static_cast<uint32_t>(device_->arch());
    return runtime::image_for(v, caps) != runtime::Image::kNone;
  }
  std::unique_ptr<harness::DeviceContext> device_;
};

}  // namespace tritonpack
