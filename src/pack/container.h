// tritonpack: the binary container of a pack (docs/pack-format.md): a fixed 96-byte header, the
// manifest JSON section and the blob section. Private to src/pack (and the fuzz targets, which
// use the writer to wrap arbitrary manifest text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace tritonpack::pack_format {

inline constexpr char kMagic[8] = {'T', 'P', 'A', 'C', 'K', '\r', '\n', '\x1a'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kHeaderSize = 96;
inline constexpr uint64_t kBlobAlignment = 256;
inline constexpr uint64_t kMaxManifestSize = uint64_t{64} << 20;  // 64 MiB
inline constexpr uint64_t kMaxFileSize = uint64_t{4} << 30;       // 4 GiB

// Field offsets inside the header (all integers little-endian).
inline constexpr size_t kOffFormatVersion = 8;
inline constexpr size_t kOffHeaderSize = 12;
inline constexpr size_t kOffManifestOffset = 16;
inline constexpr size_t kOffManifestSize = 24;
inline constexpr size_t kOffBlobsOffset = 32;
inline constexpr size_t kOffBlobsSize = 40;
inline constexpr size_t kOffFileSize = 48;
inline constexpr size_t kOffManifestSha256 = 56;
inline constexpr size_t kOffReserved = 88;

struct Header {
  uint32_t format_version = kFormatVersion;
  uint32_t header_size = kHeaderSize;
  uint64_t manifest_offset = 0;
  uint64_t manifest_size = 0;
  uint64_t blobs_offset = 0;
  uint64_t blobs_size = 0;
  uint64_t file_size = 0;
  Sha256Digest manifest_sha256{};
};

// The validated sections of a container; views into the bytes given to parse_container.
struct Sections {
  Header header;
  std::string_view manifest_json;
  std::span<const uint8_t> blobs;  // the whole blob section
};

// Checks the header, the section layout, that every byte outside the sections is zero and the
// manifest hash. Throws Error(kCorruptPack) "corrupt pack '<origin>': <what>".
Sections parse_container(std::span<const uint8_t> bytes, const std::string& origin);

// Lays out header + manifest + blob section (the caller has placed the blobs at 256-byte
// aligned offsets inside `blob_section`). Computes the manifest hash; validates nothing else.
std::vector<uint8_t> write_container(std::string_view manifest_json,
                                     std::span<const uint8_t> blob_section);

// Throws Error(kCorruptPack) with the standard prefix.
[[noreturn]] void throw_corrupt(const std::string& origin, const std::string& what);

constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace tritonpack::pack_format
