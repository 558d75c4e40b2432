// Argument packing: from Arg values to the kernel parameter buffer, in the exact storage types of
// Triton's ABI (i32 -> int32_t, i64 -> int64_t, fp32 -> float, fp16/bf16 -> 16 raw bits, pointers
// -> CUdeviceptr), followed by the two hidden scratch pointers every Triton kernel takes.
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>
#include <span>

#include "runtime/model.h"
#include "tritonpack/runtime.h"

namespace tritonpack::runtime {

struct PackedArgs {
  std::array<uint64_t, kMaxArgs + 2> storage{};  // one 8-byte slot per argument
  std::array<void*, kMaxArgs + 2> pointers{};    // what cuLaunchKernel reads
  size_t count = 0;
};

// Throws Error(kInvalidArgument) when a value does not fit its storage type, naming the argument.
void pack_args(const KernelModel& model, const VariantModel& variant, std::span<const Arg> args,
               CUdeviceptr global_scratch, CUdeviceptr profile_scratch, PackedArgs& out);

// IEEE binary16 / bfloat16 bits of a float, round to nearest even (NaN stays NaN).
uint16_t float_to_fp16_bits(float value);
uint16_t float_to_bf16_bits(float value);
float fp16_bits_to_float(uint16_t bits);
float bf16_bits_to_float(uint16_t bits);

}  // namespace tritonpack::runtime
