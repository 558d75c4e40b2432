// tritonpack gen-cpp: a typed C++ header per pack, one class per kernel that can be a plugin,
// whose methods take named tensors and fields and forward to the plugin core (which does all
// shape inference and validation). The C++ counterpart of PluginGen's functional.py.
#pragma once

#include <string>

#include "tritonpack/pack.h"

namespace tritonpack::plugin {

// Throws Error(kInvalidArgument) if no kernel of the pack can be a plugin (naming why for each).
std::string generate_cpp_header(const Pack& pack, const std::string& pack_name, const std::string& name_space);

}  // namespace tritonpack::plugin
