// tritonpack fuzzing: what must hold for every pack that Pack::from_bytes accepted. A violation
// aborts, which libFuzzer reports as a crash with the input that caused it. Opening leaves each
// blob's hash to the blob's first use, so check_pack also uses every blob (check_blobs).
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <vector>

#include "runtime/model.h"
#include "runtime/selection.h"
#include "tritonpack/error.h"
#include "tritonpack/pack.h"
#include "util/sha256.h"

namespace tritonpack_fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "pack invariant violated: %s\n", what);
  std::abort();
}

// The runtime's model of a validated kernel builds or reports a corrupt pack, and selection on
// made-up arguments (every shape 64, every integer 7) answers or throws tritonpack::Error: nothing
// else may happen, whatever rules, heuristics, dims and descriptors the manifest declares.
inline void exercise_runtime(const tritonpack::KernelInfo& k) {
  using namespace tritonpack;
  runtime::KernelModel model;
  try {
    model = runtime::build_model(k);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kCorruptPack) violated("build_model threw something other than kCorruptPack");
    return;
  }
  static const int64_t sizes[Arg::kMaxRank] = {64, 64, 64, 64, 64, 64, 64, 64};
  static const int64_t strides[5] = {64 * 64 * 64 * 64, 64 * 64 * 64, 64 * 64, 64, 1};
  std::vector<Arg> args;
  for (uint32_t p : model.runtime_params) {
    const ParamInfo& param = k.params[p];
    const DType t = k.variants.empty() ? DType::kFp32
                                       : resolve_dtype(param.dtype, k.variants[0].bindings).value_or(DType::kFp32);
    const size_t rank = std::min<size_t>(param.kind == ParamKind::kTensorDesc ? param.block.size() : param.dims.size(), 5);
    if (param.kind == ParamKind::kTensor) {
      args.push_back(Arg::tensor(CUdeviceptr{0x10000}, t, std::span<const int64_t>(sizes, rank)));
    } else if (param.kind == ParamKind::kTensorDesc) {
      args.push_back(Arg::descriptor(CUdeviceptr{0x10000}, t, std::span<const int64_t>(sizes, rank),
                                     std::span<const int64_t>(strides + 5 - rank, rank)));
    } else if (model.param_is_int_scalar[p]) {
      args.push_back(Arg::integer(7));
    } else {
      args.push_back(Arg::real(0.5));
    }
  }
  for (size_t i = 0; i < k.launch_vars.size(); ++i) args.push_back(Arg::integer(7));
  try {
    runtime::LaunchValues values;
    runtime::bind_launch(model, args, values);
    // sm_90, and the device of the first tuning table (its GPU model and arch), so that a table
    // the reader accepted is expanded and looked up.
    runtime::DeviceCaps tuned = runtime::caps_for_arch(k.tuning.tables.empty() ? 90 : k.tuning.tables[0].arch);
    if (!k.tuning.tables.empty()) tuned.name = k.tuning.tables[0].device;
    for (const runtime::DeviceCaps& caps : {runtime::caps_for_arch(90), tuned}) {
      const runtime::DevicePlan plan = runtime::plan_for_device(model, caps);
      runtime::bind_device(model, plan, values);
      const int32_t chosen = runtime::select_variant(model, plan, args, {}, values);
      (void)runtime::variant_reasons(model, plan, args, {}, values);
      (void)runtime::describe_tuning(model, plan, args, {}, values);
      // A table only orders the configs: with it and without it, the same variants can run the
      // launch, and a tuned launch runs one of them.
      LaunchOptions untuned;
      untuned.use_tuning = false;
      std::vector<std::pair<uint32_t, std::array<int64_t, 3>>> with, without;
      runtime::candidate_variants(model, plan, args, {}, values, with);
      runtime::candidate_variants(model, plan, args, untuned, values, without);
      const int32_t plain = runtime::select_variant(model, plan, args, untuned, values);
      if ((chosen < 0) != (plain < 0)) violated("a tuning table changed whether a launch can run");
      if (chosen >= 0 && (with.empty() || with.front().first != static_cast<uint32_t>(chosen))) {
        violated("a tuned launch did not run its first candidate");
      }
      std::sort(with.begin(), with.end());
      std::sort(without.begin(), without.end());
      if (with != without) violated("a tuning table changed the candidates (not only their order)");
    }
  } catch (const Error&) {
  }
}

// Every blob is either handed out, with bytes that hash to what the manifest says, or refused
// with Error(kCorruptPack) "blobs[i]: hash mismatch", the same on a second call; verify_blobs()
// refuses exactly when a blob is refused, with the first such blob's message.
inline void check_blobs(const tritonpack::Pack& pack) {
  using namespace tritonpack;
  const Manifest& m = pack.manifest();
  std::string first_refusal;
  for (size_t i = 0; i < m.blobs.size(); ++i) {
    std::string refusal;
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        const auto blob = pack.blob(static_cast<int32_t>(i));
        if (attempt == 1 && !refusal.empty()) violated("a blob refused once was handed out later");
        if (blob.size() != m.blobs[i].size) violated("blob size");
        if (sha256_hex(blob) != m.blobs[i].sha256) violated("a blob whose bytes do not match its hash was handed out");
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kCorruptPack) violated("blob() threw something other than kCorruptPack");
        if (std::string(e.what()).find("blobs[" + std::to_string(i) + "]: hash mismatch: ") == std::string::npos) {
          violated("a refused blob's message does not name it");
        }
        if (attempt == 1 && e.what() != refusal) violated("a blob handed out once was refused later, or differently");
        refusal = e.what();
      }
    }
    if (first_refusal.empty()) first_refusal = refusal;
  }
  try {
    pack.verify_blobs();
    if (!first_refusal.empty()) violated("verify_blobs accepted a pack with a refused blob");
  } catch (const Error& e) {
    if (e.what() != first_refusal) violated("verify_blobs refused other than the first refused blob");
  }
}

// Every index the validated manifest holds is usable, every blob is checked (check_blobs), and
// the manifest is a fixed point of manifest_to_json -> manifest_from_json.
inline void check_pack(const tritonpack::Pack& pack) {
  using namespace tritonpack;
  const Manifest& m = pack.manifest();
  for (const auto& k : m.kernels) {
    if (pack.kernel(k.name).name != k.name) violated("kernel lookup");
    exercise_runtime(k);
    for (const auto& v : k.variants) {
      if (v.config_index >= k.configs.size()) violated("config_index out of range");
      if (v.cubin_blob >= 0 && (static_cast<size_t>(v.cubin_blob) >= m.blobs.size() ||
                                m.blobs[static_cast<size_t>(v.cubin_blob)].kind != "cubin")) {
        violated("cubin_blob");
      }
      if (v.ptx_blob >= 0 && (static_cast<size_t>(v.ptx_blob) >= m.blobs.size() ||
                              m.blobs[static_cast<size_t>(v.ptx_blob)].kind != "ptx")) {
        violated("ptx_blob");
      }
      if (v.cubin_blob < 0 && v.ptx_blob < 0) violated("variant without code");
      for (const auto& a : v.args) {
        if (a.param_index >= k.params.size()) violated("param_index out of range");
        if (k.params[a.param_index].name != a.name) violated("argument name");
      }
    }
  }
  check_blobs(pack);
  const std::string json = manifest_to_json(m);
  if (manifest_to_json(manifest_from_json(json)) != json) violated("manifest JSON round trip");
}

}  // namespace tritonpack_fuzz
