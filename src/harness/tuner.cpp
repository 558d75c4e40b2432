#include "harness/tuner.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "harness/references.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "tritonpack/expr.h"
#include "tritonpack/tritonpack.h"
#include "tritonpack/tuning.h"
#include "util/text.h"

namespace tritonpack::harness {
namespace {

// Twice the run harness's tolerance for the dtype: two right configs each round their own result.
// With FP8 inputs see fp8_input_slack.
double agreement_tolerance(DType t) {
  switch (t) {
    case DType::kFp16: return 4e-3;
    case DType::kBf16: return 3.2e-2;
    case DType::kFp32: return 1e-4;
    default: return 0;  // integers and fp64: equal
  }
}

// With FP8 inputs, what an output of 16 bits or fewer may differ by on top of its dtype's
// agreement: an FP8 kernel rounds values it computes to the FP8 type for the tensor cores (the
// attention's softmax numerators P), against a scale that depends on the config (the running
// maximum of each key block), so two right configs round differently. Independent roundings of
// at most u each differ by about 0.8 u in the norm, so one unit roundoff of the least precise FP8
// input (2^-4 for e4m3, 2^-3 for e5m2), what the run harness allows against float64
// (references.cpp). Outputs of fp32 and wider (statistics such as a log-sum-exp, taken before
// any rounding to FP8) and integer outputs keep their own agreement.
double fp8_input_slack(const RunPlan& plan, DType output) {
  if (!is_float(output) || dtype_size(output) > 2) return 0;
  double slack = 0;
  for (const PlannedOperand& op : plan.operands) {
    if (op.written || (op.dtype != DType::kFp8e4nv && op.dtype != DType::kFp8e5)) continue;
    slack = std::max(slack, unit_roundoff(op.dtype));
  }
  return slack;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// "580.159.04, CUDA 13.0": the kernel module's version when Linux shows it, and the driver API's.
std::string driver_text(const driver::Driver& d) {
  int version = 0;
  TRITONPACK_CU(d, cuDriverGetVersion(&version), "reading the driver version");
  const std::string cuda = "CUDA " + std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  if (std::getline(in, line)) {
    const size_t at = line.find("Kernel Module");
    if (at != std::string::npos) {
      std::istringstream words(line.substr(at + 13));
      std::string module;
      if (words >> module) return module + ", " + cuda;
    }
  }
  return cuda;
}

RunRequest request_for(const TuningShape& s) {
  RunRequest r;
  for (const auto& [var, dtype] : s.bindings) r.types[var] = std::string(dtype_name(dtype));
  for (const auto& [name, value] : s.values) r.values[name] = std::to_string(value);
  for (const auto& [name, value] : s.reals) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    r.values[name] = text;
  }
  return r;
}

// Uniform values in [-1, 1) rounded to the dtype, from a small fast generator (inputs of a large
// matmul are hundreds of millions of elements).
void fill_random(DType dtype, std::vector<uint8_t>& bytes, size_t elements, uint64_t& state) {
  const size_t esize = dtype_size(dtype);
  for (size_t i = 0; i < elements; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const double u = static_cast<double>(state >> 11) * 0x1.0p-53;
    encode(dtype, 2 * u - 1, &bytes[i * esize]);
  }
}

bool all_poison(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == kPoisonByte; });
}

