// The thread-mix stress of issue 13: threads at random launch, select, query workspace, unload,
// and create, clone and destroy Kernels and plugin cores that share packs, as engines do at once
// (TensorRT's execution contexts enqueue clones while others are made and destroyed; a server
// unloads while another thread launches). The mix is written once, here; what it runs on is a
// StressWorld, which owns the driver and checks each case its own way: the fake driver in CI
// (tests/fault/stress_test.cpp, every launch's record checked) and a GPU with the real driver
// (tests/gpu/stress_gpu_test.cpp, every output against a host reference).
//
// A Kernel or plugin core is shared through a slot: a thread takes a reference under the slot's
// lock and uses the object without it, so a replaced object is destroyed by whichever thread drops
// it last, never while in use (the contract in docs/thread-safety.md). Unload, by contrast, runs
// on an object other threads are launching with: those launches must load again, never use a
// stale handle.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/plugin.h"
#include "tritonpack/runtime.h"

namespace tritonpack::testing {

struct StressOptions {
  uint64_t seed = 13;
  size_t threads = 8;
  size_t operations = 4000;  // in all, split evenly over the threads
};

// `defaults`, overridden by TRITONPACK_STRESS_SEED, TRITONPACK_STRESS_OPS and
// TRITONPACK_STRESS_THREADS where set (to repeat a failure's seed, or to run longer).
inline StressOptions stress_options(StressOptions defaults) {
  const auto read = [](const char* name, auto& value) {
    if (const char* text = std::getenv(name); text != nullptr && *text != '\0') {
      value = static_cast<std::remove_reference_t<decltype(value)>>(std::strtoull(text, nullptr, 0));
    }
  };
  read("TRITONPACK_STRESS_SEED", defaults.seed);
  read("TRITONPACK_STRESS_OPS", defaults.operations);
  read("TRITONPACK_STRESS_THREADS", defaults.threads);
  if (defaults.threads == 0) defaults.threads = 1;
  return defaults;
}

using StressRng = std::mt19937_64;

// What the mix runs on. Each check runs one random case drawn from `rng` and returns what was
// wrong ("" when it was right); the runtime's refusals (Error) propagate to the mix, which counts
// them as failures: every case a world draws is one the runtime must serve.
class StressWorld {
 public:
  virtual ~StressWorld() = default;
  // On each worker thread before its first operation: make the device current, make a stream.
  virtual void enter(size_t thread) = 0;
  virtual Kernel make_kernel(size_t slot) = 0;
  virtual PluginCore make_plugin(StressRng& rng) = 0;
  // One launch with fresh arguments, checked. `op` is unique per thread: a key for its launch.
  virtual std::string launch(Kernel& kernel, StressRng& rng, size_t thread, size_t op) = 0;
  // select() and workspace_size() for random arguments, checked against what the world expects.
  virtual std::string select(Kernel& kernel, StressRng& rng) = 0;
  // prepare() and one enqueue of the prepared launch, checked.
  virtual std::string enqueue(PluginCore& plugin, StressRng& rng, size_t thread, size_t op) = 0;
  // prepare() / workspace_size() / supports() without launching, checked.
  virtual std::string plan(const PluginCore& plugin, StressRng& rng) = 0;
};

enum class StressOp : uint8_t {
  kLaunch,
  kSelect,
  kUnload,
  kReplaceKernel,
  kEnqueue,
  kPlan,
  kClonePlugin,
  kReplacePlugin,
  kCount
};
inline constexpr std::array<const char*, static_cast<size_t>(StressOp::kCount)> kStressOpNames = {
    "launch", "select", "unload", "replace kernel", "enqueue", "plan", "clone plugin", "replace plugin"};
// Relative frequencies, in StressOp order: mostly launches, with an unload or a new object often
// enough that most of them race a launch.
inline constexpr std::array<uint32_t, static_cast<size_t>(StressOp::kCount)> kStressOpWeights = {30, 10, 8, 5,
                                                                                                   25, 10, 5, 5};

struct StressResult {
  std::array<size_t, static_cast<size_t>(StressOp::kCount)> done{};
  std::vector<std::string> failures;  // "thread 3, operation 17 (launch): ...", the first few per thread

