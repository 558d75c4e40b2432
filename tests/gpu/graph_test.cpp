// A warm launch can be captured in a CUDA graph: with the capture in global mode, any allocation
// or synchronization on the launch path would invalidate the capture (cuStreamEndCapture fails),
// so a successful capture and a correct replay show the launch path does neither.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <random>
#include <vector>

#include "gpu/gpu_fixture.h"
#include "harness/device.h"
#include "tritonpack/runtime.h"

namespace tritonpack {
namespace {

// The graph entry points, resolved here: the runtime's driver table holds only what the library
// and its tools use.
struct GraphApi {
  decltype(&::cuStreamBeginCapture) begin = nullptr;
  decltype(&::cuStreamEndCapture) end = nullptr;
  decltype(&::cuGraphInstantiateWithFlags) instantiate = nullptr;
  decltype(&::cuGraphLaunch) launch = nullptr;
  decltype(&::cuGraphExecDestroy) exec_destroy = nullptr;
  decltype(&::cuGraphDestroy) destroy = nullptr;

  bool load() {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (lib == nullptr) return false;
    using GetProc = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
    auto get = reinterpret_cast<GetProc>(dlsym(lib, "cuGetProcAddress_v2"));
    if (get == nullptr) return false;
    auto one = [&](const char* name, auto& fn) {
      void* p = nullptr;
      CUdriverProcAddressQueryResult status{};
      if (get(name, &p, 12000, CU_GET_PROC_ADDRESS_DEFAULT, &status) != CUDA_SUCCESS || p == nullptr) return false;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
      return true;
    };
    return one("cuStreamBeginCapture", begin) && one("cuStreamEndCapture", end) &&
           one("cuGraphInstantiateWithFlags", instantiate) && one("cuGraphLaunch", launch) &&
           one("cuGraphExecDestroy", exec_destroy) && one("cuGraphDestroy", destroy);
  }
};

TEST_F(Gpu, WarmLaunchesAreCapturedInACudaGraph) {
  GraphApi g;
  ASSERT_TRUE(g.load()) << "the driver has no graph entry points";
  auto p = pack("vector_add");
  Kernel k(p, "vector_add", device_->driver_ptr());
  const int64_t n = 100003;
  std::vector<float> x(n), y(n), out(n);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<float> dist(-10.f, 10.f);
  for (int64_t i = 0; i < n; ++i) x[i] = dist(rng), y[i] = dist(rng);
  const auto& d = device_->driver();
  harness::DeviceBuffer dx(d, n * 4), dy(d, n * 4), dout(d, n * 4);
  dx.upload(x.data(), n * 4);
  dy.upload(y.data(), n * 4);
  harness::Stream stream(d);
  std::vector<Arg> args{Arg::tensor(dx.get(), DType::kFp32), Arg::tensor(dy.get(), DType::kFp32),
                        Arg::tensor(dout.get(), DType::kFp32), Arg::integer(n)};
  k.launch(args, stream.get());  // warm: loads the module in this context
  stream.synchronize();
  dout.fill(0xff);               // NaN until the graph runs

  ASSERT_EQ(g.begin(stream.get(), CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
  k.launch(args, stream.get());
  CUgraph graph = nullptr;
  ASSERT_EQ(g.end(stream.get(), &graph), CUDA_SUCCESS) << "the launch broke the capture";
  CUgraphExec exec = nullptr;
  ASSERT_EQ(g.instantiate(&exec, graph, 0), CUDA_SUCCESS);
  for (int replay = 0; replay < 3; ++replay) ASSERT_EQ(g.launch(exec, stream.get()), CUDA_SUCCESS);
  stream.synchronize();
  dout.download(out.data(), n * 4);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], x[i] + y[i]) << "element " << i;
  EXPECT_EQ(g.exec_destroy(exec), CUDA_SUCCESS);
  EXPECT_EQ(g.destroy(graph), CUDA_SUCCESS);
}

}  // namespace
}  // namespace tritonpack
