// Host cost of the plugin core's hot path, for the shipped attention (kernels/fmha, kernel "fmha":
// L and M in the workspace), in one run on one GPU:
//   - Kernel::launch with the exact arguments a prepared enqueue passes (the target is 1.2x this);
//   - PluginCore::enqueue(prepared, addresses, workspace, stream): the engine hot path;
//   - PluginCore::enqueue(TensorRef...): the convenience path that plans on every call;
//   - PluginCore::prepare: what a shape change costs;
//   - when built with the TensorRT adapter: the IPluginV3 plugin's enqueue on a prepared shape
//     (what TensorRT calls per inference) and its onShapeChange.
// Counts heap allocations in 1000 warm calls of each. Before timing, checks that the prepared
// enqueue writes exactly what the direct launch writes (fresh random inputs, poisoned outputs).
// Usage: bench_plugin_enqueue FMHA.tpack [calls] [B H S D]. Prints a table and CSV lines.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "harness/device.h"
#include "measure.h"
#include "runtime/args.h"
#include "tritonpack/plugin.h"
#ifdef TRITONPACK_BENCH_TENSORRT
#include "tritonpack/tensorrt/plugin.h"
#endif

using namespace tritonpack;

namespace {

std::vector<uint8_t> download(const harness::DeviceBuffer& b) {
  std::vector<uint8_t> out(b.size());
  b.download(out.data(), out.size());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s fmha.tpack [calls] [B H S D]\n", argv[0]);
    return 2;
  }
  const int calls = argc > 2 ? std::stoi(argv[2]) : 20000;
  int64_t b = 1, h = 2, s = 128, d = 64;
  if (argc > 6) {
    b = std::stoll(argv[3]);
    h = std::stoll(argv[4]);
    s = std::stoll(argv[5]);
    d = std::stoll(argv[6]);
  }
  try {
    auto driver = driver::Driver::system();
    harness::DeviceContext device(driver, 0);
    const driver::Driver& drv = *driver;
    harness::Stream stream(drv);
    auto pack = Pack::open(argv[1]);
    PluginCore core = PluginCore::create(pack, "fmha", {{"sm_scale", 0.125}}, driver);
    const TensorDesc desc{DType::kFp16, {b, h, s, d}, {}};
    const std::vector<TensorDesc> inputs{desc, desc, desc};
    const PreparedLaunch prepared = core.prepare(inputs);
    const size_t bytes = static_cast<size_t>(b * h * s * d) * 2;
    harness::DeviceBuffer q(drv, bytes), k(drv, bytes), v(drv, bytes), out(drv, bytes), out2(drv, bytes),
        ws(drv, std::max<size_t>(prepared.workspace_bytes(), 256)), ws2(drv, std::max<size_t>(prepared.workspace_bytes(), 256));
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (harness::DeviceBuffer* buf : {&q, &k, &v}) {
      std::vector<uint16_t> host(bytes / 2);
      for (uint16_t& x : host) x = runtime::float_to_fp16_bits(dist(rng));
      buf->upload(host.data(), bytes);
    }
    const CUdeviceptr ins[] = {q.get(), k.get(), v.get()}, outs[] = {out.get()};
    // The arguments enqueue passes, for the direct launch: the prepared ones with real addresses.
    std::vector<Arg> args(prepared.args().begin(), prepared.args().end());
    args[0].pointer = out2.get();
    args[1].pointer = ws2.get() + prepared.plan().scratch[0].offset;
    args[2].pointer = ws2.get() + prepared.plan().scratch[1].offset;
    args[3].pointer = q.get();
    args[4].pointer = k.get();
    args[5].pointer = v.get();
    LaunchOptions options;
    Kernel kernel(pack, "fmha", driver);

    // Correctness first: the plugin's output is the direct launch's, bit for bit, and every
    // element was written (outputs poisoned with NaN).
    out.fill(0xff);
    out2.fill(0xff);
    core.enqueue(prepared, ins, outs, ws.get(), ws.size(), stream.get());
    kernel.launch(args, stream.get(), options);
    stream.synchronize();
    const std::vector<uint8_t> a = download(out), c = download(out2);
    size_t nan = 0;
    for (size_t i = 0; i < a.size(); i += 2) nan += a[i] == 0xff && a[i + 1] == 0xff;
    const bool same = a == c && nan == 0;
    std::printf("verify: prepared enqueue vs direct Kernel::launch: %s (%zu poisoned elements left)\n",
                same ? "PASSED (identical bits)" : "FAILED", nan);
    if (!same) return 1;

    auto direct = [&] { kernel.launch(args, stream.get(), options); };
    auto prepared_enqueue = [&] { core.enqueue(prepared, ins, outs, ws.get(), ws.size(), stream.get()); };
    const std::vector<TensorRef> in_refs{{q.get(), desc}, {k.get(), desc}, {v.get(), desc}};
    const std::vector<TensorRef> out_refs{{out.get(), desc}};
    auto planning_enqueue = [&] { core.enqueue(in_refs, out_refs, ws.get(), ws.size(), stream.get()); };
    const uint64_t alloc_direct = bench::allocations_per_1000(stream, direct);
    const uint64_t alloc_prepared = bench::allocations_per_1000(stream, prepared_enqueue);
    const uint64_t alloc_planning = bench::allocations_per_1000(stream, planning_enqueue);
#ifdef TRITONPACK_BENCH_TENSORRT
    // The TensorRT plugin of the same kernel, made by its creator from the same field, its shape
    // set by onShapeChange, then enqueued as TensorRT does (descriptions and raw addresses).
    auto source = tensorrt::PackSource::from_pack(pack, argv[1]);
    tensorrt::Creator creator(source, "fmha", driver);
    float scale = 0.125f;
    nvinfer1::PluginField field{"sm_scale", &scale, nvinfer1::PluginFieldType::kFLOAT32, 1};
    nvinfer1::PluginFieldCollection fc{1, &field};
    std::unique_ptr<tensorrt::Plugin> trt = creator.create("bench", &fc, nvinfer1::TensorRTPhase::kBUILD);
    nvinfer1::PluginTensorDesc trt_in[3], trt_out[1];
    for (nvinfer1::PluginTensorDesc* t : {&trt_in[0], &trt_in[1], &trt_in[2], &trt_out[0]}) {
      t->dims.nbDims = 4;
      t->dims.d[0] = b;
      t->dims.d[1] = h;
      t->dims.d[2] = s;
      t->dims.d[3] = d;
      t->type = nvinfer1::DataType::kHALF;
      t->format = nvinfer1::TensorFormat::kLINEAR;
      t->scale = 1.0f;
    }
    if (trt->onShapeChange(trt_in, 3, trt_out, 1) != 0) throw Error(ErrorCode::kInternal, "onShapeChange failed");
    const void* trt_ins[] = {reinterpret_cast<const void*>(q.get()), reinterpret_cast<const void*>(k.get()),
                             reinterpret_cast<const void*>(v.get())};
    void* trt_outs[] = {reinterpret_cast<void*>(out.get())};
    void* trt_ws = reinterpret_cast<void*>(ws.get());
    auto trt_enqueue = [&] {
      if (trt->enqueue(trt_in, trt_out, trt_ins, trt_outs, trt_ws, stream.get()) != 0) {
        throw Error(ErrorCode::kInternal, "the TensorRT plugin's enqueue failed (see the message above)");
      }
    };
    const uint64_t alloc_trt = bench::allocations_per_1000(stream, trt_enqueue);
    const std::vector<double> us = bench::alternate(stream, calls, direct, prepared_enqueue, planning_enqueue, trt_enqueue);
    for (int i = 0; i < 200; ++i) trt->onShapeChange(trt_in, 3, trt_out, 1);
    const auto s0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 2000; ++i) trt->onShapeChange(trt_in, 3, trt_out, 1);
    const double shape_change_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s0).count() / 2000;
