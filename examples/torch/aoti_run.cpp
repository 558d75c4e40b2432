// Runs an AOTInductor model (.pt2) that calls tritonpack ops, from C++ with no Python in the process
// (docs/torch.md, "The C++ program"). examples/torch/export_aoti.py writes the model and the cases:
//
//   aoti_run <pack.tpack> <model.pt2> <cases folder> [--iterations N] [--device N]
//
// 1. registers the pack's kernels as ops (tritonpack::torch_ops::load_pack): the model's
//    proxy executor finds them in the dispatcher when the package is loaded, so this comes first;
// 2. loads the package with torch::inductor::AOTIModelPackageLoader, for cuda:N with --device N
//    (else the current device);
// 3. for each case of <cases>/cases.txt (one line: name dtype batch seq hidden tolerance), runs the
//    model on <name>.x.bin (raw fp16/bf16, [batch, seq, hidden]) moved to the model's device, on
//    that device's current stream, compares every element with <name>.ref.bin (raw float64,
//    PyTorch SDPA in float64 with the same weights), prints the max error and the mean time per
//    run; an output on another device fails;
// 4. checks that no libpython is mapped into the process.
// Exit 0 when every case is within its tolerance, 1 otherwise, 2 for bad usage or missing files.
//
// --device N with the current device left at 0 is issue 12's test (pytorch/pytorch#136369 and
// #152087: AOTInductor models could only be loaded on the current device). What torch 2.11 does,
// as read in its sources (aoti_package/model_package_loader.cpp, aoti_runtime/model_base.h,
// aoti_runner/model_container_runner_cuda.cpp, inductor/codegen/wrapper.py); with two GPUs
// scripts/gpu-check-torch.sh runs --device 1 on a .pt2 compiled on cuda:0:
// - a .pt2 compiled on cuda:0 is not tied to device 0: its metadata names the device type only
//   (AOTI_DEVICE_KEY "cuda"); the loader appends device_index ("cuda:1"), and the generated code
//   takes every index from the model's device_idx_ (allocations, constants, Triton launches, and a
//   stream guard around each run);
// - the model's constructor calls cudaSetDevice(N), so loading leaves cuda:N current on the
//   loading thread; this program makes the device it found before loading current again, so the
//   runs happen with cuda:0 current and the model and its inputs on cuda:N;
// - run() without a stream takes the current stream of the *current* device (cuda:0), which the
//   model's stream guard would then use on cuda:N (only the legacy default stream, handle 0 on
//   every device, would survive that); cuda:N's current stream is passed explicitly.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tritonpack/torch/ops.h"

namespace {

struct Case {
  std::string name, dtype;
  int64_t batch = 0, seq = 0, hidden = 0;
  double tolerance = 0;
};

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

at::Tensor read_tensor(const std::string& path, at::ScalarType type, std::vector<int64_t> shape) {
  std::vector<char> bytes = read_file(path);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  if (bytes.size() != t.nbytes()) {
    throw std::runtime_error(path + " has " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(t.nbytes()));
  }
  std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

// The libraries mapped into this process whose name says Python (libpython3.x.so, libtorch_python).
std::vector<std::string> python_libraries() {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> found;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("libpython") == std::string::npos && line.find("libtorch_python") == std::string::npos) continue;
    std::string path = line.substr(line.find('/') == std::string::npos ? 0 : line.find('/'));
    bool seen = false;
    for (const std::string& f : found) seen = seen || f == path;
    if (!seen) found.push_back(path);
  }
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage = "usage: aoti_run <pack.tpack> <model.pt2> <cases folder> [--iterations N] [--device N]\n";
  if (argc < 4) {
    std::cerr << usage;
    return 2;
  }
  const std::string pack = argv[1], model = argv[2], folder = argv[3];
  int iterations = 20;
  int device_option = -1;  // the current device
  for (int a = 4; a < argc; a += 2) {
    const std::string option = argv[a];
    if (a + 1 >= argc || (option != "--iterations" && option != "--device")) {
      std::cerr << usage;
      return 2;
    }
    const int value = std::atoi(argv[a + 1]);
    if (option == "--iterations") iterations = std::max(1, value);
    if (option == "--device") device_option = value;
  }
  if (device_option < -1) {
    std::cerr << usage;
    return 2;
  }