// `got` against the reference config's `want` (same dtype and size): elements written by one and
// not the other, non-finite values the other does not equal, and the normwise relative error (at most
// `tolerance`).
void compare_outputs(const std::string& name, DType dtype, double tolerance, const std::vector<uint8_t>& want,
                     const std::vector<uint8_t>& got, ConfigMeasurement& m) {
  const size_t esize = dtype_size(dtype);
  const size_t n = want.size() / esize;
  size_t written_differently = 0, not_finite = 0;
  double diff2 = 0, want2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* w = &want[i * esize];
    const uint8_t* g = &got[i * esize];
    const bool wp = all_poison(w, esize), gp = all_poison(g, esize);
    if (wp || gp) {
      written_differently += wp != gp;
      continue;
    }
    const double a = decode(dtype, w), b = decode(dtype, g);
    if (!std::isfinite(a) || !std::isfinite(b)) {
      // Equal infinities agree (a log-sum-exp over no key); a NaN never does.
      not_finite += !(a == b);
      continue;
    }
    diff2 += (a - b) * (a - b);
    want2 += a * a;
  }
  const double error = want2 > 0 ? std::sqrt(diff2 / want2) : std::sqrt(diff2);
  m.relative_error = std::max(m.relative_error, error);
  std::string problem;
  if (written_differently > 0) problem += std::to_string(written_differently) + " elements written by one config only";
  if (not_finite > 0) problem += (problem.empty() ? "" : ", ") + std::to_string(not_finite) + " non-finite elements";
  if (error > tolerance) {
    char text[96];
    std::snprintf(text, sizeof text, "relative error %.3g > %.3g", error, tolerance);
    problem += (problem.empty() ? "" : ", ") + std::string(text);
  }
  if (!problem.empty()) {
    m.correct = false;
    m.message += (m.message.empty() ? "" : "; ") + name + " differs from the reference config's: " + problem;
  }
}

}  // namespace

std::vector<int64_t> tuning_key_values(const KernelInfo& kernel, const TuningShape& shape) {
  const RunPlan plan = plan_run(kernel, request_for(shape));
  auto lookup = [&](std::string_view name, int64_t& out) {
    const auto it = plan.integers.find(name);
    if (it == plan.integers.end()) return false;
    out = it->second;
    return true;
  };
  std::vector<int64_t> values;
  for (const std::string& key : kernel.tuning.key) values.push_back(expr::Expr::parse(key).eval(lookup));
  return values;
}

std::string tuning_shape_text(const TuningShape& s) {
  std::string out;
  for (const auto& [name, value] : s.values) out += (out.empty() ? "" : " ") + name + "=" + std::to_string(value);
  for (const auto& [name, value] : s.reals) {
    char text[40];
    std::snprintf(text, sizeof text, "%g", value);
    out += (out.empty() ? "" : " ") + name + "=" + text;
  }
  for (const auto& [var, dtype] : s.bindings) out += (out.empty() ? "" : " ") + var + "=" + std::string(dtype_name(dtype));
  return out;
}

