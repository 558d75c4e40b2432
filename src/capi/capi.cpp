// The C API: the one place where exceptions become status codes (run_guarded), and the
// conversions from C structs to the C++ API's values.
#include "tritonpack/tritonpack.h"

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "capi/capi_internal.h"
#include "tritonpack/constant.h"
#include "tritonpack/pack.h"
#include "tritonpack/runtime.h"

#ifndef TRITONPACK_VERSION
#error "TRITONPACK_VERSION must be defined by the build (CMakeLists.txt)"
#endif

// The header's version macros follow the project's version (the VERSION file, read by CMakeLists.txt).
static_assert(TP_VERSION_MAJOR == TRITONPACK_VERSION_MAJOR && TP_VERSION_MINOR == TRITONPACK_VERSION_MINOR &&
                  TP_VERSION_PATCH == TRITONPACK_VERSION_PATCH,
              "TP_VERSION_* in tritonpack.h differ from the project's version");

// tp_dtype is tritonpack::DType by value.
static_assert(TP_FP16 == static_cast<int>(tritonpack::DType::kFp16) &&
              TP_I1 == static_cast<int>(tritonpack::DType::kI1) &&
              TP_FP8E5 == static_cast<int>(tritonpack::DType::kFp8e5) && TP_FP8E5 + 1 == tritonpack::kNumDTypes);

namespace tritonpack::capi {
namespace {

thread_local std::string last_error;

// A caller's buffer cannot hold a text; the message says how many bytes it needs.
class BufferTooSmall : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

tp_status status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return TP_ERROR_INVALID_ARGUMENT;
    case ErrorCode::kNotFound: return TP_ERROR_NOT_FOUND;
    case ErrorCode::kNoMatchingVariant: return TP_ERROR_NO_MATCHING_VARIANT;
    case ErrorCode::kCorruptPack: return TP_ERROR_CORRUPT_PACK;
    case ErrorCode::kInvalidSpec: return TP_ERROR_INVALID_SPEC;
    case ErrorCode::kParse: return TP_ERROR_PARSE;
    case ErrorCode::kEvaluation: return TP_ERROR_EVALUATION;
    case ErrorCode::kNoDriver: return TP_ERROR_NO_DRIVER;
    case ErrorCode::kDriver: return TP_ERROR_DRIVER;
    case ErrorCode::kUnsupported: return TP_ERROR_UNSUPPORTED;
    case ErrorCode::kIo: return TP_ERROR_IO;
    case ErrorCode::kCompile: return TP_ERROR_COMPILE;
    case ErrorCode::kInternal: return TP_ERROR_INTERNAL;
    case ErrorCode::kShape: return TP_ERROR_SHAPE;
  }
  return TP_ERROR_INTERNAL;
}

tp_status fail(tp_status status, const char* message) noexcept {
  try {
    last_error = message;
  } catch (...) {
    last_error.clear();  // no memory for the message: the status still says what failed
  }
  return status;
}

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::kInvalidArgument, what); }

// Arguments and pins up to these counts convert into stack arrays: no allocation on the launch
// path (a std::string of up to 15 bytes, libstdc++'s small-string buffer, allocates nothing).
constexpr size_t kMaxArgs = 64;
constexpr size_t kStackPins = 16;

Arg convert_arg(const tp_arg& a, size_t index) {
  auto check_tensor = [&] {
    if (static_cast<int>(a.dtype) < 0 || static_cast<int>(a.dtype) >= kNumDTypes) {
      invalid("argument " + std::to_string(index) + " has an unknown dtype " + std::to_string(static_cast<int>(a.dtype)));
    }
    if (a.rank > Arg::kMaxRank) {
      invalid("argument " + std::to_string(index) + " has rank " + std::to_string(a.rank) + ", above the limit " +
              std::to_string(Arg::kMaxRank));
    }
  };
  Arg out;
  switch (a.kind) {
    case TP_ARG_TENSOR:
    case TP_ARG_DESCRIPTOR:
      check_tensor();
      out = Arg::tensor(a.value.pointer, static_cast<DType>(a.dtype));
      out.rank = static_cast<uint8_t>(a.rank);
      out.shape = a.rank > 0 ? a.shape : nullptr;
      if (a.kind == TP_ARG_DESCRIPTOR) {
        out.kind = Arg::Kind::kDescriptor;
        out.strides = a.strides;
      }
      return out;
    case TP_ARG_INT: return Arg::integer(a.value.int_value);
    case TP_ARG_FLOAT: return Arg::real(a.value.float_value);
  }
  invalid("argument " + std::to_string(index) + " has an unknown kind " + std::to_string(static_cast<int>(a.kind)));
}

