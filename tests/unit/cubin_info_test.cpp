// The cubin reader (src/pack/cubin_info.h) on real cubins (tests/fuzz/corpus/cubin, written by
// tests/fuzz/make_cubin_corpus.py; the numbers are what ptxas reported and cuobjdump -res-usage
// shows) and on damaged ones: every failure is Error(kCorruptPack), never a crash or another
// exception.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "common/error_of.h"
#include "pack/cubin_info.h"
#include "tritonpack/error.h"

namespace tritonpack::pack_format {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes seed(const std::string& name) {
  const std::string path = std::string(TRITONPACK_SOURCE_DIR) + "/tests/fuzz/corpus/cubin/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Test-side ELF access, to damage one field at a time.
uint64_t get(const Bytes& b, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= uint64_t{b.at(at + i)} << (8 * i);
  return v;
}
void put(Bytes& b, size_t at, size_t width, uint64_t v) {
  for (size_t i = 0; i < width; ++i) b.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
}
size_t section_header(const Bytes& b, size_t index) { return get(b, 0x28, 8) + index * get(b, 0x3a, 2); }
std::string section_name(const Bytes& b, size_t index) {
  const size_t names = get(b, section_header(b, get(b, 0x3e, 2)) + 24, 8);
  return reinterpret_cast<const char*>(b.data() + names + get(b, section_header(b, index), 4));
}
size_t find_section(const Bytes& b, const std::string& name) {
  for (size_t i = 0; i < get(b, 0x3c, 2); ++i) {
    if (section_name(b, i) == name) return i;
  }
  ADD_FAILURE() << "no section " << name;
  return 0;
}
// Offset in the file of the first .nv.info record with this attribute.
size_t find_record(const Bytes& b, uint8_t attribute) {
  const size_t info = section_header(b, find_section(b, ".nv.info"));
  const size_t begin = get(b, info + 24, 8), end = begin + get(b, info + 32, 8);
  for (size_t pos = begin; pos < end;) {
    if (b[pos + 1] == attribute) return pos;
    pos += b[pos] == 4 ? 4 + get(b, pos + 2, 2) : 4;
  }
  ADD_FAILURE() << "no record " << int{attribute};
  return 0;
}

std::string corrupt_message(const Bytes& b, std::string_view entry) {
  return tritonpack::testing::error_of([&] { read_cubin_resources(b, entry); }, ErrorCode::kCorruptPack);
}

TEST(CubinInfo, TritonCubinForSm90) {
  const auto r = read_cubin_resources(seed("add_sm90.cubin"), "add_kernel");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registers, 30u);
  EXPECT_EQ(r->frame_size, 0u);
}

TEST(CubinInfo, SpillingTritonCubinForSm80) {
  const auto r = read_cubin_resources(seed("mm_spill_sm80.cubin"), "mm");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registers, 32u);
  EXPECT_EQ(r->frame_size, 136u);
}

TEST(CubinInfo, NvccCubinWithThreeKernelsAndDeviceFunctions) {
  const Bytes b = seed("nvcc_three_kernels.cubin");
  struct Want {
    const char* entry;
    uint32_t registers, frame;
  };
  for (const Want& w : {Want{"k1", 24, 0}, Want{"k2", 32, 272}, Want{"k3", 10, 0}}) {
    const auto r = read_cubin_resources(b, w.entry);
    ASSERT_TRUE(r) << w.entry;
    EXPECT_EQ(r->registers, w.registers) << w.entry;
    EXPECT_EQ(r->frame_size, w.frame) << w.entry;
  }
  // A device function has a frame record ("$k2$_Z6helperPfi") but no register count.
  EXPECT_FALSE(read_cubin_resources(b, "$k2$_Z6helperPfi"));
}

TEST(CubinInfo, AnotherKernelsNameGivesNothing) {
  EXPECT_FALSE(read_cubin_resources(seed("add_sm90.cubin"), "mm"));
  EXPECT_FALSE(read_cubin_resources(seed("add_sm90.cubin"), ""));
  EXPECT_FALSE(read_cubin_resources(seed("add_sm90.cubin"), "add_kernel_"));
}