TuningShape parse_tuning_shape(const KernelInfo& kernel, std::string_view text) {
  // What the kernel takes by name: integer scalars, float scalars, launch variables, dim names.
  std::vector<std::string> integers, reals;
  for (const ParamInfo& p : kernel.params) {
    if (p.kind != ParamKind::kScalar || p.dtype.is_variable()) continue;
    (is_float(p.dtype.dtype) ? reals : integers).push_back(p.name);
  }
  for (const LaunchVarInfo& v : kernel.launch_vars) integers.push_back(v.name);
  for (const ParamInfo& p : kernel.params) {
    const bool input = (p.kind == ParamKind::kTensor && !p.is_output && !p.is_scratch) || p.kind == ParamKind::kTensorDesc;
    for (const std::string& d : p.dims) {
      if (input && text::is_identifier(d) && std::find(integers.begin(), integers.end(), d) == integers.end()) integers.push_back(d);
    }
  }
  auto fail = [&](const std::string& what) -> Error {
    std::string names;
    for (const auto* list : {&integers, &reals}) {
      for (const std::string& n : *list) names += (names.empty() ? "" : ", ") + n;
    }
    for (const TypeVarInfo& v : kernel.type_vars) names += (names.empty() ? "" : ", ") + v.name;
    return Error(ErrorCode::kInvalidArgument, "--shape '" + std::string(text) + "': " + what + "; kernel '" +
                                                  kernel.name + "' takes " + names);
  };
  TuningShape shape;
  for (const TypeVarInfo& v : kernel.type_vars) shape.bindings[v.name] = v.dtypes.front();
  std::string item;
  std::vector<std::string> items;
  for (char c : std::string(text) + ",") {
    if (c == ',' || c == ' ') {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (items.empty()) throw fail("no NAME=VALUE");
  for (const std::string& it : items) {
    const size_t eq = it.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == it.size()) throw fail("'" + it + "' is not NAME=VALUE");
    const std::string name = it.substr(0, eq), value = it.substr(eq + 1);
    const bool given = shape.values.count(name) || shape.reals.count(name);
    if (given) throw fail("'" + name + "' is given twice");
    const auto var = std::find_if(kernel.type_vars.begin(), kernel.type_vars.end(),
                                  [&](const TypeVarInfo& v) { return v.name == name; });
    if (var != kernel.type_vars.end()) {
      const std::optional<DType> dtype = parse_dtype(value);
      if (!dtype || std::find(var->dtypes.begin(), var->dtypes.end(), *dtype) == var->dtypes.end()) {
        throw fail("'" + value + "' is not one of the dtypes of type variable " + name);
      }
      shape.bindings[name] = *dtype;
      continue;
    }
    const bool integer = std::find(integers.begin(), integers.end(), name) != integers.end();
    const bool real = std::find(reals.begin(), reals.end(), name) != reals.end();
    if (!integer && !real) throw fail("'" + name + "' is not a scalar, launch variable, dim name or type variable");
    size_t used = 0;
    try {
      if (integer) {
        shape.values[name] = std::stoll(value, &used);
      } else {
        shape.reals[name] = std::stod(value, &used);
      }
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != value.size()) throw fail("'" + value + "' is not " + (integer ? "an integer" : "a number"));
  }
  return shape;
}

std::vector<TuningEntry> entries_from(const KernelInfo& kernel, const std::vector<ShapeMeasurement>& shapes) {
  struct Group {
    TuningEntry entry;
    std::map<uint32_t, std::pair<double, int>> log_time;  // config -> (sum of log(us), launches)
    std::map<uint32_t, bool> right_everywhere;
    int launches = 0;
  };
  std::vector<Group> groups;
  for (const ShapeMeasurement& s : shapes) {
    if (!s.skipped.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.entry.bindings == s.shape.bindings && g.entry.bin == s.bin;
    });
    if (it == groups.end()) {
      Group g;
      g.entry.bindings = s.shape.bindings;
      g.entry.bin = s.bin;
      g.entry.values = s.shape.values;
      groups.push_back(std::move(g));
      it = groups.end() - 1;
    }
    ++it->launches;
    for (uint32_t c = 0; c < kernel.configs.size(); ++c) {
      const auto m = std::find_if(s.configs.begin(), s.configs.end(), [&](const ConfigMeasurement& x) { return x.config == c; });
      const bool right = m != s.configs.end() && m->ran && m->correct && m->median_us > 0;
      auto [flag, fresh] = it->right_everywhere.emplace(c, right);
      if (!fresh) flag->second = flag->second && right;
      if (right) {
        it->log_time[c].first += std::log(m->median_us);
        it->log_time[c].second += 1;
      }
    }
  }
  std::vector<TuningEntry> out;
  for (Group& g : groups) {
    std::vector<std::pair<double, uint32_t>> ranked;  // (geometric mean us, config)
    for (const auto& [c, right] : g.right_everywhere) {
      if (right) ranked.emplace_back(std::exp(g.log_time[c].first / g.log_time[c].second), c);
    }
    if (ranked.empty()) continue;
    std::stable_sort(ranked.begin(), ranked.end());
    for (const auto& [us, c] : ranked) {
      g.entry.configs.push_back(kernel.configs[c].name);
      g.entry.times_us.push_back(std::round(us * 1000) / 1000);
    }
    out.push_back(std::move(g.entry));
  }
  return out;
}

