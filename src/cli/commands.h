// The tritonpack CLI's commands. Each returns the process exit code; errors are thrown as
// tritonpack::Error and turned into a message and exit code by main() alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tritonpack::cli {

struct CompileOptions {
  std::string spec;
  std::string output;
  std::string cache_dir;  // "" = $TRITONPACK_CACHE_DIR, $XDG_CACHE_HOME/tritonpack, ~/.cache/tritonpack
  std::string python;     // "" = $TRITONPACK_PYTHON or python3
  std::vector<std::string> archs;  // override the spec's archs
  int jobs = 0;           // 0 = all cores
  bool no_cache = false;
  bool keep_ir = false;  // store each variant's TTIR, TTGIR and LLVM IR in the pack
  bool quiet = false;
};
int compile(const CompileOptions& options);

struct InspectOptions {
  std::string pack;
  std::string kernel;    // "" = every kernel (the table), the pack's only kernel (--ir)
  std::string ir;        // "" = the table; else print this stage of one variant: ttir, ttgir, llir, ptx
  std::optional<int64_t> variant;  // with ir: the variant id (none: the kernel's only variant)
  bool json = false;
};
int inspect(const InspectOptions& options);

struct RunOptions {
  std::string pack;
  std::string kernel;
  std::vector<std::string> types;    // "T=fp16"
  std::vector<std::string> args;     // "n=1000"
  std::vector<std::string> pins;     // "BLOCK_SIZE=1024"
  std::string config;
  int variant = -1;
  int device = 0;
  int bench = 0;
  int warmup = 10;
  uint64_t seed = 0;
  bool no_verify = false;
  bool json = false;
  std::string explain_arch;  // "sm_90": say which variant would run and why not the others; no GPU
  bool no_tuning = false;     // ignore the pack's tuning table (spec order)
  std::string tuning_device;  // with explain_arch: the GPU model whose tuning table to use
  uint32_t sm_count = 0;      // with explain_arch: what SM_COUNT is; 0 = the arch's usual count
};
int run(const RunOptions& options);

struct ImportOptions {
  std::string config;  // a PluginGen kernel config (.py)
  std::string output;  // spec to write (.toml)
  std::string kernel;  // which of KERNELS (default: the only one)
  std::string python;
  bool quiet = false;
};
int import_plugingen(const ImportOptions& options);

struct InitOptions {
  std::string target;  // KERNEL.py:FUNCTION
  std::string output;  // spec to write (.toml)
  std::string python;
  bool force = false;
};
int init(const InitOptions& options);

struct ShapesOptions {
  std::string pack;
  std::string kernel;
  std::vector<std::string> inputs;  // "Q=2x4x128x64[:fp16]"
  std::vector<std::string> params;  // "sm_scale=0.125"
  int tactic = 0;
  uint32_t arch = 90;  // the device the variant is chosen for
  uint32_t sm_count = 0;  // what SM_COUNT is on it; 0 = the arch's usual count
  bool json = false;
};
int shapes(const ShapesOptions& options);

struct TuneOptions {
  std::string pack;
  std::string output;
  std::vector<std::string> kernels;  // empty: every kernel with a tuning key
  int device = 0;
  int runs = 25;
  int warmup = 5;
  uint64_t seed = 0;
  std::string report;  // PREFIX: write PREFIX.json and PREFIX.csv
  std::vector<std::string> shapes;  // more launches to measure: "M=1000,N=4000,K=2000,T=bf16"
  bool list = false;                // print the launches that would be measured and stop (no GPU)
  bool quiet = false;
};
int tune(const TuneOptions& options);

struct GenCppOptions {
  std::string pack;
  std::string output;
  std::string name_space;  // C++ namespace of the generated functions
};
int gen_cpp(const GenCppOptions& options);

}  // namespace tritonpack::cli
