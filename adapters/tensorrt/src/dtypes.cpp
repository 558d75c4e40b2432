// tritonpack dtypes <-> TensorRT DataType, and the PluginFieldType of fields (docs/tensorrt.md has
// the table).
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "tritonpack/error.h"
#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt {

using nvinfer1::DataType;
using nvinfer1::PluginFieldType;

std::optional<DataType> to_tensorrt(DType dtype) noexcept {
  switch (dtype) {
    case DType::kFp32: return DataType::kFLOAT;
    case DType::kFp16: return DataType::kHALF;
    case DType::kBf16: return DataType::kBF16;
    case DType::kI8: return DataType::kINT8;
    case DType::kI32: return DataType::kINT32;
    case DType::kI64: return DataType::kINT64;
    case DType::kU8: return DataType::kUINT8;
    case DType::kI1: return DataType::kBOOL;
    // TensorRT's kFP8 is e4m3 with exponent bias 7 and no infinities: Triton's fp8e4nv.
    case DType::kFp8e4nv: return DataType::kFP8;
    case DType::kFp64:
    case DType::kI16:
    case DType::kU16:
    case DType::kU32:
    case DType::kU64:
    case DType::kFp8e5: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<DType> from_tensorrt(DataType type) noexcept {
  switch (type) {
    case DataType::kFLOAT: return DType::kFp32;
    case DataType::kHALF: return DType::kFp16;
    case DataType::kBF16: return DType::kBf16;
    case DataType::kINT8: return DType::kI8;
    case DataType::kINT32: return DType::kI32;
    case DataType::kINT64: return DType::kI64;
    case DataType::kUINT8: return DType::kU8;
    case DataType::kBOOL: return DType::kI1;
    case DataType::kFP8: return DType::kFp8e4nv;
    default: return std::nullopt;  // kINT4, kFP4, kE8M0 and any later type: no tritonpack dtype
  }
}

std::string_view tensorrt_name(DataType type) noexcept {
  switch (type) {
    case DataType::kFLOAT: return "kFLOAT";
    case DataType::kHALF: return "kHALF";
    case DataType::kINT8: return "kINT8";
    case DataType::kINT32: return "kINT32";
    case DataType::kBOOL: return "kBOOL";
    case DataType::kUINT8: return "kUINT8";
    case DataType::kFP8: return "kFP8";
    case DataType::kBF16: return "kBF16";
    case DataType::kINT64: return "kINT64";
    case DataType::kINT4: return "kINT4";
    case DataType::kFP4: return "kFP4";
    default: return "an unknown DataType";
  }
}

std::optional<PluginFieldType> field_type(DType dtype) noexcept {
  switch (dtype) {
    case DType::kFp32: return PluginFieldType::kFLOAT32;
    case DType::kFp64: return PluginFieldType::kFLOAT64;
    case DType::kFp16: return PluginFieldType::kFLOAT16;
    case DType::kBf16: return PluginFieldType::kBF16;
    case DType::kI8: return PluginFieldType::kINT8;
    case DType::kI16: return PluginFieldType::kINT16;
    case DType::kI32: return PluginFieldType::kINT32;
    case DType::kI64: return PluginFieldType::kINT64;
    default: return std::nullopt;
  }
}

std::string_view field_type_name(PluginFieldType type) noexcept {
  switch (type) {
    case PluginFieldType::kFLOAT16: return "kFLOAT16";
    case PluginFieldType::kFLOAT32: return "kFLOAT32";
    case PluginFieldType::kFLOAT64: return "kFLOAT64";
    case PluginFieldType::kINT8: return "kINT8";
    case PluginFieldType::kINT16: return "kINT16";
    case PluginFieldType::kINT32: return "kINT32";
    case PluginFieldType::kCHAR: return "kCHAR";
    case PluginFieldType::kDIMS: return "kDIMS";
    case PluginFieldType::kUNKNOWN: return "kUNKNOWN";
    case PluginFieldType::kBF16: return "kBF16";
    case PluginFieldType::kINT64: return "kINT64";
    case PluginFieldType::kFP8: return "kFP8";
    case PluginFieldType::kINT4: return "kINT4";
    case PluginFieldType::kFP4: return "kFP4";
  }
  return "an unknown PluginFieldType";
}

namespace {

// IEEE half and bfloat16 bits to double, exactly.
double half_value(uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0x1f) return mantissa ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

double bf16_value(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

template <class T>
double read_as(const void* data) {
  T v;
  std::memcpy(&v, data, sizeof v);
  return static_cast<double>(v);
}

}  // namespace

double numeric_field_value(const nvinfer1::PluginField& field) {
  const std::string name = field.name ? field.name : "(null)";
  const std::string type(field_type_name(field.type));
  switch (field.type) {
    case PluginFieldType::kFLOAT16:
    case PluginFieldType::kBF16:
    case PluginFieldType::kFLOAT32:
    case PluginFieldType::kFLOAT64:
    case PluginFieldType::kINT8:
    case PluginFieldType::kINT16:
    case PluginFieldType::kINT32:
    case PluginFieldType::kINT64: break;
    default:
      throw Error(ErrorCode::kInvalidArgument, "field '" + name + "' is " + type +
                                                   "; a kernel field takes a number (kFLOAT16, kBF16, kFLOAT32, "
                                                   "kFLOAT64, kINT8, kINT16, kINT32 or kINT64)");
  }
  if (field.length != 1) {
    throw Error(ErrorCode::kInvalidArgument, "field '" + name + "' has " + std::to_string(field.length) + " values (" +
                                                 type + "); a kernel field takes exactly one");
  }
  if (field.data == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "field '" + name + "' (" + type + ") has no data (a null pointer)");
  }
  switch (field.type) {
    case PluginFieldType::kFLOAT16: {
      uint16_t bits;
      std::memcpy(&bits, field.data, 2);
      return half_value(bits);
    }
    case PluginFieldType::kBF16: {
      uint16_t bits;
      std::memcpy(&bits, field.data, 2);
      return bf16_value(bits);
    }
    case PluginFieldType::kFLOAT32: return read_as<float>(field.data);
    case PluginFieldType::kFLOAT64: return read_as<double>(field.data);
    case PluginFieldType::kINT8: return read_as<int8_t>(field.data);
    case PluginFieldType::kINT16: return read_as<int16_t>(field.data);
    case PluginFieldType::kINT32: return read_as<int32_t>(field.data);
    case PluginFieldType::kINT64: {
      const int64_t v = [&] {
        int64_t x;
        std::memcpy(&x, field.data, 8);
        return x;
      }();
      // A double holds every integer up to 2^53 exactly; beyond, the value would change.
      if (v > (int64_t{1} << 53) || v < -(int64_t{1} << 53)) {
        throw Error(ErrorCode::kInvalidArgument, "field '" + name + "' is " + std::to_string(v) +
                                                     " (kINT64), beyond the integers a field holds exactly (|v| <= 2^53)");
      }
      return static_cast<double>(v);
    }
    default: break;
  }
  throw Error(ErrorCode::kInternal, "field '" + name + "': unhandled " + type);
}

}  // namespace tritonpack::tensorrt
