#include "cli/kernel_choice.h"

#include "tritonpack/error.h"
#include "util/text.h"

namespace tritonpack::cli {

const KernelInfo& choose_kernel(const Pack& pack, const std::string& name) {
  if (!name.empty()) return pack.kernel(name);
  const std::vector<KernelInfo>& kernels = pack.manifest().kernels;
  if (kernels.size() == 1) return kernels[0];
  if (kernels.empty()) throw Error(ErrorCode::kNotFound, pack.origin() + " holds no kernels");
  std::vector<std::string> names;
  for (const KernelInfo& k : kernels) names.push_back(k.name);
  throw Error(ErrorCode::kInvalidArgument, pack.origin() + " holds " + std::to_string(kernels.size()) + " kernels (" +
                                               text::join(names) + "): choose one with --kernel");
}

}  // namespace tritonpack::cli
