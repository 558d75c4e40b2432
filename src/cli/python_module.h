// Running one of tritonpack's Python modules (python/) as a child process: the import-plugingen
// and init commands. The compile step has its own runner (compile_cmd.cpp: it reads events) and
// takes the interpreter and PYTHONPATH from here.
#pragma once

#include <string>
#include <vector>

namespace tritonpack::cli {

// "" = $TRITONPACK_PYTHON, else python3.
std::string python_interpreter(const std::string& given);

// The folder holding tritonpack's Python packages, for running `module` (tritonpack_compile,
// tritonpack_init, tritonpack_plugingen). Looked up in this order (docs/install.md):
//   1. $TRITONPACK_PYTHON_DIR, if set: then it is the only place looked in;
//   2. the packages installed beside this executable, found from /proc/self/exe and the install
//      layout it was built for (pip: the wheel's site-packages; cmake --install:
//      <prefix>/share/tritonpack/python);
//   3. the source tree's python/, only for the executable built in the build tree (so a copied or
//      installed CLI never runs a stale source tree's step unnoticed).
// A place counts when it holds <module>/__main__.py. Throws Error(kNotFound) naming every place
// tried and what was wrong with each.
std::string find_python_dir(const std::string& module);

// Puts find_python_dir(module) first on this process's PYTHONPATH, so that the children it
// starts import tritonpack's modules.
void prepend_python_path(const std::string& module);

// Runs `python -m module args...` with tritonpack's Python folder first on PYTHONPATH and
// returns its exit status (1 if it died of a signal). Throws Error(kNotFound) naming `needs`
// when the interpreter cannot start.
int run_python_module(const std::string& python, const std::string& module, const std::vector<std::string>& args,
                      const std::string& needs);

}  // namespace tritonpack::cli
