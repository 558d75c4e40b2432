// Ahead-of-time tuning on a GPU (`tritonpack tune`, docs/tuning.md): for every launch a kernel's
// [tuning] shapes list, every config that can serve it runs on the same random inputs; each
// output is compared with the first config's (a config that computes something else is reported
// and never chosen); each is event-timed after warm-up runs, with L2 flushed before every timed
// run, and its median kept. Launches whose key values fall in the same bins share one entry: the
// configs right on all of them, ranked by the geometric mean of their times.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/device.h"
#include "tritonpack/runtime.h"

namespace tritonpack::harness {

struct TuneRequest {
  // The launches to measure; nullptr: the kernel's own (KernelInfo::tuning.shapes).
  const std::vector<TuningShape>* shapes = nullptr;
  int runs = 25;                          // timed runs per config (median)
  int warmup = 5;                         // untimed runs before them
  size_t flush_bytes = size_t{256} << 20;  // written before every timed run: more than any L2
  uint64_t seed = 0;                      // inputs; 0: a fresh seed
  std::function<void(const std::string& line)> progress;  // one line per step; may be empty
};

struct ConfigMeasurement {
  uint32_t config = 0;      // index into KernelInfo::configs
  uint32_t variant_id = 0;  // the variant a launch of that config picks
  bool ran = false;         // launched without an error
  bool correct = false;     // its outputs agree with the reference config's
  double median_us = 0;
  double relative_error = 0;  // normwise, against the reference config's outputs
  std::string message;        // why it is not correct, or the launch's error
};

struct ShapeMeasurement {
  TuningShape shape;
  std::vector<int64_t> key_values;  // per key
  std::vector<uint32_t> bin;        // per key
  std::vector<ConfigMeasurement> configs;  // the reference config first (the first that runs)
  std::string skipped;  // why this launch was not measured (nothing can run it, ...); empty if it was
};

struct TuneResult {
  TuningTable table;  // device, arch, driver, Triton version, date, tool and the entries
  std::vector<ShapeMeasurement> shapes;
  uint64_t seed = 0;
};

// Tunes `kernel` on the device (its context current on this thread). Throws kInvalidArgument for a
// kernel without a tuning key or shapes, and what the runtime throws for a driver failure.
TuneResult tune_kernel(const DeviceContext& device, Kernel& kernel, const TuneRequest& request);

// One launch to measure from text, as `tritonpack tune --shape` takes it: NAME=VALUE pairs separated
// by commas or spaces ("M=1000,N=4000,K=2000,T=bf16"): integer scalars, launch variables and dim
// names take integers, float scalars numbers, type variables one of their dtypes (default: the
// first listed). Throws kInvalidArgument naming what is wrong and what the kernel takes.
TuningShape parse_tuning_shape(const KernelInfo& kernel, std::string_view text);

// The key's values for a launch (what `tune` bins it by). Throws kInvalidArgument for a launch that
// lacks a value the run needs, and kEvaluation for a key that cannot be evaluated.
std::vector<int64_t> tuning_key_values(const KernelInfo& kernel, const TuningShape& shape);

// "M=1000 N=4000 K=2000 T=fp16": a launch in the words parse_tuning_shape takes.
std::string tuning_shape_text(const TuningShape& shape);

// The entries of a table from shape measurements: one per (dtype binding, bins), in the order the
// shapes first reach them; the configs correct on every launch of the entry, fastest first by the
// geometric mean of their times. Bins where no config was correct get no entry. Pure: tests call it.
std::vector<TuningEntry> entries_from(const KernelInfo& kernel, const std::vector<ShapeMeasurement>& shapes);

}  // namespace tritonpack::harness
