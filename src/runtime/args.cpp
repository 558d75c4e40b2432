#include "runtime/args.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "tritonpack/error.h"

namespace tritonpack::runtime {
namespace {

[[noreturn]] void out_of_range(const KernelModel& model, size_t index, const Arg& arg,
                               std::string_view type, std::string_view range) {
  std::ostringstream os;
  os << "kernel '" << model.info->name << "' argument '"
     << model.info->params[model.runtime_params[index]].name << "' = ";
  if (arg.kind == Arg::Kind::kInt) {
    os << arg.int_value;
  } else {
    os << arg.float_value;
  }
  os << " does not fit its type " << type << " (" << range << ")";
  throw Error(ErrorCode::kInvalidArgument, os.str());
}

double as_double(const Arg& a) {
  return a.kind == Arg::Kind::kFloat ? a.float_value : static_cast<double>(a.int_value);
}

}  // namespace

uint16_t float_to_fp16_bits(float value) {
  const uint32_t f = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (f >> 16) & 0x8000u;
  const uint32_t abs = f & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {  // subnormal half (or zero)
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14..24
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs >> 13) - (112u << 10));
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

uint16_t float_to_bf16_bits(float value) {
  const uint32_t f = std::bit_cast<uint32_t>(value);
  if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((f >> 16) | 0x40u);  // quiet NaN
  const uint32_t rounding = 0x7fffu + ((f >> 16) & 1u);
  return static_cast<uint16_t>((f + rounding) >> 16);
}

float fp16_bits_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

float bf16_bits_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

void pack_args(const KernelModel& model, const VariantModel& variant, std::span<const Arg> args,
               CUdeviceptr global_scratch, CUdeviceptr profile_scratch, PackedArgs& out) {
  const size_t n = variant.arg_types.size();
  for (size_t i = 0; i < n; ++i) {
    const Arg& a = args[i];
    uint64_t& slot = out.storage[i];
    slot = 0;
    switch (variant.arg_types[i]) {
      case ArgType::kPointer:
        std::memcpy(&slot, &a.pointer, sizeof(CUdeviceptr));
        break;
      case ArgType::kI32: {
        if (a.int_value < std::numeric_limits<int32_t>::min() ||
            a.int_value > std::numeric_limits<int32_t>::max()) {
          out_of_range(model, i, a, "i32", "-2147483648..2147483647");
        }
        const int32_t v = static_cast<int32_t>(a.int_value);
        std::memcpy(&slot, &v, sizeof v);
        break;
      }
      case ArgType::kI64:
        std::memcpy(&slot, &a.int_value, sizeof(int64_t));
        break;
      case ArgType::kFp32: {
        const double d = as_double(a);
        if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
          out_of_range(model, i, a, "fp32", "|x| <= 3.4028235e38");
        }
        const float v = static_cast<float>(d);
        std::memcpy(&slot, &v, sizeof v);
        break;
      }
      case ArgType::kFp16: {
        const double d = as_double(a);
        if (std::isfinite(d) && std::fabs(d) >= 65520.0) out_of_range(model, i, a, "fp16", "|x| < 65520");
        const uint16_t v = float_to_fp16_bits(static_cast<float>(d));
        std::memcpy(&slot, &v, sizeof v);
        break;
      }
      case ArgType::kBf16: {
        const double d = as_double(a);
        if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
          out_of_range(model, i, a, "bf16", "|x| <= 3.39e38");
        }
        const uint16_t v = float_to_bf16_bits(static_cast<float>(d));
        std::memcpy(&slot, &v, sizeof v);
        break;
      }
    }
    out.pointers[i] = &slot;
  }
  std::memcpy(&out.storage[n], &global_scratch, sizeof(CUdeviceptr));
  std::memcpy(&out.storage[n + 1], &profile_scratch, sizeof(CUdeviceptr));
  out.pointers[n] = &out.storage[n];
  out.pointers[n + 1] = &out.storage[n + 1];
  out.count = n + 2;
}

}  // namespace tritonpack::runtime
