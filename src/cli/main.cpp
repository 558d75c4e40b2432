// tritonpack: compile Triton kernels into packs, inspect them, run and benchmark them.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "tritonpack/error.h"

int main(int argc, char** argv) {
  using namespace tritonpack::cli;
  CLI::App app{"tritonpack: Triton kernels compiled ahead of time, launched from C++ without Python"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tritonpack ") + TRITONPACK_VERSION);

  CompileOptions compile_options;
  auto* c = app.add_subcommand("compile", "compile a kernel spec (TOML) into a pack");
  c->add_option("spec", compile_options.spec, "kernel spec file")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", compile_options.output, "pack file to write")->required();
  c->add_option("--cache-dir", compile_options.cache_dir, "compile cache folder");
  c->add_option("--python", compile_options.python, "Python interpreter with Triton");
  c->add_option("--arch", compile_options.archs, "override the spec's archs (sm_80, sm_90, ...)");
  c->add_option("-j,--jobs", compile_options.jobs, "parallel compilations (default: all cores)");
  c->add_flag("--no-cache", compile_options.no_cache, "recompile every variant");
  c->add_flag("-q,--quiet", compile_options.quiet, "no progress display");

  InspectOptions inspect_options;
  auto* i = app.add_subcommand("inspect", "show what a pack holds");
  i->add_option("pack", inspect_options.pack, "pack file")->required();
  i->add_flag("--json", inspect_options.json, "print the manifest as JSON");
  i->add_flag("--registers", inspect_options.registers, "load variants on a GPU to report registers and spills");
  i->add_option("--device", inspect_options.device, "GPU for --registers");

  RunOptions run_options;
  auto* r = app.add_subcommand("run", "launch a kernel of a pack on random data, verify, benchmark");
  r->add_option("pack", run_options.pack, "pack file")->required();
  r->add_option("-k,--kernel", run_options.kernel, "kernel name (default: the pack's only kernel)");
  r->add_option("-t,--type", run_options.types, "type binding, e.g. T=fp16");
  r->add_option("-a,--arg", run_options.args, "scalar argument, e.g. n_elements=1048576");
  r->add_option("--pin", run_options.pins, "constexpr the variant must have, e.g. BLOCK_SIZE=1024");
  r->add_option("-c,--config", run_options.config, "config name");
  r->add_option("--variant", run_options.variant, "variant id");
  r->add_option("-d,--device", run_options.device, "GPU ordinal");
  r->add_option("--bench", run_options.bench, "timed runs (event-timed median)");
  r->add_option("--warmup", run_options.warmup, "untimed runs before --bench");
  r->add_option("--seed", run_options.seed, "random seed for the inputs (default: fresh)");
  r->add_flag("--no-verify", run_options.no_verify, "skip the reference check");
  r->add_flag("--json", run_options.json, "print the result as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (c->parsed()) return compile(compile_options);
    if (i->parsed()) return inspect(inspect_options);
    if (r->parsed()) return run(run_options);
  } catch (const tritonpack::Error& e) {
    std::cerr << "tritonpack: " << tritonpack::error_code_name(e.code()) << ": " << e.what() << "\n";
    return e.code() == tritonpack::ErrorCode::kNoDriver ? 3 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tritonpack: internal error: " << e.what() << "\n";
    return 70;
  }
  return 2;
}
