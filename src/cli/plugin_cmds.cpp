// tritonpack import-plugingen, shapes and gen-cpp: the plugin side of the CLI.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_choice.h"
#include "cli/python_module.h"
#include "compiler/gen_cpp.h"
#include "plugin/model.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "tritonpack/plugin.h"

namespace tritonpack::cli {
namespace {

std::string shape_text(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return s.empty() ? "[]" : out;
}

// "Q=2x4x128x64" or "Q=2x4x128x64:fp16".
std::pair<std::string, TensorDesc> parse_input(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error(ErrorCode::kInvalidArgument, "--input '" + text + "': expected NAME=DIMxDIMx...[:dtype]");
  }
  TensorDesc d;
  std::string dims = text.substr(eq + 1);
  std::string dtype;
  if (const size_t colon = dims.find(':'); colon != std::string::npos) {
    dtype = dims.substr(colon + 1);
    dims = dims.substr(0, colon);
    auto t = parse_dtype(dtype);
    if (!t) throw Error(ErrorCode::kInvalidArgument, "--input '" + text + "': unknown dtype '" + dtype + "'");
    d.dtype = *t;
  }
  std::stringstream in(dims);
  std::string dim;
  while (std::getline(in, dim, 'x')) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(dim.c_str(), &end, 10);
    if (dim.empty() || *end != '\0' || errno != 0 || v < 0) {
      throw Error(ErrorCode::kInvalidArgument, "--input '" + text + "': '" + dim + "' is not a size");
    }
    d.shape.push_back(v);
  }
  return {text.substr(0, eq), d};
}

}  // namespace

int import_plugingen(const ImportOptions& o) {
  std::vector<std::string> args = {o.config, "-o", o.output};
  if (!o.kernel.empty()) {
    args.push_back("--kernel");
    args.push_back(o.kernel);
  }
  const int status = run_python_module(python_interpreter(o.python), "tritonpack_plugingen", args,
                                       "import-plugingen needs Python 3 (no Triton or TensorRT-LLM)");
  if (status == 0 && !o.quiet) std::cerr << "wrote " << o.output << "\n";
  return status;
}

int init(const InitOptions& o) {
  std::vector<std::string> args = {o.target, "-o", o.output};
  if (o.force) args.push_back("--force");
  const int status = run_python_module(python_interpreter(o.python), "tritonpack_init", args,
                                       "init needs Python 3 with Triton (pip install triton==3.6.0); no GPU");
  return status;
}