TEST(CubinInfo, MissingSectionOrRecordGivesNothing) {
  Bytes b = seed("add_sm90.cubin");
  Bytes renamed = b;  // ".nv.info" -> ".nv.infx": no such section
  const size_t names = get(b, section_header(b, get(b, 0x3e, 2)) + 24, 8);
  renamed.at(names + get(b, section_header(b, find_section(b, ".nv.info")), 4) + 7) = 'x';
  EXPECT_FALSE(read_cubin_resources(renamed, "add_kernel"));

  Bytes no_regcount = b;  // the record becomes an unknown attribute, which is skipped
  no_regcount.at(find_record(b, 0x2f) + 1) = 0x7e;
  EXPECT_FALSE(read_cubin_resources(no_regcount, "add_kernel"));

  Bytes no_frame = b;
  no_frame.at(find_record(b, 0x11) + 1) = 0x7e;
  const auto r = read_cubin_resources(no_frame, "add_kernel");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registers, 30u);
  EXPECT_FALSE(r->frame_size);

  Bytes no_sections = b;
  put(no_sections, 0x3c, 2, 0);
  EXPECT_FALSE(read_cubin_resources(no_sections, "add_kernel"));
}

TEST(CubinInfo, NotACudaElf) {
  EXPECT_EQ(corrupt_message({}, "k"), "cubin: not an ELF file (0 bytes)");
  Bytes b = seed("add_sm90.cubin");
  EXPECT_EQ(corrupt_message(Bytes(b.begin(), b.begin() + 63), "k"), "cubin: not an ELF file (63 bytes)");
  Bytes text(b.size(), 'A');
  EXPECT_EQ(corrupt_message(text, "k"), "cubin: not an ELF file (bad magic)");
  Bytes elf32 = b;
  elf32[4] = 1;
  EXPECT_EQ(corrupt_message(elf32, "k"), "cubin: not a 64-bit little-endian ELF file");
  Bytes big_endian = b;
  big_endian[5] = 2;
  EXPECT_EQ(corrupt_message(big_endian, "k"), "cubin: not a 64-bit little-endian ELF file");
  Bytes x86 = b;
  put(x86, 0x12, 2, 62);
  EXPECT_EQ(corrupt_message(x86, "k"), "cubin: not a CUDA ELF file (e_machine 62, expected 190)");
}

TEST(CubinInfo, EveryTruncationThatCutsWhatItReadsIsRefused) {
  // Triton's cubins end with the section header table, so every prefix cuts it; nvcc's end with
  // the program headers, which the reader does not need.
  for (const auto& [name, entry] : {std::pair{"add_sm90.cubin", "add_kernel"}, std::pair{"nvcc_three_kernels.cubin", "k2"}}) {
    const Bytes b = seed(name);
    const auto whole = read_cubin_resources(b, entry);
    ASSERT_TRUE(whole);
    const size_t needed = section_header(b, get(b, 0x3c, 2));
    for (size_t size = 0; size < b.size(); ++size) {
      try {
        const auto r = read_cubin_resources(std::span(b.data(), size), entry);
        ASSERT_GE(size, needed) << name << " cut to " << size << " bytes was accepted";
        ASSERT_TRUE(r);
        EXPECT_EQ(r->registers, whole->registers);
        EXPECT_EQ(r->frame_size, whole->frame_size);
      } catch (const Error& e) {
        ASSERT_EQ(e.code(), ErrorCode::kCorruptPack) << e.what();
        ASSERT_LT(size, needed) << e.what();
      }
    }
  }
}

