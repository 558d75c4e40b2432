// A launch through the C API (include/tritonpack/tritonpack.h) for the run harness: the harness's
// arguments and options converted to tp_arg / tp_launch_options and given to tp_kernel_launch, so
// that the GPU tests check the C interface with the same data, poison and references as C++.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/runtime.h"
#include "tritonpack/tritonpack.h"

namespace tritonpack::testing {

class CApiLauncher {
 public:
  // Opens `pack_path` and makes its kernel `name` through the C API. Throws on failure.
  CApiLauncher(const std::string& pack_path, const std::string& name) {
    tp_pack* pack = nullptr;
    check(tp_pack_open(pack_path.c_str(), &pack), "tp_pack_open");
    const tp_status made = tp_kernel_create(pack, name.c_str(), &kernel_);
    tp_pack_close(pack);
    check(made, "tp_kernel_create");
  }
  ~CApiLauncher() { tp_kernel_destroy(kernel_); }
  CApiLauncher(const CApiLauncher&) = delete;
  CApiLauncher& operator=(const CApiLauncher&) = delete;

  void launch(std::span<const Arg> args, CUstream stream, const LaunchOptions& options) const {
    std::vector<tp_arg> converted;
    for (const Arg& a : args) converted.push_back(to_c(a));
    std::vector<tp_constexpr> pins;
    std::vector<std::string> names;  // own the texts the C structs point at
    names.reserve(options.pinned.size() * 2);
    for (const ConstexprValue& p : options.pinned) {
      names.push_back(p.name);
      tp_constexpr c{};
      c.name = names.back().c_str();
      switch (p.value.kind()) {
        case Constant::Kind::kInt: c.kind = TP_CONSTEXPR_INT; c.value.int_value = p.value.as_int(); break;
        case Constant::Kind::kBool: c.kind = TP_CONSTEXPR_BOOL; c.value.bool_value = p.value.as_int() != 0; break;
        case Constant::Kind::kFloat: c.kind = TP_CONSTEXPR_FLOAT; c.value.float_value = p.value.as_float(); break;
        case Constant::Kind::kString:
          names.push_back(p.value.as_string());
          c.kind = TP_CONSTEXPR_STRING;
          c.value.string_value = names.back().c_str();
          break;
        case Constant::Kind::kNone: c.kind = TP_CONSTEXPR_NONE; break;
        case Constant::Kind::kDType:
          c.kind = TP_CONSTEXPR_DTYPE;
          c.value.dtype_value = static_cast<tp_dtype>(p.value.as_dtype());
          break;
      }
      pins.push_back(c);
    }
    const std::string config(options.config);
    tp_launch_options o{};
    o.config = config.empty() ? nullptr : config.c_str();
    o.workspace = options.workspace;
    o.workspace_size = options.workspace_size;
    o.pinned = pins.data();
    o.num_pinned = pins.size();
    o.use_variant_id = options.variant_id >= 0;
    o.variant_id = options.variant_id;
    check(tp_kernel_launch(kernel_, converted.data(), converted.size(), stream, &o), "tp_kernel_launch");
  }

 private:
  static tp_arg to_c(const Arg& a) {
    const auto dtype = static_cast<tp_dtype>(a.dtype);
    switch (a.kind) {
      case Arg::Kind::kTensor:
        return a.rank > 0 ? tp_tensor_shaped(a.pointer, dtype, a.rank, a.shape) : tp_tensor(a.pointer, dtype);
      case Arg::Kind::kDescriptor: return tp_descriptor(a.pointer, dtype, a.rank, a.shape, a.strides);
      case Arg::Kind::kInt: return tp_int(a.int_value);
      case Arg::Kind::kFloat: return tp_float(a.float_value);
    }
    return tp_int(0);
  }
  // A failed C call becomes the error the C++ call would have thrown, with the C API's message.
  static void check(tp_status status, const char* call) {
    if (status != TP_OK) {
      throw Error(static_cast<ErrorCode>(status), std::string(call) + ": " + tp_status_name(status) + ": " + tp_last_error());
    }
  }
  tp_kernel* kernel_ = nullptr;
};

}  // namespace tritonpack::testing
