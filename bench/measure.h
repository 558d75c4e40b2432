// Shared by the host-cost benchmarks: a heap-allocation counter (this header replaces the global
// operator new of the program that includes it: include it in exactly one file) and a timer that
// alternates two launch methods in batches so that drift of a shared host hits both alike.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "harness/device.h"

namespace tritonpack::bench {
inline std::atomic<uint64_t> allocations{0};
}  // namespace tritonpack::bench

void* operator new(std::size_t size) {
  tritonpack::bench::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tritonpack::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Microseconds per call of `once`, over one batch of `batch` calls, the stream idle at the start.
template <class F>
double batch_us(const harness::Stream& stream, F&& once, int batch = 100) {
  stream.synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < batch; ++i) once();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / batch;
}

// Heap allocations in 1000 calls of `once` (after warming it).
template <class F>
uint64_t allocations_per_1000(const harness::Stream& stream, F&& once) {
  for (int i = 0; i < 1000; ++i) once();
  stream.synchronize();
  const uint64_t before = allocations.load();
  for (int i = 0; i < 1000; ++i) once();
  const uint64_t n = allocations.load() - before;
  stream.synchronize();
  return n;
}

// Each method's median microseconds per call over `calls` calls, in batches of 100 taken in turn
// (method 0, 1, ..., 0, 1, ...). Warms every method first.
template <class... F>
std::vector<double> alternate(const harness::Stream& stream, int calls, F&&... methods) {
  for (int i = 0; i < 1000; ++i) (methods(), ...);
  std::vector<std::vector<double>> batches(sizeof...(F));
  for (int done = 0; done < calls; done += 100) {
    size_t m = 0;
    ((batches[m++].push_back(batch_us(stream, methods))), ...);
  }
  stream.synchronize();
  std::vector<double> out;
  for (auto& b : batches) out.push_back(median(b));
  return out;
}

}  // namespace tritonpack::bench
