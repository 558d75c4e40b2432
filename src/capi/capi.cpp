// The C API: the one place where exceptions become status codes.
#include "tritonpack/tritonpack.h"

#include <new>
#include <string>
#include <vector>

#include "tritonpack/pack.h"
#include "tritonpack/runtime.h"

struct tp_pack {
  std::shared_ptr<const tritonpack::Pack> pack;
};
struct tp_kernel {
  tritonpack::Kernel kernel;
};

namespace {

thread_local std::string last_error;

tp_status fail(tp_status status, const char* message) {
  last_error = message;
  return status;
}

// Runs `body`, converting every exception into a status and the thread's last error.
template <class Body>
tp_status guarded(Body&& body) noexcept {
  try {
    body();
    last_error.clear();
    return TP_OK;
  } catch (const tritonpack::Error& e) {
    return fail(static_cast<tp_status>(static_cast<int>(e.code())), e.what());
  } catch (const std::bad_alloc&) {
    return fail(TP_ERROR_INTERNAL, "out of host memory");
  } catch (const std::exception& e) {
    return fail(TP_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(TP_ERROR_INTERNAL, "unknown exception");
  }
}

void require(bool ok, const char* what) {
  if (!ok) throw tritonpack::Error(tritonpack::ErrorCode::kInvalidArgument, what);
}

// Small launches convert on the stack; no allocation on the launch path.
template <class Fn>
void with_args(const tp_arg* args, size_t n, Fn&& fn) {
  require(args != nullptr || n == 0, "args is NULL but num_args is not 0");
  require(n <= 64, "more than 64 arguments");
  tritonpack::Arg converted[64];
  for (size_t i = 0; i < n; ++i) {
    const tp_arg& a = args[i];
    switch (a.kind) {
      case TP_ARG_TENSOR:
        require(static_cast<int>(a.dtype) >= 0 && static_cast<int>(a.dtype) < tritonpack::kNumDTypes,
                "tensor argument has an unknown dtype");
        converted[i] = tritonpack::Arg::tensor(a.value.pointer, static_cast<tritonpack::DType>(a.dtype));
        break;
      case TP_ARG_INT: converted[i] = tritonpack::Arg::integer(a.value.int_value); break;
      case TP_ARG_FLOAT: converted[i] = tritonpack::Arg::real(a.value.float_value); break;
      default: require(false, "argument has an unknown kind");
    }
  }
  fn(std::span<const tritonpack::Arg>(converted, n));
}

tritonpack::LaunchOptions convert(const tp_launch_options* o) {
  tritonpack::LaunchOptions out;
  if (o != nullptr) {
    if (o->config != nullptr) out.config = o->config;
    out.workspace = o->workspace;
    out.workspace_size = o->workspace_size;
  }
  return out;
}

}  // namespace

extern "C" {

const char* tp_last_error(void) { return last_error.c_str(); }

const char* tp_status_name(tp_status status) {
  if (status == TP_OK) return "ok";
  return tritonpack::error_code_name(static_cast<tritonpack::ErrorCode>(status));
}

tp_status tp_pack_open(const char* path, tp_pack** out) {
  return guarded([&] {
    require(path != nullptr && out != nullptr, "tp_pack_open: path and out must not be NULL");
    *out = nullptr;
    auto pack = tritonpack::Pack::open(path);
    *out = new tp_pack{std::move(pack)};
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

tp_status tp_kernel_launch(tp_kernel* kernel, const tp_arg* args, size_t num_args, CUstream stream,
                           const tp_launch_options* options) {
  return guarded([&] {
    require(kernel != nullptr, "tp_kernel_launch: kernel is NULL");
    with_args(args, num_args, [&](std::span<const tritonpack::Arg> a) {
      kernel->kernel.launch(a, stream, convert(options));
    });
  });
}

tp_status tp_kernel_workspace_size(tp_kernel* kernel, const tp_arg* args, size_t num_args,
                                   const tp_launch_options* options, size_t* bytes) {
  return guarded([&] {
    require(kernel != nullptr && bytes != nullptr, "tp_kernel_workspace_size: kernel and bytes must not be NULL");
    with_args(args, num_args, [&](std::span<const tritonpack::Arg> a) {
      *bytes = kernel->kernel.workspace_size(a, convert(options));
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
