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
  c->add_flag("--keep-ir", compile_options.keep_ir, "store each variant's TTIR, TTGIR and LLVM IR in the pack (see inspect --ir)");
  c->add_flag("-q,--quiet", compile_options.quiet, "no progress display");

  InspectOptions inspect_options;
  auto* i = app.add_subcommand("inspect", "show what a pack holds");
  i->add_option("pack", inspect_options.pack, "pack file")->required();
  auto* json = i->add_flag("--json", inspect_options.json, "print the manifest as JSON");
  i->add_option("-k,--kernel", inspect_options.kernel, "kernel name (default: every kernel; for --ir the only one)");
  auto* ir = i->add_option("--ir", inspect_options.ir,
                           "print one variant's text at this stage: ttir, ttgir, llir (packs compiled with "
                           "--keep-ir) or ptx")->excludes(json);
  int64_t inspect_variant = 0;
  auto* variant = i->add_option("--variant", inspect_variant, "variant id for --ir")->needs(ir);

  RunOptions run_options;
  auto* r = app.add_subcommand("run", "launch a kernel of a pack on random data, verify, benchmark");
  r->add_option("pack", run_options.pack, "pack file")->required();
  r->add_option("-k,--kernel", run_options.kernel, "kernel name (default: the pack's only kernel)");
  r->add_option("-t,--type", run_options.types, "type binding, e.g. T=fp16");
  r->add_option("-a,--arg", run_options.args, "a scalar, launch variable or dim, e.g. n_elements=1048576 or D=64");
  r->add_option("--pin", run_options.pins, "a compiled constexpr value the variant must have, e.g. BLOCK_SIZE=1024 or ACTIVATION=leaky_relu");
  r->add_option("-c,--config", run_options.config, "config name");
  r->add_option("--variant", run_options.variant, "variant id");
  r->add_option("-d,--device", run_options.device, "GPU ordinal");
  r->add_option("--bench", run_options.bench, "timed runs (event-timed median)");
  r->add_option("--warmup", run_options.warmup, "untimed runs before --bench");
  r->add_option("--seed", run_options.seed, "random seed for the inputs (default: fresh)");
  r->add_flag("--no-verify", run_options.no_verify, "skip the reference check");
  r->add_flag("--json", run_options.json, "print the result as JSON");
  r->add_flag("--no-tuning", run_options.no_tuning, "ignore the pack's tuning table: configs in spec order");
  r->add_option("--tuning-device", run_options.tuning_device,
                "with --explain: the GPU model whose tuning table to use (e.g. \"NVIDIA H200\"; default: the first of that arch)");
  auto* explain = r->add_option("--explain", run_options.explain_arch,
                                "launch nothing: which variant would run on this arch (e.g. sm_90) and why not the "
                                "others; no GPU needed");
  r->add_option("--sm-count", run_options.sm_count,
                "with --explain: the SM count SM_COUNT takes in grids and dim-size arguments (default: one common "
                "GPU of that arch's, 132 for sm_90)")
      ->check(CLI::Range(1u, 1000000u))
      ->needs(explain);

  ImportOptions import_options;
  auto* im = app.add_subcommand("import-plugingen", "convert a TensorRT-LLM PluginGen kernel config into a spec");
  im->add_option("config", import_options.config, "PluginGen kernel config (.py with KERNELS)")->required()->check(CLI::ExistingFile);
  im->add_option("-o,--output", import_options.output, "spec to write (.toml)")->required();
  im->add_option("-k,--kernel", import_options.kernel, "which kernel of KERNELS (default: the only one)");
  im->add_option("--python", import_options.python, "Python 3 interpreter");

  InitOptions init_options;
  auto* in = app.add_subcommand("init", "write a starting spec from a Triton function (its signature, autotune configs, heuristics)");
  in->add_option("target", init_options.target, "KERNEL.py:FUNCTION")->required();
  in->add_option("-o,--output", init_options.output, "spec to write (.toml)")->required();
  in->add_option("--python", init_options.python, "Python interpreter with Triton");
  in->add_flag("-f,--force", init_options.force, "overwrite an existing spec");

  ShapesOptions shapes_options;
  auto* sh = app.add_subcommand("shapes", "output shapes, dim-size arguments, grid, workspace and variant for input shapes");
  sh->add_option("pack", shapes_options.pack, "pack file")->required();
  sh->add_option("-k,--kernel", shapes_options.kernel, "kernel name (default: the pack's only kernel)");
  sh->add_option("-i,--input", shapes_options.inputs, "input shape, e.g. Q=2x4x128x64 or Q=2x4x128x64:bf16");
  sh->add_option("-p,--param", shapes_options.params, "field value, e.g. sm_scale=0.125; a dtype field by name, e.g. TO=bf16");
  sh->add_option("--tactic", shapes_options.tactic, "tactic (1-based config index; 0 = any)");
  sh->add_option("--arch", shapes_options.arch, "compute capability to choose the variant for (default 90)");
  sh->add_option("--sm-count", shapes_options.sm_count,
                 "the SM count SM_COUNT takes on it (default: one common GPU of that arch's, 132 for sm_90)")
      ->check(CLI::Range(1u, 1000000u));
  sh->add_flag("--json", shapes_options.json, "print JSON");

  TuneOptions tune_options;
  auto* tu = app.add_subcommand("tune", "measure every config of the kernels' [tuning] launches on this GPU and "
                                        "store the fastest per bin in the pack (docs/tuning.md)");
  tu->add_option("pack", tune_options.pack, "pack file")->required();
  tu->add_option("-o,--output", tune_options.output, "tuned pack to write (may be PACK itself; required but with --list)");
  tu->add_option("-k,--kernel", tune_options.kernels, "kernel to tune (default: every kernel with a tuning key)");
  tu->add_option("-d,--device", tune_options.device, "GPU ordinal");
  tu->add_option("--runs", tune_options.runs, "timed runs per config (median; default 25)")->check(CLI::Range(1, 100000));
  tu->add_option("--warmup", tune_options.warmup, "untimed runs before them (default 5)")->check(CLI::Range(0, 100000));
  tu->add_option("--seed", tune_options.seed, "random seed for the inputs (default: fresh)");
  tu->add_option("--report", tune_options.report, "also write PREFIX.json and PREFIX.csv with every measurement");
  tu->add_option("--shape", tune_options.shapes,
                 "one more launch to measure, e.g. M=1000,N=4000,K=2000,T=bf16 (kept in the pack's list for re-tuning)");
  tu->add_flag("--list", tune_options.list, "print the launches that would be measured, with their bins, and stop (no GPU)");
  tu->add_flag("-q,--quiet", tune_options.quiet, "no progress display");

  GenCppOptions gen_options;
  gen_options.name_space = "tritonpack_ops";
  auto* g = app.add_subcommand("gen-cpp", "write a typed C++ header for a pack's kernels");
  g->add_option("pack", gen_options.pack, "pack file")->required();
  g->add_option("-o,--output", gen_options.output, "header to write")->required();
  g->add_option("--namespace", gen_options.name_space, "C++ namespace (default tritonpack_ops)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (c->parsed()) return compile(compile_options);
    if (i->parsed()) {
      if (variant->count() > 0) inspect_options.variant = inspect_variant;
      return inspect(inspect_options);
    }
    if (r->parsed()) return run(run_options);
    if (im->parsed()) return import_plugingen(import_options);
    if (in->parsed()) return init(init_options);
    if (sh->parsed()) return shapes(shapes_options);
    if (g->parsed()) return gen_cpp(gen_options);
    if (tu->parsed()) return tune(tune_options);
  } catch (const tritonpack::Error& e) {
    std::cerr << "tritonpack: " << tritonpack::error_code_name(e.code()) << ": " << e.what() << "\n";
    return e.code() == tritonpack::ErrorCode::kNoDriver ? 3 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tritonpack: internal error: " << e.what() << "\n";
    return 70;
  }
  return 2;
}
