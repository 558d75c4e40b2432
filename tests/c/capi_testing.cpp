// The C API test's seam (capi_testing.h): kernels on the fake driver, the test pack, and what the
// fake driver recorded. (The allocation count is in capi_allocations.cpp.)
#include "c/capi_testing.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "c/capi_fixture.h"
#include "capi/capi_internal.h"
#include "fault/fake_driver.h"

using tritonpack::testing::fake_gpu;

namespace {

// Writes `bytes` to a new temporary file and its NUL-terminated path into `path`.
void write_temporary(const std::vector<uint8_t>& bytes, char* path, size_t size) {
  tritonpack::capi::require(path != nullptr && size > 0, "tp_testing_write_pack: no buffer");
  const char* dir = std::getenv("TMPDIR");
  std::string name = std::string(dir && *dir ? dir : "/tmp") + "/tritonpack-capi-test-XXXXXX";
  const int fd = mkstemp(name.data());
  if (fd < 0) throw tritonpack::Error(tritonpack::ErrorCode::kIo, "mkstemp failed for " + name);
  const ssize_t written = write(fd, bytes.data(), bytes.size());
  close(fd);
  if (written != static_cast<ssize_t>(bytes.size())) {
    std::remove(name.c_str());
    throw tritonpack::Error(tritonpack::ErrorCode::kIo, "could not write " + name);
  }
  tritonpack::capi::require(name.size() < size, "tp_testing_write_pack: the path does not fit the buffer");
  std::memcpy(path, name.c_str(), name.size() + 1);
}

}  // namespace

extern "C" {

void tp_testing_reset_fake_gpu(void) {
  tritonpack::testing::FakeGpu& gpu = tritonpack::testing::reset_fake_gpu();
  tritonpack::testing::FakeGpu::set_current(gpu.make_context(0));
  gpu.make_context(1);
}

tp_status tp_testing_write_pack(char* path, size_t size) {
  return tritonpack::capi::guarded([&] { write_temporary(tritonpack::testing::capi_test_pack_bytes(), path, size); });
}

tp_status tp_testing_write_pack_with_corrupt_blobs(char* path, size_t size) {
  return tritonpack::capi::guarded([&] {
    std::vector<uint8_t> bytes = tritonpack::testing::capi_test_pack_bytes();
    const auto good = tritonpack::Pack::from_bytes(bytes);
    std::set<size_t> flipped;  // deduplicated blobs share their bytes: flip those once
    for (size_t i = 0; i < good->manifest().blobs.size(); ++i) {
      const auto blob = good->blob(static_cast<int32_t>(i));
      const size_t at = static_cast<size_t>(blob.data() - good->bytes().data()) + blob.size() / 2;
      if (flipped.insert(at).second) bytes[at] ^= 1;
    }
    write_temporary(bytes, path, size);
  });
}

tp_status tp_testing_kernel_create_fake(tp_pack* pack, const char* kernel_name, tp_kernel** out) {
  return tritonpack::capi::guarded([&] {
    tritonpack::capi::require(pack != nullptr && kernel_name != nullptr && out != nullptr,
                              "tp_testing_kernel_create_fake: pack, kernel_name and out must not be NULL");
    *out = nullptr;
    *out = new tp_kernel{tritonpack::Kernel(pack->pack, kernel_name, tritonpack::testing::fake_driver())};
  });
}

void tp_testing_record_params(size_t count) { fake_gpu().params_to_record = count; }

size_t tp_testing_num_launches(void) { return fake_gpu().launches.size(); }

size_t tp_testing_last_launch(unsigned grid[3], unsigned* block_x, uint64_t* params, size_t max_params) {
  const auto& launches = fake_gpu().launches;
  if (launches.empty()) return 0;
  const tritonpack::testing::FakeLaunch& l = launches.back();
  for (int i = 0; i < 3; ++i) grid[i] = l.grid[i];
  *block_x = l.block[0];
  for (size_t i = 0; i < l.params.size() && i < max_params; ++i) params[i] = l.params[i];
  return l.params.size();
}

int tp_testing_last_encode(unsigned* rank, uint64_t dims[5]) {
  const auto& encodes = fake_gpu().encodes;
  if (encodes.empty()) return 0;
  *rank = encodes.back().rank;
  for (unsigned i = 0; i < *rank && i < 5; ++i) dims[i] = encodes.back().dims[i];
  return 1;
}

}  // extern "C"
