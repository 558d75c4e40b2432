// What the C API's handles hold, for code of this repository that makes handles another way
// (tests build a tp_kernel on the fake driver: tests/c/capi_testing.cpp). Private: not installed,
// not part of the public C API.
#pragma once

#include <memory>
#include <type_traits>

#include "tritonpack/pack.h"
#include "tritonpack/runtime.h"
#include "tritonpack/tritonpack.h"

struct tp_pack {
  std::shared_ptr<const tritonpack::Pack> pack;
};
struct tp_kernel {
  tritonpack::Kernel kernel;
};

namespace tritonpack::capi {

// Calls body(context), converting every exception into a status and the thread's last error (on
// success the last error is cleared): the C API's one conversion place (capi.cpp).
tp_status run_guarded(void (*body)(void*), void* context) noexcept;

template <class Body>
tp_status guarded(Body&& body) noexcept {
  using Fn = std::remove_reference_t<Body>;
  return run_guarded([](void* context) { (*static_cast<Fn*>(context))(); }, &body);
}

// Throws Error(kInvalidArgument, what) unless ok.
void require(bool ok, const char* what);

}  // namespace tritonpack::capi
