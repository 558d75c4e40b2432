#include "cli/python_module.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tritonpack/error.h"

extern char** environ;

namespace tritonpack::cli {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

std::string python_interpreter(const std::string& given) {
  return given.empty() ? env_or("TRITONPACK_PYTHON", "python3") : given;
}

void prepend_python_path() {
  const std::string python_dir = env_or("TRITONPACK_PYTHON_DIR", TRITONPACK_DEFAULT_PYTHON_DIR);
  const std::string old_path = env_or("PYTHONPATH", "");
  setenv("PYTHONPATH", (old_path.empty() ? python_dir : python_dir + ":" + old_path).c_str(), 1);
}

int run_python_module(const std::string& python, const std::string& module, const std::vector<std::string>& args,
                      const std::string& needs) {
  prepend_python_path();
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
