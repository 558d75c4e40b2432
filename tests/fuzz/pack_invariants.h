// tritonpack fuzzing: what must hold for every pack that Pack::from_bytes accepted. A violation
// aborts, which libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tritonpack/pack.h"

namespace tritonpack_fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "pack invariant violated: %s\n", what);
  std::abort();
}

// Every index the validated manifest holds is usable, and the manifest is a fixed point of
// manifest_to_json -> manifest_from_json.
inline void check_pack(const tritonpack::Pack& pack) {
  using namespace tritonpack;
  const Manifest& m = pack.manifest();
  for (const auto& k : m.kernels) {
    if (pack.kernel(k.name).name != k.name) violated("kernel lookup");
    for (const auto& v : k.variants) {
      if (v.config_index >= k.configs.size()) violated("config_index out of range");
      if (v.cubin_blob >= 0 && pack.blob(v.cubin_blob).size() != m.blobs[v.cubin_blob].size) violated("cubin size");
      if (v.ptx_blob >= 0 && pack.blob(v.ptx_blob).size() != m.blobs[v.ptx_blob].size) violated("ptx size");
      if (v.cubin_blob < 0 && v.ptx_blob < 0) violated("variant without code");
      for (const auto& a : v.args) {
        if (a.param_index >= k.params.size()) violated("param_index out of range");
        if (k.params[a.param_index].name != a.name) violated("argument name");
      }
    }
  }
  const std::string json = manifest_to_json(m);
  if (manifest_to_json(manifest_from_json(json)) != json) violated("manifest JSON round trip");
}

}  // namespace tritonpack_fuzz