TuneResult tune_kernel(const DeviceContext& device, Kernel& kernel, const TuneRequest& request) {
  const KernelInfo& info = kernel.info();
  const TuningInfo& tuning = info.tuning;
  if (tuning.key.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "kernel '" + info.name +
                                                 "' has no tuning key: add a [tuning] table to its spec "
                                                 "(docs/tuning.md) and compile the pack again");
  }
  const std::vector<TuningShape>& shapes = request.shapes != nullptr ? *request.shapes : tuning.shapes;
  if (shapes.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "kernel '" + info.name +
                                                 "' lists no launches to measure: add [[tuning.shapes]] to its spec, or give "
                                                 "them with tritonpack tune --shape");
  }
  const driver::Driver& d = device.driver();
  auto say = [&](const std::string& line) {
    if (request.progress) request.progress(line);
  };
  TuneResult result;
  result.seed = request.seed != 0 ? request.seed : (std::random_device{}() | 1ull);
  uint64_t state = result.seed;
  result.table.device = device.name();
  result.table.arch = static_cast<uint32_t>(device.arch());
  result.table.driver = driver_text(d);
  result.table.triton_version = info.variants.empty() ? std::string() : info.variants.front().triton_version;
  result.table.date = now_utc();
  result.table.tool = std::string("tritonpack ") + tp_version();

  Stream stream(d);
  DeviceBuffer flush(d, request.flush_bytes);
  const int runs = std::max(request.runs, 1);
  std::vector<std::unique_ptr<Event>> events;
  for (int i = 0; i < 2 * runs; ++i) events.push_back(std::make_unique<Event>(d));

  const size_t total = shapes.size();
  for (size_t si = 0; si < total; ++si) {
    ShapeMeasurement sm;
    sm.shape = shapes[si];
    const std::string label = "[" + std::to_string(si + 1) + "/" + std::to_string(total) + "] " + tuning_shape_text(sm.shape);
    const RunPlan plan = plan_run(info, request_for(sm.shape), device.sm_count());
    try {
      sm.key_values = tuning_key_values(info, sm.shape);
      for (size_t k = 0; k < tuning.key.size(); ++k) sm.bin.push_back(tuning::bin_of(tuning.bins[k], sm.key_values[k]));
    } catch (const Error& e) {
      sm.skipped = std::string("the key cannot be evaluated from this launch's values: ") + e.what();
      say(label + ": skipped: " + sm.skipped);
      result.shapes.push_back(std::move(sm));
      continue;
    }
    LaunchOptions spec_order;
    spec_order.use_tuning = false;
    const std::vector<CUdeviceptr> placeholders(plan.operands.size(), kPlaceholder);
    // Per config that can serve the launch: the variant it runs (a kernel in steps: its first
    // step's; a config is measured when every step can run it, timing the whole operation).
    std::vector<Selection> chosen;
    std::vector<Selection> sizing;  // every variant the measured launches may run, to size operands
    try {
      const auto candidates_of_step = [&](int32_t step) {
        LaunchOptions options = spec_order;
        if (step >= 0) options.pinned = info.steps[static_cast<size_t>(step)];
        return kernel.candidates(plan.args(placeholders), options);
      };
      const auto has_config = [](const std::vector<Selection>& list, uint32_t config) {
        return std::any_of(list.begin(), list.end(), [&](const Selection& c) { return c.variant->config_index == config; });
      };
      std::vector<std::vector<Selection>> steps;
      for (size_t i = 0; i < std::max<size_t>(info.steps.size(), 1); ++i) {
        steps.push_back(candidates_of_step(info.steps.empty() ? -1 : static_cast<int32_t>(i)));
        sizing.insert(sizing.end(), steps.back().begin(), steps.back().end());
      }
      for (const Selection& s : steps.front()) {
        const bool every_step = std::all_of(steps.begin(), steps.end(), [&](const std::vector<Selection>& step) {
          return has_config(step, s.variant->config_index);
        });
        if (every_step && !has_config(chosen, s.variant->config_index)) chosen.push_back(s);
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNoMatchingVariant) throw;
      sm.skipped = e.what();
    }
    if (chosen.empty()) {
      if (sm.skipped.empty()) sm.skipped = kernel.explain(plan.args(placeholders), spec_order).text();
      say(label + ": skipped, no variant can run it:\n" + sm.skipped);
      result.shapes.push_back(std::move(sm));
      continue;
    }
    std::string bins;
    for (size_t k = 0; k < tuning.key.size(); ++k) {
      bins += (k ? ", " : "") + tuning.key[k] + " " + tuning::bin_text(tuning.bins[k], sm.bin[k]);
    }
    say(label + " (bin " + bins + "): " + std::to_string(chosen.size()) + " configs");

    // Operands: sized for the largest any chosen variant needs; inputs random, the rest poisoned.
    std::vector<DeviceBuffer> buffers;
    std::vector<CUdeviceptr> pointers;
    std::vector<size_t> sizes;
    for (const PlannedOperand& op : plan.operands) {
      int64_t numel = 0;
      for (const Selection& s : sizing) numel = std::max(numel, plan.numel(op, *s.variant));
      if (numel > (int64_t{1} << 34)) {
        throw Error(ErrorCode::kInvalidArgument, "kernel '" + info.name + "', " + tuning_shape_text(sm.shape) + ": '" +
                                                     op.param->name + "' would have " + std::to_string(numel) +
                                                     " elements; tune allocates at most 2^34");
      }
      const size_t bytes = static_cast<size_t>(numel) * dtype_size(op.dtype);
      std::vector<uint8_t> host(bytes, kPoisonByte);
      if (!op.written) fill_random(op.dtype, host, static_cast<size_t>(numel), state);
      DeviceBuffer buffer(d, bytes);
      buffer.upload(host.data(), bytes);
      pointers.push_back(buffer.get());
      sizes.push_back(bytes);
      buffers.push_back(std::move(buffer));
    }
    const std::vector<Arg> args = plan.args(pointers);
    std::vector<std::vector<uint8_t>> reference;  // per compared output: the reference config's bytes
    for (const Selection& s : chosen) {
      ConfigMeasurement m;
      m.config = s.variant->config_index;
      m.variant_id = s.variant->id;
      LaunchOptions options;
      options.use_tuning = false;
      if (info.steps.empty()) {
        options.variant_id = static_cast<int32_t>(s.variant->id);
      } else {
        options.config = info.configs[m.config].name;  // every step, each with this config
      }
      bool was_reference = false;
      try {
        for (size_t i = 0; i < plan.operands.size(); ++i) {
          if (plan.operands[i].written) buffers[i].fill(kPoisonByte);
        }
        kernel.launch(args, stream.get(), options);
        stream.synchronize();
        m.ran = true;
        m.correct = true;
        size_t compared = 0;
        const bool is_reference = reference.empty();
        was_reference = is_reference;
        for (size_t i = 0; i < plan.operands.size(); ++i) {
          const PlannedOperand& op = plan.operands[i];
          if (!op.written || op.param->is_scratch) continue;
          std::vector<uint8_t> host(sizes[i]);
          buffers[i].download(host.data(), host.size());
          if (is_reference) {
            reference.push_back(std::move(host));
          } else {
            compare_outputs(op.param->name, op.dtype, agreement_tolerance(op.dtype) + fp8_input_slack(plan, op.dtype),
                            reference[compared], host, m);
          }
          ++compared;
        }
        for (int w = 0; w < request.warmup; ++w) kernel.launch(args, stream.get(), options);
        for (int r = 0; r < runs; ++r) {
          TRITONPACK_CU(d, cuMemsetD8Async(flush.get(), static_cast<unsigned char>(r), flush.size(), stream.get()),
                        "flushing L2");
          events[2 * r]->record(stream.get());
          kernel.launch(args, stream.get(), options);
          events[2 * r + 1]->record(stream.get());
        }
        events.back()->synchronize();
        std::vector<double> us;
        for (int r = 0; r < runs; ++r) us.push_back(1e3 * events[2 * r + 1]->since(*events[2 * r]));
        std::sort(us.begin(), us.end());
        m.median_us = runs % 2 ? us[runs / 2] : (us[runs / 2 - 1] + us[runs / 2]) / 2;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kNoDriver) throw;
        m.correct = false;
        m.message = e.what();
        // The reference config failing (after its launch: reading its outputs, or timing) leaves
        // no reference, or half of one: the next config that runs becomes the reference. Another
        // config failing keeps it (clearing it whenever a config failed made the next config,
        // right or wrong, the reference of those after it).
        if (was_reference) reference.clear();
      }
      char line[160];
      std::snprintf(line, sizeof line, "    %-24s variant %-5u %12.3f us  %s", info.configs[m.config].name.c_str(),
                    m.variant_id, m.median_us,
                    !m.ran ? "FAILED TO RUN" : m.correct ? (was_reference ? "reference" : "agrees") : "WRONG");
      say(line + (m.message.empty() ? std::string() : "\n      " + m.message));
      sm.configs.push_back(std::move(m));
    }
    result.shapes.push_back(std::move(sm));
  }
  result.table.entries = entries_from(info, result.shapes);
  return result;
}

}  // namespace tritonpack::harness
