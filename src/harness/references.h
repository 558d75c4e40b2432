// Host references for `tritonpack run`, the GPU tests and the benchmarks: a table from the name a
// spec's `reference` key gives to a function that computes, in double precision, what the kernel
// must write, from the values the kernel read. A reference sees the launch as data (ReferenceInputs):
// the tensor and descriptor operands in param order, integer and float values by name, the chosen
// variant's constexprs by name. It returns one Expected per output it checks, each with its own
// tolerance. Adding a reference is one function and one table row (references.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tritonpack/manifest.h"

namespace tritonpack::harness {

// One tensor or descriptor argument of a launch, as a reference sees it.
struct Operand {
  const ParamInfo* param = nullptr;
  DType dtype = DType::kFp32;
  bool written = false;          // io = "out" or "scratch": poisoned before the launch
  std::vector<int64_t> shape;    // empty when its dims are not all known
  std::vector<int64_t> strides;  // with a shape: the descriptor's strides, or contiguous
  std::vector<double> values;    // one per element: inputs as stored (rounded to dtype); written: NaN
};

// What a reference reads. Names are the kernel's: params, launch variables and dim names.
struct ReferenceInputs {
  const KernelInfo* kernel = nullptr;
  const VariantInfo* variant = nullptr;
  std::vector<Operand> operands;                         // tensors and descriptors, in param order
  std::map<std::string, int64_t, std::less<>> integers;  // i32/i64 scalars, launch variables, dims
  std::map<std::string, double, std::less<>> reals;      // fp32/fp16/bf16 scalars

  // Each throws Error(kInvalidSpec) naming the reference's need when the kernel lacks it.
  int64_t integer(std::string_view name) const;
  double real(std::string_view name) const;
  double real_or(std::string_view name, double fallback) const;
  std::optional<int64_t> find_integer(std::string_view name) const;
  const Constant* find_constexpr(std::string_view name) const;  // the chosen variant's value
  const Operand& operand(size_t index) const;  // by position among the tensor operands
  // The index-th operand the spec marks as written (io = "out"/"scratch"), or as read.
  size_t written(size_t index) const;
  size_t read(size_t index) const;

  std::string reference;  // the name being computed, for messages
};

// What one output must hold after the launch.
struct Expected {
  size_t operand = 0;           // index into ReferenceInputs::operands (a written one)
  std::vector<double> values;   // one per element of the operand
  std::vector<char> checked;    // the elements the kernel must write; the others must keep the poison
  double tolerance = 0;         // the largest normwise relative error ||got - want|| / max(||want||, scale)
  // For outputs that may be near zero while their rounding error follows the data they were
  // computed from (a mean of centered values): the norm the error is relative to, at least.
  double scale = 0;
};

using ReferenceFn = std::vector<Expected> (*)(const ReferenceInputs&);

struct Reference {
  std::string_view name;
  std::string_view summary;  // what it computes, and from which operands and values
  ReferenceFn compute;
};

// Every reference, in name order.
std::span<const Reference> references();
const Reference* find_reference(std::string_view name);
// "attention_causal, copy, ..." for messages.
std::string reference_names();

// Causal attention in double precision over `heads` independent heads of `seq` rows of `head_size`
// (q, k, v dense [heads, seq, head_size]): for row i, with s_j = scale * q_i . k_j for j <= i,
// M = max_j s_j, L = sum_j exp(s_j - M) and out_i = sum_j exp(s_j - M) v_j / L (natural-log units,
// as kernels/fmha stores L and M). What the "attention_causal" reference computes, for callers that
// hold plain arrays (the plugin GPU tests, examples/tensorrt/registry_demo). Throws
// Error(kInvalidArgument) when an input holds fewer than heads * seq * head_size values.
struct CausalAttention {
  std::vector<double> out;  // [heads, seq, head_size]
  std::vector<double> l, m;  // [heads, seq]
};
CausalAttention causal_attention(int64_t heads, int64_t seq, int64_t head_size, double scale, std::span<const double> q,
                                 std::span<const double> k, std::span<const double> v);

// The normwise relative error a result rounded once to `t` may have: fp32 1e-5, fp16 2e-3, bf16
// 1.6e-2 (a few units of the last place over many elements), 0 for integers and fp64.
double rounding_tolerance(DType t);
// The unit roundoff of t (2^-24 fp32, 2^-11 fp16, 2^-8 bf16, 2^-4 fp8e4nv, 2^-3 fp8e5; 0 for
// others).
double unit_roundoff(DType t);

}  // namespace tritonpack::harness
