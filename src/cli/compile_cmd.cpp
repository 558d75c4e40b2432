// `tritonpack compile`: spec -> compile plan -> Python step (Triton) -> pack.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/python_module.h"
#include "cli/text.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "tritonpack/spec.h"
#include "util/sha256.h"

extern char** environ;

namespace tritonpack::cli {
namespace {

namespace fs = std::filesystem;

std::string default_cache_dir() {
  if (const char* v = std::getenv("TRITONPACK_CACHE_DIR"); v && *v) return v;
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return std::string(v) + "/tritonpack";
  if (const char* v = std::getenv("HOME"); v && *v) return std::string(v) + "/.cache/tritonpack";
  return (fs::temp_directory_path() / "tritonpack-cache").string();
}

std::vector<uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, "cannot read '" + path.string() + "'");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string job_label(const spec::Spec& s, const spec::CompileJob& job) {
  std::string out = "variant " + std::to_string(job.id) + " (";
  for (const auto& [var, dtype] : job.bindings) out += var + "=" + std::string(dtype_name(dtype)) + ", ";
  for (const auto& c : job.constexprs) out += c.name + "=" + c.value.text() + ", ";
  out += "config " + s.kernel.configs[job.config_index].name;
  for (const auto& [name, d] : job.divisibility) out += ", " + name + "%" + std::to_string(d);
  return out + ", sm_" + std::to_string(job.arch) + ")";
}

struct StepResult {
  int exit_code = 0;
  std::map<uint32_t, std::string> dirs;      // job id -> output folder
  std::map<uint32_t, std::string> failures;  // job id -> message (names the job)
  std::map<uint32_t, std::string> errors;    // job id -> the message without the job's label
  std::string failed_all;                    // the preflight's message: nothing was compiled
  size_t failed_all_count = 0;               // the jobs it hits
};

// Runs the Python step and follows its event stream (one JSON object per line).
StepResult run_python_step(const CompileOptions& o, const std::string& job_file, size_t total) {
  const std::string python = python_interpreter(o.python);
  prepend_python_path("tritonpack_compile");

  std::vector<std::string> argv_text = {python, "-m", "tritonpack_compile", job_file};
  argv_text.push_back("--parallel");
  argv_text.push_back(std::to_string(o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency())));
  if (o.no_cache) argv_text.push_back("--no-cache");
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw Error(ErrorCode::kIo, "cannot create a pipe for the compile step");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    throw Error(ErrorCode::kCompile, "cannot start the Python step '" + python + "': " + std::strerror(spawned) +
                                         "; install Python 3 with Triton (pip install triton==3.6.0) or pass --python");
  }

  StepResult result;
  FILE* events = fdopen(pipe_fds[0], "r");
  char* line = nullptr;
  size_t capacity = 0;
  size_t done = 0, cached = 0;
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto progress = [&](bool final) {
    if (o.quiet) return;
    if (!tty && !final) return;
    std::cerr << (tty ? "\r" : "") << "compiling: " << done << "/" << total << " variants (" << cached << " cached, "
              << result.failures.size() + result.failed_all_count << " failed)" << (final ? "\n" : "") << std::flush;
  };
  while (getline(&line, &capacity, events) > 0) {
    nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.is_object()) continue;
    const std::string kind = e.value("event", "");
    if (kind == "done") {
      ++done;
      if (e.value("cached", false)) ++cached;
      result.dirs[e.value("id", 0u)] = e.value("dir", "");
    } else if (kind == "failed") {
      ++done;
      const uint32_t id = e.value("id", 0u);
      result.failures[id] = e.value("message", "no message");
      result.errors[id] = e.value("error", result.failures[id]);
    } else if (kind == "failed_all") {  // the preflight failed: one message for every job, none compiled
      result.failed_all_count = e.value("count", size_t{0});
      result.failed_all = e.value("message", "no message");
    }
    progress(false);
  }
  free(line);
  fclose(events);
  progress(true);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return result;
}

// Appends the file as a blob of `kind` (serialize_pack stores identical blobs once); its index.
int32_t add_blob(Manifest& manifest, std::vector<std::vector<uint8_t>>& blobs, const fs::path& file,
                 const std::string& kind) {
  blobs.push_back(read_file(file));
  manifest.blobs.push_back(BlobInfo{0, 0, "", kind});
  return static_cast<int32_t>(blobs.size() - 1);
}

