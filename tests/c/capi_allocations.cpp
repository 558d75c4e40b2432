// The C API test replaces operator new to count heap allocations (tp_testing_allocations). In a
// file of its own: GCC's -Wmismatched-new-delete misfires where the replacements sit beside code
// that inlines standard containers.
#include <atomic>
#include <cstdlib>
#include <new>

#include "c/capi_testing.h"

namespace {
std::atomic<size_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

extern "C" size_t tp_testing_allocations(void) { return allocations.load(std::memory_order_relaxed); }
