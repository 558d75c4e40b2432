// SHA-256 against the NIST FIPS 180-4 example vectors and padding-boundary lengths.
#include "util/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tritonpack {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Sha256, NistEmptyMessage) {
  EXPECT_EQ(sha256_hex(std::string_view()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, NistAbc) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Nist448BitMessage) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Nist896BitMessage) {
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, NistMillionA) {
  const std::string a(1000000, 'a');
  const std::string want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  EXPECT_EQ(sha256_hex(a), want);
  // The same message fed in uneven pieces, crossing block boundaries everywhere.
  Sha256 h;
  size_t at = 0;
  for (size_t piece = 1; at < a.size(); piece = piece % 97 + 1) {
    const size_t n = std::min(piece, a.size() - at);
    h.update(std::string_view(a).substr(at, n));
    at += n;
  }
  EXPECT_EQ(to_hex(h.finish()), want);
}

TEST(Sha256, PaddingBoundaries) {
  // Lengths around the 55/56-byte split where the length field spills into a second block.
  const std::pair<size_t, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const auto& [n, want] : cases) EXPECT_EQ(sha256_hex(std::string(n, 'a')), want) << n << " bytes";
}

TEST(Sha256, IncrementalMatchesOneShotAtEverySplit) {
  std::vector<uint8_t> message(200);
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<uint8_t>(i * 7 + 3);
  const Sha256Digest want = sha256(message);
  for (size_t split = 0; split <= message.size(); ++split) {
    Sha256 h;
    h.update(std::span<const uint8_t>(message).first(split));
    h.update(std::span<const uint8_t>(message).subspan(split));
    EXPECT_EQ(h.finish(), want) << "split at " << split;
  }
}

TEST(Sha256, FinishResetsForReuse) {
  Sha256 h;
  h.update("something else");
  (void)h.finish();
  h.update(as_bytes("abc"));
  EXPECT_EQ(to_hex(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tritonpack