template <class Fn>
void with_args(const tp_arg* args, size_t n, Fn&& fn) {
  require(args != nullptr || n == 0, "args is NULL but num_args is not 0");
  if (n > kMaxArgs) invalid("more than " + std::to_string(kMaxArgs) + " arguments (" + std::to_string(n) + ")");
  Arg converted[kMaxArgs];
  for (size_t i = 0; i < n; ++i) converted[i] = convert_arg(args[i], i);
  fn(std::span<const Arg>(converted, n));
}

void convert_pin(const tp_constexpr& c, size_t index, ConstexprValue& out) {
  if (c.name == nullptr) invalid("pinned constexpr " + std::to_string(index) + " has a NULL name");
  out.name.assign(c.name);
  switch (c.kind) {
    case TP_CONSTEXPR_INT: out.value = Constant(c.value.int_value); return;
    case TP_CONSTEXPR_BOOL: out.value = Constant(c.value.bool_value != 0); return;
    case TP_CONSTEXPR_FLOAT: out.value = Constant(c.value.float_value); return;
    case TP_CONSTEXPR_STRING:
      if (c.value.string_value == nullptr) invalid("pinned constexpr '" + out.name + "' is a NULL string");
      out.value = Constant(c.value.string_value);
      return;
    case TP_CONSTEXPR_NONE: out.value = Constant::none(); return;
    case TP_CONSTEXPR_DTYPE: {
      const int dtype = static_cast<int>(c.value.dtype_value);
      if (dtype < 0 || dtype >= kNumDTypes) {
        invalid("pinned constexpr '" + out.name + "' has an unknown dtype " + std::to_string(dtype));
      }
      out.value = Constant::dtype(static_cast<DType>(dtype));
      return;
    }
  }
  invalid("pinned constexpr '" + out.name + "' has an unknown kind " + std::to_string(static_cast<int>(c.kind)));
}

void convert_pins(const tp_constexpr* pins, size_t n, ConstexprValue* out) {
  for (size_t i = 0; i < n; ++i) convert_pin(pins[i], i, out[i]);
}

// Calls fn(const LaunchOptions&) with the options converted; pins borrow nothing from `o` after.
template <class Fn>
void with_options(const tp_launch_options* o, Fn&& fn) {
  LaunchOptions out;
  if (o == nullptr) {
    fn(static_cast<const LaunchOptions&>(out));
    return;
  }
  if (o->config != nullptr) out.config = o->config;
  out.workspace = o->workspace;
  out.workspace_size = o->workspace_size;
  out.use_tuning = o->ignore_tuning == 0;
  if (o->use_variant_id != 0) {
    if (o->variant_id < 0) invalid("options.variant_id is " + std::to_string(o->variant_id) + " with use_variant_id set");
    out.variant_id = o->variant_id;
  }
  require(o->pinned != nullptr || o->num_pinned == 0, "options.pinned is NULL but options.num_pinned is not 0");
  const size_t n = o->num_pinned;
  if (n == 0) {
    fn(static_cast<const LaunchOptions&>(out));
  } else if (n <= kStackPins) {
    ConstexprValue pins[kStackPins];
    convert_pins(o->pinned, n, pins);
    out.pinned = std::span<const ConstexprValue>(pins, n);
    fn(static_cast<const LaunchOptions&>(out));
  } else {
    std::vector<ConstexprValue> pins(n);
    convert_pins(o->pinned, n, pins.data());
    out.pinned = pins;
    fn(static_cast<const LaunchOptions&>(out));
  }
}

// Where runtime argument `index` comes from: a param, or a launch variable (index past the params).
struct ArgSource {
  const ParamInfo* param = nullptr;
  const LaunchVarInfo* launch_var = nullptr;
};

