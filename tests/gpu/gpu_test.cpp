// GPU tests of the shipped kernels: every variant against a double-precision host reference, with
// fresh random inputs and poisoned outputs (harness/runner), at ragged sizes; several threads and
// streams at once; the C API; unload and reload. Skipped, and reported as skipped, without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <thread>

#include "driver/driver.h"
#include "gpu/gpu_fixture.h"
#include "runtime/selection.h"
#include "harness/device.h"
#include "harness/runner.h"
#include "tritonpack/tritonpack.h"

namespace tritonpack {
namespace {

int64_t round_up(int64_t v, int64_t d) { return (v + d - 1) / d * d; }

uint32_t divisibility_of(const VariantInfo& v, const std::string& name) {
  for (const KernelArg& a : v.args) {
    if (a.name == name) return a.divisibility;
  }
  return 1;
}

harness::RunRequest vector_add_request(const VariantInfo& v, int64_t n) {
  harness::RunRequest r;
  r.variant_id = static_cast<int32_t>(v.id);
  for (const auto& [var, dtype] : v.bindings) r.types[var] = std::string(dtype_name(dtype));
  r.values["n_elements"] = std::to_string(round_up(n, divisibility_of(v, "n_elements")));
  return r;
}

harness::RunRequest softmax_request(const VariantInfo& v, int64_t rows, double scale) {
  harness::RunRequest r;
  r.variant_id = static_cast<int32_t>(v.id);
  for (const auto& [var, dtype] : v.bindings) r.types[var] = std::string(dtype_name(dtype));
  int64_t block = 0;
  for (const auto& c : v.constexprs) {
    if (c.name == "BLOCK_SIZE") block = c.value.as_int();
  }
  const int64_t cols = round_up(block * 3 / 4 + 1, divisibility_of(v, "n_cols"));
  r.values["n_rows"] = std::to_string(round_up(rows, divisibility_of(v, "n_rows")));
  r.values["n_cols"] = std::to_string(cols);
  r.values["input_row_stride"] = std::to_string(round_up(cols + 5, divisibility_of(v, "input_row_stride")));
  r.values["output_row_stride"] = std::to_string(round_up(cols + 3, divisibility_of(v, "output_row_stride")));
  r.values["scale"] = std::to_string(scale);
  return r;
}

void expect_passed(const harness::RunResult& r, const std::string& what) {
  EXPECT_TRUE(r.verified) << what;
  EXPECT_TRUE(r.passed) << what << ": " << r.verify_message << " (seed " << r.seed << ")";
}

TEST_F(Gpu, EveryVectorAddVariantMatchesTheReference) {
  auto p = pack("vector_add");
  Kernel k(p, "vector_add", device_->driver_ptr());
  int ran = 0;
  for (const VariantInfo& v : k.info().variants) {
    if (!runs_here(v)) continue;
    for (int64_t n : {1, 1000, 4097, (1 << 20) + 3}) {
      const auto r = harness::run_kernel(*device_, k, vector_add_request(v, n));
      expect_passed(r, "variant " + std::to_string(v.id) + " n=" + std::to_string(n));
      EXPECT_EQ(r.variant->id, v.id);
    }
    ++ran;
  }
  EXPECT_GT(ran, 0);
}

TEST_F(Gpu, EverySoftmaxVariantMatchesTheReference) {
  auto p = pack("softmax");
  Kernel k(p, "softmax", device_->driver_ptr());
  int ran = 0;
  for (const VariantInfo& v : k.info().variants) {
    if (!runs_here(v)) continue;
    for (int64_t rows : {1, 37, 1031}) {
      const double scale = rows == 37 ? -0.7 : 1.3;  // a negative scale too
      expect_passed(harness::run_kernel(*device_, k, softmax_request(v, rows, scale)),
                    "variant " + std::to_string(v.id) + " rows=" + std::to_string(rows));
    }
    ++ran;
  }
  EXPECT_GT(ran, 0);
}

TEST_F(Gpu, DefaultSelectionPicksACubinForThisDevice) {
  auto p = pack("vector_add");
  Kernel k(p, "vector_add", device_->driver_ptr());
  harness::RunRequest r;
  r.types["T"] = "fp16";
  r.values["n_elements"] = "65536";
  const auto result = harness::run_kernel(*device_, k, r);
  expect_passed(result, "default selection");
  EXPECT_FALSE(result.uses_ptx);
  EXPECT_EQ(result.variant->arch, static_cast<uint32_t>(device_->arch()));
}

TEST_F(Gpu, SeveralThreadsAndStreamsLaunchTheSameKernel) {
  auto p = pack("vector_add");
  Kernel k(p, "vector_add", device_->driver_ptr());
  std::vector<std::thread> threads;
  std::vector<std::string> failures(6);
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      try {
        device_->make_current();
        harness::Stream stream(device_->driver());
        for (int i = 0; i < 10; ++i) {
          harness::RunRequest r;
          r.types["T"] = t % 3 == 0 ? "fp32" : t % 3 == 1 ? "fp16" : "bf16";
          r.values["n_elements"] = std::to_string(100003 + 17 * t + i);
          r.stream = stream.get();
          const auto result = harness::run_kernel(*device_, k, r);
          if (!result.passed) failures[t] = result.verify_message;
        }
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 6; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST_F(Gpu, UnloadTwiceThenLaunchAgain) {
  auto p = pack("softmax");
  Kernel k(p, "softmax", device_->driver_ptr());
  const VariantInfo* v = nullptr;
  for (const VariantInfo& x : k.info().variants) {
    if (runs_here(x) && v == nullptr) v = &x;
  }
  ASSERT_NE(v, nullptr);
  expect_passed(harness::run_kernel(*device_, k, softmax_request(*v, 64, 0.5)), "before unload");
  k.unload();
  k.unload();
  expect_passed(harness::run_kernel(*device_, k, softmax_request(*v, 64, 0.5)), "after unload");
}

TEST_F(Gpu, EmptyGridIsADefinedNoOp) {
  auto p = pack("vector_add");
  Kernel k(p, "vector_add", device_->driver_ptr());
  harness::DeviceBuffer x(device_->driver(), 64);
  std::vector<Arg> args = {Arg::tensor(x.get(), DType::kFp32), Arg::tensor(x.get(), DType::kFp32),
                           Arg::tensor(x.get(), DType::kFp32), Arg::integer(0)};
  EXPECT_NO_THROW(k.launch(args, nullptr));
  EXPECT_EQ(k.select(args).grid[0], 0);
}

// The line of an explanation that names the chosen variant ("" if none).
std::string chosen_line(const std::string& text) {
  const size_t end = text.find(": chosen");
  if (end == std::string::npos) return "";
  const size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end - begin);
}

// tp_kernel_explain into a string (asks for the size first).
std::string c_explain(tp_kernel* kernel, const tp_arg* args, size_t n, const tp_launch_options* o, int32_t* chosen) {
  size_t needed = 0;
  if (tp_kernel_explain(kernel, args, n, o, 0, nullptr, 0, &needed, nullptr) != TP_OK) return tp_last_error();
  std::string text(needed, '\0');
  if (tp_kernel_explain(kernel, args, n, o, 0, text.data(), text.size(), &needed, chosen) != TP_OK) return tp_last_error();
  text.resize(needed - 1);
  return text;
}

TEST_F(Gpu, CApiLaunchesAndReportsErrors) {
  tp_pack* pack = nullptr;
  const std::string path = test_packs_dir() + "/vector_add.tpack";
  ASSERT_EQ(tp_pack_open(path.c_str(), &pack), TP_OK) << tp_last_error();
  tp_kernel* kernel = nullptr;
  ASSERT_EQ(tp_kernel_create(pack, "vector_add", &kernel), TP_OK) << tp_last_error();
  tp_pack_close(pack);  // the kernel keeps it alive
  size_t num_args = 0;
  ASSERT_EQ(tp_kernel_num_args(kernel, &num_args), TP_OK);
  EXPECT_EQ(num_args, 4u);
  const char* name = nullptr;
  ASSERT_EQ(tp_kernel_arg_name(kernel, 3, &name), TP_OK);
  EXPECT_STREQ(name, "n_elements");
  const size_t n = 10007;
  std::vector<float> hx(n), hy(n), hout(n, std::numeric_limits<float>::quiet_NaN());
  for (size_t i = 0; i < n; ++i) {
    hx[i] = static_cast<float>(std::sin(i * 0.37));
    hy[i] = static_cast<float>(std::cos(i * 0.11));
  }
  harness::DeviceBuffer x(device_->driver(), n * 4), y(device_->driver(), n * 4), out(device_->driver(), n * 4);
  x.upload(hx.data(), n * 4);
  y.upload(hy.data(), n * 4);
  out.upload(hout.data(), n * 4);
  tp_arg args[4] = {};
  args[0].kind = args[1].kind = args[2].kind = TP_ARG_TENSOR;
  args[0].dtype = args[1].dtype = args[2].dtype = TP_FP32;
  args[0].value.pointer = x.get();
  args[1].value.pointer = y.get();
  args[2].value.pointer = out.get();
  args[3].kind = TP_ARG_INT;
  args[3].value.int_value = static_cast<int64_t>(n);
  ASSERT_EQ(tp_kernel_launch(kernel, args, 4, nullptr, nullptr), TP_OK) << tp_last_error();
  out.download(hout.data(), n * 4);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(hout[i], hx[i] + hy[i]) << i;

  // Shaped tensors (the spec declares no dims: shapes are taken and not needed), a pinned
  // BLOCK_SIZE, and the variant explain chose, given by id.
  const int64_t shape[1] = {static_cast<int64_t>(n)};
  const tp_arg shaped[4] = {tp_tensor_shaped(x.get(), TP_FP32, 1, shape), tp_tensor_shaped(y.get(), TP_FP32, 1, shape),
                            tp_tensor_shaped(out.get(), TP_FP32, 1, shape), tp_int(static_cast<int64_t>(n))};
  const tp_constexpr pin = tp_constexpr_int("BLOCK_SIZE", 4096);
  tp_launch_options options = {};
  options.pinned = &pin;
  options.num_pinned = 1;
  int32_t chosen = -1;
  const std::string text = c_explain(kernel, shaped, 4, &options, &chosen);
  ASSERT_GE(chosen, 0) << text;
  EXPECT_NE(chosen_line(text).find("BLOCK_SIZE=4096"), std::string::npos) << text;
  options.use_variant_id = 1;
  options.variant_id = chosen;
  std::fill(hout.begin(), hout.end(), std::numeric_limits<float>::quiet_NaN());
  out.upload(hout.data(), n * 4);
  ASSERT_EQ(tp_kernel_launch(kernel, shaped, 4, nullptr, &options), TP_OK) << tp_last_error();
  out.download(hout.data(), n * 4);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(hout[i], hx[i] + hy[i]) << i;

  const tp_constexpr missing = tp_constexpr_int("BLOCK_SIZE", 512);
  options = {};
  options.pinned = &missing;
  options.num_pinned = 1;
  EXPECT_EQ(tp_kernel_launch(kernel, shaped, 4, nullptr, &options), TP_ERROR_NO_MATCHING_VARIANT);
  EXPECT_NE(std::string(tp_last_error()).find("BLOCK_SIZE=1024, pinned to 512"), std::string::npos) << tp_last_error();
  args[0].dtype = TP_FP64;  // no fp64 variant: a listed no-match, nothing launched
  EXPECT_EQ(tp_kernel_launch(kernel, args, 4, nullptr, nullptr), TP_ERROR_NO_MATCHING_VARIANT);
  EXPECT_NE(std::string(tp_last_error()).find("x_ptr is fp64"), std::string::npos) << tp_last_error();
  EXPECT_EQ(tp_kernel_unload(kernel), TP_OK);
  EXPECT_EQ(tp_kernel_unload(kernel), TP_OK);
  tp_kernel_destroy(kernel);
}

// Softmax through the C API: BLOCK_SIZE pinned to 4096 for rows of 1500 columns (the spec leaves
// the choice to the caller), strided rows whose padding must stay untouched, a negative scale.
TEST_F(Gpu, CApiSoftmaxWithAPinAndShapesMatchesTheReference) {
  tp_pack* pack = nullptr;
  const std::string path = test_packs_dir() + "/softmax.tpack";
  ASSERT_EQ(tp_pack_open(path.c_str(), &pack), TP_OK) << tp_last_error();
  tp_kernel* kernel = nullptr;
  ASSERT_EQ(tp_kernel_create(pack, "softmax", &kernel), TP_OK) << tp_last_error();
  tp_pack_close(pack);
  const int64_t rows = 37, cols = 1500, in_stride = 1504, out_stride = 1508;
  const float scale = -0.7f;
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  std::vector<float> hin(rows * in_stride), hout(rows * out_stride, std::numeric_limits<float>::quiet_NaN());
  for (float& v : hin) v = uniform(rng);
  harness::DeviceBuffer in(device_->driver(), hin.size() * 4), out(device_->driver(), hout.size() * 4);
  in.upload(hin.data(), hin.size() * 4);
  out.upload(hout.data(), hout.size() * 4);
  const int64_t in_shape[1] = {rows * in_stride}, out_shape[1] = {rows * out_stride};
  const tp_arg args[7] = {tp_tensor_shaped(out.get(), TP_FP32, 1, out_shape), tp_tensor_shaped(in.get(), TP_FP32, 1, in_shape),
                          tp_int(in_stride), tp_int(out_stride), tp_int(rows), tp_int(cols), tp_float(scale)};
  const tp_constexpr pin = tp_constexpr_int("BLOCK_SIZE", 4096);
  tp_launch_options options = {};
  options.pinned = &pin;
  options.num_pinned = 1;
  int32_t chosen = -1;
  const std::string text = c_explain(kernel, args, 7, &options, &chosen);
  ASSERT_GE(chosen, 0) << text;
  EXPECT_NE(chosen_line(text).find("T=fp32, BLOCK_SIZE=4096"), std::string::npos) << text;
  ASSERT_EQ(tp_kernel_launch(kernel, args, 7, nullptr, &options), TP_OK) << tp_last_error();
  out.download(hout.data(), hout.size() * 4);
  double diff2 = 0, ref2 = 0;  // normalized error, as the harness measures it (fp32: 1e-5)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = &hin[r * in_stride];
    double max = -INFINITY, sum = 0;
    for (int64_t c = 0; c < cols; ++c) max = std::max(max, static_cast<double>(scale) * x[c]);
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(scale) * x[c] - max);
    for (int64_t c = 0; c < cols; ++c) {
      const double want = std::exp(static_cast<double>(scale) * x[c] - max) / sum;
      const double got = hout[r * out_stride + c];
      ASSERT_TRUE(std::isfinite(got)) << "row " << r << " col " << c << " not written";
      diff2 += (got - want) * (got - want);
      ref2 += want * want;
    }
    for (int64_t c = cols; c < out_stride; ++c) ASSERT_TRUE(std::isnan(hout[r * out_stride + c])) << "padding written at row " << r;
  }
  EXPECT_LE(std::sqrt(diff2 / ref2), 1e-5);
  tp_kernel_destroy(kernel);
}

TEST_F(Gpu, EveryGpuOfTheProcessRunsTheKernel) {
  int count = 0;
  ASSERT_EQ(device_->driver().api().cuDeviceGetCount(&count), CUDA_SUCCESS);
  auto p = pack("vector_add");
  Kernel k(p, "vector_add", device_->driver_ptr());
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    harness::DeviceContext dev(device_->driver_ptr(), ordinal);
    harness::RunRequest r;
    r.values["n_elements"] = "333333";
    expect_passed(harness::run_kernel(dev, k, r), "device " + std::to_string(ordinal));
  }
  device_->make_current();
}

}  // namespace
}  // namespace tritonpack