  std::string counts() const {
    std::string out;
    for (size_t i = 0; i < done.size(); ++i) {
      out += (i ? ", " : "") + std::string(kStressOpNames[i]) + " " + std::to_string(done[i]);
    }
    return out;
  }
};

inline StressResult run_stress(StressWorld& world, const StressOptions& options) {
  constexpr size_t kKernelSlots = 4, kPluginSlots = 3, kFailuresPerThread = 5;
  std::mutex slots_mutex;
  std::vector<std::shared_ptr<Kernel>> kernels;
  std::vector<std::shared_ptr<PluginCore>> plugins;
  {
    StressRng rng(options.seed);
    for (size_t i = 0; i < kKernelSlots; ++i) kernels.push_back(std::make_shared<Kernel>(world.make_kernel(i)));
    for (size_t i = 0; i < kPluginSlots; ++i) plugins.push_back(std::make_shared<PluginCore>(world.make_plugin(rng)));
  }
  struct PerThread {
    std::array<size_t, static_cast<size_t>(StressOp::kCount)> done{};
    std::vector<std::string> failures;
  };
  std::vector<PerThread> per_thread(options.threads);
  const size_t per_thread_ops = options.operations / options.threads;

  const auto work = [&](size_t thread) {
    PerThread& mine = per_thread[thread];
    std::seed_seq seq{options.seed, static_cast<uint64_t>(thread)};
    StressRng rng(seq);
    std::discrete_distribution<size_t> pick_op(kStressOpWeights.begin(), kStressOpWeights.end());
    const auto kernel_at = [&](size_t slot) {
      std::lock_guard<std::mutex> lock(slots_mutex);
      return kernels[slot];
    };
    const auto plugin_at = [&](size_t slot) {
      std::lock_guard<std::mutex> lock(slots_mutex);
      return plugins[slot];
    };
    try {
      world.enter(thread);
    } catch (const std::exception& e) {
      mine.failures.push_back("thread " + std::to_string(thread) + ": entering: " + e.what());
      return;
    }
    for (size_t op = 0; op < per_thread_ops; ++op) {
      const auto kind = static_cast<StressOp>(pick_op(rng));
      const size_t kernel_slot = rng() % kKernelSlots, plugin_slot = rng() % kPluginSlots;
      std::string failure;
      try {
        switch (kind) {
          case StressOp::kLaunch:
            failure = world.launch(*kernel_at(kernel_slot), rng, thread, op);
            break;
          case StressOp::kSelect:
            failure = world.select(*kernel_at(kernel_slot), rng);
            break;
          case StressOp::kUnload:
            kernel_at(kernel_slot)->unload();
            break;
          case StressOp::kReplaceKernel: {
            // Made outside the lock (making kernels at once is part of the mix); the old one is
            // destroyed here, or by the last thread still launching with it.
            auto fresh = std::make_shared<Kernel>(world.make_kernel(kernel_slot));
            std::lock_guard<std::mutex> lock(slots_mutex);
            kernels[kernel_slot].swap(fresh);
            break;
          }
          case StressOp::kEnqueue:
            failure = world.enqueue(*plugin_at(plugin_slot), rng, thread, op);
            break;
          case StressOp::kPlan:
            failure = world.plan(*plugin_at(plugin_slot), rng);
            break;
          case StressOp::kClonePlugin:
          case StressOp::kReplacePlugin: {
            // A clone of another slot's plugin (an engine's per-context copy), or a new plugin,
            // made while that one is in use.
            auto fresh = std::make_shared<PluginCore>(kind == StressOp::kClonePlugin
                                                          ? plugin_at(rng() % kPluginSlots)->clone()
                                                          : world.make_plugin(rng));
            std::lock_guard<std::mutex> lock(slots_mutex);
            plugins[plugin_slot].swap(fresh);
            break;
          }
          case StressOp::kCount:
            break;
        }
      } catch (const std::exception& e) {
        failure = std::string("refused: ") + e.what();
      }
      ++mine.done[static_cast<size_t>(kind)];
      if (!failure.empty() && mine.failures.size() < kFailuresPerThread) {
        mine.failures.push_back("thread " + std::to_string(thread) + ", operation " + std::to_string(op) + " (" +
                                kStressOpNames[static_cast<size_t>(kind)] + "): " + failure);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < options.threads; ++t) threads.emplace_back(work, t);
  for (std::thread& t : threads) t.join();

  StressResult result;
  for (const PerThread& t : per_thread) {
    for (size_t i = 0; i < result.done.size(); ++i) result.done[i] += t.done[i];
    result.failures.insert(result.failures.end(), t.failures.begin(), t.failures.end());
  }
  return result;
}

}  // namespace tritonpack::testing
