#include "cli/python_module.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "tritonpack/error.h"

// Built in by CMakeLists.txt (cmake/tritonpack_layout.cmake):
//   TRITONPACK_PYTHON_DIR_FROM_BIN  the installed Python packages, relative to the installed CLI's folder
//   TRITONPACK_SOURCE_PYTHON_DIR    the source tree's python/
//   TRITONPACK_BUILD_BIN_DIR        the folder the build tree's CLI is built in
#if !defined(TRITONPACK_PYTHON_DIR_FROM_BIN) || !defined(TRITONPACK_SOURCE_PYTHON_DIR) || !defined(TRITONPACK_BUILD_BIN_DIR)
#error "the Python package locations must be defined by the build (CMakeLists.txt)"
#endif

extern char** environ;

namespace tritonpack::cli {
namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

bool holds_module(const fs::path& dir, const std::string& module) {
  std::error_code ec;
  return fs::is_regular_file(dir / module / "__main__.py", ec);
}

std::string missing(const fs::path& dir, const std::string& module) {
  return dir.string() + " has no " + module + "/__main__.py";
}

}  // namespace

std::string python_interpreter(const std::string& given) {
  return given.empty() ? env_or("TRITONPACK_PYTHON", "python3") : given;
}

std::string find_python_dir(const std::string& module) {
  std::vector<std::string> tried;
  auto not_found = [&]() {
    std::string message = "cannot find tritonpack's Python package '" + module + "'; looked in:";
    for (const std::string& line : tried) message += "\n  " + line;
    message +=
        "\nreinstall tritonpack (pip install, or cmake --install), or set TRITONPACK_PYTHON_DIR to the folder that holds " +
        module + "/";
    return Error(ErrorCode::kNotFound, message);
  };

  if (const char* from_env = std::getenv("TRITONPACK_PYTHON_DIR"); from_env != nullptr && *from_env != '\0') {
    if (holds_module(from_env, module)) return from_env;
    tried.push_back("$TRITONPACK_PYTHON_DIR: " + missing(from_env, module) +
                    " (when it is set, no other place is looked in)");
    throw not_found();
  }
  tried.push_back("$TRITONPACK_PYTHON_DIR: not set");

  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    tried.push_back("beside the executable: cannot read /proc/self/exe (" + ec.message() + ")");
    tried.push_back(std::string("the source tree: ") + TRITONPACK_SOURCE_PYTHON_DIR +
                    " (not used: this executable's location is unknown)");
    throw not_found();
  }
  const fs::path installed = (exe.parent_path() / TRITONPACK_PYTHON_DIR_FROM_BIN).lexically_normal();
  if (holds_module(installed, module)) return installed.string();
  tried.push_back("beside the executable (" + exe.string() + "): " + missing(installed, module));

  const fs::path source = TRITONPACK_SOURCE_PYTHON_DIR;
  if (!fs::equivalent(exe.parent_path(), TRITONPACK_BUILD_BIN_DIR, ec)) {
    tried.push_back("the source tree: " + source.string() + " (not used: this executable is not the one built in " +
                    TRITONPACK_BUILD_BIN_DIR + ")");
    throw not_found();
  }
  if (holds_module(source, module)) return source.string();
  tried.push_back("the source tree (this is the build tree's executable): " + missing(source, module));
  throw not_found();
}

void prepend_python_path(const std::string& module) {
  const std::string python_dir = find_python_dir(module);
  const std::string old_path = env_or("PYTHONPATH", "");
  setenv("PYTHONPATH", (old_path.empty() ? python_dir : python_dir + ":" + old_path).c_str(), 1);
}

int run_python_module(const std::string& python, const std::string& module, const std::vector<std::string>& args,
                      const std::string& needs) {
  prepend_python_path(module);
  std::vector<std::string> argv_text = {python, "-m", module};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
  if (spawned != 0) {
    throw Error(ErrorCode::kNotFound, "cannot start '" + python + "': " + std::strerror(spawned) + "; " + needs);
  }
  int status = 0;
  pid_t waited = 0;
  while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited < 0) throw Error(ErrorCode::kIo, "cannot wait for '" + python + " -m " + module + "': " + std::strerror(errno));
  if (WIFSIGNALED(status)) {
    throw Error(ErrorCode::kInternal, "'" + python + " -m " + module + "' was killed by signal " +
                                          std::to_string(WTERMSIG(status)));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace tritonpack::cli
