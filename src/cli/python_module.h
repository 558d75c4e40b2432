// Running one of tritonpack's Python modules (python/) as a child process: the import-plugingen
// and init commands. The compile step has its own runner (compile_cmd.cpp: it reads events) and
// takes the interpreter and PYTHONPATH from here.
#pragma once

#include <string>
#include <vector>

namespace tritonpack::cli {

// "" = $TRITONPACK_PYTHON, else python3.
std::string python_interpreter(const std::string& given);

// Puts tritonpack's python/ folder ($TRITONPACK_PYTHON_DIR, else the one built in) first on this
// process's PYTHONPATH, so that the children it starts import tritonpack's modules.
void prepend_python_path();

// Runs `python -m module args...` with tritonpack's python/ folder first on PYTHONPATH and
// returns its exit status (1 if it died of a signal). Throws Error(kNotFound) naming `needs`
// when the interpreter cannot start.
int run_python_module(const std::string& python, const std::string& module, const std::vector<std::string>& args,
                      const std::string& needs);

}  // namespace tritonpack::cli
