// Replaces the global operator new of a test program to count heap allocations (include it in
// exactly one file of the program; GCC's -Wmismatched-new-delete misfires where the replacements
// sit beside code that inlines standard containers, so keep that file small).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace tritonpack::testing {
inline std::atomic<uint64_t> heap_allocations{0};
}  // namespace tritonpack::testing

void* operator new(std::size_t size) {
  tritonpack::testing::heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
