// `tritonpack tune PACK -o OUT`: measures every config of the kernels' [tuning] shapes on a GPU
// (src/harness/tuner.cpp) and writes the pack again with this GPU model's table in its manifest;
// the blobs are copied unchanged. Progress on stderr, a summary on stdout, and with --report a
// JSON and a CSV of every measurement.
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "driver/driver.h"
#include "harness/device.h"
#include "harness/run_plan.h"
#include "harness/tuner.h"
#include "tritonpack/tuning.h"

namespace tritonpack::cli {
namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return out + "\"";
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw Error(ErrorCode::kIo, "cannot write '" + path + "'");
}

struct KernelReport {
  const KernelInfo* kernel = nullptr;
  harness::TuneResult result;
};

void write_report(const std::string& prefix, const std::vector<KernelReport>& reports) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  std::string csv = "kernel,launch,bin,config,variant,ran,correct,median_us,relative_error,chosen,message\n";
  for (const KernelReport& r : reports) {
    const KernelInfo& k = *r.kernel;
    const TuningTable& t = r.result.table;
    nlohmann::ordered_json kj;
    kj["kernel"] = k.name;
    kj["device"] = t.device;
    kj["arch"] = t.arch;
    kj["driver"] = t.driver;
    kj["triton_version"] = t.triton_version;
    kj["date"] = t.date;
    kj["tool"] = t.tool;
    kj["seed"] = r.result.seed;
    nlohmann::ordered_json launches = nlohmann::ordered_json::array();
    for (const harness::ShapeMeasurement& s : r.result.shapes) {
      const std::string launch = harness::tuning_shape_text(s.shape);
      std::string bin;
      for (size_t i = 0; i < s.bin.size(); ++i) {
        bin += (i ? " " : "") + k.tuning.key[i] + ":" + tuning::bin_text(k.tuning.bins[i], s.bin[i]);
      }
      // The config its entry chose.
      std::string chosen;
      for (const TuningEntry& e : t.entries) {
        if (e.bindings == s.shape.bindings && e.bin == s.bin) chosen = e.configs.front();
      }
      nlohmann::ordered_json lj;
      lj["launch"] = launch;
      lj["values"] = s.shape.values;
      lj["key_values"] = s.key_values;
      lj["bin"] = s.bin;
      lj["chosen"] = chosen;
      if (!s.skipped.empty()) lj["skipped"] = s.skipped;
      nlohmann::ordered_json configs = nlohmann::ordered_json::array();
      for (const harness::ConfigMeasurement& m : s.configs) {
        const std::string& name = k.configs[m.config].name;
        configs.push_back({{"config", name}, {"variant", m.variant_id}, {"ran", m.ran}, {"correct", m.correct},
                           {"median_us", m.median_us}, {"relative_error", m.relative_error}, {"message", m.message}});
        csv += csv_field(k.name) + "," + csv_field(launch) + "," + csv_field(bin) + "," + csv_field(name) + "," +
               std::to_string(m.variant_id) + "," + (m.ran ? "1" : "0") + "," + (m.correct ? "1" : "0") + "," +
               std::to_string(m.median_us) + "," + std::to_string(m.relative_error) + "," +
               (name == chosen ? "1" : "0") + "," + csv_field(m.message) + "\n";
      }
      lj["configs"] = std::move(configs);
      launches.push_back(std::move(lj));
    }
    kj["launches"] = std::move(launches);
    j.push_back(std::move(kj));
  }
  write_text(prefix + ".json", j.dump(2) + "\n");
  write_text(prefix + ".csv", csv);
}

void print_summary(const KernelReport& r) {
  const KernelInfo& k = *r.kernel;
  const TuningTable& t = r.result.table;
  std::cout << "kernel " << k.name << " on " << t.device << " (sm_" << t.arch << "): " << t.entries.size()
            << " entries\n";
  std::cout << "  " << std::left << std::setw(56) << "launch" << std::setw(22) << "chosen" << std::right
            << std::setw(12) << "us" << std::setw(22) << "first config us" << std::setw(10) << "speedup"
            << "\n";
  for (const harness::ShapeMeasurement& s : r.result.shapes) {
    const std::string launch = harness::tuning_shape_text(s.shape);
    if (!s.skipped.empty()) {
      std::cout << "  " << std::left << std::setw(56) << launch << "skipped\n";
      continue;
    }
    const harness::ConfigMeasurement* first = nullptr;
    const harness::ConfigMeasurement* best = nullptr;
    for (const harness::ConfigMeasurement& m : s.configs) {
      if (!m.ran || !m.correct) continue;
      if (first == nullptr) first = &m;
      if (best == nullptr || m.median_us < best->median_us) best = &m;
    }
    std::cout << "  " << std::left << std::setw(56) << launch;
    if (best == nullptr) {
      std::cout << "no config ran correctly\n";
      continue;
    }
    std::cout << std::setw(22) << k.configs[best->config].name << std::right << std::fixed << std::setprecision(2)
              << std::setw(12) << best->median_us << std::setw(22) << first->median_us << std::setw(9)
              << first->median_us / best->median_us << "x\n";
  }
  size_t wrong = 0;
  for (const harness::ShapeMeasurement& s : r.result.shapes) {
    for (const harness::ConfigMeasurement& m : s.configs) wrong += m.ran && !m.correct;
  }
  if (wrong > 0) {
    std::cout << "  " << wrong << " measurements computed a different result than the reference config and were "
              << "excluded (see the progress lines or --report)\n";
  }
}

}  // namespace

