// Uses an installed tritonpack compiler library (tests/install): reads a kernel spec and prints how
// many compile jobs it plans. The TOML reader is inside the library.
// Usage: consumer_compiler SPEC
#include <cstdio>

#include "tritonpack/error.h"
#include "tritonpack/spec.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SPEC\n", argv[0]);
    return 2;
  }
  try {
    const tritonpack::spec::Spec spec = tritonpack::spec::load_spec(argv[1]);
    std::printf("spec %s: %zu compile jobs\n", spec.kernel.name.c_str(), tritonpack::spec::plan_jobs(spec).size());
  } catch (const tritonpack::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
