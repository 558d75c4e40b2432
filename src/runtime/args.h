// Argument packing: from Arg values to the kernel parameter buffer, in the exact storage types of
// Triton's ABI (i32 -> int32_t, i64 -> int64_t, fp32 -> float, fp16/bf16 -> 16 raw bits, pointers
// -> CUdeviceptr), host tensor descriptors expanded as the variant was compiled (a CUtensorMap
// built here, then shape and strides; docs/compile-step.md), followed by the two hidden scratch
// pointers every Triton kernel takes.
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>
#include <span>

#include "runtime/model.h"
#include "tritonpack/runtime.h"

namespace tritonpack::driver {
class Driver;
}

namespace tritonpack::runtime {

// Lives on the launch path's stack; nothing in its arrays is zero-filled: pack_args writes what it
// uses. It holds one launch's parameters, or several launches' one after another (the steps of a
// kernel in steps): each pack_args call appends, and its launch's parameters start at the `count`
// it found.
struct PackedArgs {
  struct alignas(64) TensorMap {
    std::byte bytes[128];  // a CUtensorMap; the kernel takes it by value, 64-byte aligned
  };
  std::array<TensorMap, kMaxDescriptors> maps;
  std::array<uint64_t, kMaxAbiParams> storage;  // one 8-byte slot per other parameter
  std::array<void*, kMaxAbiParams> pointers;    // what cuLaunchKernel reads
  size_t count = 0;      // pointers written
  size_t slots = 0;      // storage slots written
  size_t maps_used = 0;  // tensor maps written
  void clear() { count = slots = maps_used = 0; }
};

// Appends a launch of `variant` to `out`, which must have room for it: count + abi_params <=
// kMaxAbiParams (VariantModel::abi_params) and maps_used + num_descriptors <= kMaxDescriptors
// (KernelModel). Its parameters are out.pointers[count on entry ...]. Throws Error(kInvalidArgument) when a value does not fit its
// storage type, naming the argument, and Error(kDriver) when the driver cannot encode a
// descriptor's tensor map; `out` then holds what it held before.
void pack_args(const KernelModel& model, const VariantModel& variant, std::span<const Arg> args,
               CUdeviceptr global_scratch, CUdeviceptr profile_scratch, const driver::Driver& driver,
               PackedArgs& out);

// Forgets this thread's encoded tensor maps (tests that count encodings start from none).
void clear_tensor_map_cache();

// IEEE binary16 / bfloat16 bits of a float, round to nearest even (NaN stays NaN).
uint16_t float_to_fp16_bits(float value);
uint16_t float_to_bf16_bits(float value);
float fp16_bits_to_float(uint16_t bits);
float bf16_bits_to_float(uint16_t bits);

}  // namespace tritonpack::runtime
