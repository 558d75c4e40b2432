#include "dtypes.h"

#include <utility>

#include "tritonpack/error.h"

namespace tritonpack::torch_ops {

namespace {

// One table serves both directions.
constexpr std::pair<DType, c10::ScalarType> kTable[] = {
    {DType::kFp16, c10::ScalarType::Half},          {DType::kBf16, c10::ScalarType::BFloat16},
    {DType::kFp32, c10::ScalarType::Float},         {DType::kFp64, c10::ScalarType::Double},
    {DType::kI8, c10::ScalarType::Char},            {DType::kI16, c10::ScalarType::Short},
    {DType::kI32, c10::ScalarType::Int},            {DType::kI64, c10::ScalarType::Long},
    {DType::kU8, c10::ScalarType::Byte},            {DType::kU16, c10::ScalarType::UInt16},
    {DType::kU32, c10::ScalarType::UInt32},         {DType::kU64, c10::ScalarType::UInt64},
    {DType::kI1, c10::ScalarType::Bool},            {DType::kFp8e4nv, c10::ScalarType::Float8_e4m3fn},
    {DType::kFp8e5, c10::ScalarType::Float8_e5m2},
};
static_assert(sizeof(kTable) / sizeof(kTable[0]) == kNumDTypes, "every tritonpack dtype has a scalar type");

}  // namespace

c10::ScalarType scalar_type(DType dtype) {
  for (const auto& [d, s] : kTable) {
    if (d == dtype) return s;
  }
  throw Error(ErrorCode::kInternal, "no PyTorch scalar type for dtype " + std::string(dtype_name(dtype)));
}

std::optional<DType> dtype_of(c10::ScalarType type) noexcept {
  for (const auto& [d, s] : kTable) {
    if (s == type) return d;
  }
  return std::nullopt;
}

}  // namespace tritonpack::torch_ops
