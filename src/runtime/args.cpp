#include "runtime/args.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "driver/driver.h"
#include "tritonpack/error.h"

namespace tritonpack::runtime {
namespace {

[[noreturn]] void out_of_range(const KernelModel& model, size_t index, const Arg& arg, std::string_view type,
                               std::string_view range) {
  std::ostringstream os;
  os << "kernel '" << model.info->name << "' argument '" << model.info->params[model.runtime_params[index]].name
     << "' = ";
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
  if (abs < 0x38800000u) {                                               // subnormal half (or zero)
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);           // below half the smallest subnormal
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

namespace {

// Triton's tensordesc_meta names element types by the device's enum; the host's
// CUtensorMapDataType differs in three places (Triton 3.6, backends/nvidia/driver.py).
CUtensorMapDataType host_tma_dtype(uint32_t device_type) {
  switch (device_type) {
    case 8:
      return static_cast<CUtensorMapDataType>(10);
    case 9:
      return static_cast<CUtensorMapDataType>(8);
    case 10:
      return static_cast<CUtensorMapDataType>(9);
    default:
      return static_cast<CUtensorMapDataType>(device_type);
  }
}

// The inputs of one cuTensorMapEncodeTiled call. Encoding is a pure host-side function of them (and
// of the driver that encodes), so a map encoded once serves every launch with the same inputs.
struct EncodeKey {
  const void* encoder = nullptr;  // the driver's entry point: fakes in tests encode differently
  uint64_t address = 0;
  cuuint64_t dims[5] = {}, strides[4] = {};
  cuuint32_t box[5] = {};
  uint32_t rank = 0, data_type = 0, swizzle = 0;
  // Compared as bytes (the launch path): every byte is a member's, none padding.
  bool operator==(const EncodeKey& other) const { return std::memcmp(this, &other, sizeof *this) == 0; }
};
static_assert(sizeof(EncodeKey) == 120, "EncodeKey is compared as bytes: it must have no padding");

// Per thread (no lock on the launch path), a few recent encodings, replaced round-robin. Measured
// on an H200: encoding costs about as much as the rest of a launch's host work.
struct EncodeCache {
  static constexpr size_t kEntries = 8;
  EncodeKey keys[kEntries];
  alignas(64) std::byte maps[kEntries][128];
  size_t next = 0;
};
thread_local EncodeCache encode_cache;

// Writes one parameter value into the next slot after what `out` holds; the counts are written
// back by commit(), once every parameter is written (not when packing throws).
class Writer {
 public:
  explicit Writer(PackedArgs& out) : out_(out), slots_(out.slots), count_(out.count), maps_(out.maps_used) {}
  template <class T>
  void value(const T& v) {
    uint64_t& slot = out_.storage[slots_++];
    slot = 0;
    std::memcpy(&slot, &v, sizeof v);
    out_.pointers[count_++] = &slot;
  }
  PackedArgs::TensorMap& next_map() { return out_.maps[maps_++]; }
  void map(const PackedArgs::TensorMap& m) { out_.pointers[count_++] = const_cast<PackedArgs::TensorMap*>(&m); }
  void commit() {
    out_.slots = slots_;
    out_.count = count_;
    out_.maps_used = maps_;
  }

 private:
  PackedArgs& out_;
  size_t slots_;
  size_t count_;
  size_t maps_;
};

// The CUtensorMap of descriptor argument `index`, from the thread's cache or encoded now.
// cuTensorMapEncodeTiled takes dims innermost first, strides in bytes for every dim but the
// innermost, and the box of the compiled metadata (which may be smaller than the block).
void tensor_map(const KernelModel& model, size_t index, const Arg& a, const TensorDescInfo& d, const int64_t* shape,
                const driver::Driver& drv, PackedArgs::TensorMap& map) {
  const uint32_t rank = a.rank;
  EncodeKey key;
  key.encoder = reinterpret_cast<const void*>(drv.api().cuTensorMapEncodeTiled);
  key.address = a.pointer;
  key.rank = rank;
  key.data_type = static_cast<uint32_t>(host_tma_dtype(d.elem_type));
  key.swizzle = d.swizzle;
  const uint64_t element = d.elem_size;  // selection refused strides whose bytes would not fit
  for (uint32_t k = 0; k < rank; ++k) {
    key.dims[k] = static_cast<cuuint64_t>(shape[rank - 1 - k]);
    key.box[k] = d.box[rank - 1 - k];
  }
  for (uint32_t k = 0; k + 1 < rank; ++k) key.strides[k] = static_cast<cuuint64_t>(a.strides[rank - 2 - k]) * element;
  EncodeCache& cache = encode_cache;
  for (size_t e = 0; e < EncodeCache::kEntries; ++e) {
    if (cache.keys[e] == key) {
      std::memcpy(map.bytes, cache.maps[e], sizeof map.bytes);
      return;
    }
  }
  const cuuint32_t element_strides[5] = {1, 1, 1, 1, 1};
  const CUresult r = drv.api().cuTensorMapEncodeTiled(
      reinterpret_cast<CUtensorMap*>(map.bytes), static_cast<CUtensorMapDataType>(key.data_type), rank,
      reinterpret_cast<void*>(a.pointer), key.dims, key.strides, key.box, element_strides,
      CU_TENSOR_MAP_INTERLEAVE_NONE, static_cast<CUtensorMapSwizzle>(d.swizzle), CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    std::ostringstream os;
    os << "kernel '" << model.info->name << "' descriptor '" << model.info->params[model.runtime_params[index]].name
       << "' (shape";
    for (uint32_t k = 0; k < rank; ++k) os << (k ? "x" : " ") << a.shape[k];
    os << ", strides";
    for (uint32_t k = 0; k < rank; ++k) os << (k ? "x" : " ") << a.strides[k];
    os << ", base 0x" << std::hex << a.pointer << ")";
    driver::throw_driver_error(drv, r, "cuTensorMapEncodeTiled", __FILE__, __LINE__, os.str());
  }
  cache.keys[cache.next] = key;
  std::memcpy(cache.maps[cache.next], map.bytes, sizeof map.bytes);
  cache.next = (cache.next + 1) % EncodeCache::kEntries;
}

// A descriptor as the variant takes it (docs/compile-step.md): lowered to TMA, the tensor map
// then shape (i32) and strides (i64); else base, shape and strides (i64), padding (i1), shape
// (i32) and strides (i64).
void pack_descriptor(const KernelModel& model, size_t index, const Arg& a, const TensorDescInfo& d,
                     PackedArgs::TensorMap& map, const driver::Driver& drv, Writer& w) {
  const uint32_t rank = a.rank;
  int64_t shape[5];
  for (uint32_t k = 0; k < rank; ++k) shape[k] = a.shape[k];
  if (d.tma && d.fp4_padded) shape[rank - 1] *= 2;  // two fp4 values a byte (Triton's launcher)
  if (d.tma) {
    tensor_map(model, index, a, d, shape, drv, map);
    w.map(map);
  } else {
    w.value(a.pointer);
    for (uint32_t k = 0; k < rank; ++k) w.value(shape[k]);
    for (uint32_t k = 0; k < rank; ++k) w.value(a.strides[k]);
    w.value(uint8_t{0});  // padding "zero"
  }
  for (uint32_t k = 0; k < rank; ++k) w.value(static_cast<int32_t>(shape[k]));
  for (uint32_t k = 0; k < rank; ++k) w.value(a.strides[k]);
}

}  // namespace

void clear_tensor_map_cache() { encode_cache = EncodeCache{}; }

void pack_args(const KernelModel& model, const VariantModel& variant, std::span<const Arg> args,
               CUdeviceptr global_scratch, CUdeviceptr profile_scratch, const driver::Driver& drv, PackedArgs& out) {
  Writer w(out);
  size_t descriptor = 0;
  const size_t n = variant.arg_types.size();
  for (size_t i = 0; i < n; ++i) {
    const Arg& a = args[i];
    switch (variant.arg_types[i]) {
      case ArgType::kPointer:
        w.value(a.pointer);
        break;
      case ArgType::kI32:
        if (a.int_value < std::numeric_limits<int32_t>::min() || a.int_value > std::numeric_limits<int32_t>::max()) {
          out_of_range(model, i, a, "i32", "-2147483648..2147483647");
        }
        w.value(static_cast<int32_t>(a.int_value));
        break;
      case ArgType::kI64:
        w.value(a.int_value);
        break;
      case ArgType::kFp32: {
        const double d = as_double(a);
        if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
          out_of_range(model, i, a, "fp32", "|x| <= 3.4028235e38");
        }
        w.value(static_cast<float>(d));
        break;
      }
      case ArgType::kFp16: {
        const double d = as_double(a);
        if (std::isfinite(d) && std::fabs(d) >= 65520.0) out_of_range(model, i, a, "fp16", "|x| < 65520");
        w.value(float_to_fp16_bits(static_cast<float>(d)));
        break;
      }
      case ArgType::kBf16: {
        // A finite value whose bf16 rounding is infinite (|x| >= 3.3962e38) does not fit either.
        const double d = as_double(a);
        const uint16_t bits = std::fabs(d) > std::numeric_limits<float>::max()
                                  ? uint16_t{0x7f80}
                                  : float_to_bf16_bits(static_cast<float>(d));
        if (std::isfinite(d) && (bits & 0x7fffu) == 0x7f80u) out_of_range(model, i, a, "bf16", "|x| < 3.3962e38");
        w.value(bits);
        break;
      }
      case ArgType::kTensorDesc:
        pack_descriptor(model, i, a, variant.info->tensordescs[descriptor], w.next_map(), drv, w);
        ++descriptor;
        break;
    }
  }
  w.value(global_scratch);
  w.value(profile_scratch);
  w.commit();
}

}  // namespace tritonpack::runtime