int tune(const TuneOptions& o) {
  const auto pack = Pack::open(o.pack);
  pack->verify_blobs();  // a corrupt blob is reported now, not after minutes of measuring
  Manifest manifest = pack->manifest();
  std::vector<size_t> selected;
  for (size_t i = 0; i < manifest.kernels.size(); ++i) {
    const KernelInfo& k = manifest.kernels[i];
    const bool named = std::find(o.kernels.begin(), o.kernels.end(), k.name) != o.kernels.end();
    if (!o.kernels.empty() && !named) continue;
    if (k.tuning.key.empty()) {
      if (named) {
        throw Error(ErrorCode::kInvalidArgument, "kernel '" + k.name + "' of pack '" + o.pack +
                                                     "' has no tuning key: add a [tuning] table to its spec "
                                                     "(docs/tuning.md) and compile it again");
      }
      continue;
    }
    selected.push_back(i);
  }
  for (const std::string& name : o.kernels) {
    (void)pack->kernel(name);  // an unknown name: kNotFound listing the pack's kernels
  }
  if (selected.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "no kernel of pack '" + o.pack +
                                                 "' has a tuning key: add a [tuning] table to the spec "
                                                 "(docs/tuning.md) and compile it again");
  }
  // Launches to measure per kernel: its own, then --shape's (named kernel only), each once.
  if (!o.shapes.empty() && selected.size() != 1) {
    throw Error(ErrorCode::kInvalidArgument, "--shape: name the kernel it is for with -k (the pack has " +
                                                 std::to_string(selected.size()) + " tuned kernels)");
  }
  for (size_t i : selected) {
    std::vector<TuningShape>& shapes = manifest.kernels[i].tuning.shapes;
    for (const std::string& text : o.shapes) {
      const TuningShape shape = harness::parse_tuning_shape(manifest.kernels[i], text);
      const bool known = std::any_of(shapes.begin(), shapes.end(), [&](const TuningShape& s) {
        return s.bindings == shape.bindings && s.values == shape.values && s.reals == shape.reals;
      });
      if (!known) shapes.push_back(shape);
    }
    if (shapes.size() > tuning::kMaxShapes) {
      throw Error(ErrorCode::kInvalidArgument, "kernel '" + manifest.kernels[i].name + "': more than " +
                                                   std::to_string(tuning::kMaxShapes) + " launches to measure");
    }
  }
  if (o.list) {
    for (size_t i : selected) {
      const KernelInfo& k = manifest.kernels[i];
      const size_t n = k.tuning.shapes.size();
      std::cout << "kernel " << k.name << ": " << n << (n == 1 ? " launch" : " launches") << " to measure\n";
      for (const TuningShape& s : k.tuning.shapes) {
        std::cout << "  " << harness::tuning_shape_text(s);
        try {
          const std::vector<int64_t> values = harness::tuning_key_values(k, s);
          for (size_t key = 0; key < values.size(); ++key) {
            std::cout << (key ? ", " : "  (bin ") << k.tuning.key[key] << " "
                      << tuning::bin_text(k.tuning.bins[key], tuning::bin_of(k.tuning.bins[key], values[key]));
          }
          std::cout << ")\n";
        } catch (const Error& e) {
          std::cout << "  (cannot be measured: " << e.what() << ")\n";
        }
      }
    }
    return 0;
  }
  if (o.output.empty()) throw Error(ErrorCode::kInvalidArgument, "--output is required (the tuned pack to write)");
  const auto driver = driver::Driver::system();
  harness::DeviceContext device(driver, o.device);
  harness::TuneRequest request;
  request.runs = o.runs;
  request.warmup = o.warmup;
  request.seed = o.seed;
  if (!o.quiet) request.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  std::vector<KernelReport> reports;
  for (size_t i : selected) {
    KernelInfo& k = manifest.kernels[i];
    if (!o.quiet) std::cerr << "tuning kernel '" << k.name << "' on " << device.name() << "\n";
    request.shapes = &k.tuning.shapes;  // the pack's launches and --shape's
    Kernel kernel(pack, k.name, driver);
    KernelReport report{&pack->manifest().kernels[i], harness::tune_kernel(device, kernel, request)};
    std::vector<TuningTable>& tables = k.tuning.tables;
    const auto same = std::find_if(tables.begin(), tables.end(),
                                   [&](const TuningTable& t) { return t.device == report.result.table.device; });
    if (same != tables.end()) {
      *same = report.result.table;
    } else {
      if (tables.size() >= tuning::kMaxTables) {
        throw Error(ErrorCode::kInvalidArgument, "kernel '" + k.name + "' already has " + std::to_string(tables.size()) +
                                                     " tuning tables, the most a pack holds");
      }
      tables.push_back(report.result.table);
    }
    print_summary(report);
    reports.push_back(std::move(report));
  }
  write_file_atomically(o.output, rewrite_manifest(*pack, std::move(manifest)));
  if (!o.report.empty()) write_report(o.report, reports);
  if (!o.quiet) {
    std::cerr << "wrote " << o.output << (o.report.empty() ? "" : " and " + o.report + ".{json,csv}") << "\n";
  }
  return 0;
}

}  // namespace tritonpack::cli
