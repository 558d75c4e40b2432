// Writes the packs the engine adapters' tests use (TensorRT, PyTorch), without Triton: each is made
// from a real spec by tests/fault/spec_pack.h (every job of the spec's plan a variant with fake
// images), so descriptions, fields, rules and variants are the shipped kernels' own. Nothing
// launches them on a GPU (the fake driver, or PyTorch's meta device).
//   fmha.tpack             kernels/fmha/fmha.toml (sm_80 and sm_90): plugin/op 'tritonpack_fmha' v1
//   fmha_plugingen.tpack   tests/plugingen/fmha_expected.toml: three outputs and an int field
//   fmha_other.tpack       fmha.tpack from another build (other bytes, same plugin name and kernels)
//   vector_add.tpack       kernels/vector_add: no plugin keys, so no plugin
//   corrupt.tpack          fmha.tpack with one byte of a blob flipped
//   attention_fp8_vt.tpack kernels/attention/attention_fp8_vt.toml (sm_90): FP8 inputs, an output
//                          dtype the inputs do not bind (the dtype field TO)
// Built per adapter by tritonpack_adapter_test_packs (tests/common/adapter_test_packs.cmake).
// Usage: WRITER SOURCE_DIR OUT_DIR
#include <cstdio>
#include <string>
#include <vector>

#include "fault/spec_pack.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"

namespace {

using namespace tritonpack;

std::vector<uint8_t> rebuilt(const Pack& pack, const std::string& created_by) {
  Manifest m = pack.manifest();
  m.created_by = created_by;
  std::vector<std::vector<uint8_t>> blobs;
  for (size_t b = 0; b < m.blobs.size(); ++b) {
    const auto bytes = pack.blob(static_cast<int32_t>(b));
    blobs.emplace_back(bytes.begin(), bytes.end());
  }
  return serialize_pack(m, blobs);
}

}  // namespace

int main(int argc, char** argv) {
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
    auto plugingen = pack_from_spec(source + "/tests/plugingen/fmha_expected.toml", {80, 90});
    write_file_atomically(out + "fmha_plugingen.tpack", plugingen->bytes());
    write_file_atomically(out + "fmha_other.tpack", rebuilt(*fmha, "tritonpack tests (another build)"));
    auto vector_add = pack_from_spec(source + "/kernels/vector_add/vector_add.toml", {90});
    write_file_atomically(out + "vector_add.tpack", vector_add->bytes());
    std::vector<uint8_t> corrupt = fmha_bytes;
    corrupt[corrupt.size() - 3] ^= 0xff;  // inside the last blob: its sha256 no longer matches
    write_file_atomically(out + "corrupt.tpack", corrupt);
    auto fp8 = pack_from_spec(source + "/kernels/attention/attention_fp8_vt.toml", {90});
    write_file_atomically(out + "attention_fp8_vt.tpack", fp8->bytes());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
