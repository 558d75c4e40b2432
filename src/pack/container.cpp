// The pack container: header encoding and the layout checks that run before any JSON is parsed.
#include "pack/container.h"

#include <algorithm>
#include <cstring>

#include "tritonpack/error.h"

namespace tritonpack::pack_format {
namespace {

uint32_t load_le32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

std::string range_text(uint64_t offset, uint64_t size) {
  return "[" + std::to_string(offset) + ", " + std::to_string(offset) + " + " + std::to_string(size) + ")";
}

// True if [offset, offset + size) lies inside [0, limit), without overflowing.
bool fits(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

// Names the usual way a file gets mangled, so the message says more than "bad magic".
std::string describe_bad_magic(std::span<const uint8_t> bytes) {
  const size_t n = std::min<size_t>(bytes.size(), 5);
  if (n == 5 && std::memcmp(bytes.data(), kMagic, 5) == 0) {
    return "bad magic: the bytes after \"TPACK\" are not \\r\\n\\x1a; the file looks altered by a "
           "text-mode transfer (line-ending conversion)";
  }
  return "not a tritonpack pack (bad magic; expected \"TPACK\\r\\n\\x1a\")";
}

}  // namespace

void throw_corrupt(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::kCorruptPack, "corrupt pack '" + origin + "': " + what);
}

Sections parse_container(std::span<const uint8_t> bytes, const std::string& origin) {
  const uint64_t actual_size = bytes.size();
  if (bytes.empty()) throw_corrupt(origin, "truncated: expected at least 96 bytes, got 0");
  const size_t magic_bytes = std::min<size_t>(bytes.size(), sizeof(kMagic));
  if (std::memcmp(bytes.data(), kMagic, magic_bytes) != 0) {
    throw_corrupt(origin, describe_bad_magic(bytes));
  }
  if (actual_size < kHeaderSize) {
    throw_corrupt(origin, "truncated: expected at least 96 bytes, got " + std::to_string(actual_size));
  }

  const uint8_t* p = bytes.data();
  Header h;
  h.format_version = load_le32(p + kOffFormatVersion);
  h.header_size = load_le32(p + kOffHeaderSize);
  h.manifest_offset = load_le64(p + kOffManifestOffset);
  h.manifest_size = load_le64(p + kOffManifestSize);
  h.blobs_offset = load_le64(p + kOffBlobsOffset);
  h.blobs_size = load_le64(p + kOffBlobsSize);
  h.file_size = load_le64(p + kOffFileSize);
  std::memcpy(h.manifest_sha256.data(), p + kOffManifestSha256, h.manifest_sha256.size());

  if (h.format_version > kFormatVersion) {
    throw_corrupt(origin, "pack format version " + std::to_string(h.format_version) +
                              " is newer than this tritonpack supports (" +
                              std::to_string(kFormatVersion) + "); upgrade tritonpack");
  }
  if (h.format_version == 0) throw_corrupt(origin, "invalid pack format version 0");
  if (h.header_size != kHeaderSize) {
    throw_corrupt(origin, "header_size is " + std::to_string(h.header_size) +
                              ", expected 96 for pack format version 1");
  }
  for (size_t i = kOffReserved; i < kHeaderSize; ++i) {
    if (p[i] != 0) {
      throw_corrupt(origin, "reserved header byte " + std::to_string(i) + " is not zero");
    }
  }

  if (h.file_size > kMaxFileSize) {
    throw_corrupt(origin, "header declares file_size " + std::to_string(h.file_size) +
                              ", over the 4 GiB limit");
  }
  if (h.file_size > actual_size) {
    throw_corrupt(origin, "truncated: expected " + std::to_string(h.file_size) + " bytes, got " +
                              std::to_string(actual_size));
  }
  if (h.file_size < actual_size) {
    throw_corrupt(origin, "trailing data: header says " + std::to_string(h.file_size) +
                              " bytes, got " + std::to_string(actual_size));
  }

  if (h.manifest_size > kMaxManifestSize) {
    throw_corrupt(origin, "header declares manifest_size " + std::to_string(h.manifest_size) +
                              ", over the 64 MiB limit");
  }
  if (h.manifest_size == 0) throw_corrupt(origin, "manifest section is empty");
  if (h.manifest_offset < kHeaderSize) {
    throw_corrupt(origin, "manifest_offset " + std::to_string(h.manifest_offset) +
                              " overlaps the 96-byte header");
  }
  if (!fits(h.manifest_offset, h.manifest_size, h.file_size)) {
    throw_corrupt(origin, "manifest section " + range_text(h.manifest_offset, h.manifest_size) +
                              " extends past the end of the file (" + std::to_string(h.file_size) +
                              " bytes)");
  }
  if (h.blobs_offset % kBlobAlignment != 0) {
    throw_corrupt(origin, "blobs_offset " + std::to_string(h.blobs_offset) +
                              " is not a multiple of 256");
  }
  if (h.blobs_offset < kHeaderSize) {
    throw_corrupt(origin, "blobs_offset " + std::to_string(h.blobs_offset) +
                              " overlaps the 96-byte header");
  }
  if (!fits(h.blobs_offset, h.blobs_size, h.file_size)) {
    throw_corrupt(origin, "blob section " + range_text(h.blobs_offset, h.blobs_size) +
                              " extends past the end of the file (" + std::to_string(h.file_size) +
                              " bytes)");
  }
  const uint64_t manifest_end = h.manifest_offset + h.manifest_size;
  const uint64_t blobs_end = h.blobs_offset + h.blobs_size;
  if (h.blobs_size > 0 && h.manifest_offset < blobs_end && h.blobs_offset < manifest_end) {
    throw_corrupt(origin, "manifest section " + range_text(h.manifest_offset, h.manifest_size) +
                              " and blob section " + range_text(h.blobs_offset, h.blobs_size) +
                              " overlap");
  }
  // Padding must be zero so that every byte of a pack is covered by some check.
  auto require_zero = [&](uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      if (p[i] != 0) {
        throw_corrupt(origin, "non-zero padding byte at offset " + std::to_string(i) +
                                  " (outside the manifest and blob sections)");
      }
    }
  };
  const bool blobs_first = h.blobs_size > 0 && h.blobs_offset < h.manifest_offset;
  uint64_t cursor = kHeaderSize;
  if (blobs_first) {
    require_zero(cursor, h.blobs_offset);
    cursor = blobs_end;
  }
  require_zero(cursor, h.manifest_offset);
  cursor = manifest_end;
  if (h.blobs_size > 0 && !blobs_first) {
    require_zero(cursor, h.blobs_offset);
    cursor = blobs_end;
  }
  require_zero(cursor, h.file_size);

