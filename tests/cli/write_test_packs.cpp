// Writes the packs the CLI tests read (tests/cli/CMakeLists.txt), without Triton:
//   inspect.tpack: the test kernel of tests/unit/test_manifest.h with variants that cover every
//     cell of inspect's resource columns and --ir: real cubins from tests/fuzz/corpus/cubin, IR
//     blobs (all three stages, or ttgir and llir only as for a Gluon kernel), ptxas numbers that
//     agree or disagree with the cubin, a PTX-only variant, an unreadable cubin, a cubin without
//     the entry.
//   no_ir.tpack: the same kernel without any IR blobs.
//   two_kernels.tpack: the test pack's vector_add and a copy of it named vector_add_copy, for the
//     commands that need --kernel when a pack holds several.
//   corrupt_blob.tpack: inspect.tpack with a byte of its PTX blob (blobs[2]) flipped: it opens,
//     and fails when that blob is checked.
//   tuned.tpack: the test pack with a tuning key and a table for an "NVIDIA H200" (sm_90).
//   persistent.tpack: the test pack with the grid of a persistent kernel, min(SM_COUNT, n /// BLOCK).
//   fp8.tpack: kernels/attention/attention_fp8_vt.toml (fake images): its output dtype TO is a
//   dtype field (no input binds it), which `shapes --param TO=bf16` sets.
//   sm_split.tpack: the test pack as a plugin whose dim-size argument names SM_COUNT: x and out of
//     N elements, n = min(N, 2 * SM_COUNT), and y a scratch tensor of n elements (so the workspace
//     follows the SM count).
// Usage: tritonpack_write_test_packs SOURCE_DIR OUT_DIR
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fault/spec_pack.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "unit/test_manifest.h"

