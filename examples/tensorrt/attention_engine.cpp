// Builds a TensorRT engine around tritonpack's attention plugin through the network API, then runs
// it and checks it against a double-precision reference: what seed 01's build.py and run.py do,
// from C++, with the plugin library instead of hand-written plugin code. See README.md.
//
//   attention_engine build --plugins LIB --engine fmha.engine [--heads 8] [--head-size 64]
//                          [--max-batch 4] [--max-seq 256] [--dtype fp16|bf16] [--scale S]
//   attention_engine run   --plugins LIB --engine fmha.engine [--batch 2] [--seq 200] [--benchmark] [--scale S]
//
// (run checks against 1 / sqrt(head size) as the softmax scale unless given the --scale of build.)
//
// LIB is a plugin library serving kernels/fmha's pack: one made by tritonpack_add_tensorrt_plugins,
// or libtritonpack_tensorrt.so with TRITONPACK_TENSORRT_PACKS=fmha.tpack. Exit status: 0 ok,
// 1 error, 2 usage, 4 wrong results, 77 no GPU.
#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

class Logger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override {
    if (severity <= Severity::kWARNING) std::fprintf(stderr, "[TensorRT] %s\n", msg);
  }
};

struct Options {
  std::string command, plugins, engine, dtype = "fp16";
  int64_t heads = 8, head_size = 64, max_batch = 4, max_seq = 256, batch = 2, seq = 200;
  float scale = 0;  // 0: 1 / sqrt(head size)
  bool benchmark = false;
};

bool parse(int argc, char** argv, Options& o) {
  if (argc < 2) return false;
  o.command = argv[1];
  std::map<std::string, std::string> values;
  for (int i = 2; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--benchmark") {
      o.benchmark = true;
    } else if (key.rfind("--", 0) == 0 && i + 1 < argc) {
      values[key.substr(2)] = argv[++i];
    } else {
      return false;
    }
  }
  for (const auto& [k, v] : values) {
    if (k == "plugins") o.plugins = v;
    else if (k == "engine") o.engine = v;
    else if (k == "dtype") o.dtype = v;
    else if (k == "heads") o.heads = std::stoll(v);
    else if (k == "head-size") o.head_size = std::stoll(v);
    else if (k == "max-batch") o.max_batch = std::stoll(v);
    else if (k == "max-seq") o.max_seq = std::stoll(v);
    else if (k == "batch") o.batch = std::stoll(v);
    else if (k == "seq") o.seq = std::stoll(v);
    else if (k == "scale") o.scale = std::stof(v);
    else return false;
  }
  return (o.command == "build" || o.command == "run") && !o.plugins.empty() && !o.engine.empty() &&
         (o.dtype == "fp16" || o.dtype == "bf16");
}

bool check_cuda(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "%s failed: %s\n", what, cudaGetErrorString(e));
  return false;
}

// fp16 / bf16 <-> float, round to nearest even (finite inputs).
uint16_t to_half(float f, bool bf16) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (bf16) return static_cast<uint16_t>((x + 0x7fff + ((x >> 16) & 1)) >> 16);
  const uint32_t sign = (x >> 16) & 0x8000;
  const float a = std::fabs(f);
  if (a < 6.103515625e-05f) return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
  int e;
  const float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  uint32_t mant = static_cast<uint32_t>(std::nearbyint((m * 2 - 1) * 1024));
  if (mant == 1024) mant = 0, ++e;
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(e + 14) << 10) | mant);
}