  std::vector<Case> cases;
  try {
    const std::vector<char> bytes = read_file(folder + "/cases.txt");
    std::istringstream text(std::string(bytes.begin(), bytes.end()));
    for (Case c; text >> c.name >> c.dtype >> c.batch >> c.seq >> c.hidden >> c.tolerance;) cases.push_back(c);
  } catch (const std::exception& e) {
    std::cerr << "aoti_run: " << e.what() << "\n";
    return 2;
  }
  if (cases.empty()) {
    std::cerr << "aoti_run: no case in " << folder << "/cases.txt\n";
    return 2;
  }

  bool ok = true;
  try {
    for (const std::string& op : tritonpack::torch_ops::load_pack(pack)) std::cout << "registered " << op << "\n";
    const int device_count = c10::cuda::device_count();
    if (std::max(device_option, 0) >= device_count) {
      std::cerr << "aoti_run: no cuda:" << std::max(device_option, 0) << " (this machine has " << device_count
                << " CUDA device(s))\n";
      return 2;
    }
    const c10::DeviceIndex current = c10::cuda::current_device();
    const at::Device device(at::kCUDA, device_option >= 0 ? static_cast<c10::DeviceIndex>(device_option) : current);
    torch::inductor::AOTIModelPackageLoader loader(model, "model", /*run_single_threaded=*/false, /*num_runners=*/1,
                                                   device.index());
    const c10::DeviceIndex after_loading = c10::cuda::current_device();
    c10::cuda::set_device(current);
    std::cout << "loaded " << model << " for " << device.str() << "; current device cuda:" << static_cast<int>(current)
              << " (the loader left cuda:" << static_cast<int>(after_loading) << " current; set back)\n";
    const c10::cuda::CUDAStream stream = c10::cuda::getCurrentCUDAStream(device.index());
    std::printf("%-10s %-5s %6s %6s %7s %12s %12s %10s %s\n", "case", "dtype", "batch", "seq", "hidden", "max error",
                "tolerance", "ms/run", "result");
    for (const Case& c : cases) {
      const at::ScalarType type = c.dtype == "bf16" ? at::kBFloat16 : at::kHalf;
      at::Tensor x = read_tensor(folder + "/" + c.name + ".x.bin", type, {c.batch, c.seq, c.hidden}).to(device);
      at::Tensor ref = read_tensor(folder + "/" + c.name + ".ref.bin", at::kDouble, {c.batch, c.seq, c.hidden});
      std::vector<at::Tensor> out = loader.run({x}, stream.stream());
      stream.synchronize();
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < iterations; ++i) out = loader.run({x}, stream.stream());
      stream.synchronize();
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / iterations;
      const bool device_ok = out.at(0).device() == device;
      at::Tensor y = out.at(0).to(at::kCPU, at::kDouble);
      const bool shape_ok = y.sizes() == ref.sizes();
      const double error = shape_ok ? (y - ref).abs().max().item<double>() : INFINITY;
      const bool finite = shape_ok && y.isfinite().all().item<bool>();
      const bool pass = device_ok && finite && error <= c.tolerance;
      ok = ok && pass;
      const std::string result = pass        ? "PASSED"
                                 : !shape_ok ? "FAILED (shape)"
                                 : device_ok ? "FAILED"
                                             : "FAILED (output on " + out.at(0).device().str() + ")";
      std::printf("%-10s %-5s %6lld %6lld %7lld %12.3e %12.3e %10.4f %s\n", c.name.c_str(), c.dtype.c_str(),
                  static_cast<long long>(c.batch), static_cast<long long>(c.seq), static_cast<long long>(c.hidden),
                  error, c.tolerance, ms, result.c_str());
    }
    // The model's stream guard and the ops' device guards restore the device they found.
    if (c10::cuda::current_device() != current) {
      std::cout << "FAILED: the runs left cuda:" << static_cast<int>(c10::cuda::current_device())
                << " current, not cuda:" << static_cast<int>(current) << "\n";
      ok = false;
    }
  } catch (const std::exception& e) {
    std::cerr << "aoti_run: " << e.what() << "\n";
    return 1;
  }
  const std::vector<std::string> python = python_libraries();
  for (const std::string& lib : python) std::cout << "Python in the process: " << lib << "\n";
  std::cout << (python.empty() ? "no Python in the process (/proc/self/maps)\n" : "FAILED: Python is in the process\n");
  ok = ok && python.empty();
  std::cout << (ok ? "aoti_run: all passed\n" : "aoti_run: FAILED\n");
  return ok ? 0 : 1;
}
