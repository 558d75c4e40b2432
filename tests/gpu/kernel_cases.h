// The runs the GPU tests make of each test kernel (and fmha): every dtype, config and compiled
// constexpr value, ragged sizes, one seed per case. One table, two runners: the GPU tests
// (kernels_test.cpp) run each through the harness and compare every output with its reference; the
// fault tests (tests/fault/harness_test.cpp) plan and select each on the fake driver with a pack
// made from the same spec, so that every case is accepted and picks the variant it means to.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "harness/run_plan.h"
#include "tritonpack/manifest.h"

namespace tritonpack::testing {

struct KernelCase {
  std::string kernel;
  harness::RunRequest request;                  // types, values, pins, config, seed
  std::map<std::string, int64_t> constexprs;    // integer constexprs the chosen variant must have
  size_t outputs = 0;                           // outputs the reference checks
  bool tma_fallback = false;                    // on sm_90 the sm_80 variant (PTX) serves it: no TMA
};

namespace detail {

inline std::string str(int64_t v) { return std::to_string(v); }

inline KernelCase make_case(const std::string& kernel, DType t, std::map<std::string, std::string> values,
                            uint64_t seed, size_t outputs) {
  KernelCase c;
  c.kernel = kernel;
  c.request.types["T"] = std::string(dtype_name(t));
  c.request.values = std::move(values);
  c.request.seed = seed;
  c.outputs = outputs;
  return c;
}

}  // namespace detail

inline std::vector<KernelCase> kernel_cases(const KernelInfo& k) {
  using detail::make_case;
  using detail::str;
  std::vector<KernelCase> cases;
  const std::vector<DType>& dtypes = k.type_vars.at(0).dtypes;
  uint64_t seed = 1000;
  if (k.name == "matmul") {
    struct Shape {
      int64_t M, N, K;
      bool b_transposed;
      int64_t c_pad;  // columns of padding after each row of C: they must keep the poison
    };
    const Shape shapes[] = {{1, 1, 1, false, 0}, {37, 19, 45, true, 3}, {130, 200, 257, false, 5}, {128, 128, 64, true, 0}};
    for (DType t : dtypes) {
      for (const ConfigInfo& config : k.configs) {
        for (const Constant& activation : compiled_values(k, "ACTIVATION")) {
          for (const Shape& s : shapes) {
            KernelCase c = make_case(k.name, t,
                                     {{"M", str(s.M)},
                                      {"N", str(s.N)},
                                      {"K", str(s.K)},
                                      {"stride_am", str(s.K)},
                                      {"stride_ak", "1"},
                                      {"stride_bk", s.b_transposed ? "1" : str(s.N)},
                                      {"stride_bn", s.b_transposed ? str(s.K) : "1"},
                                      {"stride_cm", str(s.N + s.c_pad)},
                                      {"stride_cn", "1"}},
                                     seed++, 1);
            c.request.config = config.name;
            c.request.pinned = {{"ACTIVATION", activation}};
            cases.push_back(std::move(c));
          }
        }
      }
    }
  } else if (k.name == "layernorm") {
    struct Shape {
      int64_t M, N, pad, block;
      const char* eps;
    };
    // N picks BLOCK_SIZE: 256 up to 256 columns, 1024 up to 1024, 4096 beyond (several chunks).
    const Shape shapes[] = {{37, 200, 3, 256, "1e-5"},  {1, 256, 0, 256, "1e-6"},     {64, 1000, 8, 1024, "1e-5"},
                            {5, 3000, 1, 4096, "1e-5"}, {3, 5000, 0, 4096, "0.001"}, {2, 1, 15, 256, "1e-5"}};
    for (DType t : dtypes) {
      for (const Shape& s : shapes) {
        KernelCase c = make_case(k.name, t,
                                 {{"M", str(s.M)}, {"N", str(s.N)}, {"stride", str(s.N + s.pad)}, {"eps", s.eps}},
                                 seed++, 3);
        c.constexprs["BLOCK_SIZE"] = s.block;
        cases.push_back(std::move(c));
      }
    }
  } else if (k.name == "softmax_h") {
    struct Shape {
      int64_t rows, cols, in_pad, out_pad, block;
    };
    const Shape shapes[] = {
        {37, 129, 1, 0, 256}, {1, 300, 0, 5, 512}, {300, 1000, 24, 0, 1024}, {3, 2000, 0, 0, 2048}, {17, 4096, 4, 3, 4096}};
    for (DType t : dtypes) {
      for (const Shape& s : shapes) {
        KernelCase c = make_case(k.name, t,
                                 {{"n_rows", str(s.rows)},
                                  {"n_cols", str(s.cols)},
                                  {"input_row_stride", str(s.cols + s.in_pad)},
                                  {"output_row_stride", str(s.cols + s.out_pad)}},
                                 seed++, 1);
        c.constexprs["BLOCK_SIZE"] = s.block;
        cases.push_back(std::move(c));
      }
    }
  } else if (k.name == "desc_matmul") {
    // K and N multiples of 8 (16-byte rows: TMA on sm_90), then K = 100, N = 20, which TMA cannot
    // take: on sm_90 the sm_80 variant serves it.
    const int64_t shapes[][3] = {{1, 8, 8}, {70, 40, 104}, {130, 136, 200}, {257, 64, 64}};
    for (DType t : dtypes) {
      for (const ConfigInfo& config : k.configs) {
        for (const auto& s : shapes) {
          KernelCase c = make_case(k.name, t, {{"M", str(s[0])}, {"N", str(s[1])}, {"K", str(s[2])}}, seed++, 1);
          c.request.config = config.name;
          cases.push_back(std::move(c));
        }
      }
      KernelCase c = make_case(k.name, t, {{"M", "33"}, {"N", "20"}, {"K", "100"}}, seed++, 1);
      c.tma_fallback = true;
      cases.push_back(std::move(c));
    }
  } else if (k.name == "gluon_add") {
    for (DType t : dtypes) {
      for (int64_t n : {1, 1000, 4096, 100003}) cases.push_back(make_case(k.name, t, {{"n_elements", str(n)}}, seed++, 1));
    }
  } else if (k.name == "gluon_tma_copy") {
    const int64_t shapes[][2] = {{1, 8}, {70, 40}, {130, 200}, {64, 64}};
    for (DType t : dtypes) {
      for (const auto& s : shapes) cases.push_back(make_case(k.name, t, {{"M", str(s[0])}, {"N", str(s[1])}}, seed++, 1));
    }
  } else if (k.name == "desc_scale") {
    // BN follows N by the spec's heuristic: up to 64 columns take 64, longer rows 128. Rows whose
    // byte length is not a multiple of 16 TMA cannot take: on sm_90 the sm_80 variant serves them.
    struct Shape {
      int64_t M, N, block;
    };
    const Shape shapes[] = {{1, 1, 64}, {70, 40, 64}, {300, 200, 128}, {64, 65, 128}, {129, 64, 64}};
    for (DType t : dtypes) {
      for (const Shape& s : shapes) {
        KernelCase c = make_case(k.name, t, {{"M", str(s.M)}, {"N", str(s.N)}, {"scale", "-0.75"}}, seed++, 1);
        c.constexprs["BN"] = s.block;
        c.tma_fallback = s.N * static_cast<int64_t>(dtype_size(t)) % 16 != 0;
        cases.push_back(std::move(c));
      }
    }
  } else if (k.name == "fmha") {
    for (DType t : dtypes) {
      for (const Constant& d : compiled_values(k, "BLOCK_DMODEL")) {
        for (const ConfigInfo& config : k.configs) {
          for (int64_t s : {1, 100, 256}) {
            KernelCase c = make_case(
                k.name, t,
                {{"B", "2"}, {"H", "3"}, {"S", str(s)}, {"D", d.text()}, {"sm_scale", s == 100 ? "-0.3" : "0.125"}},
                seed++, 3);  // Out, L, M
            c.request.config = config.name;
            c.constexprs["BLOCK_DMODEL"] = d.as_int();
            cases.push_back(std::move(c));
          }
        }
      }
    }
  }
  return cases;
}

}  // namespace tritonpack::testing