ArgSource arg_source(const tp_kernel* kernel, size_t index, const char* function) {
  if (kernel == nullptr) invalid(std::string(function) + ": kernel is NULL");
  const KernelInfo& k = kernel->kernel.info();
  size_t i = 0;
  for (const ParamInfo& p : k.params) {
    if (p.kind == ParamKind::kConstexpr) continue;
    if (i++ == index) return {&p, nullptr};
  }
  if (index - i < k.launch_vars.size()) return {nullptr, &k.launch_vars[index - i]};
  invalid(std::string(function) + ": index " + std::to_string(index) + " is out of range: kernel '" + k.name +
          "' takes " + std::to_string(i + k.launch_vars.size()) + " arguments");
}

}  // namespace

tp_status run_guarded(void (*body)(void*), void* context) noexcept {
  try {
    body(context);
    last_error.clear();
    return TP_OK;
  } catch (const BufferTooSmall& e) {
    return fail(TP_ERROR_BUFFER_TOO_SMALL, e.what());
  } catch (...) {
    const Status status = current_exception_status();
    return fail(status_of(status.code), status.message.empty() ? "out of host memory" : status.message.c_str());
  }
}

void require(bool ok, const char* what) {
  if (!ok) throw Error(ErrorCode::kInvalidArgument, what);
}

}  // namespace tritonpack::capi

using tritonpack::capi::guarded;
using tritonpack::capi::require;

