// Writes the packs the op library's no-GPU tests load, without Triton: each is made from a real
// spec by tests/fault/spec_pack.h (every job of the spec's plan a variant with fake images), so
// descriptions, fields, rules and variants are the shipped kernels' own. Nothing launches them:
// the tests use PyTorch's meta device.
//   fmha.tpack             kernels/fmha/fmha.toml (sm_80 and sm_90): op tritonpack_fmha
//   fmha_plugingen.tpack   tests/plugingen/fmha_expected.toml: op with three outputs and an int field
//   fmha_other.tpack       fmha.tpack from another build (other bytes, same op name)
//   vector_add.tpack       kernels/vector_add: no plugin keys, so no op
//   corrupt.tpack          fmha.tpack with one byte of a blob flipped
// Usage: tritonpack_torch_write_packs SOURCE_DIR OUT_DIR
#include <cstdio>
#include <string>
#include <vector>

#include "fault/spec_pack.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"

int main(int argc, char** argv) {
  using namespace tritonpack;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string source = argv[1], out = std::string(argv[2]) + "/";
  try {
    using testing::pack_from_spec;
    auto fmha = pack_from_spec(source + "/kernels/fmha/fmha.toml", {80, 90});
    const std::vector<uint8_t> fmha_bytes(fmha->bytes().begin(), fmha->bytes().end());
    write_file_atomically(out + "fmha.tpack", fmha_bytes);
    write_file_atomically(out + "fmha_plugingen.tpack",
                          pack_from_spec(source + "/tests/plugingen/fmha_expected.toml", {80, 90})->bytes());
    Manifest other = fmha->manifest();
    other.created_by = "tritonpack tests (another build)";
    std::vector<std::vector<uint8_t>> blobs;
    for (size_t b = 0; b < other.blobs.size(); ++b) {
      const auto bytes = fmha->blob(static_cast<int32_t>(b));
      blobs.emplace_back(bytes.begin(), bytes.end());
    }
    write_file_atomically(out + "fmha_other.tpack", serialize_pack(other, blobs));
    write_file_atomically(out + "vector_add.tpack",
                          pack_from_spec(source + "/kernels/vector_add/vector_add.toml", {90})->bytes());
    std::vector<uint8_t> corrupt = fmha_bytes;
    corrupt[corrupt.size() - 3] ^= 0xff;  // inside the last blob: its sha256 no longer matches
    write_file_atomically(out + "corrupt.tpack", corrupt);
  } catch (const Error& e) {
    std::fprintf(stderr, "tritonpack_torch_write_packs: %s\n", e.what());
    return 1;
  }
  return 0;
}
