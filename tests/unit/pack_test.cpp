// Pack container: round trips, layout, one test per corruption class with its message, and the
// systematic "every truncation / every flipped byte is an Error, never a crash" sweep.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <latch>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "pack/container.h"
#include "test_manifest.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "util/sha256.h"

namespace tritonpack {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Bytes = std::vector<uint8_t>;

uint64_t get_le64(const Bytes& b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[at + i];
  return v;
}
void put_le64(Bytes& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_le32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::string open_error(const Bytes& bytes, const std::string& origin = "x.tpack") {
  try {
    (void)Pack::from_bytes(bytes, origin);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "pack accepted";
  return "";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// The manifest JSON and blob section of a valid pack, for rebuilding packs with a changed
// manifest but correct container hashes.
struct Parts {
  Json manifest;
  Bytes section;
};

Parts split(const Bytes& pack) {
  const auto sections = pack_format::parse_container(pack, "split");
  return {Json::parse(sections.manifest_json), Bytes(sections.blobs.begin(), sections.blobs.end())};
}

Bytes rebuild(const Parts& parts) { return pack_format::write_container(parts.manifest.dump(), parts.section); }

std::string temp_path(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("tritonpack_pack_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

// The test kernel's tuning key (n, pow2) with one table: what `tritonpack tune` adds.
TuningInfo test_tuning() {
  TuningInfo t;
  t.key = {"n"};
  t.bins = {TuningBins{}};
  t.shapes = {TuningShape{{{"T", DType::kFp16}}, {{"n", 1000}}, {}}};
  t.tables = {TuningTable{"NVIDIA H200", 90, "13.0", "3.6.0", "2026-11-29T16:40:00Z", "tritonpack 0.1.0",
                          {TuningEntry{{{"T", DType::kFp16}}, {10}, {"default"}, {12.5}, {{"n", 1000}}}}}};
  return t;
}

// The fuzzers' seed corpus: small valid packs (and their manifests). Set
// TRITONPACK_WRITE_FUZZ_SEEDS=1 to regenerate them after a format change.
std::vector<std::pair<std::string, Bytes>> fuzz_seeds() {
  std::vector<std::pair<std::string, Bytes>> seeds;
  auto t = tritonpack_test::make_test_pack();
  seeds.emplace_back("vector_add", serialize_pack(t.manifest, t.blobs));

  // Minimal: no type variables, no constexprs, one PTX-only variant.
  Manifest m;
  m.created_by = "tritonpack fuzz seed";
  KernelInfo k;
  k.name = "copy";
  k.function = "copy_kernel";
  k.params = {tritonpack_test::make_param("src", ParamKind::kTensor, "fp32", false, "n"),
              tritonpack_test::make_param("dst", ParamKind::kTensor, "fp32", true, "n"),
              tritonpack_test::make_param("n", ParamKind::kScalar, "i64", false, "")};
  k.grid = {"cdiv(n, 256)", "1", "1"};
  k.configs = {ConfigInfo{"c0", {}, 4, 2, 1}};
  VariantInfo v;
  v.arch = 80;
  v.entry = "copy_kernel";
  v.args = {{"src", ArgType::kPointer, 0, 16}, {"dst", ArgType::kPointer, 1, 16}, {"n", ArgType::kI64, 2, 1}};
  v.ptx_blob = 0;
  k.variants = {v};
  m.kernels = {k};
  m.blobs = {BlobInfo{0, 0, "", "ptx"}};
  seeds.emplace_back("copy_ptx_only", serialize_pack(m, {tritonpack_test::fake_ptx("copy")}));

  // Two kernels sharing deduplicated blobs.
  t = tritonpack_test::make_test_pack();
  t.manifest.kernels.push_back(t.manifest.kernels[0]);
  t.manifest.kernels[1].name = "vector_add_copy";
  t.blobs[2] = t.blobs[0];
  seeds.emplace_back("two_kernels_dedup", serialize_pack(t.manifest, t.blobs));

  // Every optional kernel-model key, descriptors and IR stages included (test_manifest.h).
  t = tritonpack_test::make_features_pack();
  seeds.emplace_back("features", serialize_pack(t.manifest, t.blobs));

  // A tuning key and table (the test pack's blobs: the manifest fuzzer opens it too).
  t = tritonpack_test::make_test_pack();
  t.manifest.kernels[0].tuning = test_tuning();
  seeds.emplace_back("tuned", serialize_pack(t.manifest, t.blobs));
  return seeds;
}

TEST(PackRoundTrip, ManifestAndBlobsSurvive) {
  const auto t = tritonpack_test::make_test_pack();
  const Bytes bytes = serialize_pack(t.manifest, t.blobs);
  const auto pack = Pack::from_bytes(bytes, "mem.tpack");
  EXPECT_EQ(manifest_to_json(pack->manifest()), manifest_to_json(t.manifest));
  ASSERT_EQ(pack->manifest().blobs.size(), t.blobs.size());
  for (size_t i = 0; i < t.blobs.size(); ++i) {
    const auto blob = pack->blob(static_cast<int32_t>(i));
    EXPECT_EQ(Bytes(blob.begin(), blob.end()), t.blobs[i]) << "blob " << i;
  }
  EXPECT_EQ(pack->origin(), "mem.tpack");
  EXPECT_EQ(pack->manifest_json(), manifest_to_json(t.manifest));
  EXPECT_EQ(Bytes(pack->bytes().begin(), pack->bytes().end()), bytes);
  EXPECT_EQ(pack->kernel("vector_add").variants.size(), 2u);
  // The caller's offsets/sizes/hashes are ignored and recomputed.
  auto scrambled = t.manifest;
  for (auto& b : scrambled.blobs) b = BlobInfo{7, 9, "nonsense", b.kind};
  EXPECT_EQ(serialize_pack(scrambled, t.blobs), bytes);
}

TEST(PackRoundTrip, HeaderLayout) {
  const Bytes b = tritonpack_test::make_test_pack_bytes();
  ASSERT_GE(b.size(), 96u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), std::string("TPACK\r\n\x1a", 8));
  EXPECT_EQ(b[8], 1);  // format_version, little-endian
  EXPECT_EQ(b[12], 96);
  EXPECT_EQ(get_le64(b, 16), 96u);  // manifest right after the header
  EXPECT_EQ(get_le64(b, 32) % 256, 0u);
  EXPECT_EQ(get_le64(b, 48), b.size());
  EXPECT_EQ(get_le64(b, 32) + get_le64(b, 40), b.size());
  for (size_t i = 88; i < 96; ++i) EXPECT_EQ(b[i], 0) << i;
  const auto pack = Pack::from_bytes(b);
  for (const auto& blob : pack->manifest().blobs) EXPECT_EQ(blob.offset % 256, 0u);
}

TEST(PackRoundTrip, IdenticalBlobsAreStoredOnce) {
  auto t = tritonpack_test::make_test_pack();
  const Bytes distinct = serialize_pack(t.manifest, t.blobs);
  t.blobs[2] = t.blobs[0];
  const Bytes deduplicated = serialize_pack(t.manifest, t.blobs);
  EXPECT_LT(deduplicated.size(), distinct.size());
  const auto pack = Pack::from_bytes(deduplicated);
  EXPECT_EQ(pack->manifest().blobs[2].offset, pack->manifest().blobs[0].offset);
  EXPECT_EQ(Bytes(pack->blob(2).begin(), pack->blob(2).end()), t.blobs[0]);
}

TEST(PackRoundTrip, KernelLookupAndBlobIndexErrors) {
  const auto pack = Pack::from_bytes(tritonpack_test::make_test_pack_bytes(), "p.tpack");
  try {
    (void)pack->kernel("matmul");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_STREQ(e.what(), "kernel 'matmul' not found in pack 'p.tpack'; it holds: vector_add");
  }
  for (int32_t bad : {-1, 4, INT32_MAX}) {
    try {
      (void)pack->blob(bad);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_CONTAINS(std::string(e.what()), "out of range; pack 'p.tpack' has 4 blobs");
    }
  }
}

TEST(PackWrite, RejectsInvalidInput) {
  auto t = tritonpack_test::make_test_pack();
  try {
    (void)serialize_pack(t.manifest, {t.blobs[0]});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_CONTAINS(std::string(e.what()), "the manifest lists 4 blobs but 1 were given");
  }
  t.manifest.kernels[0].variants[0].num_warps = 3;
  try {
    (void)serialize_pack(t.manifest, t.blobs);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_STREQ(e.what(), "refusing to write an invalid manifest: kernels[0].variants[0].num_warps: "
                           "expected 1, 2 or a multiple of 4 up to 32, got 3");
  }
  t = tritonpack_test::make_test_pack();
  t.manifest.created_by = "bad \xff utf-8";
  EXPECT_THROW((void)serialize_pack(t.manifest, t.blobs), Error);
}

TEST(PackFile, WriteAtomicallyThenOpen) {
  const std::string path = temp_path("roundtrip.tpack");
  const Bytes bytes = tritonpack_test::make_test_pack_bytes();
  write_file_atomically(path, Bytes{1, 2, 3});  // replaced below
  write_file_atomically(path, bytes);
  const auto pack = Pack::open(path);
  EXPECT_EQ(pack->origin(), path);
  EXPECT_EQ(Bytes(pack->bytes().begin(), pack->bytes().end()), bytes);
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(PackFile, OpenErrorsNameThePath) {
  const std::string missing = temp_path("does_not_exist.tpack");
  try {
    (void)Pack::open(missing);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_EQ(std::string(e.what()), "cannot open pack '" + missing + "': No such file or directory");
  }
  const std::string dir = fs::path(temp_path("x")).parent_path().string();
  try {
    (void)Pack::open(dir);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_EQ(std::string(e.what()), "cannot read pack '" + dir + "': Is a directory");
  }
  // A file over 4 GiB is refused from its size alone (sparse, so nothing is written or read).
  const std::string huge = temp_path("huge.tpack");
  { std::ofstream(huge).put('T'); }
  ASSERT_EQ(::truncate(huge.c_str(), (off_t{4} << 30) + 1), 0);
  try {
    (void)Pack::open(huge);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack);
    EXPECT_EQ(std::string(e.what()), "corrupt pack '" + huge + "': pack is 4294967297 bytes, over the 4 GiB limit");
  }
  fs::remove(huge);
}

TEST(PackFile, WriteFailuresLeaveNoTemporary) {
  const std::string in_missing_dir = temp_path("no_such_dir/p.tpack");
  try {
    write_file_atomically(in_missing_dir, Bytes{1});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_CONTAINS(std::string(e.what()), "cannot write '" + in_missing_dir + "': creating '");
    EXPECT_CONTAINS(std::string(e.what()), "No such file or directory");
  }
  // Renaming onto a non-empty directory fails after the temporary was written.
  const std::string onto_dir = temp_path("a_directory");
  fs::create_directories(fs::path(onto_dir) / "child");
  try {
    write_file_atomically(onto_dir, Bytes{1, 2, 3});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_CONTAINS(std::string(e.what()), "cannot write '" + onto_dir + "': renaming '");
  }
  for (const auto& entry : fs::directory_iterator(fs::path(onto_dir).parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(PackCorrupt, HeaderProblems) {
  const Bytes good = tritonpack_test::make_test_pack_bytes();
  const std::string size = std::to_string(good.size());
  auto with = [&](auto&& edit) {
    Bytes b = good;
    edit(b);
    return open_error(b);
  };
  EXPECT_EQ(open_error({}), "corrupt pack 'x.tpack': truncated: expected at least 96 bytes, got 0");
  EXPECT_EQ(with([](Bytes& b) { b[0] = 'X'; }),
            "corrupt pack 'x.tpack': not a tritonpack pack (bad magic; expected \"TPACK\\r\\n\\x1a\")");
  EXPECT_CONTAINS(with([](Bytes& b) { b.erase(b.begin() + 5); }), "text-mode transfer");
  EXPECT_EQ(with([](Bytes& b) { put_le32(b, 8, 2); }),
            "corrupt pack 'x.tpack': pack format version 2 is newer than this tritonpack supports (1); "
            "upgrade tritonpack");
  EXPECT_EQ(with([](Bytes& b) { put_le32(b, 8, 0); }), "corrupt pack 'x.tpack': invalid pack format version 0");
  EXPECT_EQ(with([](Bytes& b) { put_le32(b, 12, 128); }),
            "corrupt pack 'x.tpack': header_size is 128, expected 96 for pack format version 1");
  EXPECT_EQ(with([](Bytes& b) { b[95] = 1; }), "corrupt pack 'x.tpack': reserved header byte 95 is not zero");
  EXPECT_EQ(with([](Bytes& b) { b.resize(b.size() - 1); }),
            "corrupt pack 'x.tpack': truncated: expected " + size + " bytes, got " + std::to_string(good.size() - 1));
  EXPECT_EQ(with([](Bytes& b) { b.push_back(0); }),
            "corrupt pack 'x.tpack': trailing data: header says " + size + " bytes, got " +
                std::to_string(good.size() + 1));
  EXPECT_EQ(with([](Bytes& b) { put_le64(b, 48, uint64_t{1} << 40); }),
            "corrupt pack 'x.tpack': header declares file_size 1099511627776, over the 4 GiB limit");
  EXPECT_EQ(with([](Bytes& b) { put_le64(b, 24, uint64_t{65} << 20); }),
            "corrupt pack 'x.tpack': header declares manifest_size 68157440, over the 64 MiB limit");
  EXPECT_EQ(with([](Bytes& b) { put_le64(b, 24, 0); }), "corrupt pack 'x.tpack': manifest section is empty");
}

TEST(PackCorrupt, SectionProblems) {
  const Bytes good = tritonpack_test::make_test_pack_bytes();
  const uint64_t manifest_size = get_le64(good, 24);
  const uint64_t blobs_offset = get_le64(good, 32);
  const uint64_t blobs_size = get_le64(good, 40);
  auto with = [&](auto&& edit) {
    Bytes b = good;
    edit(b);
    return open_error(b);
  };
  EXPECT_EQ(with([](Bytes& b) { put_le64(b, 16, 40); }),
            "corrupt pack 'x.tpack': manifest_offset 40 overlaps the 96-byte header");
  EXPECT_CONTAINS(with([&](Bytes& b) { put_le64(b, 24, b.size()); }),
                  "manifest section [96, 96 + " + std::to_string(good.size()) + ") extends past the end of the file");
  EXPECT_EQ(with([](Bytes& b) { put_le64(b, 32, get_le64(b, 32) + 8); }),
            "corrupt pack 'x.tpack': blobs_offset " + std::to_string(blobs_offset + 8) + " is not a multiple of 256");
  EXPECT_EQ(with([](Bytes& b) { put_le64(b, 32, 0); }), "corrupt pack 'x.tpack': blobs_offset 0 overlaps the 96-byte header");
  // offset + size would wrap around 2^64: must be caught, not wrapped.
  EXPECT_CONTAINS(with([](Bytes& b) {
                    put_le64(b, 32, ~uint64_t{255});
                    put_le64(b, 40, 512);
                  }),
                  "blob section [18446744073709551360, 18446744073709551360 + 512) extends past the end of the file");
  EXPECT_CONTAINS(with([](Bytes& b) { put_le64(b, 40, ~uint64_t{0}); }), "extends past the end of the file");
  EXPECT_CONTAINS(with([&](Bytes& b) { put_le64(b, 32, 256); }),
                  "manifest section [96, 96 + " + std::to_string(manifest_size) + ") and blob section [256, 256 + " +
                      std::to_string(blobs_size) + ") overlap");
  ASSERT_LT(96 + manifest_size, blobs_offset) << "the test pack needs padding before its blobs";
  EXPECT_EQ(with([&](Bytes& b) { b[96 + manifest_size] = 1; }),
            "corrupt pack 'x.tpack': non-zero padding byte at offset " + std::to_string(96 + manifest_size) +
                " (outside the manifest and blob sections)");
  EXPECT_CONTAINS(with([](Bytes& b) { b[100] ^= 0x20; }), "corrupt pack 'x.tpack': manifest hash mismatch: header says ");
  EXPECT_CONTAINS(with([](Bytes& b) { b[60] ^= 1; }), "manifest hash mismatch");
}

TEST(PackCorrupt, BlobProblems) {
  const Bytes good = tritonpack_test::make_test_pack_bytes();
  const uint64_t blobs_offset = get_le64(good, 32);
  const auto table = Pack::from_bytes(good)->manifest().blobs;
  ASSERT_EQ(table[0].size, 300u);
  ASSERT_EQ(table[1].offset, 512u);
  // A blob's bytes are checked when it is first used, not at open: BlobBytes below.
  Bytes b = good;
  b[blobs_offset + 300] = 7;  // between blobs[0] (300 bytes) and blobs[1] at 512
  EXPECT_EQ(open_error(b), "corrupt pack 'x.tpack': non-zero padding byte at offset 300 of the blob section (between blobs)");

  Parts parts = split(good);
  parts.manifest["blobs"][3]["size"] = 1 << 20;
  const std::string at = std::to_string(table[3].offset);
  EXPECT_CONTAINS(open_error(rebuild(parts)), "corrupt pack 'x.tpack': blobs[3]: [" + at + ", " + at +
                                                  " + 1048576) extends past the end of the blob section (");
  parts = split(good);
  parts.manifest["blobs"][1]["offset"] = 256;
  EXPECT_CONTAINS(open_error(rebuild(parts)), "corrupt pack 'x.tpack': blobs[1] [256, 256 + ");
  EXPECT_CONTAINS(open_error(rebuild(parts)), ") overlaps blobs[0] [0, 0 + 300)");
  // Two entries on one range must also agree on the hash: checked at open, without the bytes.
  parts = split(good);
  parts.manifest["blobs"][2]["offset"] = 0;
  EXPECT_EQ(open_error(rebuild(parts)), "corrupt pack 'x.tpack': blobs[2]: hash mismatch: the manifest says " +
                                            table[2].sha256 + ", but " + table[0].sha256 +
                                            " for blobs[0] at the same range [0, 0 + 300)");
  parts = split(good);
  parts.section.push_back(1);
  EXPECT_CONTAINS(open_error(rebuild(parts)), "of the blob section (after the last blob)");
}

// The message of the Error(kCorruptPack) that `check` throws; a test failure if it throws none.
template <class Check>
std::string corrupt_error(Check&& check) {
  try {
    check();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

// The test pack with one byte of blobs[index] flipped, and the message that blob's check gives.
struct CorruptBlob {
  Bytes bytes;
  std::string message;
};
CorruptBlob with_corrupt_blob(const Bytes& good, int32_t index, const std::string& origin) {
  const uint64_t blobs_offset = get_le64(good, 32);
  const BlobInfo info = Pack::from_bytes(good)->manifest().blobs[static_cast<size_t>(index)];
  CorruptBlob c{good, ""};
  c.bytes[blobs_offset + info.offset + 10] ^= 1;
  const std::span<const uint8_t> blob(c.bytes.data() + blobs_offset + info.offset, info.size);
  c.message = "corrupt pack '" + origin + "': blobs[" + std::to_string(index) + "]: hash mismatch: the manifest says " +
              info.sha256 + ", the bytes hash to " + sha256_hex(blob);
  return c;
}

TEST(PackBlobBytes, AreCheckedAtFirstUseNotAtOpen) {
  const auto t = tritonpack_test::make_test_pack();
  const CorruptBlob corrupt = with_corrupt_blob(serialize_pack(t.manifest, t.blobs), 2, "x.tpack");
  const auto pack = Pack::from_bytes(corrupt.bytes, "x.tpack");  // opens: no blob is hashed
  EXPECT_EQ(corrupt_error([&] { (void)pack->blob(2); }), corrupt.message);
  EXPECT_EQ(corrupt_error([&] { (void)pack->blob(2); }), corrupt.message) << "a blob that failed is never handed out";
  for (int32_t good : {0, 1, 3}) {
    const auto blob = pack->blob(good);
    EXPECT_EQ(Bytes(blob.begin(), blob.end()), t.blobs[static_cast<size_t>(good)]) << "blob " << good;
  }
  EXPECT_EQ(corrupt_error([&] { pack->verify_blobs(); }), corrupt.message);
  // verify_blobs on a pack none of whose blobs was used yet, and on a good pack.
  EXPECT_EQ(corrupt_error([&] { Pack::from_bytes(corrupt.bytes, "x.tpack")->verify_blobs(); }), corrupt.message);
  EXPECT_NO_THROW(Pack::from_bytes(serialize_pack(t.manifest, t.blobs))->verify_blobs());

  // From a file: the message names the path, as open's do.
  const std::string path = temp_path("corrupt_blob.tpack");
  const CorruptBlob in_file = with_corrupt_blob(serialize_pack(t.manifest, t.blobs), 1, path);
  write_file_atomically(path, in_file.bytes);
  const auto opened = Pack::open(path);
  EXPECT_EQ(corrupt_error([&] { opened->verify_blobs(); }), in_file.message);
  EXPECT_NO_THROW((void)opened->blob(0));
}

TEST(PackBlobBytes, DeduplicatedBlobsShareOneCheck) {
  auto t = tritonpack_test::make_test_pack();
  t.blobs[2] = t.blobs[0];  // blobs[0] and blobs[2] name one range
  const CorruptBlob corrupt = with_corrupt_blob(serialize_pack(t.manifest, t.blobs), 0, "d.tpack");
  const auto pack = Pack::from_bytes(corrupt.bytes, "d.tpack");
  ASSERT_EQ(pack->manifest().blobs[2].offset, pack->manifest().blobs[0].offset);
  EXPECT_EQ(corrupt_error([&] { (void)pack->blob(0); }), corrupt.message);
  // The same bytes under the other entry: refused too, under its own name.
  std::string other = corrupt.message;
  other.replace(other.find("blobs[0]"), 8, "blobs[2]");
  EXPECT_EQ(corrupt_error([&] { (void)pack->blob(2); }), other);
  EXPECT_NO_THROW((void)pack->blob(1));

  const auto good = Pack::from_bytes(serialize_pack(t.manifest, t.blobs));
  EXPECT_EQ(good->blob(2).data(), good->blob(0).data());
}

// Threads that use a blob for the first time together all get its outcome: the bytes of a good
// blob, the message of a corrupt one. A fresh pack each round, so every round races on first use.
TEST(PackBlobBytes, ConcurrentFirstUseAgrees) {
  const auto t = tritonpack_test::make_test_pack();
  const CorruptBlob corrupt = with_corrupt_blob(serialize_pack(t.manifest, t.blobs), 3, "c.tpack");
  constexpr int kThreads = 8;
  for (int round = 0; round < 25; ++round) {
    const auto pack = Pack::from_bytes(corrupt.bytes, "c.tpack");
    std::latch start(kThreads);
    std::vector<std::vector<std::string>> outcomes(kThreads, std::vector<std::string>(t.blobs.size()));
    std::vector<std::thread> threads;
    for (int id = 0; id < kThreads; ++id) {
      threads.emplace_back([&, id] {
        start.arrive_and_wait();
        for (size_t k = 0; k < t.blobs.size(); ++k) {
          const size_t i = (k + static_cast<size_t>(id)) % t.blobs.size();  // threads start on different blobs
          try {
            const auto blob = pack->blob(static_cast<int32_t>(i));
            outcomes[id][i] = Bytes(blob.begin(), blob.end()) == t.blobs[i] ? "good" : "wrong bytes";
          } catch (const Error& e) {
            outcomes[id][i] = e.what();
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (int id = 0; id < kThreads; ++id) {
      EXPECT_EQ(outcomes[id], (std::vector<std::string>{"good", "good", "good", corrupt.message}))
          << "round " << round << ", thread " << id;
    }
  }
}

TEST(PackCorrupt, ManifestProblemsNameThePackAndPath) {
  Parts parts = split(tritonpack_test::make_test_pack_bytes());
  parts.manifest["kernels"][0]["variants"][1]["num_warps"] = 3;
  EXPECT_EQ(open_error(rebuild(parts)),
            "corrupt pack 'x.tpack': kernels[0].variants[1].num_warps: expected 1, 2 or a multiple of 4 up to 32, got 3");
  const Bytes deep = pack_format::write_container(std::string(100000, '['), {});
  EXPECT_EQ(open_error(deep), "corrupt pack 'x.tpack': JSON nests deeper than 32 levels (at byte 32)");
  EXPECT_CONTAINS(open_error(pack_format::write_container("{\"format\": tritonpack}", {})),
                  "corrupt pack 'x.tpack': manifest is not valid JSON: ");
  EXPECT_CONTAINS(open_error(pack_format::write_container("{\"a\": \"\xc3\x28\"}", {})), "manifest is not valid JSON");
  parts = split(tritonpack_test::make_test_pack_bytes());
  parts.manifest["manifest_version"] = 7;
  EXPECT_EQ(open_error(rebuild(parts)), "corrupt pack 'x.tpack': manifest_version: manifest version 7 is newer than "
                                        "this tritonpack supports (2); upgrade tritonpack");
}

TEST(PackCorrupt, EveryTruncationIsAnError) {
  const Bytes good = tritonpack_test::make_test_pack_bytes();
  for (size_t n = 0; n < good.size(); ++n) {
    const std::string message = open_error(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    const std::string want = n < 96 ? "truncated: expected at least 96 bytes, got " + std::to_string(n)
                                    : "truncated: expected " + std::to_string(good.size()) + " bytes, got " +
                                          std::to_string(n);
    ASSERT_NE(message.find(want), std::string::npos) << "length " << n << ": " << message;
  }
}

TEST(PackCorrupt, EveryFlippedByteIsAnError) {
  // Every byte of a pack is covered by some check (padding must be zero, sections are hashed):
  // at open, or for a blob's bytes when the blob is checked (verify_blobs, or its first use).
  // The smallest seed keeps this quick in Debug builds; it has every kind of region.
  const Bytes small = fuzz_seeds()[1].second;
  ASSERT_LT(small.size(), 4096u);
  const std::pair<const Bytes*, std::vector<uint8_t>> sweeps[] = {{&small, {0xff, 0x01}}};
  for (const auto& [good, masks] : sweeps) {
    for (uint8_t mask : masks) {
      for (size_t i = 0; i < good->size(); ++i) {
        Bytes b = *good;
        b[i] ^= mask;
        try {
          Pack::from_bytes(b)->verify_blobs();
          ADD_FAILURE() << "byte " << i << " ^ " << int{mask} << " of a " << good->size() << "-byte pack accepted";
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), ErrorCode::kCorruptPack) << e.what();
        }
      }
    }
  }
}

// The blob section of pack bytes, as the header places it (offsets 32 and 40).
Bytes blob_section(const Bytes& pack) {
  const uint64_t offset = get_le64(pack, pack_format::kOffBlobsOffset), size = get_le64(pack, pack_format::kOffBlobsSize);
  return Bytes(pack.begin() + static_cast<std::ptrdiff_t>(offset), pack.begin() + static_cast<std::ptrdiff_t>(offset + size));
}

TEST(PackRewrite, ANewManifestKeepsTheBlobSectionByteForByte) {
  auto t = tritonpack_test::make_test_pack();
  t.blobs[2] = t.blobs[0];  // stored once
  const Bytes before = serialize_pack(t.manifest, t.blobs);
  const auto pack = Pack::from_bytes(before, "before.tpack");
  ASSERT_EQ(pack->manifest().blobs[2].offset, pack->manifest().blobs[0].offset);
  Manifest m = pack->manifest();
  m.kernels[0].tuning = test_tuning();
  m.created_by = "tritonpack tune";
  const Bytes after = rewrite_manifest(*pack, m);
  const auto rewritten = Pack::from_bytes(after, "after.tpack");
  EXPECT_EQ(rewritten->manifest().created_by, "tritonpack tune");
  ASSERT_EQ(rewritten->manifest().kernels[0].tuning.tables.size(), 1u);
  EXPECT_EQ(rewritten->manifest().kernels[0].tuning.tables[0].entries[0].times_us[0], 12.5);
  EXPECT_TRUE(blob_section(after) == blob_section(before)) << "the blob section changed";
  EXPECT_NE(get_le64(after, pack_format::kOffManifestSize), get_le64(before, pack_format::kOffManifestSize));
  for (size_t i = 0; i < m.blobs.size(); ++i) {
    SCOPED_TRACE(i);
    const BlobInfo& was = pack->manifest().blobs[i];
    const BlobInfo& is = rewritten->manifest().blobs[i];
    EXPECT_EQ(is.offset, was.offset);
    EXPECT_EQ(is.size, was.size);
    EXPECT_EQ(is.sha256, was.sha256);
    EXPECT_EQ(is.kind, was.kind);
    const auto blob = rewritten->blob(static_cast<int32_t>(i));
    EXPECT_EQ(Bytes(blob.begin(), blob.end()), t.blobs[i]);
  }
  // Rewriting again with the table removed gives the original manifest back.
  m.kernels[0].tuning = {};
  m.created_by = pack->manifest().created_by;
  EXPECT_TRUE(rewrite_manifest(*rewritten, m) == before) << "not the original pack";
}

// A pack whose writer laid its blobs out otherwise (here in reverse order, with a gap) is valid;
// a rewrite keeps that layout rather than laying the blobs out again.
TEST(PackRewrite, AnotherWritersBlobLayoutIsKept) {
  const auto t = tritonpack_test::make_test_pack();
  Manifest m = t.manifest;
  Bytes section;
  for (size_t i = m.blobs.size(); i-- > 0;) {
    section.resize(pack_format::align_up(section.size(), 256) + 256);  // a 256-byte gap before each
    m.blobs[i].offset = section.size();
    section.insert(section.end(), t.blobs[i].begin(), t.blobs[i].end());
  }
  const Bytes before = pack_format::write_container(manifest_to_json(m), section);
  const auto pack = Pack::from_bytes(before, "reversed.tpack");
  m.kernels[0].tuning = test_tuning();
  const Bytes after = rewrite_manifest(*pack, m);
  EXPECT_TRUE(blob_section(after) == section) << "the blob section was laid out again";
  const auto rewritten = Pack::from_bytes(after, "after.tpack");
  for (size_t i = 0; i < m.blobs.size(); ++i) {
    EXPECT_EQ(rewritten->manifest().blobs[i].offset, pack->manifest().blobs[i].offset) << i;
    const auto blob = rewritten->blob(static_cast<int32_t>(i));
    EXPECT_EQ(Bytes(blob.begin(), blob.end()), t.blobs[i]) << i;
  }
}

// Opening hashes no blob; rewriting does, so that a corrupt blob is not carried into a new pack.
TEST(PackRewrite, ACorruptBlobIsNotCopied) {
  Bytes bytes = tritonpack_test::make_test_pack_bytes();
  const auto good = Pack::from_bytes(bytes, "good.tpack");
  const auto blob = good->blob(1);
  bytes[static_cast<size_t>(blob.data() - good->bytes().data()) + blob.size() / 2] ^= 1;
  const auto corrupt = Pack::from_bytes(bytes, "corrupt.tpack");
  Manifest m = corrupt->manifest();
  m.kernels[0].tuning = test_tuning();
  try {
    (void)rewrite_manifest(*corrupt, m);
    ADD_FAILURE() << "a pack with a corrupt blob was rewritten";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptPack) << e.what();
    EXPECT_CONTAINS(std::string(e.what()), "corrupt pack 'corrupt.tpack': blobs[1]: hash mismatch");
  }
}

TEST(PackRewrite, OnlyTheManifestMayChange) {
  const auto pack = Pack::from_bytes(tritonpack_test::make_test_pack_bytes(), "p.tpack");
  auto error_of = [&](const std::function<void(Manifest&)>& change) {
    Manifest m = pack->manifest();
    change(m);
    try {
      (void)rewrite_manifest(*pack, m);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      return std::string(e.what());
    }
    ADD_FAILURE() << "rewritten";
    return std::string();
  };
  EXPECT_CONTAINS(error_of([](Manifest& m) { m.blobs.pop_back(); }),
                  "rewrite_manifest: the new manifest lists 3 blobs, pack 'p.tpack' holds 4");
  EXPECT_CONTAINS(error_of([](Manifest& m) { m.blobs.push_back(m.blobs[0]); }), "lists 5 blobs");
  EXPECT_CONTAINS(error_of([](Manifest& m) { m.blobs[1].sha256 = std::string(64, 'a'); }),
                  "rewrite_manifest: blobs[1] differs from the pack's; only the manifest may change");
  EXPECT_CONTAINS(error_of([](Manifest& m) { std::swap(m.blobs[0], m.blobs[2]); }), "blobs[0] differs from the pack's");
  EXPECT_CONTAINS(error_of([](Manifest& m) { m.blobs[3].kind = "cubin"; }), "blobs[3] differs from the pack's");
  // A manifest the reader would refuse is not written.
  EXPECT_CONTAINS(error_of([](Manifest& m) {
                    m.kernels[0].tuning = test_tuning();
                    m.kernels[0].tuning.tables[0].entries[0].configs = {"nope"};
                  }),
                  "refusing to write an invalid manifest");
  // Offsets and sizes are the pack's: a manifest that says otherwise does not move the blobs.
  Manifest m = pack->manifest();
  m.blobs[1].offset += 256;
  const auto rewritten = Pack::from_bytes(rewrite_manifest(*pack, m), "r.tpack");
  EXPECT_EQ(rewritten->manifest().blobs[1].offset, pack->manifest().blobs[1].offset);
}

TEST(PackFuzzCorpus, SeedsAreCurrentValidPacks) {
  const fs::path root = fs::path(TRITONPACK_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  const auto seeds = fuzz_seeds();
  if (const char* write = std::getenv("TRITONPACK_WRITE_FUZZ_SEEDS"); write && std::string(write) == "1") {
    fs::create_directories(root / "pack");
    fs::create_directories(root / "manifest");
    for (const auto& [name, bytes] : seeds) {
      write_file_atomically((root / "pack" / (name + ".tpack")).string(), bytes);
      const std::string json = Pack::from_bytes(bytes)->manifest_json();
      write_file_atomically((root / "manifest" / (name + ".json")).string(),
                            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(json.data()), json.size()));
    }
  }
  for (const auto& [name, bytes] : seeds) {
    const fs::path path = root / "pack" / (name + ".tpack");
    ASSERT_TRUE(fs::exists(path)) << path << " missing; run with TRITONPACK_WRITE_FUZZ_SEEDS=1";
    const auto pack = Pack::open(path.string());
    EXPECT_EQ(Bytes(pack->bytes().begin(), pack->bytes().end()), bytes)
        << path << " is stale; run with TRITONPACK_WRITE_FUZZ_SEEDS=1";
    EXPECT_LT(bytes.size(), 20000u);
  }
  // The manifest fuzzer wraps each input around the test pack's blob section; the seeds written
  // for that section must open there, so that the fuzzer starts from manifests that get through.
  const Bytes section = split(tritonpack_test::make_test_pack_bytes()).section;
  for (const char* name : {"vector_add", "features", "tuned"}) {
    SCOPED_TRACE(name);
    std::ifstream in(root / "manifest" / (std::string(name) + ".json"), std::ios::binary);
    const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(json.empty());
    EXPECT_NO_THROW((void)Pack::from_bytes(pack_format::write_container(json, section), name));
  }
}

}  // namespace
}  // namespace tritonpack