TEST(CubinInfo, BadOffsetsSizesAndIndices) {
  const Bytes b = seed("add_sm90.cubin");
  const size_t info = section_header(b, find_section(b, ".nv.info"));
  const size_t symtab = section_header(b, find_section(b, ".symtab"));
  const size_t regcount = find_record(b, 0x2f);
  const auto damaged = [&](const std::function<void(Bytes&)>& change) {
    Bytes copy = b;
    change(copy);
    return corrupt_message(copy, "add_kernel");
  };
  EXPECT_EQ(damaged([](Bytes& c) { put(c, 0x28, 8, UINT64_MAX - 8); }),
            "cubin: the section header table (17 x 64 bytes at 0xfffffffffffffff7) lies outside the file (9368 bytes)");
  EXPECT_EQ(damaged([](Bytes& c) { put(c, 0x3a, 2, 40); }), "cubin: section header size 40 < 64");
  EXPECT_EQ(damaged([](Bytes& c) { put(c, 0x3e, 2, 17); }), "cubin: section name table index 17 >= 17");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info + 24, 8, UINT64_MAX); }),
            "cubin: section 8 (36 bytes at 0xffffffffffffffff) lies outside the file (9368 bytes)");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info + 32, 8, b.size()); }),
            "cubin: section 8 (9368 bytes at 0x1580) lies outside the file (9368 bytes)");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info + 4, 4, 8); }), "cubin: section 8 has no contents (SHT_NOBITS)");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info + 40, 4, 99); }), "cubin: section index 99 >= 17");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info + 40, 4, 1); }),
            "cubin: .nv.info (section 8) links to section 1, which is not a symbol table");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, symtab + 56, 8, 0); }), "cubin: symbol table entry size 0 < 24");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info, 4, 1u << 30); }),
            "cubin: name offset 0x40000000 is outside string table section 1 (364 bytes)");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, regcount + 4, 4, 11); }),
            "cubin: symbol index 11 is past the symbol table (11 symbols)");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, get(b, symtab + 24, 8) + 9 * 24, 4, 0xffff); }),
            "cubin: name offset 0xffff is outside string table section 2 (433 bytes)");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, regcount + 2, 2, 40); }),
            "cubin: the record at 0x0 of .nv.info (40 bytes) runs past its end");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, regcount + 2, 2, 4); }),
            "cubin: EIATTR_REGCOUNT record of 4 bytes, expected 8");
  EXPECT_EQ(damaged([&](Bytes& c) { c[regcount] = 9; }), "cubin: unknown record format 0x9 at 0x0 of .nv.info");
  EXPECT_EQ(damaged([&](Bytes& c) { put(c, info + 32, 8, 38); }),
            "cubin: a record at 0x24 of .nv.info is truncated");
  // The frame record turned into a second register count for the same symbol.
  EXPECT_EQ(damaged([&](Bytes& c) { c[find_record(b, 0x11) + 1] = 0x2f; }),
            "cubin: two EIATTR_REGCOUNT records for 'add_kernel' disagree (30 and 0)");
  // The string table's last byte (its terminating NUL) overwritten: the last name never ends.
  EXPECT_EQ(damaged([&](Bytes& c) {
              const size_t strtab = section_header(b, find_section(b, ".strtab"));
              c[get(b, strtab + 24, 8) + get(b, strtab + 32, 8) - 1] = 'x';
              put(c, get(b, symtab + 24, 8) + 9 * 24, 4, get(b, strtab + 32, 8) - 1);
            }),
            "cubin: the name at 0x1b0 in section 2 is not terminated");
}

TEST(CubinInfo, EverySingleByteChangeIsReadOrRefused) {
  // A cheap stand-in for the fuzzer (tests/fuzz/cubin_fuzz.cpp): flip each byte; the reader
  // must return (something or nothing) or throw Error(kCorruptPack).
  const Bytes b = seed("add_sm90.cubin");
  size_t refused = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    Bytes copy = b;
    copy[i] ^= 0xff;
    try {
      read_cubin_resources(copy, "add_kernel");
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::kCorruptPack) << e.what();
      ++refused;
    }
  }
  EXPECT_GT(refused, 0u);
}

}  // namespace
}  // namespace tritonpack::pack_format
