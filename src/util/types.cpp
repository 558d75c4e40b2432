#include "tritonpack/types.h"

#include <array>

namespace tritonpack {
namespace {

struct DTypeRow {
  DType type;
  std::string_view name;
  size_t size;
  bool is_float;
};

constexpr std::array<DTypeRow, kNumDTypes> kDTypes{{
    {DType::kFp16, "fp16", 2, true},    {DType::kBf16, "bf16", 2, true},
    {DType::kFp32, "fp32", 4, true},    {DType::kFp64, "fp64", 8, true},
    {DType::kI8, "i8", 1, false},       {DType::kI16, "i16", 2, false},
    {DType::kI32, "i32", 4, false},     {DType::kI64, "i64", 8, false},
    {DType::kU8, "u8", 1, false},       {DType::kU16, "u16", 2, false},
    {DType::kU32, "u32", 4, false},     {DType::kU64, "u64", 8, false},
    {DType::kI1, "i1", 1, false},       {DType::kFp8e4nv, "fp8e4nv", 1, true},
    {DType::kFp8e5, "fp8e5", 1, true},
}};

const DTypeRow& row(DType t) noexcept { return kDTypes[static_cast<size_t>(t)]; }

}  // namespace

std::string_view dtype_name(DType t) noexcept { return row(t).name; }
std::optional<DType> dtype_of_code(double code) noexcept {
  if (!(code >= 0 && code < kNumDTypes) || code != static_cast<double>(static_cast<int>(code))) return std::nullopt;
  return static_cast<DType>(static_cast<int>(code));
}

size_t dtype_size(DType t) noexcept { return row(t).size; }
bool is_float(DType t) noexcept { return row(t).is_float; }

std::optional<DType> parse_dtype(std::string_view name) noexcept {
  for (const auto& r : kDTypes) {
    if (r.name == name) return r.type;
  }
  return std::nullopt;
}

bool is_scalar_dtype(DType t) noexcept { return scalar_arg_type(t).has_value(); }

std::optional<ArgType> scalar_arg_type(DType t) noexcept {
  switch (t) {
    case DType::kI32: return ArgType::kI32;
    case DType::kI64: return ArgType::kI64;
    case DType::kFp32: return ArgType::kFp32;
    case DType::kFp16: return ArgType::kFp16;
    case DType::kBf16: return ArgType::kBf16;
    default: return std::nullopt;
  }
}

std::string_view arg_type_name(ArgType t) noexcept {
  switch (t) {
    case ArgType::kPointer: return "ptr";
    case ArgType::kI32: return "i32";
    case ArgType::kI64: return "i64";
    case ArgType::kFp32: return "fp32";
    case ArgType::kFp16: return "fp16";
    case ArgType::kBf16: return "bf16";
    case ArgType::kTensorDesc: return "tensordesc";
  }
  return "?";
}

std::optional<ArgType> parse_arg_type(std::string_view name) noexcept {
  for (ArgType t : {ArgType::kPointer, ArgType::kI32, ArgType::kI64, ArgType::kFp32,
                    ArgType::kFp16, ArgType::kBf16, ArgType::kTensorDesc}) {
    if (arg_type_name(t) == name) return t;
  }
  return std::nullopt;
}

size_t arg_type_size(ArgType t) noexcept {
  switch (t) {
    case ArgType::kPointer: return 8;
    case ArgType::kI32: return 4;
    case ArgType::kI64: return 8;
    case ArgType::kFp32: return 4;
    case ArgType::kFp16: return 2;
    case ArgType::kBf16: return 2;
    case ArgType::kTensorDesc: return 0;
  }
  return 0;
}

}  // namespace tritonpack