#else
    const std::vector<double> us = bench::alternate(stream, calls, direct, prepared_enqueue, planning_enqueue);
#endif

    // prepare: host only, no launch.
    for (int i = 0; i < 200; ++i) (void)core.prepare(inputs);
    const int n = 5000;
    const uint64_t before = bench::allocations.load();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) (void)core.prepare(inputs);
    const double prepare_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    const double prepare_allocs = double(bench::allocations.load() - before) / n;

    std::printf("device: %s (sm_%d); fmha fp16 B=%lld H=%lld S=%lld D=%lld, workspace %zu bytes; %d calls per "
                "method, median of batches of 100, methods alternating\n",
                device.name().c_str(), device.arch(), static_cast<long long>(b), static_cast<long long>(h),
                static_cast<long long>(s), static_cast<long long>(d), prepared.workspace_bytes(), calls);
    std::printf("%-46s %10s %16s %14s\n", "method", "us/call", "vs Kernel::launch", "allocs/1000");
    auto row = [&](const char* name, double t, uint64_t allocs) {
      std::printf("%-46s %10.3f %16.3f %14llu\n", name, t, t / us[0], static_cast<unsigned long long>(allocs));
      std::printf("CSV,plugin_enqueue,%s,%.4f,%.4f,%llu\n", name, t, t / us[0], static_cast<unsigned long long>(allocs));
    };
    row("Kernel::launch (same arguments)", us[0], alloc_direct);
    row("PluginCore::enqueue(prepared) [hot path]", us[1], alloc_prepared);
    row("PluginCore::enqueue(TensorRef) [plans each]", us[2], alloc_planning);
#ifdef TRITONPACK_BENCH_TENSORRT
    row("TensorRT IPluginV3 enqueue (prepared shape)", us[3], alloc_trt);
    std::printf("%-46s %10.3f\n", "TensorRT IPluginV3 onShapeChange", shape_change_us);
    std::printf("CSV,tensorrt_on_shape_change,%.4f\n", shape_change_us);
#else
    std::printf("(built without the TensorRT adapter: its enqueue is not measured)\n");
#endif
    std::printf("%-46s %10.3f %16s %14.0f\n", "PluginCore::prepare (onShapeChange), no launch", prepare_us, "-",
                prepare_allocs * 1000);
    std::printf("CSV,plugin_prepare,%.4f,%.1f\n", prepare_us, prepare_allocs);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_plugin_enqueue: %s\n", e.what());
    return 1;
  }
  return 0;
}
