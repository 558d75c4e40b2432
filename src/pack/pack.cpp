// Pack: opening (read + validate all but the blobs' bytes), blob access (each blob hashed on first use),
// writing packs and files atomically.
#include "tritonpack/pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <system_error>

#include "pack/container.h"
#include "pack/manifest_json.h"
#include "tritonpack/error.h"

namespace tritonpack {
namespace {

using pack_format::throw_corrupt;

std::string errno_text(int err) { return std::generic_category().message(err); }

// Closes a file descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s error (which can be a delayed write error).
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string range_text(uint64_t offset, uint64_t size) {
  return "[" + std::to_string(offset) + ", " + std::to_string(offset) + " + " + std::to_string(size) + ")";
}

std::string blob_name(size_t index) { return "blobs[" + std::to_string(index) + "]"; }

// Bytes [begin, end) of the blob section must be zero; the message names the first that is not
// ("<what> at offset N of the blob section (<where>)").
void require_zero(std::span<const uint8_t> section, uint64_t begin, uint64_t end, const std::string& origin,
                  const char* what, const char* where) {
  const std::span<const uint8_t> bytes = section.subspan(begin, end - begin);
  const auto nonzero = std::find_if(bytes.begin(), bytes.end(), [](uint8_t byte) { return byte != 0; });
  if (nonzero != bytes.end()) {
    throw_corrupt(origin, std::string(what) + " at offset " + std::to_string(begin + (nonzero - bytes.begin())) +
                              " of the blob section (" + where + ")");
  }
}

// Checks the manifest's blob table against the blob section: every blob inside it, blobs either
// identical (deduplicated, then with one hash) or disjoint, the bytes between blobs zero. The
// bytes of the blobs are not read (Pack::blob hashes each on first use). Returns, for each blob,
// the index of its range (blobs that share a range share its index), ranges numbered from 0 up.
std::vector<uint32_t> check_blobs(const std::vector<BlobInfo>& blobs, std::span<const uint8_t> section,
                                  const std::string& origin) {
  std::vector<size_t> order(blobs.size());
  for (size_t i = 0; i < blobs.size(); ++i) {
    order[i] = i;
    const BlobInfo& b = blobs[i];
    if (b.offset > section.size() || b.size > section.size() - b.offset) {
      throw_corrupt(origin, blob_name(i) + ": " + range_text(b.offset, b.size) +
                                " extends past the end of the blob section (" +
                                std::to_string(section.size()) + " bytes)");
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(blobs[a].offset, blobs[a].size) < std::pair(blobs[b].offset, blobs[b].size);
  });
  std::vector<uint32_t> range_of(blobs.size());
  uint32_t ranges = 0;
  uint64_t cursor = 0;  // end of the blobs seen so far
  const BlobInfo* previous = nullptr;
  size_t previous_index = 0;
  for (size_t i : order) {
    const BlobInfo& b = blobs[i];
    const bool same_as_previous = previous && previous->offset == b.offset && previous->size == b.size;
    if (same_as_previous) {
      // One range has one hash: entries that disagree cannot both be right, whatever the bytes.
      if (b.sha256 != previous->sha256) {
        throw_corrupt(origin, blob_name(i) + ": hash mismatch: the manifest says " + b.sha256 + ", but " +
                                  previous->sha256 + " for " + blob_name(previous_index) + " at the same range " +
                                  range_text(b.offset, b.size));
      }
      range_of[i] = ranges - 1;
      continue;
    }
    if (previous && b.offset < cursor) {
      throw_corrupt(origin, blob_name(i) + " " + range_text(b.offset, b.size) + " overlaps " +
                                blob_name(previous_index) + " " + range_text(previous->offset, previous->size));
    }
    require_zero(section, cursor, b.offset, origin, "non-zero padding byte", "between blobs");
    cursor = b.offset + b.size;
    previous = &b;
    previous_index = i;
    range_of[i] = ranges++;
  }
  require_zero(section, cursor, section.size(), origin, "non-zero byte", "after the last blob");
  return range_of;
}

// Whether `digest` is the digest written as lower-case hex in `hex` (allocates nothing).
bool digest_is(const Sha256Digest& digest, std::string_view hex) {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (hex.size() != 2 * digest.size()) return false;
  for (size_t i = 0; i < digest.size(); ++i) {
    if (hex[2 * i] != kDigits[digest[i] >> 4] || hex[2 * i + 1] != kDigits[digest[i] & 15]) return false;
  }
  return true;
}

// The manifest's JSON, validated with the reader's rules so that a written pack always opens.
// Throws kInvalidArgument; `caller` begins the message of the size limit.
std::string checked_manifest_json(const Manifest& manifest, const char* caller) {
  const std::string json = manifest_to_json(manifest);
  if (json.size() > pack_format::kMaxManifestSize) {
    throw Error(ErrorCode::kInvalidArgument, std::string(caller) + ": the manifest is " + std::to_string(json.size()) +
                                                 " bytes, over the 64 MiB limit");
  }
  try {
    (void)pack_format::parse_manifest(json, "refusing to write an invalid manifest: ");
  } catch (const Error& e) {
    throw Error(ErrorCode::kInvalidArgument, e.what());
  }
  return json;
}

}  // namespace

std::shared_ptr<const Pack> Pack::from_owned_bytes(std::vector<uint8_t> bytes, std::string origin) {
  if (bytes.size() > pack_format::kMaxFileSize) {
    throw_corrupt(origin, "pack is " + std::to_string(bytes.size()) + " bytes, over the 4 GiB limit");
  }
  std::shared_ptr<Pack> pack(new Pack());
  pack->bytes_ = std::move(bytes);
  pack->origin_ = std::move(origin);
  const pack_format::Sections sections = pack_format::parse_container(pack->bytes_, pack->origin_);
  pack->manifest_json_ = std::string(sections.manifest_json);
  pack->manifest_ = pack_format::parse_manifest(sections.manifest_json, "corrupt pack '" + pack->origin_ + "': ");
  pack->blob_range_ = check_blobs(pack->manifest_.blobs, sections.blobs, pack->origin_);
  // One per blob is enough (there are at most as many ranges), all kUnchecked.
  pack->blob_checks_ = std::make_unique<std::atomic<BlobCheck>[]>(pack->manifest_.blobs.size());
  pack->blobs_offset_ = sections.header.blobs_offset;
  return pack;
}

std::shared_ptr<const Pack> Pack::from_bytes(std::span<const uint8_t> bytes, const std::string& origin) {
  if (bytes.size() > pack_format::kMaxFileSize) {
    throw_corrupt(origin, "pack is " + std::to_string(bytes.size()) + " bytes, over the 4 GiB limit");
  }
  return from_owned_bytes(std::vector<uint8_t>(bytes.begin(), bytes.end()), origin);
}

std::shared_ptr<const Pack> Pack::open(const std::string& path) {
  const int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) {
    throw Error(ErrorCode::kIo, "cannot open pack '" + path + "': " + errno_text(errno));
  }
  FileDescriptor fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw Error(ErrorCode::kIo, "cannot stat pack '" + path + "': " + errno_text(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    throw Error(ErrorCode::kIo, "cannot read pack '" + path + "': " + errno_text(EISDIR));
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > pack_format::kMaxFileSize) {
    throw_corrupt(path, "pack is " + std::to_string(st.st_size) + " bytes, over the 4 GiB limit");
  }
  auto read_some = [&](uint8_t* dst, size_t n) -> size_t {
    while (true) {
      const ssize_t got = ::read(fd.get(), dst, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) {
        throw Error(ErrorCode::kIo, "cannot read pack '" + path + "': " + errno_text(errno));
      }
    }
  };
  // A regular file is read in one go into a buffer of its size; whatever follows (a file that
  // grew meanwhile, or a pipe) is appended in chunks up to the size limit.
  std::vector<uint8_t> bytes(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0);
  size_t filled = 0;
  while (filled < bytes.size()) {
    const size_t n = read_some(bytes.data() + filled, bytes.size() - filled);
    if (n == 0) break;
    filled += n;
  }
  bytes.resize(filled);
  std::vector<uint8_t> chunk(size_t{1} << 16);
  while (const size_t n = read_some(chunk.data(), chunk.size())) {
    if (bytes.size() + n > pack_format::kMaxFileSize) throw_corrupt(path, "pack is over the 4 GiB limit");
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return from_owned_bytes(std::move(bytes), path);
}

const std::string& Pack::sha256() const {
  std::call_once(sha256_once_, [this] { sha256_ = sha256_hex(std::span<const uint8_t>(bytes_)); });
  return sha256_;
}

std::span<const uint8_t> Pack::blob(int32_t index) const {
  if (index < 0 || static_cast<size_t>(index) >= manifest_.blobs.size()) {
    throw Error(ErrorCode::kInvalidArgument, "blob index " + std::to_string(index) + " out of range; pack '" +
                                                 origin_ + "' has " + std::to_string(manifest_.blobs.size()) +
                                                 " blobs");
  }
  const size_t i = static_cast<size_t>(index);
  const BlobInfo& b = manifest_.blobs[i];
  const std::span<const uint8_t> bytes = std::span<const uint8_t>(bytes_).subspan(blobs_offset_ + b.offset, b.size);
  std::atomic<BlobCheck>& check = blob_checks_[blob_range_[i]];
  BlobCheck state = check.load(std::memory_order_acquire);
  if (state == BlobCheck::kUnchecked) {
    // Threads that get here together each hash the blob and store the same outcome; none waits.
    const Sha256Digest digest = tritonpack::sha256(bytes);
    state = digest_is(digest, b.sha256) ? BlobCheck::kGood : BlobCheck::kBad;
    check.store(state, std::memory_order_release);
  }
  if (state == BlobCheck::kBad) {
    // Hashed again for the message: a corrupt blob is the rare path, and this keeps the state one byte.
    throw_corrupt(origin_, blob_name(i) + ": hash mismatch: the manifest says " + b.sha256 +
                               ", the bytes hash to " + sha256_hex(bytes));
  }
  return bytes;
}

void Pack::verify_blobs() const {
  for (size_t i = 0; i < manifest_.blobs.size(); ++i) (void)blob(static_cast<int32_t>(i));
}

const KernelInfo& Pack::kernel(const std::string& name) const {
  std::string names;
  for (const auto& k : manifest_.kernels) {
    if (k.name == name) return k;
    names += (names.empty() ? "" : ", ") + k.name;
  }
  throw Error(ErrorCode::kNotFound, "kernel '" + name + "' not found in pack '" + origin_ + "'; " +
                                        (names.empty() ? "it holds no kernels" : "it holds: " + names));
}

std::vector<uint8_t> serialize_pack(Manifest manifest, const std::vector<std::vector<uint8_t>>& blobs) {
  if (blobs.size() != manifest.blobs.size()) {
    throw Error(ErrorCode::kInvalidArgument, "serialize_pack: the manifest lists " +
                                                 std::to_string(manifest.blobs.size()) + " blobs but " +
                                                 std::to_string(blobs.size()) + " were given");
  }
  // Identical blobs (same hash, same bytes) are stored once.
  std::vector<uint8_t> section;
  std::map<std::string, size_t> first_with_hash;
  for (size_t i = 0; i < blobs.size(); ++i) {
    BlobInfo& info = manifest.blobs[i];
    info.size = blobs[i].size();
    info.sha256 = sha256_hex(blobs[i]);
    auto [it, fresh] = first_with_hash.emplace(info.sha256, i);
    if (!fresh && blobs[it->second] == blobs[i]) {
      info.offset = manifest.blobs[it->second].offset;
      continue;
    }
    info.offset = pack_format::align_up(section.size(), pack_format::kBlobAlignment);
    if (info.offset + info.size > pack_format::kMaxFileSize) {
      throw Error(ErrorCode::kInvalidArgument, "serialize_pack: the blobs exceed the 4 GiB pack limit");
    }
    section.resize(info.offset);
    section.insert(section.end(), blobs[i].begin(), blobs[i].end());
  }
  const std::string json = checked_manifest_json(manifest, "serialize_pack");
  std::vector<uint8_t> out = pack_format::write_container(json, section);
  if (out.size() > pack_format::kMaxFileSize) {
    throw Error(ErrorCode::kInvalidArgument, "serialize_pack: the pack exceeds the 4 GiB limit");
  }
  return out;
}

std::vector<uint8_t> rewrite_manifest(const Pack& pack, Manifest manifest) {
  const std::vector<BlobInfo>& old = pack.manifest().blobs;
  if (manifest.blobs.size() != old.size()) {
    throw Error(ErrorCode::kInvalidArgument, "rewrite_manifest: the new manifest lists " +
                                                 std::to_string(manifest.blobs.size()) + " blobs, pack '" +
                                                 pack.origin() + "' holds " + std::to_string(old.size()));
  }
  for (size_t i = 0; i < old.size(); ++i) {
    if (manifest.blobs[i].sha256 != old[i].sha256 || manifest.blobs[i].kind != old[i].kind) {
      throw Error(ErrorCode::kInvalidArgument, "rewrite_manifest: blobs[" + std::to_string(i) +
                                                   "] differs from the pack's; only the manifest may change");
    }
  }
  // The blob section is copied as it is and the blob table kept with its offsets: laying the blobs
  // out again (serialize_pack) would move them in a pack another writer laid out otherwise. Opening
  // hashes no blob: they are checked here, so that a corrupt blob is not written into a new pack.
  pack.verify_blobs();
  manifest.blobs = old;
  const std::string json = checked_manifest_json(manifest, "rewrite_manifest");
  const pack_format::Sections sections = pack_format::parse_container(pack.bytes(), pack.origin());
  std::vector<uint8_t> out = pack_format::write_container(json, sections.blobs);
  if (out.size() > pack_format::kMaxFileSize) {
    throw Error(ErrorCode::kInvalidArgument, "rewrite_manifest: the pack exceeds the 4 GiB limit");
  }
  return out;
}

void write_file_atomically(const std::string& path, std::span<const uint8_t> bytes) {
  // The sequence number keeps two threads of one process writing the same path apart.
  static std::atomic<uint64_t> sequence{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(sequence++);
  auto fail = [&](const std::string& step, int err) {
    ::unlink(tmp.c_str());
    throw Error(ErrorCode::kIo, "cannot write '" + path + "': " + step + ": " + errno_text(err));
  };

  const int raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (raw_fd < 0) {
    const int err = errno;
    throw Error(ErrorCode::kIo, "cannot write '" + path + "': creating '" + tmp + "': " + errno_text(err));
  }
  FileDescriptor fd(raw_fd);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("writing '" + tmp + "'", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync of '" + tmp + "'", errno);
  if (fd.close() != 0) fail("closing '" + tmp + "'", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming '" + tmp + "'", errno);

  // Make the rename itself durable. Best effort: the new file is already in place, so a failure
  // here must not report the write as failed.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace tritonpack
