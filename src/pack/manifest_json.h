// tritonpack: manifest JSON reading shared by manifest_json.cpp, manifest_schema.cpp and pack.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pack/schema_reader.h"
#include "tritonpack/manifest.h"

namespace tritonpack::pack_format {

// Parses and fully validates manifest JSON text. On failure throws Error(kCorruptPack) whose
// message is error_prefix + "<json path>: <what>".
Manifest parse_manifest(std::string_view json, const std::string& error_prefix);

// ResourceUsage's fields by the names that the manifest's "resources" and the compile step's
// meta.json give them (written by manifest_json.cpp, read by manifest_schema.cpp and spec_plan.cpp).
inline constexpr std::array<std::pair<std::string_view, int32_t ResourceUsage::*>, 4> kResourceFields = {{
    {"registers", &ResourceUsage::registers},
    {"spill_stores", &ResourceUsage::spill_stores},
    {"spill_loads", &ResourceUsage::spill_loads},
    {"stack_frame", &ResourceUsage::stack_frame},
}};

// The compiler stages a pack may keep (`tritonpack compile --keep-ir`): ttir, ttgir, llir.
inline bool is_ir_stage(std::string_view kind) { return kind == "ttir" || kind == "ttgir" || kind == "llir"; }

// One element of "kernels", validated against the manifest's blob table and version (what the
// kernel may use: "steps" needs kStepsManifestVersion) (manifest_schema.cpp).
KernelInfo read_kernel(const Json& j, const std::string& path, const std::vector<BlobInfo>& blobs,
                       uint32_t manifest_version);

// A kernel's "tuning" object (tuning_json.cpp): written only for a kernel with a tuning key; read
// and validated against the kernel's type variables and configs.
Json tuning_to_json(const TuningInfo& tuning);
TuningInfo read_tuning(const Json& j, const std::string& path, const KernelInfo& kernel);

}  // namespace tritonpack::pack_format
