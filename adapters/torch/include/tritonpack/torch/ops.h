// tritonpack's PyTorch op library (libtritonpack_torch.so, docs/torch.md): the kernels of packs as
// torch.ops.tritonpack.<plugin name>, for eager PyTorch, torch.compile, torch.export and a C++
// program that runs an AOTInductor model.
//
// Python: `tritonpack.load("x.tpack")` loads this library and calls the op
// torch.ops.tritonpack.load_pack, which calls load_pack below. C++: link libtritonpack_torch.so
// (beside libtorch) and call load_pack before loading a model that uses the ops.
#pragma once

#include <string>
#include <vector>

namespace tritonpack::torch_ops {

// Registers every kernel of the pack at `path` that can be a plugin as the op
// tritonpack::<plugin name> (CUDA, Meta and Autograd kernels) and returns the ops' names
// ("tritonpack::tritonpack_fmha"). Idempotent: loading the same pack (same bytes) again returns
// the same names. Throws c10::Error (RuntimeError in Python) for a file that is not a valid pack,
// a pack with no kernel that can be an op, or an op name another pack (other bytes) already
// registered; the pack's ops are then registered all or none. Thread-safe.
__attribute__((visibility("default"))) std::vector<std::string> load_pack(const std::string& path);

}  // namespace tritonpack::torch_ops
