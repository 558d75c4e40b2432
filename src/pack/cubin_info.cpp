// Reading EIATTR_REGCOUNT and EIATTR_FRAME_SIZE out of a cubin (see cubin_info.h). The ELF
// fields used are the standard Elf64 ones; the .nv.info record layout is NVIDIA's, as measured
// and described in docs/compile-step.md.
#include "pack/cubin_info.h"

#include <string>

#include "tritonpack/error.h"

namespace tritonpack::pack_format {
namespace {

using Bytes = std::span<const uint8_t>;

// ELF64 (System V gABI).
constexpr size_t kElfHeaderSize = 64;
constexpr size_t kSectionHeaderSize = 64;  // sizeof(Elf64_Shdr)
constexpr size_t kSymbolSize = 24;         // sizeof(Elf64_Sym)
constexpr uint8_t kElfClass64 = 2;
constexpr uint8_t kElfDataLittleEndian = 1;
constexpr uint16_t kMachineCuda = 190;  // EM_CUDA
constexpr uint32_t kSectionSymtab = 2;  // SHT_SYMTAB
constexpr uint32_t kSectionNobits = 8;  // SHT_NOBITS: occupies no bytes in the file

// .nv.info records: u8 format, u8 attribute, then for EIFMT_SVAL a u16 size and that many bytes;
// the other formats (NVAL, BVAL, HVAL) carry a 2-byte value instead.
constexpr uint8_t kFormatNval = 0x01;
constexpr uint8_t kFormatHval = 0x03;
constexpr uint8_t kFormatSval = 0x04;
constexpr uint8_t kAttrFrameSize = 0x11;  // EIATTR_FRAME_SIZE: u32 symbol index, u32 bytes
constexpr uint8_t kAttrRegCount = 0x2f;   // EIATTR_REGCOUNT: u32 symbol index, u32 registers

[[noreturn]] void corrupt(const std::string& what) { throw Error(ErrorCode::kCorruptPack, "cubin: " + what); }

// True when [offset, offset + size) lies inside [0, limit), without overflow.
bool inside(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

// Little-endian loads; the caller has checked the bounds.
uint64_t load(Bytes b, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}
uint16_t u16(Bytes b, size_t at) { return static_cast<uint16_t>(load(b, at, 2)); }
uint32_t u32(Bytes b, size_t at) { return static_cast<uint32_t>(load(b, at, 4)); }
uint64_t u64(Bytes b, size_t at) { return load(b, at, 8); }

std::string hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

struct Section {
  uint16_t index = 0;
  uint32_t name = 0;  // offset into the section-name string table
  uint32_t type = 0;
  uint64_t offset = 0, size = 0;
  uint32_t link = 0;
  uint64_t entsize = 0;
};

class Elf {
 public:
  explicit Elf(Bytes bytes) : bytes_(bytes) {
    if (bytes.size() < kElfHeaderSize) corrupt("not an ELF file (" + std::to_string(bytes.size()) + " bytes)");
    if (bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F') corrupt("not an ELF file (bad magic)");
    if (bytes[4] != kElfClass64 || bytes[5] != kElfDataLittleEndian) corrupt("not a 64-bit little-endian ELF file");
    if (const uint16_t machine = u16(bytes, 0x12); machine != kMachineCuda) {
      corrupt("not a CUDA ELF file (e_machine " + std::to_string(machine) + ", expected 190)");
    }
    const uint64_t table = u64(bytes, 0x28);  // e_shoff
    const uint16_t entsize = u16(bytes, 0x3a);
    count_ = u16(bytes, 0x3c);
    const uint16_t names = u16(bytes, 0x3e);  // e_shstrndx
    if (count_ == 0) return;  // no sections (or extended numbering, which ptxas never writes)
    if (entsize < kSectionHeaderSize) corrupt("section header size " + std::to_string(entsize) + " < 64");
    if (!inside(table, uint64_t{count_} * entsize, bytes.size())) {
      corrupt("the section header table (" + std::to_string(count_) + " x " + std::to_string(entsize) +
              " bytes at " + hex(table) + ") lies outside the file (" + std::to_string(bytes.size()) + " bytes)");
    }
    table_ = table;
    entsize_ = entsize;
    if (names >= count_) corrupt("section name table index " + std::to_string(names) + " >= " + std::to_string(count_));
    names_ = section(names);
  }

  uint16_t count() const { return count_; }

  Section section(uint32_t index) const {
    if (index >= count_) corrupt("section index " + std::to_string(index) + " >= " + std::to_string(count_));
    const size_t at = static_cast<size_t>(table_ + uint64_t{index} * entsize_);
    Section s;
    s.index = static_cast<uint16_t>(index);
    s.name = u32(bytes_, at);
    s.type = u32(bytes_, at + 4);
    s.offset = u64(bytes_, at + 24);
    s.size = u64(bytes_, at + 32);
    s.link = u32(bytes_, at + 40);
    s.entsize = u64(bytes_, at + 56);
    return s;
  }

  // A section's bytes; it must lie inside the file.
  Bytes contents(const Section& s) const {
    if (s.type == kSectionNobits) corrupt("section " + std::to_string(s.index) + " has no contents (SHT_NOBITS)");
    if (!inside(s.offset, s.size, bytes_.size())) {
      corrupt("section " + std::to_string(s.index) + " (" + std::to_string(s.size) + " bytes at " + hex(s.offset) +
              ") lies outside the file (" + std::to_string(bytes_.size()) + " bytes)");
    }
    return bytes_.subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.size));
  }

  // The NUL-terminated string at `offset` in string table `table`; it must end inside the table.
  std::string_view string_at(const Section& table, uint64_t offset) const {
    const Bytes text = contents(table);
    if (offset >= text.size()) {
      corrupt("name offset " + hex(offset) + " is outside string table section " + std::to_string(table.index) +
              " (" + std::to_string(text.size()) + " bytes)");
    }
    const auto* begin = reinterpret_cast<const char*>(text.data()) + offset;
    const std::string_view rest(begin, text.size() - static_cast<size_t>(offset));
    const size_t end = rest.find('\0');
    if (end == std::string_view::npos) {
      corrupt("the name at " + hex(offset) + " in section " + std::to_string(table.index) + " is not terminated");
    }
    return rest.substr(0, end);
  }

  std::string_view section_name(const Section& s) const { return string_at(names_, s.name); }

 private:
  Bytes bytes_;
  uint64_t table_ = 0;
  uint16_t entsize_ = 0;
  uint16_t count_ = 0;
  Section names_;
};

// The names of the symbols in one symbol table, looked up by index.
class Symbols {
 public:
  Symbols(const Elf& elf, const Section& info) : elf_(elf) {
    symtab_ = elf.section(info.link);
    if (symtab_.type != kSectionSymtab) {
      corrupt(".nv.info (section " + std::to_string(info.index) + ") links to section " +
              std::to_string(info.link) + ", which is not a symbol table");
    }
    if (symtab_.entsize < kSymbolSize) corrupt("symbol table entry size " + std::to_string(symtab_.entsize) + " < 24");
    entries_ = elf.contents(symtab_);
    strings_ = elf.section(symtab_.link);
  }

