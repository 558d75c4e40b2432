// GPU tests of the plugin core with the fused attention kernel (kernels/fmha): the PluginGen FMHA
// config converted by import-plugingen, and tritonpack's own spec with L and M as workspace
// scratch. Fresh random inputs, poisoned outputs, a double-precision causal-attention reference,
// and the plugin's launch compared bit for bit with a direct Kernel launch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gpu/gpu_fixture.h"
#include "gpu/half_data.h"
#include "runtime/args.h"
#include "harness/device.h"
#include "harness/references.h"
#include "tritonpack/plugin.h"

namespace tritonpack {
namespace {

using testing::download_f32;
using testing::download_half;
using testing::worst;

struct Problem {
  int64_t b, h, s, d;
  int64_t elements() const { return b * h * s * d; }
  Shape shape() const { return {b, h, s, d}; }
};

// Causal attention in double (harness::causal_attention), with the row max M and the sum of
// exp(s - M) L as the kernel stores them.
void reference(const Problem& p, const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
               double scale, std::vector<double>& out, std::vector<double>& l, std::vector<double>& m) {
  const std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end()), vd(v.begin(), v.end());
  harness::CausalAttention r = harness::causal_attention(p.b * p.h, p.s, p.d, scale, qd, kd, vd);
  out = std::move(r.out);
  l = std::move(r.l);
  m = std::move(r.m);
}

class PluginGpu : public Gpu {
 protected:
  // Random inputs of dtype t, rounded to t so the reference sees exactly what the GPU sees.
  std::vector<float> random_input(const Problem& p, DType t, harness::DeviceBuffer& buffer) {
    return testing::upload_random_half(device_->driver(), static_cast<size_t>(p.elements()), t, rng_, buffer, 256);
  }
  std::mt19937 rng_{std::random_device{}()};
};

TEST_F(PluginGpu, PluginGenFmhaConfigRunsThroughThePluginCore) {
  auto p = pack("fmha_plugingen");
  for (const Problem pr : {Problem{2, 3, 128, 64}, Problem{1, 2, 77, 64}, Problem{2, 2, 1, 64}, Problem{1, 4, 300, 64}}) {
    const double scale = 1.0 / std::sqrt(64.0);
    PluginCore core = PluginCore::create(p, "fused_attention_kernel", {{"sm_scale", scale}, {"num_heads", double(pr.h)}});
    harness::DeviceBuffer q, k, v;
    const auto hq = random_input(pr, DType::kFp16, q), hk = random_input(pr, DType::kFp16, k),
               hv = random_input(pr, DType::kFp16, v);
    const size_t rows = static_cast<size_t>(pr.b * pr.h * pr.s);
    harness::DeviceBuffer out(device_->driver(), static_cast<size_t>(pr.elements()) * 2), l(device_->driver(), rows * 4),
        m(device_->driver(), rows * 4);
    for (auto* b : {&out, &l, &m}) b->fill(0xff);  // NaN everywhere until the kernel writes
    const TensorDesc in_desc{DType::kFp16, pr.shape(), {}};
    const Shape rows_shape{pr.b, pr.h, pr.s};
    std::vector<TensorRef> inputs{{q.get(), in_desc}, {k.get(), in_desc}, {v.get(), in_desc}};
    std::vector<TensorRef> outputs{{out.get(), in_desc}, {l.get(), {DType::kFp32, rows_shape, {}}},
                                   {m.get(), {DType::kFp32, rows_shape, {}}}};
    harness::Stream stream(device_->driver());
    core.enqueue(inputs, outputs, 0, 0, stream.get());
    stream.synchronize();
    std::vector<double> ro, rl, rm;
    reference(pr, hq, hk, hv, scale, ro, rl, rm);
    const std::string what = "B=" + std::to_string(pr.b) + " H=" + std::to_string(pr.h) + " S=" + std::to_string(pr.s);
    EXPECT_LE(worst(download_half(out, ro.size(), DType::kFp16), ro, 2e-3, 1e-2), 1.0) << what << " Out";
    EXPECT_LE(worst(download_f32(l, rows), rl, 1e-4, 2e-3), 1.0) << what << " L";
    EXPECT_LE(worst(download_f32(m, rows), rm, 1e-4, 2e-3), 1.0) << what << " M";

    // The same launch done by hand through the runtime gives the same bits.
    harness::DeviceBuffer out2(device_->driver(), out.size());
    out2.fill(0xff);
    const PluginPlan plan = core.plan({{in_desc, in_desc, in_desc}});
    std::vector<Arg> args{Arg::tensor(out2.get(), DType::kFp16), Arg::tensor(l.get(), DType::kFp32),
                          Arg::tensor(m.get(), DType::kFp32),    Arg::tensor(q.get(), DType::kFp16),
                          Arg::tensor(k.get(), DType::kFp16),    Arg::tensor(v.get(), DType::kFp16),
                          Arg::real(scale), Arg::integer(pr.b), Arg::integer(pr.h), Arg::integer(pr.s)};
    ASSERT_EQ(plan.args.size(), args.size());
    Kernel direct(p, "fused_attention_kernel");
    direct.launch(args, stream.get());
    stream.synchronize();
    std::vector<uint16_t> a(ro.size()), b(ro.size());
    out.download(a.data(), a.size() * 2);
    out2.download(b.data(), b.size() * 2);
    EXPECT_EQ(a, b) << what << ": the plugin and the direct launch differ";
  }
}

TEST_F(PluginGpu, NativeFmhaSpecKeepsLAndMInTheWorkspace) {
  auto p = pack("fmha");
  int ran = 0;
  for (DType t : {DType::kFp16, DType::kBf16}) {
    for (int64_t d : {64, 128}) {
      for (int32_t tactic : {1, 2}) {
        const Problem pr{2, 2, d == 64 ? 200 : 129, d};
        const double scale = 1.0 / std::sqrt(double(d));
        PluginCore core = PluginCore::create(p, "fmha", {{"sm_scale", scale}});
        core.set_tactic(tactic);
        harness::DeviceBuffer q, k, v;
        const auto hq = random_input(pr, t, q), hk = random_input(pr, t, k), hv = random_input(pr, t, v);
        const TensorDesc desc{t, pr.shape(), {}};
        const PluginPlan plan = core.plan({{desc, desc, desc}});
        ASSERT_EQ(plan.scratch.size(), 2u);
        harness::DeviceBuffer out(device_->driver(), static_cast<size_t>(pr.elements()) * 2),
            ws(device_->driver(), plan.workspace_bytes);
        out.fill(0xff);
        ws.fill(0xff);
        harness::Stream stream(device_->driver());
        // Round trip through serialization first: the deserialized plugin is what runs.
        PluginCore loaded = PluginCore::deserialize(core.serialize());
        loaded.enqueue(std::vector<TensorRef>{{q.get(), desc}, {k.get(), desc}, {v.get(), desc}},
                       std::vector<TensorRef>{{out.get(), desc}}, ws.get(), ws.size(), stream.get());
        stream.synchronize();
        std::vector<double> ro, rl, rm;
        reference(pr, hq, hk, hv, scale, ro, rl, rm);
        const double tol = t == DType::kFp16 ? 1e-2 : 4e-2;
        const std::string what = std::string(dtype_name(t)) + " D=" + std::to_string(d) + " tactic " + std::to_string(tactic);
        EXPECT_LE(worst(download_half(out, ro.size(), t), ro, tol / 4, tol), 1.0) << what;
        const size_t rows = rl.size();
        EXPECT_LE(worst(download_f32(ws, rows, plan.scratch[0].offset), rl, 1e-4, 5e-3), 1.0) << what << " L";
        EXPECT_LE(worst(download_f32(ws, rows, plan.scratch[1].offset), rm, 1e-4, 5e-3), 1.0) << what << " M";
        ++ran;
      }
    }
  }
  EXPECT_EQ(ran, 8);
}

// The engine hot path on the GPU: two shapes prepared once each (with num_heads given per call,
// as PyTorch passes attributes), then enqueued alternately with addresses only, by the plugin and
// by a clone; every output checked against the double-precision reference.
TEST_F(PluginGpu, PreparedLaunchesAlternateBetweenShapesFieldsAndClones) {
  auto p = pack("fmha_plugingen");
  PluginCore core = PluginCore::create(p, "fused_attention_kernel", {{"sm_scale", 0.125}, {"num_heads", 1}});
  PluginCore clone = core.clone();
  struct Case {
    Problem pr;
    harness::DeviceBuffer q, k, v, out, l, m;
    std::vector<float> hq, hk, hv;
    PreparedLaunch prepared;
  };
  std::vector<Case> cases(2);
  cases[0].pr = Problem{2, 3, 128, 64};
  cases[1].pr = Problem{1, 4, 200, 64};
  harness::Stream stream(device_->driver());
  for (Case& c : cases) {
    c.hq = random_input(c.pr, DType::kFp16, c.q);
    c.hk = random_input(c.pr, DType::kFp16, c.k);
    c.hv = random_input(c.pr, DType::kFp16, c.v);
    const TensorDesc desc{DType::kFp16, c.pr.shape(), {}};
    const double fields[] = {1.0 / std::sqrt(64.0), double(c.pr.h)};
    c.prepared = core.prepare(std::vector<TensorDesc>{desc, desc, desc}, fields);
    const size_t rows = static_cast<size_t>(c.pr.b * c.pr.h * c.pr.s);
    c.out = harness::DeviceBuffer(device_->driver(), static_cast<size_t>(c.pr.elements()) * 2);
    c.l = harness::DeviceBuffer(device_->driver(), rows * 4);
    c.m = harness::DeviceBuffer(device_->driver(), rows * 4);
  }
  for (int round = 0; round < 2; ++round) {
    for (Case& c : cases) {
      for (auto* b : {&c.out, &c.l, &c.m}) b->fill(0xff);
      const CUdeviceptr ins[] = {c.q.get(), c.k.get(), c.v.get()}, outs[] = {c.out.get(), c.l.get(), c.m.get()};
      (round == 0 ? core : clone).enqueue(c.prepared, ins, outs, 0, 0, stream.get());
      stream.synchronize();
      std::vector<double> ro, rl, rm;
      reference(c.pr, c.hq, c.hk, c.hv, 1.0 / std::sqrt(64.0), ro, rl, rm);
      const std::string what = "round " + std::to_string(round) + " H=" + std::to_string(c.pr.h) +
                               " S=" + std::to_string(c.pr.s);
      EXPECT_LE(worst(download_half(c.out, ro.size(), DType::kFp16), ro, 2e-3, 1e-2), 1.0) << what << " Out";
      EXPECT_LE(worst(download_f32(c.l, rl.size()), rl, 1e-4, 2e-3), 1.0) << what << " L";
      EXPECT_LE(worst(download_f32(c.m, rm.size()), rm, 1e-4, 2e-3), 1.0) << what << " M";
    }
  }
}

TEST_F(PluginGpu, BadShapesNeverLaunch) {
  auto p = pack("fmha");
  PluginCore core = PluginCore::create(p, "fmha", {{"sm_scale", 0.125}});
  const Problem pr{1, 2, 64, 96};  // no variant has D = 96
  harness::DeviceBuffer q, k, v;
  random_input(pr, DType::kFp16, q);
  random_input(pr, DType::kFp16, k);
  random_input(pr, DType::kFp16, v);
  harness::DeviceBuffer out(device_->driver(), static_cast<size_t>(pr.elements()) * 2);
  out.fill(0x7b);
  const TensorDesc desc{DType::kFp16, pr.shape(), {}};
  harness::Stream stream(device_->driver());
  EXPECT_THROW(core.enqueue(std::vector<TensorRef>{{q.get(), desc}, {k.get(), desc}, {v.get(), desc}},
                            std::vector<TensorRef>{{out.get(), desc}}, 0, 0, stream.get()),
               Error);
  stream.synchronize();
  std::vector<uint8_t> bytes(out.size());
  out.download(bytes.data(), bytes.size());
  for (uint8_t byte : bytes) ASSERT_EQ(byte, 0x7b);  // untouched
}

}  // namespace
}  // namespace tritonpack
