#include "harness/runner.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>

#include "harness/device.h"
#include "runtime/args.h"
#include "tritonpack/expr.h"

namespace tritonpack::harness {
namespace {

// Bytes after every buffer, poisoned and checked after the launch: a write past an output's end
// (or a read that a sanitizer would flag) lands here instead of in another buffer.
constexpr size_t kGuardBytes = 256;
constexpr unsigned char kPoison = kPoisonByte;

// An FP8 format: mantissa bits, exponent bias, and whether the all-ones exponent holds
// infinities and NaNs (e5m2) or only the one NaN with an all-ones mantissa (e4m3fn).
struct Fp8Format {
  int mantissa_bits;
  int bias;
  bool ieee;
};
constexpr Fp8Format kE4m3{3, 7, false};
constexpr Fp8Format kE5m2{2, 15, true};

double fp8_value(uint8_t bits, Fp8Format f) {
  const int exponent_bits = 7 - f.mantissa_bits;
  const int all_ones = (1 << exponent_bits) - 1;
  const int e = (bits >> f.mantissa_bits) & all_ones;
  const int m = bits & ((1 << f.mantissa_bits) - 1);
  double v;
  if (f.ieee && e == all_ones) {
    v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (!f.ieee && e == all_ones && m == (1 << f.mantissa_bits) - 1) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (e == 0) {
    v = std::ldexp(m, 1 - f.bias - f.mantissa_bits);  // subnormal
  } else {
    v = std::ldexp((1 << f.mantissa_bits) + m, e - f.bias - f.mantissa_bits);
  }
  return (bits & 0x80) != 0 ? -v : v;
}

// Round to nearest, ties to even, over the format's finite magnitudes (codes 0 up to the
// largest, in increasing order). Past the largest by more than half its spacing: infinity (e5m2)
// or NaN (e4m3fn).
uint8_t fp8_bits(double v, Fp8Format f) {
  const uint8_t nan = 0x7f;
  if (std::isnan(v)) return nan;
  const uint8_t sign = std::signbit(v) ? 0x80 : 0;
  const double a = std::fabs(v);
  const uint8_t largest = f.ieee ? static_cast<uint8_t>((0x7f >> f.mantissa_bits << f.mantissa_bits) - 1) : 0x7e;
  const double top = fp8_value(largest, f), below = fp8_value(static_cast<uint8_t>(largest - 1), f);
  // The tie halfway past the largest goes to the even neighbour: overflow for e5m2 (its largest
  // mantissa is odd), the largest for e4m3fn (even).
  const double halfway = top + (top - below) / 2;
  if (a > halfway || (f.ieee && a == halfway)) {
    return static_cast<uint8_t>(sign | (f.ieee ? static_cast<uint8_t>(largest + 1) : nan));
  }
  uint8_t lo = 0, hi = largest;  // the codes around a: value(lo) <= a <= value(hi)
  while (hi - lo > 1) {
    const auto mid = static_cast<uint8_t>((lo + hi) / 2);
    (fp8_value(mid, f) <= a ? lo : hi) = mid;
  }
  const double dlo = a - fp8_value(lo, f), dhi = fp8_value(hi, f) - a;
  const uint8_t code = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
  return static_cast<uint8_t>(sign | code);
}

}  // namespace

double decode(DType t, const uint8_t* p) {
  switch (t) {
    case DType::kFp16: { uint16_t h; std::memcpy(&h, p, 2); return runtime::fp16_bits_to_float(h); }
    case DType::kBf16: { uint16_t h; std::memcpy(&h, p, 2); return runtime::bf16_bits_to_float(h); }
    case DType::kFp32: { float f; std::memcpy(&f, p, 4); return f; }
    case DType::kFp64: { double d; std::memcpy(&d, p, 8); return d; }
    case DType::kI32: { int32_t i; std::memcpy(&i, p, 4); return i; }
    case DType::kI64: { int64_t i; std::memcpy(&i, p, 8); return static_cast<double>(i); }
    case DType::kFp8e4nv: return fp8_value(*p, kE4m3);
    case DType::kFp8e5: return fp8_value(*p, kE5m2);
    default: throw Error(ErrorCode::kUnsupported, "tritonpack run cannot handle " + std::string(dtype_name(t)) + " tensors yet");
  }
}

double encode(DType t, double v, uint8_t* p) {
  switch (t) {
    case DType::kFp16: { uint16_t h = runtime::float_to_fp16_bits(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    case DType::kBf16: { uint16_t h = runtime::float_to_bf16_bits(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    case DType::kFp32: { float f = static_cast<float>(v); std::memcpy(p, &f, 4); break; }
    case DType::kFp64: std::memcpy(p, &v, 8); break;
    case DType::kI32: { int32_t i = static_cast<int32_t>(std::lround(v)); std::memcpy(p, &i, 4); break; }
    case DType::kI64: { int64_t i = std::llround(v); std::memcpy(p, &i, 8); break; }
    case DType::kFp8e4nv: *p = fp8_bits(v, kE4m3); break;
    case DType::kFp8e5: *p = fp8_bits(v, kE5m2); break;
    default: throw Error(ErrorCode::kUnsupported, "tritonpack run cannot handle " + std::string(dtype_name(t)) + " tensors yet");
  }
  return decode(t, p);
}

namespace {

bool poisoned(const uint8_t* p, size_t bytes) {
  return std::all_of(p, p + bytes, [](uint8_t b) { return b == kPoison; });
}

std::string shortest(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", v);
  return text;
}

// One output against what its reference expects.
OutputCheck compare(const Operand& op, const std::vector<uint8_t>& bytes, const Expected& want) {
  OutputCheck c;
  c.name = op.param->name;
  c.dtype = op.dtype;
  c.tolerance = want.tolerance;
  const size_t esize = dtype_size(op.dtype);
  const size_t numel = op.values.size();
  double diff2 = 0, want2 = 0;
  size_t first_bad = SIZE_MAX, first_outside = SIZE_MAX, first_inf = SIZE_MAX;
  for (size_t i = 0; i < numel; ++i) {
    const uint8_t* p = &bytes[i * esize];
    if (!want.checked[i]) {
      if (!poisoned(p, esize) && c.written_outside++ == 0) first_outside = i;
      continue;
    }
    ++c.elements;
    const double got = decode(op.dtype, p);
    if (!std::isfinite(got) && std::isfinite(want.values[i])) {
      if (c.not_finite++ == 0) first_bad = i;
      continue;
    }
    // An expected infinity (attention's log-sum-exp of a row that sees no key) must be exactly
    // that: NaN, the poison of an unwritten element, or a finite value is wrong.
    if (!std::isfinite(want.values[i]) && !(got == want.values[i])) {
      if (c.wrong_infinite++ == 0) first_inf = i;
      continue;
    }
    if (std::isfinite(want.values[i])) {
      diff2 += (got - want.values[i]) * (got - want.values[i]);
      want2 += want.values[i] * want.values[i];
    }
  }
  c.guard_intact = poisoned(bytes.data() + numel * esize, kGuardBytes);
  const double norm = std::max(std::sqrt(want2), want.scale);
  c.relative_error = norm > 0 ? std::sqrt(diff2) / norm : std::sqrt(diff2);
  std::vector<std::string> problems;
  if (c.not_finite > 0) {
    problems.push_back(std::to_string(c.not_finite) + " of " + std::to_string(c.elements) +
                       " elements are not finite (unwritten: still the NaN poison), first at index " + std::to_string(first_bad));
  }
  if (c.wrong_infinite > 0) {
    problems.push_back(std::to_string(c.wrong_infinite) + " elements that must be infinite are not, first at index " +
                       std::to_string(first_inf));
  }
  if (c.written_outside > 0) {
    problems.push_back(std::to_string(c.written_outside) + " elements it must not write were written, first at index " +
                       std::to_string(first_outside));
  }
  if (!c.guard_intact) problems.push_back("bytes after the buffer's end were written");
  if (c.relative_error > c.tolerance) {
    problems.push_back("relative error " + shortest(c.relative_error) + " > tolerance " + shortest(c.tolerance));
  }
  c.passed = problems.empty();
  if (c.passed) {
    c.message = "relative error " + shortest(c.relative_error) + " over " + std::to_string(c.elements) +
                " elements (tolerance " + shortest(c.tolerance) + ")";
  } else {
    for (const std::string& p : problems) c.message += (c.message.empty() ? "" : "; ") + p;
  }
  return c;
}

void summarize(RunResult& r) {
  r.verified = true;
  r.passed = std::all_of(r.outputs.begin(), r.outputs.end(), [](const OutputCheck& c) { return c.passed; });
  double worst = -1;
  for (const OutputCheck& c : r.outputs) {
    r.elements_checked += c.elements;
    const double ratio = c.tolerance > 0 ? c.relative_error / c.tolerance : (c.relative_error > 0 ? 1e300 : 0);
    if (ratio > worst) {
      worst = ratio;
      r.relative_error = c.relative_error;
      r.tolerance = c.tolerance;
    }
    if (!r.verify_message.empty()) r.verify_message += "; ";
    r.verify_message += c.name + ": " + c.message;
  }
}

}  // namespace

RunResult run_kernel(const DeviceContext& device, Kernel& kernel, const RunRequest& request) {
  return run_kernel(device, kernel, request, plan_run(kernel.info(), request, device.sm_count()));
}

RunResult run_kernel(const DeviceContext& device, Kernel& kernel, const RunRequest& request, const RunPlan& plan) {
  const KernelInfo& info = kernel.info();
  if (plan.kernel != &info) {
    throw Error(ErrorCode::kInvalidArgument, "run_kernel: the plan was not made for kernel '" + info.name +
                                                 "' of this Kernel's pack (make it with plan_run(kernel.info(), ...))");
  }
  if (!plan.awaiting_sm_count.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "run_kernel: the plan was made without the device's SM count, which kernel '" + info.name +
                    "' needs for '" + plan.awaiting_sm_count.front() + "' (a dim-size argument that names " +
                    std::string(kSmCountName) + "): make it with plan_run(kernel.info(), request, device.sm_count())");
  }
  const driver::Driver& d = device.driver();
  RunResult result;
  result.seed = request.seed != 0 ? request.seed : std::random_device{}() | 1ull;
  std::mt19937_64 rng(result.seed);

  LaunchOptions options = request.launch_options();

  // The variant first: numel expressions may use its constexprs (fmha's BLOCK_DMODEL).
  const std::vector<CUdeviceptr> placeholders(plan.operands.size(), kPlaceholder);
  // A kernel in steps: every step (each is selected again at launch); the tensors are sized for
  // the largest numel any step's variant gives.
  const std::vector<Selection> selections = kernel.select_steps(plan.args(placeholders), options);
  const Selection& selection = selections.front();
  const VariantInfo& variant = *selection.variant;
  result.variant = selection.variant;
  result.uses_ptx = selection.uses_ptx;
  result.grid = selection.grid;
  if (info.steps.empty()) {
    options.variant_id = static_cast<int32_t>(variant.id);  // the one chosen, whatever happens below
  } else if (selections.size() > 1) {
    result.steps = selections;
  } else {
    // A pin or a variant id chose one step: say which, since the outputs are then those of part
    // of the operation.
    for (size_t i = 0; i < info.steps.size() && result.only_step.empty(); ++i) {
      const bool in_step = std::all_of(info.steps[i].begin(), info.steps[i].end(), [&](const ConstexprValue& pin) {
        return std::any_of(variant.constexprs.begin(), variant.constexprs.end(),
                           [&](const ConstexprValue& c) { return c.name == pin.name && c.value == pin.value; });
      });
      if (in_step) {
        result.only_step = "step " + std::to_string(i + 1) + " of " + std::to_string(info.steps.size()) + " (" +
                           step_text(info.steps[i]) + ")";
      }
    }
    if (result.only_step.empty()) result.only_step = "variant " + std::to_string(variant.id) + ", in no step";
  }

  // Operands: random inputs (uniform in [-1, 1), rounded to the dtype), poisoned outputs.
  ReferenceInputs view;
  view.kernel = &info;
  view.variant = &variant;
  view.integers = plan.integers;
  view.reals = plan.reals;
  view.reference = plan.reference ? std::string(plan.reference->name) : std::string();
  std::vector<std::vector<uint8_t>> host;
  std::vector<DeviceBuffer> buffers;
  std::vector<CUdeviceptr> pointers;
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (const PlannedOperand& planned : plan.operands) {
    int64_t numel = 0;
    for (const Selection& s : selections) numel = std::max(numel, plan.numel(planned, *s.variant));
    if (numel > (int64_t{1} << 34)) {
      throw Error(ErrorCode::kInvalidArgument, "'" + planned.param->name + "' would have " + std::to_string(numel) +
                                                   " elements; `tritonpack run` allocates at most 2^34");
    }
    Operand op;
    op.param = planned.param;
    op.dtype = planned.dtype;
    op.written = planned.written;
    op.shape = planned.shape;
    op.strides = planned.shape.empty() ? std::vector<int64_t>{} : planned.strides;
    const size_t esize = dtype_size(op.dtype);
    std::vector<uint8_t> bytes(static_cast<size_t>(numel) * esize + kGuardBytes, kPoison);
    op.values.assign(static_cast<size_t>(numel), std::numeric_limits<double>::quiet_NaN());
    if (!op.written) {
      for (size_t i = 0; i < op.values.size(); ++i) op.values[i] = encode(op.dtype, uniform(rng), &bytes[i * esize]);
    }
    DeviceBuffer buffer(d, bytes.size());
    buffer.upload(bytes.data(), bytes.size());
    pointers.push_back(buffer.get());
    buffers.push_back(std::move(buffer));
    host.push_back(std::move(bytes));
    view.operands.push_back(std::move(op));
  }
  const std::vector<Arg> args = plan.args(pointers);

  const auto launch = [&](std::span<const Arg> a, CUstream st, const LaunchOptions& o) {
    if (request.launch) {
      request.launch(a, st, o);
    } else {
      kernel.launch(a, st, o);
    }
  };
  std::optional<Stream> own_stream;
  CUstream stream = request.stream;
  if (stream == nullptr) {
    own_stream.emplace(d);
    stream = own_stream->get();
  }
  launch(args, stream, options);
  TRITONPACK_CU(d, cuStreamSynchronize(stream), "after launching " + info.name);

  if (plan.reference != nullptr) {
    for (const Expected& want : plan.reference->compute(view)) {
      buffers[want.operand].download(host[want.operand].data(), host[want.operand].size());
      result.outputs.push_back(compare(view.operands[want.operand], host[want.operand], want));
    }
    summarize(result);
  } else if (request.verify) {
    result.verify_message = "kernel has no reference; output not checked";
  }

  if (request.bench_runs > 0) {
    for (int i = 0; i < request.warmup_runs; ++i) launch(args, stream, options);
    std::vector<std::unique_ptr<Event>> events;
    for (int i = 0; i < 2 * request.bench_runs; ++i) events.push_back(std::make_unique<Event>(d));
    for (int i = 0; i < request.bench_runs; ++i) {
      events[2 * i]->record(stream);
      launch(args, stream, options);
      events[2 * i + 1]->record(stream);
    }
    events.back()->synchronize();
    for (int i = 0; i < request.bench_runs; ++i) result.times_ms.push_back(events[2 * i + 1]->since(*events[2 * i]));
    std::vector<float> sorted = result.times_ms;
    std::sort(sorted.begin(), sorted.end());
    result.median_ms = sorted[sorted.size() / 2];
    const auto run_value = plan.lookup(variant);
    auto lookup = [&](std::string_view name, int64_t& out) {  // and T.size, which [bench] may use
      if (run_value(name, out)) return true;
      for (const auto& [var, dtype] : plan.bindings) {
        if (name == var + ".size") {
          out = static_cast<int64_t>(dtype_size(dtype));
          return true;
        }
      }
      return false;
    };
    if (!info.bench.bytes.empty()) result.bytes = static_cast<double>(expr::Expr::parse(info.bench.bytes).eval(lookup));
    if (!info.bench.flops.empty()) result.flops = static_cast<double>(expr::Expr::parse(info.bench.flops).eval(lookup));
    if (result.median_ms > 0) {
      result.gbps = result.bytes / (result.median_ms * 1e-3) / 1e9;
      result.tflops = result.flops / (result.median_ms * 1e-3) / 1e12;
    }
  }
  return result;
}

}  // namespace tritonpack::harness