// One section per distinct error text: 3,456 variants failing the same way print the error once.
std::string failure_report(const spec::Spec& s, const std::vector<spec::CompileJob>& jobs, const StepResult& step) {
  constexpr size_t kLabelsShown = 4;
  std::vector<std::pair<std::string, std::vector<uint32_t>>> groups;  // in order of first failing id
  std::map<std::string, size_t> group_of;
  for (const auto& [id, error] : step.errors) {
    auto [it, added] = group_of.try_emplace(error, groups.size());
    if (added) groups.push_back({error, {}});
    groups[it->second].second.push_back(id);
  }
  std::ostringstream os;
  os << step.failures.size() << " of " << jobs.size() << " variants of '" << s.kernel.name << "' failed to compile:";
  for (const auto& [error, ids] : groups) {
    if (ids.size() == 1) {
      os << "\n--- " << job_label(s, jobs.at(ids[0])) << "\n" << step.failures.at(ids[0]);
      continue;
    }
    os << "\n--- the same error in " << ids.size() << " of " << jobs.size() << " variants: " << error << "\n  in:";
    for (size_t i = 0; i < ids.size() && i < kLabelsShown; ++i) os << "\n    " << job_label(s, jobs.at(ids[i]));
    if (ids.size() > kLabelsShown) {
      os << "\n    and " << ids.size() - kLabelsShown << " more: variants "
         << id_ranges(std::vector<uint32_t>(ids.begin() + kLabelsShown, ids.end()));
    }
  }
  return os.str();
}

}  // namespace

int compile(const CompileOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  spec::Spec s = spec::load_spec(o.spec);
  if (!o.archs.empty()) {
    s.archs.clear();
    for (const auto& a : o.archs) s.archs.push_back(parse_arch_option(a, "--arch"));
  }
  const std::vector<spec::CompileJob> jobs = spec::plan_jobs(s);
  const std::string cache_dir = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) throw Error(ErrorCode::kIo, "cannot create the cache folder '" + cache_dir + "': " + ec.message());

  // The job file lives next to the cache, named by its content, so concurrent compiles don't clash.
  const std::string job_json = spec::jobs_to_json(s, jobs, fs::absolute(cache_dir).string());
  const fs::path job_file = fs::path(cache_dir) / ("jobs-" + sha256_hex(job_json).substr(0, 16) + "-" +
                                                   std::to_string(getpid()) + ".json");
  {
    std::ofstream out(job_file, std::ios::binary);
    out << job_json;
    if (!out) throw Error(ErrorCode::kIo, "cannot write the job file '" + job_file.string() + "'");
  }
  StepResult step;
  try {
    step = run_python_step(o, job_file.string(), jobs.size());
  } catch (...) {
    fs::remove(job_file, ec);
    throw;
  }
  fs::remove(job_file, ec);

  if (step.exit_code != 0 && step.exit_code != 1) {
    throw Error(ErrorCode::kCompile, "the Python compile step failed (exit code " + std::to_string(step.exit_code) +
                                         "); its message is above");
  }
  if (!step.failed_all.empty()) {
    const std::string hits = step.failed_all_count == jobs.size()
                                 ? ""
                                 : " (the error below hits " + std::to_string(step.failed_all_count) + " of them)";
    throw Error(ErrorCode::kCompile, std::to_string(jobs.size()) + " variants of '" + s.kernel.name +
                                         "' planned, none compiled" + hits + ":\n" + step.failed_all);
  }
  if (!step.failures.empty()) throw Error(ErrorCode::kCompile, failure_report(s, jobs, step));

  Manifest manifest;
  manifest.created_by = std::string("tritonpack ") + TRITONPACK_VERSION;
  KernelInfo kernel = s.kernel;
  kernel.source_sha256 = sha256_hex(read_file(kernel.source_file));
  std::vector<std::vector<uint8_t>> blobs;
  for (const spec::CompileJob& job : jobs) {
    auto it = step.dirs.find(job.id);
    if (it == step.dirs.end() || it->second.empty()) {
      throw Error(ErrorCode::kCompile, "the Python step reported nothing for " + job_label(s, job));
    }
    const fs::path dir = it->second;
    const std::vector<uint8_t> meta = read_file(dir / "meta.json");
    const std::string_view meta_text(reinterpret_cast<const char*>(meta.data()), meta.size());
    VariantInfo v = spec::make_variant(s, job, meta_text);
    v.cubin_blob = add_blob(manifest, blobs, dir / "kernel.cubin", "cubin");
    v.ptx_blob = add_blob(manifest, blobs, dir / "kernel.ptx", "ptx");
    if (!o.keep_ir) v.ir_blobs.clear();
    for (auto& [stage, blob] : v.ir_blobs) blob = add_blob(manifest, blobs, dir / ("kernel." + stage), stage);
    kernel.variants.push_back(std::move(v));
  }
  manifest.kernels.push_back(std::move(kernel));
  const std::vector<uint8_t> bytes = serialize_pack(std::move(manifest), blobs);
  write_file_atomically(o.output, bytes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.quiet) {
    std::cerr << "wrote " << o.output << ": kernel '" << s.kernel.name << "', " << jobs.size() << " variants, "
              << bytes.size() / 1024 << " KiB, in " << std::fixed;
    std::cerr.precision(2);
    std::cerr << seconds << " s\n";
  }
  return 0;
}

}  // namespace tritonpack::cli