  std::string_view name(uint32_t index) const {
    if (index >= entries_.size() / symtab_.entsize) {
      corrupt("symbol index " + std::to_string(index) + " is past the symbol table (" +
              std::to_string(entries_.size() / symtab_.entsize) + " symbols)");
    }
    return elf_.string_at(strings_, u32(entries_, static_cast<size_t>(index * symtab_.entsize)));  // st_name
  }

 private:
  const Elf& elf_;
  Section symtab_, strings_;
  Bytes entries_;
};

// Keeps the first value seen for `entry`; a second record that disagrees means a corrupt file.
void record(std::optional<uint32_t>& slot, uint32_t value, const char* attribute, std::string_view entry) {
  if (slot && *slot != value) {
    corrupt("two " + std::string(attribute) + " records for '" + std::string(entry) + "' disagree (" +
            std::to_string(*slot) + " and " + std::to_string(value) + ")");
  }
  slot = value;
}

}  // namespace

std::optional<CubinResources> read_cubin_resources(Bytes cubin, std::string_view entry) {
  const Elf elf(cubin);
  std::optional<uint32_t> registers, frame_size;
  for (uint32_t i = 0; i < elf.count(); ++i) {
    const Section info = elf.section(i);
    if (elf.section_name(info) != ".nv.info") continue;  // .nv.info.<kernel> holds other attributes
    const Symbols symbols(elf, info);
    const Bytes records = elf.contents(info);
    size_t pos = 0;
    while (pos < records.size()) {
      if (records.size() - pos < 4) corrupt("a record at " + hex(pos) + " of .nv.info is truncated");
      const uint8_t format = records[pos];
      const uint8_t attribute = records[pos + 1];
      if (format >= kFormatNval && format <= kFormatHval) {
        pos += 4;
        continue;
      }
      if (format != kFormatSval) corrupt("unknown record format " + hex(format) + " at " + hex(pos) + " of .nv.info");
      const size_t size = u16(records, pos + 2);
      if (size > records.size() - pos - 4) {
        corrupt("the record at " + hex(pos) + " of .nv.info (" + std::to_string(size) + " bytes) runs past its end");
      }
      const Bytes payload = records.subspan(pos + 4, size);
      pos += 4 + size;
      if (attribute != kAttrRegCount && attribute != kAttrFrameSize) continue;
      const char* name = attribute == kAttrRegCount ? "EIATTR_REGCOUNT" : "EIATTR_FRAME_SIZE";
      if (size != 8) corrupt(std::string(name) + " record of " + std::to_string(size) + " bytes, expected 8");
      if (symbols.name(u32(payload, 0)) != entry) continue;
      record(attribute == kAttrRegCount ? registers : frame_size, u32(payload, 4), name, entry);
    }
  }
  if (!registers) return std::nullopt;
  return CubinResources{*registers, frame_size};
}

}  // namespace tritonpack::pack_format