extern "C" {

const char* tp_version(void) { return TRITONPACK_VERSION; }

const char* tp_last_error(void) { return tritonpack::capi::last_error.c_str(); }

const char* tp_status_name(tp_status status) {
  switch (status) {
    case TP_OK: return "ok";
    case TP_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
    case TP_ERROR_INVALID_ARGUMENT:
    case TP_ERROR_NOT_FOUND:
    case TP_ERROR_NO_MATCHING_VARIANT:
    case TP_ERROR_CORRUPT_PACK:
    case TP_ERROR_INVALID_SPEC:
    case TP_ERROR_PARSE:
    case TP_ERROR_EVALUATION:
    case TP_ERROR_NO_DRIVER:
    case TP_ERROR_DRIVER:
    case TP_ERROR_UNSUPPORTED:
    case TP_ERROR_IO:
    case TP_ERROR_COMPILE:
    case TP_ERROR_INTERNAL:
    case TP_ERROR_SHAPE:
      return tritonpack::error_code_name(static_cast<tritonpack::ErrorCode>(status));
  }
  return "unknown status";
}

tp_status tp_pack_open(const char* path, tp_pack** out) {
  return guarded([&] {
    require(path != nullptr && out != nullptr, "tp_pack_open: path and out must not be NULL");
    *out = nullptr;
    auto pack = tritonpack::Pack::open(path);
    *out = new tp_pack{std::move(pack)};
  });
}

tp_status tp_pack_verify(const tp_pack* pack) {
  return guarded([&] {
    require(pack != nullptr, "tp_pack_verify: pack is NULL");
    pack->pack->verify_blobs();
  });
}

void tp_pack_close(tp_pack* pack) { delete pack; }

tp_status tp_kernel_create(tp_pack* pack, const char* kernel_name, tp_kernel** out) {
  return guarded([&] {
    require(pack != nullptr && kernel_name != nullptr && out != nullptr,
            "tp_kernel_create: pack, kernel_name and out must not be NULL");
    *out = nullptr;
    *out = new tp_kernel{tritonpack::Kernel(pack->pack, kernel_name)};
  });
}

void tp_kernel_destroy(tp_kernel* kernel) { delete kernel; }

tp_status tp_kernel_num_args(const tp_kernel* kernel, size_t* count) {
  return guarded([&] {
    require(kernel != nullptr && count != nullptr, "tp_kernel_num_args: kernel and count must not be NULL");
    const tritonpack::KernelInfo& k = kernel->kernel.info();
    size_t n = k.launch_vars.size();
    for (const tritonpack::ParamInfo& p : k.params) n += p.kind != tritonpack::ParamKind::kConstexpr;
    *count = n;
  });
}

tp_status tp_kernel_arg_name(const tp_kernel* kernel, size_t index, const char** name) {
  return guarded([&] {
    require(name != nullptr, "tp_kernel_arg_name: name must not be NULL");
    *name = nullptr;
    const auto source = tritonpack::capi::arg_source(kernel, index, "tp_kernel_arg_name");
    *name = source.param ? source.param->name.c_str() : source.launch_var->name.c_str();
  });
}

tp_status tp_kernel_arg_kind(const tp_kernel* kernel, size_t index, tp_arg_kind* kind) {
  return guarded([&] {
    require(kind != nullptr, "tp_kernel_arg_kind: kind must not be NULL");
    const auto source = tritonpack::capi::arg_source(kernel, index, "tp_kernel_arg_kind");
    if (source.launch_var != nullptr) {
      *kind = TP_ARG_INT;
      return;
    }
    const tritonpack::ParamInfo& p = *source.param;
    switch (p.kind) {
      case tritonpack::ParamKind::kTensor: *kind = TP_ARG_TENSOR; break;
      case tritonpack::ParamKind::kTensorDesc: *kind = TP_ARG_DESCRIPTOR; break;
      default:
        // Scalars have concrete dtypes (the manifest's validation checks it).
        *kind = tritonpack::is_float(p.dtype.dtype) ? TP_ARG_FLOAT : TP_ARG_INT;
    }
  });
}

tp_status tp_kernel_launch(tp_kernel* kernel, const tp_arg* args, size_t num_args, CUstream stream,
                           const tp_launch_options* options) {
  return guarded([&] {
    require(kernel != nullptr, "tp_kernel_launch: kernel is NULL");
    tritonpack::capi::with_args(args, num_args, [&](std::span<const tritonpack::Arg> a) {
      tritonpack::capi::with_options(options, [&](const tritonpack::LaunchOptions& o) {
        kernel->kernel.launch(a, stream, o);
      });
    });
  });
}

tp_status tp_kernel_workspace_size(tp_kernel* kernel, const tp_arg* args, size_t num_args,
                                   const tp_launch_options* options, size_t* bytes) {
  return guarded([&] {
    require(kernel != nullptr && bytes != nullptr, "tp_kernel_workspace_size: kernel and bytes must not be NULL");
    tritonpack::capi::with_args(args, num_args, [&](std::span<const tritonpack::Arg> a) {
      tritonpack::capi::with_options(options, [&](const tritonpack::LaunchOptions& o) {
        *bytes = kernel->kernel.workspace_size(a, o);
      });
    });
  });
}

tp_status tp_kernel_explain(tp_kernel* kernel, const tp_arg* args, size_t num_args,
                            const tp_launch_options* options, uint32_t arch, char* buffer, size_t buffer_size,
                            size_t* needed, int32_t* chosen_variant_id) {
  return guarded([&] {
    require(kernel != nullptr, "tp_kernel_explain: kernel is NULL");
    require(buffer != nullptr || buffer_size == 0, "tp_kernel_explain: buffer is NULL but buffer_size is not 0");
    require(buffer != nullptr || needed != nullptr,
            "tp_kernel_explain: give a buffer, or needed to ask for the size the text needs");
    if (buffer_size > 0) buffer[0] = '\0';
    if (needed != nullptr) *needed = 0;
    if (chosen_variant_id != nullptr) *chosen_variant_id = -1;
    tritonpack::capi::with_args(args, num_args, [&](std::span<const tritonpack::Arg> a) {
      tritonpack::capi::with_options(options, [&](const tritonpack::LaunchOptions& o) {
        const tritonpack::Kernel::Explanation e = kernel->kernel.explain(a, o, arch);
        const std::string text = e.text();
        if (needed != nullptr) *needed = text.size() + 1;
        if (chosen_variant_id != nullptr) *chosen_variant_id = e.chosen ? static_cast<int32_t>(e.chosen->id) : -1;
        if (buffer == nullptr) return;  // a size query
        if (text.size() + 1 > buffer_size) {
          throw tritonpack::capi::BufferTooSmall("tp_kernel_explain: the text needs " + std::to_string(text.size() + 1) +
                                                 " bytes, the buffer has " + std::to_string(buffer_size));
        }
        std::memcpy(buffer, text.c_str(), text.size() + 1);
      });
    });
  });
}

tp_status tp_kernel_unload(tp_kernel* kernel) {
  return guarded([&] {
    require(kernel != nullptr, "tp_kernel_unload: kernel is NULL");
    kernel->kernel.unload();
  });
}

}  // extern "C"
