// The C API test's count of heap allocations (tp_testing_allocations), in a file of its own: see
// tests/common/counting_new.h.
#include "common/counting_new.h"

#include "c/capi_testing.h"

extern "C" size_t tp_testing_allocations(void) {
  return tritonpack::testing::heap_allocations.load(std::memory_order_relaxed);
}
