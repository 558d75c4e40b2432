// libFuzzer target for the spec reader and planner: untrusted TOML text -> parse_spec, and on
// success plan_jobs and jobs_to_json. Bytes after the first NUL (which TOML text cannot hold)
// are a meta.json for make_variant with the first job, so the fuzzer can reach that reader too.
// Only tritonpack::Error may escape the library; anything else is a finding.
// Seeds: tests/fuzz/corpus/spec. desc_scale_sm90_meta and desc_scale_sm80_meta are the desc_scale
// spec (source "k.py") + NUL + the meta.json `tritonpack compile` wrote for its first job, with the
// descriptor lowered to TMA and not (SpecTest.FuzzSeedsWithMetaMakeTheirVariant keeps them valid).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "tritonpack/error.h"
#include "tritonpack/spec.h"

namespace {

namespace fs = std::filesystem;

fs::path& fuzz_dir() {
  static fs::path dir;
  return dir;
}

void remove_fuzz_dir() {
  std::error_code ec;
  fs::remove_all(fuzz_dir(), ec);
}

// The spec's path: a fresh folder holding "k.py", so inputs with source = "k.py" get past the
// source-file check and on to the rest of the validation and the planner.
const std::string& spec_path() {
  static const std::string path = [] {
    std::string pattern = (fs::temp_directory_path() / "tritonpack_spec_fuzz_XXXXXX").string();
    if (!mkdtemp(pattern.data())) return std::string("spec.toml");
    fuzz_dir() = pattern;
    std::atexit(remove_fuzz_dir);
    std::ofstream(fuzz_dir() / "k.py") << "# fuzz\n";
    return (fuzz_dir() / "spec.toml").string();
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view toml = input.substr(0, nul);
  try {
    tritonpack::spec::Spec spec = tritonpack::spec::parse_spec(toml, spec_path());
    std::vector<tritonpack::spec::CompileJob> jobs = tritonpack::spec::plan_jobs(spec);
    (void)tritonpack::spec::jobs_to_json(spec, jobs, "/tmp/tritonpack-cache");
    if (nul != std::string_view::npos && !jobs.empty()) {
      (void)tritonpack::spec::make_variant(spec, jobs.front(), input.substr(nul + 1));
    }
  } catch (const tritonpack::Error&) {
    // Rejecting the input with a tritonpack::Error is the expected outcome.
  }
  return 0;
}
