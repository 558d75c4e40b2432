#include "harness/runner.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "runtime/args.h"
#include "harness/device.h"
#include "tritonpack/expr.h"

namespace tritonpack::harness {
namespace {

// A tensor on the host: values as the kernel sees them (already rounded to the dtype) in double,
// and the bytes that travel to the device.
struct HostTensor {
  const ParamInfo* param = nullptr;
  DType dtype = DType::kFp32;
  size_t numel = 0;
  std::vector<double> values;
  std::vector<uint8_t> bytes;
};

double decode(DType t, const uint8_t* p) {
  switch (t) {
    case DType::kFp16: { uint16_t h; std::memcpy(&h, p, 2); return runtime::fp16_bits_to_float(h); }
    case DType::kBf16: { uint16_t h; std::memcpy(&h, p, 2); return runtime::bf16_bits_to_float(h); }
    case DType::kFp32: { float f; std::memcpy(&f, p, 4); return f; }
    case DType::kFp64: { double d; std::memcpy(&d, p, 8); return d; }
    case DType::kI32: { int32_t i; std::memcpy(&i, p, 4); return i; }
    case DType::kI64: { int64_t i; std::memcpy(&i, p, 8); return static_cast<double>(i); }
    default: throw Error(ErrorCode::kUnsupported, "tritonpack run cannot handle " + std::string(dtype_name(t)) + " tensors yet");
  }
}

// Stores v in dtype t and returns the stored value.
double encode(DType t, double v, uint8_t* p) {
  switch (t) {
    case DType::kFp16: { uint16_t h = runtime::float_to_fp16_bits(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    case DType::kBf16: { uint16_t h = runtime::float_to_bf16_bits(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
    case DType::kFp32: { float f = static_cast<float>(v); std::memcpy(p, &f, 4); break; }
    case DType::kFp64: std::memcpy(p, &v, 8); break;
    case DType::kI32: { int32_t i = static_cast<int32_t>(std::lround(v)); std::memcpy(p, &i, 4); break; }
    case DType::kI64: { int64_t i = std::llround(v); std::memcpy(p, &i, 8); break; }
    default: throw Error(ErrorCode::kUnsupported, "tritonpack run cannot handle " + std::string(dtype_name(t)) + " tensors yet");
  }
  return decode(t, p);
}

double tolerance_for(DType t) {
  switch (t) {
    case DType::kFp16: return 2e-3;
    case DType::kBf16: return 1.6e-2;
    case DType::kFp32: return 1e-5;
    default: return 1e-12;
  }
}

struct Reference {
  // Fills `expected` (one entry per element of the output) and `checked` (which elements the
  // kernel must write); elements not checked are ignored.
  std::vector<double> expected;
  std::vector<char> checked;
};

std::vector<const HostTensor*> by_io(const std::vector<HostTensor>& ts, bool output) {
  std::vector<const HostTensor*> out;
  for (const auto& t : ts) {
    if (t.param->is_output == output) out.push_back(&t);
  }
  return out;
}

Reference reference(const std::string& name, const std::vector<HostTensor>& tensors,
                    const std::vector<int64_t>& ints, const std::vector<double>& floats) {
  auto in = by_io(tensors, false);
  auto out = by_io(tensors, true);
  Reference r;
  if (name == "vector_add") {
    if (in.size() != 2 || out.size() != 1 || ints.empty()) {
      throw Error(ErrorCode::kInvalidSpec, "reference 'vector_add' needs 2 input tensors, 1 output and an integer size");
    }
    const size_t n = static_cast<size_t>(std::max<int64_t>(ints[0], 0));
    r.expected.assign(out[0]->numel, 0);
    r.checked.assign(out[0]->numel, 0);
    for (size_t i = 0; i < n && i < out[0]->numel; ++i) {
      r.expected[i] = in[0]->values[i] + in[1]->values[i];
      r.checked[i] = 1;
    }
    return r;
  }
  if (name == "softmax_rows") {
    if (in.size() != 1 || out.size() != 1 || ints.size() < 4 || floats.empty()) {
      throw Error(ErrorCode::kInvalidSpec,
                  "reference 'softmax_rows' needs 1 input, 1 output, integers (in_stride, out_stride, n_rows, "
                  "n_cols) and a float scale");
    }
    const int64_t in_stride = ints[0], out_stride = ints[1], rows = ints[2], cols = ints[3];
    const double scale = floats[0];
    r.expected.assign(out[0]->numel, 0);
    r.checked.assign(out[0]->numel, 0);
    for (int64_t row = 0; row < rows; ++row) {
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, scale * in[0]->values[row * in_stride + c]);
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c) sum += std::exp(scale * in[0]->values[row * in_stride + c] - mx);
      for (int64_t c = 0; c < cols; ++c) {
        const size_t o = static_cast<size_t>(row * out_stride + c);
        r.expected[o] = std::exp(scale * in[0]->values[row * in_stride + c] - mx) / sum;
        r.checked[o] = 1;
      }
    }
    return r;
  }
  throw Error(ErrorCode::kNotFound, "unknown reference '" + name + "' (known: vector_add, softmax_rows)");
}

int64_t parse_int(const std::string& name, const std::string& text) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used, 0);
  } catch (...) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "--arg " + name + "=" + text + ": expected an integer");
  }
  return v;
}