int shapes(const ShapesOptions& o) {
  // Arguments first: their mistakes are reported before the pack is read.
  std::vector<std::pair<std::string, TensorDesc>> given_inputs;
  std::vector<bool> has_dtype;
  for (const std::string& text : o.inputs) {
    given_inputs.push_back(parse_input(text));
    has_dtype.push_back(text.find(':') != std::string::npos);
  }
  std::vector<std::pair<std::string, std::string>> field_texts;  // NAME=VALUE, checked below
  for (const std::string& p : o.params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size()) {
      throw Error(ErrorCode::kInvalidArgument, "--param '" + p + "': expected NAME=NUMBER (or NAME=DTYPE for a dtype field)");
    }
    field_texts.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  auto pack = Pack::open(o.pack);
  const std::string kernel = choose_kernel(*pack, o.kernel).name;
  // A dtype field (an output's dtype no input decides) may be given by name: TO=bf16; any field
  // as a number.
  const std::vector<const TypeVarInfo*> dtype_fields = plugin::unbound_type_vars(pack->kernel(kernel));
  std::map<std::string, double, std::less<>> fields;
  for (const auto& item : field_texts) {
    // Named, not a structured binding: clang before 16 cannot capture one in a lambda.
    const std::string& name = item.first;
    const std::string& text = item.second;
    const bool dtype_field = std::any_of(dtype_fields.begin(), dtype_fields.end(),
                                         [&](const TypeVarInfo* v) { return v->name == name; });
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() && *end == '\0') {
      fields[name] = v;
    } else if (const std::optional<DType> dtype = parse_dtype(text); dtype && dtype_field) {
      fields[name] = static_cast<double>(*dtype);
    } else {
      throw Error(ErrorCode::kInvalidArgument, "--param '" + name + "=" + text + "': expected NAME=NUMBER" +
                                                   (dtype_field ? " or NAME=DTYPE" : "") +
                                                   (dtype && !dtype_field ? " ('" + name + "' is no dtype field)" : ""));
    }
  }
  PluginCore core = PluginCore::create(pack, kernel, fields);
  if (o.tactic != 0) core.set_tactic(o.tactic);
  const PluginDescription& d = core.describe();
  // Inputs by name, in the plugin's order; an input without a dtype takes its first allowed one.
  std::vector<TensorDesc> inputs(d.inputs.size());
  std::vector<bool> given(d.inputs.size(), false);
  for (size_t g = 0; g < given_inputs.size(); ++g) {
    const std::string& name = given_inputs[g].first;
    TensorDesc desc = given_inputs[g].second;
    size_t i = 0;
    while (i < d.inputs.size() && d.inputs[i].name != name) ++i;
    if (i == d.inputs.size()) {
      std::string names;
      for (const auto& t : d.inputs) names += (names.empty() ? "" : ", ") + t.name;
      throw Error(ErrorCode::kInvalidArgument, "--input " + name + ": plugin '" + d.name + "' has no input '" + name +
                                                   "' (inputs: " + names + ")");
    }
    if (!has_dtype[g]) desc.dtype = *parse_dtype(d.inputs[i].dtypes.front());
    inputs[i] = desc;
    given[i] = true;
  }
  for (size_t i = 0; i < given.size(); ++i) {
    if (!given[i]) throw Error(ErrorCode::kInvalidArgument, "give the shape of input '" + d.inputs[i].name + "' with --input " + d.inputs[i].name + "=...");
  }
  // Planned for a device of arch --arch (default sm_90): the runtime's candidates, the first of
  // which a launch with aligned tensors would use. When none fits, the shapes still show.
  core.set_target_arch(o.arch);
  core.set_target_sm_count(o.sm_count);
  PreparedLaunch prepared;
  PluginPlan plan;
  std::string variant_error;
  Selection sel{};
  try {
    prepared = core.prepare(inputs);
    plan = prepared.plan();
    sel = plan.candidates.front();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNoMatchingVariant) throw;
    variant_error = e.what();
    std::vector<Shape> shapes;
    std::vector<DType> dtypes;
    for (const TensorDesc& t : inputs) {
      shapes.push_back(t.shape);
      dtypes.push_back(t.dtype);
    }
    plan.output_shapes = core.output_shapes(shapes);
    plan.output_dtypes = core.output_dtypes(dtypes);
  }

  // Which tuning entry ordered the configs (or why none), as the runtime explains it, from the
  // prepared arguments: aligned placeholder addresses, every tensor's shape, descriptors' strides.
  std::string tuning;
  if (!prepared.empty()) {
    try {
      LaunchOptions options;
      options.sm_count = o.sm_count;  // as the plan took it: the arguments that name SM_COUNT agree
      tuning = Kernel(pack, kernel).explain(prepared.args(), options, o.arch).tuning;
    } catch (const Error& e) {
      tuning = std::string("cannot say: ") + e.what();
    }
  }

  if (o.json) {
    nlohmann::ordered_json j;
    j["plugin"] = d.name;
    j["kernel"] = kernel;
    for (size_t i = 0; i < d.outputs.size(); ++i) {
      j["outputs"][d.outputs[i].name] = {{"shape", plan.output_shapes[i]}, {"dtype", dtype_name(plan.output_dtypes[i])}};
    }
    for (const auto& [n, v] : plan.dim_args) j["dim_args"][n] = v;
    if (plan.sm_count != 0) j["sm_count"] = plan.sm_count;
    for (const auto& [n, v] : plan.fields) j["fields"][n] = v;
    for (size_t f = 0; f < d.fields.size(); ++f) {
      if (!d.fields[f].dtypes.empty()) j["fields"][d.fields[f].name] = dtype_name(*dtype_of_code(core.fields()[f]));
    }
    for (const auto& s : plan.scratch) j["scratch"][s.name] = {{"shape", s.shape}, {"dtype", dtype_name(s.dtype)}, {"offset", s.offset}, {"bytes", s.bytes}};
    j["workspace_bytes"] = plan.workspace_bytes;
    if (sel.variant) {
      j["grid"] = sel.grid;
      j["variant"] = sel.variant->id;
      j["uses_ptx"] = sel.uses_ptx;
      j["config"] = pack->kernel(kernel).configs[sel.variant->config_index].name;
      const KernelInfo& info = pack->kernel(kernel);
      for (size_t i = 0; i < plan.steps.size(); ++i) {
        const Selection& step = plan.steps[i].front();
        j["steps"].push_back({{"step", step_text(info.steps[i])}, {"variant", step.variant->id}, {"grid", step.grid},
                              {"config", info.configs[step.variant->config_index].name}});
      }
    } else {
      j["variant_error"] = variant_error;
    }
    if (!tuning.empty()) j["tuning"] = tuning;
    std::cout << j.dump(2) << "\n";
    return sel.variant ? 0 : 1;
  }
  std::cout << "plugin " << d.plugin_namespace << "::" << d.name << " v" << d.version << " (kernel " << kernel << ")\n";
  std::cout << "inputs:\n";
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    std::cout << "  " << d.inputs[i].name << "  " << shape_text(inputs[i].shape) << "  " << dtype_name(inputs[i].dtype) << "\n";
  }
  std::cout << "outputs:\n";
  for (size_t i = 0; i < d.outputs.size(); ++i) {
    std::cout << "  " << d.outputs[i].name << "  " << shape_text(plan.output_shapes[i]) << "  "
              << dtype_name(plan.output_dtypes[i]) << "\n";
  }
  if (!plan.dim_args.empty()) {
    std::cout << "dim-size arguments:\n";
    for (const auto& [n, v] : plan.dim_args) std::cout << "  " << n << " = " << v << "\n";
  }
  if (plan.sm_count != 0) {
    // A dim-size argument names SM_COUNT: its value (and the scratch it sizes) is this GPU's.
    std::cout << "  with " << kSmCountName << " = " << plan.sm_count
              << (o.sm_count != 0 ? " (as given)"
                                  : " (assumed for an sm_" + std::to_string(o.arch) + " GPU; --sm-count sets another)")
              << "\n";
  }
  if (!d.fields.empty()) {
    std::cout << "fields:\n";
    for (const auto& [n, v] : plan.fields) std::cout << "  " << n << " = " << v << "\n";
    for (size_t f = 0; f < d.fields.size(); ++f) {
      if (d.fields[f].dtypes.empty()) continue;
      std::cout << "  " << d.fields[f].name << " = " << dtype_name(*dtype_of_code(core.fields()[f]))
                << " (dtype field)\n";
    }
  }
  std::cout << "workspace: " << plan.workspace_bytes << " bytes";
  if (!plan.scratch.empty() || plan.kernel_scratch_bytes > 0) {
    std::cout << " (";
    for (const auto& s : plan.scratch) {
      std::cout << s.name << " " << shape_text(s.shape) << " " << dtype_name(s.dtype) << " at " << s.offset << ", ";
    }
    std::cout << "kernel scratch " << plan.kernel_scratch_bytes << ")";
  }
  std::cout << "\n";
  if (sel.variant) {
    std::cout << "grid: " << sel.grid[0] << " x " << sel.grid[1] << " x " << sel.grid[2] << "\n";
    const VariantInfo& v = *sel.variant;
    std::cout << "variant on sm_" << sel.device_arch << ": " << v.id << " (config "
              << pack->kernel(kernel).configs[v.config_index].name;
    for (const auto& [var, t] : v.bindings) std::cout << ", " << var << "=" << dtype_name(t);
    for (const ConstexprValue& c : v.constexprs) std::cout << ", " << c.name << "=" << c.value.text();
    std::cout << ", " << (sel.uses_ptx ? "PTX JIT" : "cubin") << ")\n";
    // A kernel in steps: the above is the first step's; each step's own variant and grid.
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Selection& step = plan.steps[i].front();
      std::cout << "step " << i + 1 << " of " << plan.steps.size() << " (" << step_text(pack->kernel(kernel).steps[i])
                << "): variant " << step.variant->id << ", grid " << step.grid[0] << " x " << step.grid[1] << " x "
                << step.grid[2] << "\n";
    }
    if (!tuning.empty()) std::cout << "tuning: " << tuning << "\n";
    return 0;
  }
  std::cout << "variant: none can run: " << variant_error << "\n";
  return 1;
}

}  // namespace tritonpack::cli

namespace tritonpack::cli {

int gen_cpp(const GenCppOptions& o) {
  auto pack = Pack::open(o.pack);
  const std::string name = std::filesystem::path(o.pack).filename().string();
  const std::string header = plugin::generate_cpp_header(*pack, name, o.name_space);
  const std::vector<uint8_t> bytes(header.begin(), header.end());
  write_file_atomically(o.output, bytes);
  std::cerr << "wrote " << o.output << "\n";
  return 0;
}

}  // namespace tritonpack::cli