  Sections sections;
  sections.header = h;
  sections.manifest_json = std::string_view(reinterpret_cast<const char*>(p + h.manifest_offset),
                                            static_cast<size_t>(h.manifest_size));
  sections.blobs = bytes.subspan(static_cast<size_t>(h.blobs_offset), static_cast<size_t>(h.blobs_size));

  const Sha256Digest actual_hash = sha256(bytes.subspan(static_cast<size_t>(h.manifest_offset),
                                                        static_cast<size_t>(h.manifest_size)));
  if (actual_hash != h.manifest_sha256) {
    throw_corrupt(origin, "manifest hash mismatch: header says " + to_hex(h.manifest_sha256) +
                              ", the manifest bytes hash to " + to_hex(actual_hash));
  }
  return sections;
}

std::vector<uint8_t> write_container(std::string_view manifest_json,
                                     std::span<const uint8_t> blob_section) {
  Header h;
  h.manifest_offset = kHeaderSize;
  h.manifest_size = manifest_json.size();
  h.blobs_offset = align_up(h.manifest_offset + h.manifest_size, kBlobAlignment);
  h.blobs_size = blob_section.size();
  h.file_size = h.blobs_offset + h.blobs_size;
  h.manifest_sha256 = sha256(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(manifest_json.data()), manifest_json.size()));

  std::vector<uint8_t> out(static_cast<size_t>(h.file_size), 0);
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, sizeof(kMagic));
  store_le32(p + kOffFormatVersion, h.format_version);
  store_le32(p + kOffHeaderSize, h.header_size);
  store_le64(p + kOffManifestOffset, h.manifest_offset);
  store_le64(p + kOffManifestSize, h.manifest_size);
  store_le64(p + kOffBlobsOffset, h.blobs_offset);
  store_le64(p + kOffBlobsSize, h.blobs_size);
  store_le64(p + kOffFileSize, h.file_size);
  std::memcpy(p + kOffManifestSha256, h.manifest_sha256.data(), h.manifest_sha256.size());
  if (!manifest_json.empty()) std::memcpy(p + h.manifest_offset, manifest_json.data(), manifest_json.size());
  if (!blob_section.empty()) std::memcpy(p + h.blobs_offset, blob_section.data(), blob_section.size());
  return out;
}

}  // namespace tritonpack::pack_format
