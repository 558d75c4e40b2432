// Which kernel of a pack a command works on: the one --kernel names, else the pack's only one.
#pragma once

#include <string>

#include "tritonpack/pack.h"

namespace tritonpack::cli {

// `name` when given (Pack::kernel's error for a name the pack lacks: "kernel 'x' not found in pack
// 'p.tpack'; it holds: a, b"); else the pack's only kernel. Throws kInvalidArgument naming the
// kernels when there are several, kNotFound when there are none.
const KernelInfo& choose_kernel(const Pack& pack, const std::string& name);

}  // namespace tritonpack::cli
