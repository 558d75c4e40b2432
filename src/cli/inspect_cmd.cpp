// `tritonpack inspect`: what a pack holds, as text or JSON.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "driver/driver.h"
#include "runtime/selection.h"
#include "harness/device.h"
#include "tritonpack/pack.h"

namespace tritonpack::cli {
namespace {

std::string variant_key(const KernelInfo& k, const VariantInfo& v) {
  std::ostringstream os;
  bool first = true;
  for (const auto& [var, dtype] : v.bindings) {
    os << (first ? "" : " ") << var << "=" << dtype_name(dtype);
    first = false;
  }
  for (const auto& c : v.constexprs) {
    os << (first ? "" : " ") << c.name << "=" << c.value.text();
    first = false;
  }
  os << (first ? "" : " ") << "cfg=" << k.configs[v.config_index].name;
  for (const auto& a : v.args) {
    if (a.divisibility > 1) os << " " << a.name << "%" << a.divisibility;
  }
  return os.str();
}

struct Registers {
  int registers = -1, local = -1;
};

// Loads a variant's cubin on the current device to read its registers and local (spill) bytes.
Registers read_registers(const driver::Driver& d, const Pack& pack, const VariantInfo& v, int device_arch) {
  runtime::DeviceCaps caps;
  caps.arch = static_cast<uint32_t>(device_arch);
  caps.max_shared_optin = UINT32_MAX;
  if (runtime::image_for(v, caps) != runtime::Image::kCubin) return {};
  const auto blob = pack.blob(v.cubin_blob);
  CUmodule module = nullptr;
  TRITONPACK_CU(d, cuModuleLoadDataEx(&module, blob.data(), 0, nullptr, nullptr), "variant " + std::to_string(v.id));
  Registers r;
  CUfunction fn = nullptr;
  if (d.api().cuModuleGetFunction(&fn, module, v.entry.c_str()) == CUDA_SUCCESS) {
    d.api().cuFuncGetAttribute(&r.registers, CU_FUNC_ATTRIBUTE_NUM_REGS, fn);
    d.api().cuFuncGetAttribute(&r.local, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, fn);
  }
  d.api().cuModuleUnload(module);
  return r;
}

}  // namespace

int inspect(const InspectOptions& o) {
  const auto pack = Pack::open(o.pack);
  const Manifest& m = pack->manifest();
  if (o.json) {
    std::cout << manifest_to_json(m, 2) << "\n";
    return 0;
  }
  std::unique_ptr<harness::DeviceContext> device;
  if (o.registers) device = std::make_unique<harness::DeviceContext>(driver::Driver::system(), o.device);

  uint64_t cubin_bytes = 0, ptx_bytes = 0;
  for (const BlobInfo& b : m.blobs) (b.kind == "cubin" ? cubin_bytes : ptx_bytes) += b.size;
  std::cout << "pack " << o.pack << ": " << pack->bytes().size() << " bytes, manifest v" << m.manifest_version
            << ", " << m.created_by << "\n"
            << "blobs: " << m.blobs.size() << " (cubin " << cubin_bytes << " bytes, ptx " << ptx_bytes << " bytes)\n";
  for (const KernelInfo& k : m.kernels) {
    std::cout << "\nkernel " << k.name << " = " << k.function << " from " << k.source_file << "\n";
    if (!k.variants.empty()) std::cout << "  triton " << k.variants.front().triton_version << "\n";
    std::cout << "  params:\n";
    for (const ParamInfo& p : k.params) {
      std::cout << "    " << std::left << std::setw(20) << p.name << std::setw(11) << param_kind_name(p.kind)
                << (p.kind == ParamKind::kConstexpr ? "" : p.dtype.text());
      if (p.kind == ParamKind::kTensor) std::cout << (p.is_output ? " out" : p.is_scratch ? " scratch" : " in");
      if (!p.block.empty()) {
        std::cout << " block [";
        for (size_t d = 0; d < p.block.size(); ++d) std::cout << (d ? ", " : "") << p.block[d];
        std::cout << "]";
      }
      if (!p.layout.empty()) std::cout << " layout " << p.layout;
      if (!p.dims.empty()) {
        std::cout << "  dims [";
        for (size_t d = 0; d < p.dims.size(); ++d) std::cout << (d ? ", " : "") << p.dims[d];
        std::cout << "]";
      }
      if (!p.numel.empty()) std::cout << "  numel=" << p.numel;
      if (p.kind == ParamKind::kConstexpr) {
        std::vector<std::string> values;
        for (const VariantInfo& v : k.variants) {
          for (const ConstexprValue& c : v.constexprs) {
            if (c.name == p.name && std::find(values.begin(), values.end(), c.value.text()) == values.end()) {
              values.push_back(c.value.text());
            }
          }
        }
        std::cout << "values {";
        for (size_t i = 0; i < values.size(); ++i) std::cout << (i ? ", " : "") << values[i];
        std::cout << "}";
      }
      if (!p.heuristic.empty()) std::cout << "  heuristic " << p.name << " = " << p.heuristic;
      std::cout << "\n";
    }
    for (const LaunchVarInfo& v : k.launch_vars) {
      std::cout << "  launch variable " << v.name << ": " << dtype_name(v.dtype);
      if (v.min) std::cout << " min " << *v.min;
      if (v.max) std::cout << " max " << *v.max;
      std::cout << "\n";
    }
    for (const std::string& c : k.constraints) std::cout << "  rule: " << c << "\n";
    for (const TypeVarInfo& t : k.type_vars) {
      std::cout << "  type " << t.name << " in {";
      for (size_t i = 0; i < t.dtypes.size(); ++i) std::cout << (i ? ", " : "") << dtype_name(t.dtypes[i]);
      std::cout << "}\n";
    }
    std::cout << "  grid: (" << k.grid[0] << ", " << k.grid[1] << ", " << k.grid[2] << ")\n";
    for (const ConfigInfo& c : k.configs) {
      std::cout << "  config " << c.name << ": num_warps=" << c.num_warps << " num_stages=" << c.num_stages
                << " num_ctas=" << c.num_ctas;
      for (const auto& v : c.constexprs) std::cout << " " << v.name << "=" << v.value.text();
      std::cout << "\n";
    }
    if (!k.bench.bytes.empty()) std::cout << "  bench bytes: " << k.bench.bytes << "\n";
    if (!k.bench.flops.empty()) std::cout << "  bench flops: " << k.bench.flops << "\n";
    if (!k.reference.empty()) std::cout << "  reference: " << k.reference << "\n";
    std::cout << "  variants: " << k.variants.size() << "\n";
    std::cout << "    " << std::left << std::setw(4) << "id" << std::setw(66) << "specialization" << std::setw(8)
              << "arch" << std::setw(7) << "warps" << std::setw(7) << "stages" << std::setw(5) << "ctas"
              << std::setw(8) << "shared" << std::setw(9) << "scratch" << std::setw(8) << "cubin" << std::setw(8)
              << "ptx" << "regs/spill\n";
    for (const VariantInfo& v : k.variants) {
      std::string regs = "n/a";
      if (device) {
        const Registers r = read_registers(device->driver(), *pack, v, device->arch());
        regs = r.registers < 0 ? "not for sm_" + std::to_string(device->arch())
                               : std::to_string(r.registers) + "/" + std::to_string(r.local);
      }
      std::cout << "    " << std::left << std::setw(4) << v.id << std::setw(66) << variant_key(k, v) << std::setw(8)
                << v.ptx_target << std::setw(7) << v.num_warps << std::setw(7) << v.num_stages << std::setw(5)
                << v.num_ctas << std::setw(8) << v.shared << std::setw(9) << v.global_scratch_size << std::setw(8)
                << (v.cubin_blob >= 0 ? std::to_string(m.blobs[v.cubin_blob].size) : "-") << std::setw(8)
                << (v.ptx_blob >= 0 ? std::to_string(m.blobs[v.ptx_blob].size) : "-") << regs << "\n";
    }
    if (!device) std::cout << "  (registers and spills: run with --registers on a machine with a GPU)\n";
  }
  return 0;
}

}  // namespace tritonpack::cli