double parse_float(const std::string& name, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "--arg " + name + "=" + text + ": expected a number");
  }
  return v;
}

}  // namespace

std::vector<std::string> known_references() { return {"vector_add", "softmax_rows"}; }

RunResult run_kernel(const DeviceContext& device, Kernel& kernel, const RunRequest& request) {
  const KernelInfo& info = kernel.info();
  const driver::Driver& d = device.driver();
  RunResult result;
  result.seed = request.seed != 0 ? request.seed : std::random_device{}() | 1ull;
  std::mt19937_64 rng(result.seed);

  // Type bindings.
  TypeBindings bindings;
  for (const auto& type_entry : request.types) {
    const std::string& var = type_entry.first;
    const std::string& dtype = type_entry.second;
    const auto it = std::find_if(info.type_vars.begin(), info.type_vars.end(), [&](const TypeVarInfo& t) { return t.name == var; });
    if (it == info.type_vars.end()) {
      throw Error(ErrorCode::kInvalidArgument, "kernel '" + info.name + "' has no type variable '" + var + "'");
    }
    const std::optional<DType> parsed = parse_dtype(dtype);
    if (!parsed || std::find(it->dtypes.begin(), it->dtypes.end(), *parsed) == it->dtypes.end()) {
      std::string allowed;
      for (DType t : it->dtypes) allowed += (allowed.empty() ? "" : ", ") + std::string(dtype_name(t));
      throw Error(ErrorCode::kInvalidArgument, "type " + var + "=" + dtype + " is not compiled in this pack (" + var + " in " + allowed + ")");
    }
  }
  for (const TypeVarInfo& t : info.type_vars) {
    auto it = request.types.find(t.name);
    bindings[t.name] = it == request.types.end() ? t.dtypes.front() : *parse_dtype(it->second);
  }
  auto dtype_of = [&](const ParamInfo& p) { return *resolve_dtype(p.dtype, bindings); };

  // Scalars.
  for (const auto& scalar_entry : request.scalars) {
    const std::string& name = scalar_entry.first;
    const auto it = std::find_if(info.params.begin(), info.params.end(),
                                 [&](const ParamInfo& p) { return p.name == name && p.kind == ParamKind::kScalar; });
    if (it == info.params.end()) {
      throw Error(ErrorCode::kInvalidArgument, "kernel '" + info.name + "' has no scalar parameter '" + name + "'");
    }
  }
  std::map<std::string, int64_t> int_values;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  for (const ParamInfo& p : info.params) {
    if (p.kind != ParamKind::kScalar) continue;
    auto it = request.scalars.find(p.name);
    if (it == request.scalars.end()) {
      throw Error(ErrorCode::kInvalidArgument, "missing --arg " + p.name + "=<" + p.dtype.text() + ">");
    }
    if (is_float(p.dtype.dtype)) {
      floats.push_back(parse_float(p.name, it->second));
    } else {
      ints.push_back(parse_int(p.name, it->second));
      int_values[p.name] = ints.back();
    }
  }
  for (const ConstexprValue& c : request.pinned) {
    if (c.value.is_integral()) int_values[c.name] = c.value.as_int();
  }
  auto lookup = [&](std::string_view name, int64_t& out) {
    auto it = int_values.find(std::string(name));
    if (it != int_values.end()) {
      out = it->second;
      return true;
    }
    for (const auto& [var, dtype] : bindings) {
      if (name == var + ".size") {
        out = static_cast<int64_t>(dtype_size(dtype));
        return true;
      }
    }
    return false;
  };

  // Tensors: random inputs, poisoned outputs (all ones: NaN in every float dtype).
  std::vector<HostTensor> tensors;
  std::vector<DeviceBuffer> buffers;
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (const ParamInfo& p : info.params) {
    if (p.kind != ParamKind::kTensor) continue;
    if (p.numel.empty()) {
      throw Error(ErrorCode::kInvalidSpec, "tensor '" + p.name + "' has no numel in the spec; `tritonpack run` cannot size it");
    }
    HostTensor t;
    t.param = &p;
    t.dtype = dtype_of(p);
    const int64_t numel = expr::Expr::parse(p.numel).eval(lookup);
    if (numel < 0 || numel > (int64_t{1} << 34)) {
      throw Error(ErrorCode::kInvalidArgument, "tensor '" + p.name + "' numel '" + p.numel + "' = " + std::to_string(numel) + " is out of range");
    }
    t.numel = static_cast<size_t>(numel);
    const size_t esize = dtype_size(t.dtype);
    t.bytes.assign(t.numel * esize, 0xff);
    t.values.assign(t.numel, std::numeric_limits<double>::quiet_NaN());
    if (!p.is_output) {
      for (size_t i = 0; i < t.numel; ++i) t.values[i] = encode(t.dtype, uniform(rng), &t.bytes[i * esize]);
    }
    DeviceBuffer b(d, t.bytes.size());
    b.upload(t.bytes.data(), t.bytes.size());
    buffers.push_back(std::move(b));
    tensors.push_back(std::move(t));
  }

  // Arguments in launch order.
  std::vector<Arg> args;
  size_t tensor_index = 0, int_index = 0, float_index = 0;
  for (const ParamInfo& p : info.params) {
    if (p.kind == ParamKind::kTensor) {
      args.push_back(Arg::tensor(buffers[tensor_index].get(), tensors[tensor_index].dtype));
      ++tensor_index;
    } else if (p.kind == ParamKind::kScalar) {
      args.push_back(is_float(p.dtype.dtype) ? Arg::real(floats[float_index++]) : Arg::integer(ints[int_index++]));
    }
  }
  LaunchOptions options;
  options.config = request.config;
  options.pinned = request.pinned;
  options.variant_id = request.variant_id;

  std::optional<Stream> own_stream;
  CUstream stream = request.stream;
  if (stream == nullptr) {
    own_stream.emplace(d);
    stream = own_stream->get();
  }
  const Selection selection = kernel.select(args, options);
  result.variant = selection.variant;
  result.uses_ptx = selection.uses_ptx;
  result.grid = selection.grid;
  kernel.launch(args, stream, options);
  TRITONPACK_CU(d, cuStreamSynchronize(stream), "after launching " + info.name);

  if (request.verify && !info.reference.empty()) {
    const Reference ref = reference(info.reference, tensors, ints, floats);
    size_t out_index = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].param->is_output) out_index = i;
    }
    HostTensor& out = tensors[out_index];
    buffers[out_index].download(out.bytes.data(), out.bytes.size());
    const size_t esize = dtype_size(out.dtype);
    double diff2 = 0, ref2 = 0;
    size_t unwritten = 0, first_bad = SIZE_MAX;
    for (size_t i = 0; i < out.numel; ++i) {
      if (!ref.checked[i]) continue;
      const double got = decode(out.dtype, &out.bytes[i * esize]);
      ++result.elements_checked;
      if (!std::isfinite(got)) {
        ++unwritten;
        if (first_bad == SIZE_MAX) first_bad = i;
        continue;
      }
      diff2 += (got - ref.expected[i]) * (got - ref.expected[i]);
      ref2 += ref.expected[i] * ref.expected[i];
    }
    result.verified = true;
    result.tolerance = tolerance_for(out.dtype);
    result.relative_error = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
    if (unwritten > 0) {
      result.passed = false;
      result.verify_message = std::to_string(unwritten) + " of " + std::to_string(result.elements_checked) +
                              " output elements are not finite (unwritten or NaN), first at index " + std::to_string(first_bad);
    } else {
      result.passed = result.relative_error <= result.tolerance;
      result.verify_message = "relative error " + std::to_string(result.relative_error) + " over " +
                              std::to_string(result.elements_checked) + " elements (tolerance " +
                              std::to_string(result.tolerance) + ")";
    }
  } else if (request.verify) {
    result.verify_message = "kernel has no reference; output not checked";
  }

  if (request.bench_runs > 0) {
    for (int i = 0; i < request.warmup_runs; ++i) kernel.launch(args, stream, options);
    std::vector<std::unique_ptr<Event>> events;
    for (int i = 0; i < 2 * request.bench_runs; ++i) events.push_back(std::make_unique<Event>(d));
    for (int i = 0; i < request.bench_runs; ++i) {
      events[2 * i]->record(stream);
      kernel.launch(args, stream, options);
      events[2 * i + 1]->record(stream);
    }
    events.back()->synchronize();
    for (int i = 0; i < request.bench_runs; ++i) result.times_ms.push_back(events[2 * i + 1]->since(*events[2 * i]));
    std::vector<float> sorted = result.times_ms;
    std::sort(sorted.begin(), sorted.end());
    result.median_ms = sorted[sorted.size() / 2];
    for (const ConstexprValue& c : result.variant->constexprs) {
      if (c.value.is_integral()) int_values[c.name] = c.value.as_int();
    }
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
