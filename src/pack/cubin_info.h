// tritonpack: a kernel's resource usage read out of its cubin, without a GPU or NVIDIA's tools.
//
// ptxas records, per kernel, the attributes the CUDA driver launches with in the ELF section
// `.nv.info` (layout: docs/compile-step.md, "Resource usage"). This reader finds the entry
// symbol's EIATTR_REGCOUNT (registers per thread) and EIATTR_FRAME_SIZE (stack frame bytes per
// thread). Measured on an H200 (driver 580): both equal what cuFuncGetAttribute reports
// (CU_FUNC_ATTRIBUTE_NUM_REGS, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES) for the loaded cubin.
// Spill bytes are not in the cubin: only ptxas's report has them (VariantInfo::resources).
//
// The bytes are untrusted (they come from a pack): every offset, size and index is checked
// before use, with overflow-free arithmetic. Private to src/pack and the tools and tests.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tritonpack::pack_format {

struct CubinResources {
  uint32_t registers = 0;              // EIATTR_REGCOUNT
  std::optional<uint32_t> frame_size;  // EIATTR_FRAME_SIZE, bytes; ptxas's "N bytes stack frame"
};

// The resources of kernel `entry` (its symbol name) in `cubin`. nullopt when the cubin is a
// well-formed ELF but records no register count for `entry` (no `.nv.info`, another kernel's
// cubin). Throws Error(kCorruptPack) "cubin: <what>" for anything malformed: not a 64-bit
// little-endian CUDA ELF, a section, name, symbol or record outside its bounds, a record of an
// unknown format, two records for `entry` that disagree. Throws nothing else.
std::optional<CubinResources> read_cubin_resources(std::span<const uint8_t> cubin, std::string_view entry);

}  // namespace tritonpack::pack_format
