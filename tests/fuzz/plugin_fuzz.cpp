// libFuzzer target for serialized plugins (PluginCore::deserialize): the bytes an engine stores
// and hands back, so untrusted. Each input is tried twice: as it is, and as a patch over a valid
// serialized plugin (XOR at positions the input chooses, then cut to a length it chooses), so the
// fuzzer reaches the fields past the header and the embedded pack. Only tritonpack::Error may
// escape; a plugin that deserializes must serialize back to bytes that deserialize again, and
// its pack's blobs must be handed out or refused as pack_invariants.h says.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fault/attention_fixture.h"
#include "fuzz/pack_invariants.h"
#include "tritonpack/error.h"
#include "tritonpack/plugin.h"

namespace {

std::vector<uint8_t>& valid() {
  static std::vector<uint8_t> bytes = [] {
    auto core = tritonpack::PluginCore::create(tritonpack::testing::attention_pack(), "attn_plugingen",
                                               {{"sm_scale", 0.125}, {"num_heads", 4}});
    core.set_tactic(2);
    return core.serialize();
  }();
  return bytes;
}

void try_bytes(std::span<const uint8_t> bytes) {
  try {
    tritonpack::PluginCore core = tritonpack::PluginCore::deserialize(bytes);
    tritonpack_fuzz::check_blobs(core.pack());  // the embedded pack's blobs, checked on use
    const std::vector<uint8_t> again = core.serialize();
    (void)tritonpack::PluginCore::deserialize(again);
  } catch (const tritonpack::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try_bytes(std::span<const uint8_t>(data, size));
  // As a patch: pairs of (u16 position, u8 xor), the first two bytes giving the length to keep.
  std::vector<uint8_t> patched = valid();
  if (size >= 2) {
    size_t keep = (static_cast<size_t>(data[0]) << 8 | data[1]) * 4;
    if (keep < patched.size() && data[0] != 0xff) patched.resize(keep);
    for (size_t i = 2; i + 2 < size; i += 3) {
      const size_t at = static_cast<size_t>(data[i]) << 8 | data[i + 1];
      if (at < patched.size()) patched[at] ^= data[i + 2];
    }
  }
  try_bytes(patched);
  return 0;
}