namespace {

using namespace tritonpack;
using Bytes = std::vector<uint8_t>;

Bytes read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, "cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

struct Builder {
  Manifest manifest;
  std::vector<Bytes> blobs;
  int32_t add(Bytes bytes, const std::string& kind) {
    blobs.push_back(std::move(bytes));
    manifest.blobs.push_back(BlobInfo{0, 0, "", kind});
    return static_cast<int32_t>(blobs.size() - 1);
  }
  void write(const std::string& path) { write_file_atomically(path, serialize_pack(manifest, blobs)); }
  // Writes the pack with the middle byte of blobs[index] flipped after its hash was taken.
  void write_with_corrupt_blob(const std::string& path, int32_t index) {
    Bytes bytes = serialize_pack(manifest, blobs);
    const auto pack = Pack::from_bytes(bytes);
    const auto blob = pack->blob(index);
    bytes[static_cast<size_t>(blob.data() - pack->bytes().data()) + blob.size() / 2] ^= 1;
    write_file_atomically(path, bytes);
  }
};

VariantInfo variant(uint32_t id, const std::string& dtype, const std::string& entry, int32_t cubin, int32_t ptx,
                    ResourceUsage resources) {
  VariantInfo v = tritonpack_test::make_test_variant(id, dtype, 16, cubin, ptx);
  v.entry = entry;
  v.triton_version = "3.6.0";
  v.resources = resources;
  return v;
}

Builder inspect_pack(const std::string& source_dir, bool with_ir) {
  const std::string corpus = source_dir + "/tests/fuzz/corpus/cubin/";
  Builder b;
  b.manifest.created_by = "tritonpack tests";
  KernelInfo k = tritonpack_test::make_test_kernel();
  const int32_t add_cubin = b.add(read(corpus + "add_sm90.cubin"), "cubin");
  const int32_t mm_cubin = b.add(read(corpus + "mm_spill_sm80.cubin"), "cubin");
  const int32_t ptx = b.add(tritonpack_test::fake_ptx("fp16"), "ptx");
  k.variants = {
      // ptxas's numbers as the cubin has them.
      variant(0, "fp16", "add_kernel", add_cubin, ptx, {30, 0, 0, 0}),
      // ptxas disagrees on registers and stack frame.
      variant(1, "fp32", "add_kernel", add_cubin, ptx, {32, 0, 0, 16}),
      // PTX only, no ptxas report.
      variant(2, "fp16", "add_kernel", -1, ptx, {}),
      // Spills, for sm_80.
      variant(3, "fp32", "mm", mm_cubin, ptx, {32, 152, 132, 136}),
      // A cubin that is not one.
      variant(4, "fp16", "add_kernel", b.add(tritonpack_test::fake_cubin(7), "cubin"), ptx, {30, 0, 0, 0}),
      // The entry is not in the cubin.
      variant(5, "fp32", "missing_kernel", add_cubin, -1, {30, 0, 0, 0}),
  };
  k.variants[3].arch = 80;
  k.variants[3].ptx_target = "sm_80";
  if (with_ir) {
    for (const char* stage : {"ttir", "ttgir", "llir"}) {
      k.variants[0].ir_blobs[stage] = b.add(text(std::string("// ") + stage + " of variant 0\nmodule {\n  tt.func public @add_kernel() {\n  }\n}\n"), stage);
    }
    for (const char* stage : {"ttgir", "llir"}) {  // as for a Gluon kernel, which has no ttir
      k.variants[1].ir_blobs[stage] = b.add(text(std::string("// ") + stage + " of variant 1\n"), stage);
    }
  }
  b.manifest.kernels = {k};
  return b;
}

Builder two_kernels_pack() {
  tritonpack_test::TestPack t = tritonpack_test::make_test_pack();
  Builder b;
  b.manifest = t.manifest;
  b.blobs = t.blobs;
  KernelInfo copy = b.manifest.kernels[0];
  copy.name = "vector_add_copy";
  b.manifest.kernels.push_back(copy);
  return b;
}

// The test pack with a tuning key (n, pow2) and a table measured on an "NVIDIA H200", made as
// `tritonpack tune` makes it: the manifest rewritten around the pack's blob section.
std::vector<uint8_t> tuned_pack_bytes() {
  const auto pack = Pack::from_bytes(tritonpack_test::make_test_pack_bytes(), "tuned.tpack");
  Manifest m = pack->manifest();
  TuningInfo& t = m.kernels[0].tuning;
  t.key = {"n"};
  t.bins = {TuningBins{}};
  t.shapes = {TuningShape{{{"T", DType::kFp16}}, {{"n", 1024}}, {}}};
  t.tables = {TuningTable{"NVIDIA H200", 90, "13.0", "3.6.0", "2026-11-29T16:40:00Z", "tritonpack 0.1.0",
                          {TuningEntry{{{"T", DType::kFp16}}, {11}, {"default"}, {12.5}, {{"n", 1024}}}}}};
  return rewrite_manifest(*pack, m);
}

Builder persistent_pack() {
  tritonpack_test::TestPack t = tritonpack_test::make_test_pack();
  Builder b;
  b.manifest = t.manifest;
  b.blobs = t.blobs;
  b.manifest.kernels[0].grid[0] = "min(SM_COUNT, n /// BLOCK)";
  return b;
}

Builder sm_split_pack() {
  tritonpack_test::TestPack t = tritonpack_test::make_test_pack();
  Builder b;
  b.manifest = t.manifest;
  b.blobs = t.blobs;
  std::vector<ParamInfo>& params = b.manifest.kernels[0].params;
  params[0].dims = {"N"};
  params[1].is_scratch = true;
  params[1].dims = {"n"};
  params[2].dims = {"N"};
  params[3].dim = "min(N, 2 * SM_COUNT)";
  for (VariantInfo& v : b.manifest.kernels[0].variants) v.args[3].divisibility = 1;  // n may be any count
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    inspect_pack(argv[1], true).write(std::string(argv[2]) + "/inspect.tpack");
    inspect_pack(argv[1], false).write(std::string(argv[2]) + "/no_ir.tpack");
    two_kernels_pack().write(std::string(argv[2]) + "/two_kernels.tpack");
    inspect_pack(argv[1], true).write_with_corrupt_blob(std::string(argv[2]) + "/corrupt_blob.tpack", 2);
    write_file_atomically(std::string(argv[2]) + "/tuned.tpack", tuned_pack_bytes());
    persistent_pack().write(std::string(argv[2]) + "/persistent.tpack");
    sm_split_pack().write(std::string(argv[2]) + "/sm_split.tpack");
    write_file_atomically(std::string(argv[2]) + "/fp8.tpack",
                          testing::pack_from_spec(std::string(argv[1]) + "/kernels/attention/attention_fp8_vt.toml", {90})->bytes());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
