// tritonpack: element types of tensors and storage types of kernel arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tritonpack {

// Element type of a tensor, or type of a scalar parameter. Names follow Triton's signature
// strings ("fp16", "bf16", "fp32", "i32", ...). The numeric values are saved data: a dtype
// field's value (docs/plugin.md, "Dtype fields") is the code, in serialized plugins, TensorRT
// engines, ONNX attributes and generated C++. Append new types only; never renumber.
enum class DType : uint8_t {
  kFp16, kBf16, kFp32, kFp64,
  kI8, kI16, kI32, kI64,
  kU8, kU16, kU32, kU64,
  kI1,
  kFp8e4nv, kFp8e5,
};

inline constexpr int kNumDTypes = 15;
static_assert(static_cast<int>(DType::kFp16) == 0 && static_cast<int>(DType::kBf16) == 1 &&
                  static_cast<int>(DType::kFp32) == 2 && static_cast<int>(DType::kFp64) == 3 &&
                  static_cast<int>(DType::kI8) == 4 && static_cast<int>(DType::kI32) == 6 &&
                  static_cast<int>(DType::kU8) == 8 && static_cast<int>(DType::kI1) == 12 &&
                  static_cast<int>(DType::kFp8e4nv) == 13 && static_cast<int>(DType::kFp8e5) == 14,
              "DType codes are saved in engines and ONNX files: append, never renumber");

std::string_view dtype_name(DType t) noexcept;
std::optional<DType> parse_dtype(std::string_view name) noexcept;
// The dtype whose code (static_cast<double>(DType), a dtype field's value) is `code`; nullopt for
// a value that is no code (not integral, out of range, NaN).
std::optional<DType> dtype_of_code(double code) noexcept;
size_t dtype_size(DType t) noexcept;  // bytes per element (i1 counts as 1)
bool is_float(DType t) noexcept;
// i32 or i64: the integer types of scalar params, launch variables and integer fields.
constexpr bool is_integer_scalar(DType t) noexcept { return t == DType::kI32 || t == DType::kI64; }

// Which dtypes a scalar (by-value) kernel parameter may have. Triton's ABI passes each in its
// exact storage type: i32 -> int32_t, i64 -> int64_t, fp32 -> float, fp16/bf16 -> 16 raw bits.
bool is_scalar_dtype(DType t) noexcept;

// How one kernel argument travels in the kernel's parameter buffer.
enum class ArgType : uint8_t {
  kPointer,  // CUdeviceptr, 8 bytes
  kI32, kI64, kFp32, kFp16, kBf16,
  kTensorDesc,  // a host tensor descriptor: several kernel parameters (TensorDescInfo)
};

std::string_view arg_type_name(ArgType t) noexcept;
std::optional<ArgType> parse_arg_type(std::string_view name) noexcept;
size_t arg_type_size(ArgType t) noexcept;  // 0 for kTensorDesc (it depends on the variant)
std::optional<ArgType> scalar_arg_type(DType t) noexcept;  // for scalar params

}  // namespace tritonpack
