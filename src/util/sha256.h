// tritonpack: SHA-256 (FIPS 180-4), written for tritonpack; used for pack integrity hashes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tritonpack {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hasher: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256() noexcept { reset(); }

  void reset() noexcept;
  void update(std::span<const uint8_t> data) noexcept;
  void update(std::string_view text) noexcept;
  // Pads, returns the digest and leaves the hasher reset for reuse.
  Sha256Digest finish() noexcept;

 private:
  void compress(const uint8_t* block) noexcept;

  std::array<uint32_t, 8> state_{};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;       // bytes waiting in buffer_
  uint64_t total_bytes_ = 0;  // message length so far
};

Sha256Digest sha256(std::span<const uint8_t> data) noexcept;
std::string sha256_hex(std::span<const uint8_t> data);
std::string sha256_hex(std::string_view text);
// Lower-case hex of a digest.
std::string to_hex(const Sha256Digest& digest);

}  // namespace tritonpack
