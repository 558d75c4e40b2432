// tritonpack: reading and writing pack files (docs/pack-format.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "tritonpack/manifest.h"

namespace tritonpack {

// An opened, validated pack. Immutable and thread-safe to share.
//
// Opening checks everything but the blobs' bytes: header, sections, padding, the manifest (hash,
// JSON, schema) and the blob table. Each blob's SHA-256 is checked when the blob is first used
// (blob()), so that opening a pack of megabytes costs what reading it costs.
class Pack {
 public:
  // Reads and validates a pack file. Throws Error(kIo) if unreadable, Error(kCorruptPack) with a
  // message that names the problem (and the field) for anything malformed.
  static std::shared_ptr<const Pack> open(const std::string& path);
  // Same for bytes already in memory (copied).
  static std::shared_ptr<const Pack> from_bytes(std::span<const uint8_t> bytes,
                                                const std::string& origin = "<memory>");

  const Manifest& manifest() const { return manifest_; }
  const std::string& origin() const { return origin_; }
  // Blob `index`, its SHA-256 checked against the manifest. The first call for a blob hashes it;
  // later calls (from any thread) only read the remembered outcome and allocate nothing. Throws
  // Error(kInvalidArgument) for an index out of range and Error(kCorruptPack) ("blobs[i]: hash
  // mismatch: ...") for a corrupt blob, on every call: a blob that failed is never handed out.
  std::span<const uint8_t> blob(int32_t index) const;
  // Checks every blob now (as blob() would), the first corrupt one by index throwing. For callers
  // that want a corrupt pack refused up front: an engine adapter loading its packs, inspect.
  void verify_blobs() const;
  // The file's bytes as read, blobs unchecked. A copy keeps the manifest's hashes, so whoever
  // opens the copy checks its blobs again; to build a new pack from blobs, take them from blob().
  std::span<const uint8_t> bytes() const { return bytes_; }
  // SHA-256 of the pack's bytes, lowercase hex: the pack's identity (e.g. in a serialized plugin,
  // to refuse an engine built with a different pack). Computed on first call, then cached.
  const std::string& sha256() const;

  // The manifest as JSON text, as stored.
  const std::string& manifest_json() const { return manifest_json_; }

  // Finds a kernel by name; throws Error(kNotFound) listing the kernels the pack holds.
  const KernelInfo& kernel(const std::string& name) const;

 private:
  Pack() = default;
  // open() hands over the buffer it read, so a pack is never held twice in memory.
  static std::shared_ptr<const Pack> from_owned_bytes(std::vector<uint8_t> bytes, std::string origin);
  // What is known of the bytes of one blob range (deduplicated blobs share a range, hence one).
  enum class BlobCheck : uint8_t { kUnchecked, kGood, kBad };

  Manifest manifest_;
  std::string manifest_json_;
  std::vector<uint8_t> bytes_;
  mutable std::once_flag sha256_once_;
  mutable std::string sha256_;
  uint64_t blobs_offset_ = 0;
  std::string origin_;
  std::vector<uint32_t> blob_range_;  // blob index -> its range's entry in blob_checks_
  std::unique_ptr<std::atomic<BlobCheck>[]> blob_checks_;
};

// Serializes a manifest and its blobs into pack bytes. Blob offsets, sizes and hashes in the
// manifest are filled in here from `blobs` (blobs[i] is Manifest::blobs[i]).
std::vector<uint8_t> serialize_pack(Manifest manifest, const std::vector<std::vector<uint8_t>>& blobs);

// The pack's bytes with its manifest replaced (re-tuning: `tritonpack tune`): `manifest` must keep
// the pack's blob table (same blobs, kinds and hashes, in order; the offsets and sizes written are
// the pack's), and the blob section is copied as it is, byte for byte. Throws kInvalidArgument
// otherwise, or for a manifest the reader would refuse, and kCorruptPack for a blob whose bytes do
// not match its hash.
std::vector<uint8_t> rewrite_manifest(const Pack& pack, Manifest manifest);

// Writes pack bytes atomically (temporary file + rename) so a reader never sees half a pack.
void write_file_atomically(const std::string& path, std::span<const uint8_t> bytes);

// JSON text <-> Manifest, with full validation on the way in.
std::string manifest_to_json(const Manifest& manifest, int indent = -1);
Manifest manifest_from_json(std::string_view json);  // throws Error(kCorruptPack)

}  // namespace tritonpack
