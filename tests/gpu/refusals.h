// Launches the test kernels' rules must refuse, with what the refusal must say. One table, two
// runners: the GPU tests (kernels_test.cpp) launch each on a real GPU and check that the output kept
// its poison; the fault tests (tests/fault/harness_test.cpp) launch each on the fake driver with a
// pack made from the same spec, so the expected messages are checked on every machine.
#pragma once

#include <cuda.h>

#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/manifest.h"
#include "tritonpack/runtime.h"

namespace tritonpack::testing {

// Bytes of each buffer a refusal case gets; buffer 0 is the output that must keep its poison.
inline constexpr size_t kRefusalBufferBytes = size_t{1} << 20;

struct RefusalLaunch {
  std::deque<std::vector<int64_t>> shapes;  // stable storage for the args' shapes and strides
  std::vector<Arg> args;
  std::vector<ConstexprValue> pins;
  LaunchOptions options;

  std::span<const int64_t> keep(std::vector<int64_t> v) { return shapes.emplace_back(std::move(v)); }
};

struct Refusal {
  std::string kernel;        // pack and kernel name
  std::string what;          // the case, for messages
  uint32_t min_arch = 0;     // 90: needs a TMA variant that runs on the device
  ErrorCode code = ErrorCode::kNoMatchingVariant;
  std::vector<std::string> expected;  // texts the message must hold
  std::function<void(const KernelInfo&, std::span<const CUdeviceptr>, RefusalLaunch&)> build;
};

inline const VariantInfo* first_variant(const KernelInfo& k, uint32_t min_arch, DType t) {
  for (const VariantInfo& v : k.variants) {
    if (v.arch >= min_arch && v.bindings.count("T") && v.bindings.at("T") == t) return &v;
  }
  return nullptr;
}

inline std::vector<Refusal> refusals() {
  std::vector<Refusal> r;
  // matmul: i32 offsets (A is 70000 x 40000: its last element is 2.8e9 elements from the base).
  r.push_back({"matmul", "offsets beyond i32", 0, ErrorCode::kNoMatchingVariant,
               {"kernel 'matmul' cannot serve this launch: rule '(M - 1) * abs(stride_am) + (K - 1) * abs(stride_ak) "
                "<= 2147483647' does not hold: M=70000, stride_am=40000, K=40000, stride_ak=1"},
               [](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
                 l.args = {Arg::tensor(p[1], DType::kFp16), Arg::tensor(p[2], DType::kFp16), Arg::tensor(p[0], DType::kFp16),
                           Arg::integer(70000), Arg::integer(8), Arg::integer(40000), Arg::integer(40000), Arg::integer(1),
                           Arg::integer(8), Arg::integer(1), Arg::integer(8), Arg::integer(1)};
               }});
  // matmul: every variant assumes 16-byte aligned pointers (divisibility = 16).
  r.push_back({"matmul", "a misaligned pointer", 0, ErrorCode::kNoMatchingVariant, {"needs a_ptr aligned to 16 bytes"},
               [](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
                 l.args = {Arg::tensor(p[1] + 2, DType::kFp16), Arg::tensor(p[2], DType::kFp16), Arg::tensor(p[0], DType::kFp16),
                           Arg::integer(4), Arg::integer(8), Arg::integer(4), Arg::integer(4), Arg::integer(1),
                           Arg::integer(8), Arg::integer(1), Arg::integer(8), Arg::integer(1)};
               }});
  // layernorm: rows of Y that overlap, and an empty row.
  auto layernorm = [](int64_t stride, int64_t n) {
    return [=](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
      l.args = {Arg::tensor(p[1], DType::kFp32), Arg::tensor(p[0], DType::kFp32), Arg::tensor(p[2], DType::kFp32),
                Arg::tensor(p[3], DType::kFp32), Arg::tensor(p[4], DType::kFp32), Arg::tensor(p[5], DType::kFp32),
                Arg::integer(stride),            Arg::integer(n),                 Arg::real(1e-5),
                Arg::integer(4)};  // the launch variable M
    };
  };
  r.push_back({"layernorm", "overlapping rows", 0, ErrorCode::kNoMatchingVariant,
               {"kernel 'layernorm' cannot serve this launch: rule 'stride >= N' does not hold: stride=99, N=100"},
               layernorm(99, 100)});
  r.push_back({"layernorm", "an empty row", 0, ErrorCode::kNoMatchingVariant, {"rule 'N >= 1' does not hold: N=0"},
               layernorm(16, 0)});
  // softmax_h: rows longer than every compiled block; a row the heuristic has no block for; a
  // pinned block too short for the row (the kernel's own rule).
  auto softmax = [](int64_t cols, int64_t pinned_block) {
    return [=](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
      l.args = {Arg::tensor(p[0], DType::kFp32), Arg::tensor(p[1], DType::kFp32), Arg::integer(cols),
                Arg::integer(cols), Arg::integer(cols), Arg::integer(2)};  // the launch variable n_rows
      if (pinned_block > 0) {
        l.pins = {{"BLOCK_SIZE", pinned_block}};
        l.options.pinned = l.pins;
      }
    };
  };
  r.push_back({"softmax_h", "a row longer than every block", 0, ErrorCode::kNoMatchingVariant,
               {"heuristic: BLOCK_SIZE = next_power_of_2(n_cols) = 8192 (n_cols=5000); compiled values: 256, 512, 1024, "
                "2048, 4096",
                "rule 'n_cols <= BLOCK_SIZE' does not hold: n_cols=5000, BLOCK_SIZE=4096"},
               softmax(5000, 0)});
  r.push_back({"softmax_h", "a row the heuristic has no block for", 0, ErrorCode::kNoMatchingVariant,
               {"heuristic BLOCK_SIZE = next_power_of_2(n_cols) gives 128, the variant has BLOCK_SIZE=256 (n_cols=100)"},
               softmax(100, 0)});
  r.push_back({"softmax_h", "a pinned block shorter than the row", 0, ErrorCode::kNoMatchingVariant,
               {"rule 'n_cols <= BLOCK_SIZE' does not hold: n_cols=300, BLOCK_SIZE=256"}, softmax(300, 256)});
  // desc_matmul: a descriptor whose shape disagrees with the scalars its dims name.
  r.push_back({"desc_matmul", "a descriptor shape that disagrees with K", 0, ErrorCode::kInvalidArgument,
               {"argument 'a_desc' dim 1 ('K') is 112, but argument 'K' = 104"},
               [](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
                 l.args = {Arg::descriptor(p[1], DType::kFp16, l.keep({64, 112}), l.keep({112, 1})),
                           Arg::descriptor(p[2], DType::kFp16, l.keep({104, 64}), l.keep({64, 1})),
                           Arg::tensor(p[0], DType::kFp16), Arg::integer(64), Arg::integer(64), Arg::integer(104)};
               }});
  // desc_matmul: the TMA variant (asked for by id) with a 200-byte row stride.
  r.push_back({"desc_matmul", "a row stride TMA cannot take", 90, ErrorCode::kNoMatchingVariant,
               {"descriptor 'a_desc' stride[0] = 100 elements (200 bytes) must be a multiple of 16 bytes"},
               [](const KernelInfo& k, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
                 l.args = {Arg::descriptor(p[1], DType::kFp16, l.keep({64, 100}), l.keep({100, 1})),
                           Arg::descriptor(p[2], DType::kFp16, l.keep({100, 64}), l.keep({64, 1})),
                           Arg::tensor(p[0], DType::kFp16), Arg::integer(64), Arg::integer(64), Arg::integer(100)};
                 const VariantInfo* v = first_variant(k, 90, DType::kFp16);
                 l.options.variant_id = v ? static_cast<int32_t>(v->id) : -2;
               }});
  // gluon_add: a misaligned tensor (the only rule: divisibility = 16).
  r.push_back({"gluon_add", "a misaligned tensor", 0, ErrorCode::kNoMatchingVariant, {"needs x_ptr aligned to 16 bytes"},
               [](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
                 l.args = {Arg::tensor(p[1] + 4, DType::kFp32), Arg::tensor(p[2], DType::kFp32),
                           Arg::tensor(p[0], DType::kFp32), Arg::integer(1000)};
               }});
  // gluon_tma_copy: rows TMA cannot take (40 bytes), and a shape that disagrees with M.
  auto tma_copy = [](int64_t m_scalar, int64_t cols) {
    return [=](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
      l.args = {Arg::descriptor(p[1], DType::kFp16, l.keep({70, cols}), l.keep({cols, 1})), Arg::tensor(p[0], DType::kFp16),
                Arg::integer(m_scalar), Arg::integer(cols)};
    };
  };
  r.push_back({"gluon_tma_copy", "a row stride TMA cannot take", 90, ErrorCode::kNoMatchingVariant,
               {"descriptor 'in_desc' stride[0] = 20 elements (40 bytes) must be a multiple of 16 bytes"}, tma_copy(70, 20)});
  r.push_back({"gluon_tma_copy", "a shape that disagrees with M", 90, ErrorCode::kInvalidArgument,
               {"argument 'in_desc' dim 0 ('M') is 70, but argument 'M' = 71"}, tma_copy(71, 64)});
  // fmha: a head size no variant was compiled for.
  r.push_back({"fmha", "a head size not compiled", 0, ErrorCode::kNoMatchingVariant,
               {"rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=64",
                "rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=128"},
               [](const KernelInfo&, std::span<const CUdeviceptr> p, RefusalLaunch& l) {
                 const auto qkv = l.keep({2, 3, 100, 96});
                 const auto stats = l.keep({6, 100});
                 l.args = {Arg::tensor(p[0], DType::kFp16, qkv), Arg::tensor(p[1], DType::kFp32, stats),
                           Arg::tensor(p[2], DType::kFp32, stats), Arg::tensor(p[3], DType::kFp16, qkv),
                           Arg::tensor(p[3], DType::kFp16, qkv), Arg::tensor(p[3], DType::kFp16, qkv),
                           Arg::real(0.1), Arg::integer(2), Arg::integer(3), Arg::integer(100)};
               }});
  return r;
}

// The most buffers a case uses.
inline constexpr size_t kRefusalBuffers = 6;

}  // namespace tritonpack::testing