float from_half(uint16_t h, bool bf16) {
  if (bf16) {
    const uint32_t x = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const float v = e == 0 ? std::ldexp(static_cast<float>(m), -24) : std::ldexp(static_cast<float>(m + 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}

int build(const Options& o) {
  Logger logger;
  std::unique_ptr<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(logger));
  if (!builder) return 1;
  if (builder->getPluginRegistry().loadLibrary(o.plugins.c_str()) == nullptr) {
    std::fprintf(stderr, "could not load the plugin library %s\n", o.plugins.c_str());
    return 1;
  }
  // Strongly typed: the plugin's dtypes are the network's, as tritonpack's kernels are compiled.
  // TensorRT 11 is always strongly typed (and deprecates the flag).
#if NV_TENSORRT_MAJOR >= 11
  const nvinfer1::NetworkDefinitionCreationFlags flags = 0;
#else
  const nvinfer1::NetworkDefinitionCreationFlags flags =
      1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
#endif
  std::unique_ptr<nvinfer1::INetworkDefinition> network(builder->createNetworkV2(flags));
  const nvinfer1::DataType type = o.dtype == "bf16" ? nvinfer1::DataType::kBF16 : nvinfer1::DataType::kHALF;
  const nvinfer1::Dims4 dynamic{-1, o.heads, -1, o.head_size};
  nvinfer1::ITensor* inputs[] = {network->addInput("Q", type, dynamic), network->addInput("K", type, dynamic),
                                 network->addInput("V", type, dynamic)};

  auto* creator = static_cast<nvinfer1::IPluginCreatorV3One*>(
      builder->getPluginRegistry().getCreator("tritonpack_fmha", "1", "tritonpack"));
  if (creator == nullptr) {
    std::fprintf(stderr, "the plugin library serves no 'tritonpack_fmha' version 1 (namespace tritonpack)\n");
    return 1;
  }
  const float scale = o.scale != 0 ? o.scale : 1.0f / std::sqrt(static_cast<float>(o.head_size));
  const nvinfer1::PluginField field("sm_scale", &scale, nvinfer1::PluginFieldType::kFLOAT32, 1);
  const nvinfer1::PluginFieldCollection fields{1, &field};
  std::unique_ptr<nvinfer1::IPluginV3> plugin(creator->createPlugin("attention", &fields, nvinfer1::TensorRTPhase::kBUILD));
  if (!plugin) return 1;  // the plugin library logged why
  nvinfer1::IPluginV3Layer* layer = network->addPluginV3(inputs, 3, nullptr, 0, *plugin);
  if (layer == nullptr) return 1;
  layer->getOutput(0)->setName("Out");
  network->markOutput(*layer->getOutput(0));

  std::unique_ptr<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  nvinfer1::IOptimizationProfile* profile = builder->createOptimizationProfile();
  for (const char* name : {"Q", "K", "V"}) {
    profile->setDimensions(name, nvinfer1::OptProfileSelector::kMIN, nvinfer1::Dims4{1, o.heads, 1, o.head_size});
    profile->setDimensions(name, nvinfer1::OptProfileSelector::kOPT,
                           nvinfer1::Dims4{o.max_batch, o.heads, o.max_seq / 2, o.head_size});
    profile->setDimensions(name, nvinfer1::OptProfileSelector::kMAX,
                           nvinfer1::Dims4{o.max_batch, o.heads, o.max_seq, o.head_size});
  }
  config->addOptimizationProfile(profile);
  std::unique_ptr<nvinfer1::IHostMemory> plan(builder->buildSerializedNetwork(*network, *config));
  if (!plan) return 1;
  std::ofstream out(o.engine, std::ios::binary);
  out.write(static_cast<const char*>(plan->data()), static_cast<std::streamsize>(plan->size()));
  if (!out) {
    std::fprintf(stderr, "could not write %s\n", o.engine.c_str());
    return 1;
  }
  std::printf("wrote %s (%zu bytes): B <= %lld, H = %lld, S <= %lld, D = %lld, %s\n", o.engine.c_str(), plan->size(),
              static_cast<long long>(o.max_batch), static_cast<long long>(o.heads), static_cast<long long>(o.max_seq),
              static_cast<long long>(o.head_size), o.dtype.c_str());
  return 0;
}

// Causal attention in double, per (batch, head): softmax over j <= i of q_i . k_j * scale.
std::vector<double> reference(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                              int64_t bh, int64_t s, int64_t d, double scale) {
  std::vector<double> out(q.size(), 0), w(static_cast<size_t>(s));
  for (int64_t b = 0; b < bh; ++b) {
    const size_t base = static_cast<size_t>(b * s * d);
    for (int64_t i = 0; i < s; ++i) {
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t x = 0; x < d; ++x) dot += double(q[base + i * d + x]) * double(k[base + j * d + x]);
        w[static_cast<size_t>(j)] = dot * scale;
        mx = std::max(mx, w[static_cast<size_t>(j)]);
      }
      for (int64_t j = 0; j <= i; ++j) sum += (w[static_cast<size_t>(j)] = std::exp(w[static_cast<size_t>(j)] - mx));
      for (int64_t j = 0; j <= i; ++j) {
        for (int64_t x = 0; x < d; ++x) out[base + i * d + x] += w[static_cast<size_t>(j)] / sum * double(v[base + j * d + x]);
      }
    }
  }
  return out;
}

