// Uses an installed tritonpack runtime (tests/install): prints the library's version (C API), the
// kernels of a pack (C++ API) and the arguments of its first kernel (C API). A pack that cannot
// be opened is reported with the library's message, which crosses the library boundary as a
// tritonpack::Error. No GPU is needed.
// Usage: consumer PACK
#include <cstdio>

#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "tritonpack/tritonpack.h"

namespace {

int print_arguments(const char* path, const char* kernel_name) {
  tp_pack* pack = nullptr;
  tp_kernel* kernel = nullptr;
  size_t count = 0;
  if (tp_pack_open(path, &pack) != TP_OK || tp_kernel_create(pack, kernel_name, &kernel) != TP_OK ||
      tp_kernel_num_args(kernel, &count) != TP_OK) {
    std::fprintf(stderr, "error: %s\n", tp_last_error());
    tp_kernel_destroy(kernel);
    tp_pack_close(pack);
    return 1;
  }
  tp_pack_close(pack);  // the kernel keeps the pack alive
  std::printf("%s arguments:", kernel_name);
  for (size_t i = 0; i < count; ++i) {
    const char* name = nullptr;
    if (tp_kernel_arg_name(kernel, i, &name) != TP_OK) {
      std::fprintf(stderr, "error: %s\n", tp_last_error());
      tp_kernel_destroy(kernel);
      return 1;
    }
    std::printf(" %s", name);
  }
  std::printf("\n");
  tp_kernel_destroy(kernel);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PACK\n", argv[0]);
    return 2;
  }
  std::printf("tritonpack %s\n", tp_version());
  try {
    const auto pack = tritonpack::Pack::open(argv[1]);
    for (const tritonpack::KernelInfo& kernel : pack->manifest().kernels) {
      std::printf("kernel %s: %zu variants\n", kernel.name.c_str(), kernel.variants.size());
    }
    if (pack->manifest().kernels.empty()) return 0;
    return print_arguments(argv[1], pack->manifest().kernels.front().name.c_str());
  } catch (const tritonpack::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
