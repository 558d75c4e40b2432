// tritonpack's dtypes <-> PyTorch's scalar types, for the op library.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>

#include "tritonpack/types.h"

namespace tritonpack::torch_ops {

// The scalar type of a tritonpack dtype; every tritonpack dtype has one.
c10::ScalarType scalar_type(DType dtype);
// The tritonpack dtype of a scalar type; nullopt for those tritonpack has none for (complex, ...).
std::optional<DType> dtype_of(c10::ScalarType type) noexcept;

}  // namespace tritonpack::torch_ops