int run(const Options& o) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "SKIPPED: no GPU\n");
    return 77;
  }
  Logger logger;
  std::unique_ptr<nvinfer1::IRuntime> runtime(nvinfer1::createInferRuntime(logger));
  // The engine names the plugin; the library that serves it (and its pack) must be loaded first.
  if (!runtime || runtime->getPluginRegistry().loadLibrary(o.plugins.c_str()) == nullptr) return 1;
  std::ifstream in(o.engine, std::ios::binary);
  const std::vector<char> blob{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::unique_ptr<nvinfer1::ICudaEngine> engine(runtime->deserializeCudaEngine(blob.data(), blob.size()));
  if (!engine) return 1;  // e.g. the plugin refused a different pack: the logger says which
  std::unique_ptr<nvinfer1::IExecutionContext> context(engine->createExecutionContext());
  if (!context) return 1;

  const nvinfer1::Dims q_dims = engine->getProfileShape("Q", 0, nvinfer1::OptProfileSelector::kMAX);
  const int64_t h = q_dims.d[1], d = q_dims.d[3], b = o.batch, s = o.seq;
  const bool bf16 = engine->getTensorDataType("Q") == nvinfer1::DataType::kBF16;
  const size_t n = static_cast<size_t>(b * h * s * d);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> host[3];
  void* device[4] = {};
  for (int t = 0; t < 4; ++t) {
    if (!check_cuda(cudaMalloc(&device[t], n * 2), "cudaMalloc")) return 1;
  }
  const char* names[] = {"Q", "K", "V", "Out"};
  for (int t = 0; t < 3; ++t) {
    std::vector<uint16_t> bits(n);
    host[t].resize(n);
    for (size_t i = 0; i < n; ++i) {
      bits[i] = to_half(dist(rng), bf16);
      host[t][i] = from_half(bits[i], bf16);
    }
    if (!check_cuda(cudaMemcpy(device[t], bits.data(), n * 2, cudaMemcpyHostToDevice), "cudaMemcpy")) return 1;
    context->setInputShape(names[t], nvinfer1::Dims4{b, h, s, d});
  }
  if (!check_cuda(cudaMemset(device[3], 0xff, n * 2), "cudaMemset")) return 1;  // NaN until written
  for (int t = 0; t < 4; ++t) context->setTensorAddress(names[t], device[t]);
  cudaStream_t stream;
  if (!check_cuda(cudaStreamCreate(&stream), "cudaStreamCreate")) return 1;
  if (!context->enqueueV3(stream) || !check_cuda(cudaStreamSynchronize(stream), "the engine")) return 1;

  std::vector<uint16_t> out_bits(n);
  if (!check_cuda(cudaMemcpy(out_bits.data(), device[3], n * 2, cudaMemcpyDeviceToHost), "cudaMemcpy")) return 1;
  const double scale = o.scale != 0 ? o.scale : 1.0 / std::sqrt(static_cast<double>(d));
  const std::vector<double> want = reference(host[0], host[1], host[2], b * h, s, d, static_cast<float>(scale));
  double worst = 0;
  const double tol = bf16 ? 4e-2 : 1e-2;
  for (size_t i = 0; i < n; ++i) {
    const double got = from_half(out_bits[i], bf16);
    const double e = std::isfinite(got) ? std::abs(got - want[i]) / (tol / 4 + tol * std::abs(want[i])) : INFINITY;
    worst = std::max(worst, e);
  }
  std::printf("B=%lld H=%lld S=%lld D=%lld %s: worst error %.3f of the tolerance (%s)\n", static_cast<long long>(b),
              static_cast<long long>(h), static_cast<long long>(s), static_cast<long long>(d), bf16 ? "bf16" : "fp16",
              worst, worst <= 1 ? "ok" : "WRONG");
  if (o.benchmark) {
    // Host wall-clock means over 10 runs, as seed 01's run.py --benchmark.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) context->enqueueV3(stream);
    cudaStreamSynchronize(stream);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 10;
    std::printf("engine: %.3f ms per run (mean of 10)\n", ms);
  }
  cudaStreamDestroy(stream);
  for (void* p : device) cudaFree(p);
  return worst <= 1 ? 0 : 4;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool usable = false;
  try {
    usable = parse(argc, argv, o);
  } catch (const std::exception&) {  // a number that is not one
  }
  if (!usable) {
    std::fprintf(stderr,
                 "usage: %s build --plugins LIB --engine FILE [--heads 8] [--head-size 64] [--max-batch 4] "
                 "[--max-seq 256] [--dtype fp16|bf16] [--scale S]\n"
                 "       %s run --plugins LIB --engine FILE [--batch 2] [--seq 200] [--benchmark]\n",
                 argv[0], argv[0]);
    return 2;
  }
  try {
    return o.command == "build" ? build(o) : run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
