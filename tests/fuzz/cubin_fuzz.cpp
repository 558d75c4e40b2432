// libFuzzer target for the cubin reader (src/pack/cubin_info.h): untrusted bytes ->
// read_cubin_resources for the seeds' kernel names. Only tritonpack::Error(kCorruptPack) may
// escape; ASan catches any read outside the input. Seeds: tests/fuzz/corpus/cubin (written by
// tests/fuzz/make_cubin_corpus.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pack/cubin_info.h"
#include "tritonpack/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const char* entry : {"add_kernel", "mm", "k2"}) {
    try {
      const auto r = tritonpack::pack_format::read_cubin_resources({data, size}, entry);
      (void)r;
    } catch (const tritonpack::Error& e) {
      // Refused with a message: the expected outcome for almost every input.
      if (e.code() != tritonpack::ErrorCode::kCorruptPack) std::abort();
    }
  }
  return 0;
}
