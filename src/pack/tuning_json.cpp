// The "tuning" object of a kernel in the manifest (docs/pack-format.md, "Tuning"): written only
// when a kernel has a tuning key, validated like the rest on the way in, so the runtime can trust
// that every entry names a config of the kernel, every bin exists and no two entries collide.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "pack/manifest_json.h"
#include "tritonpack/error.h"
#include "tritonpack/expr.h"
#include "tritonpack/tuning.h"

namespace tritonpack::pack_format {
namespace {

constexpr uint32_t kMinArch = 50;
constexpr uint32_t kMaxArch = 200;
constexpr size_t kMaxTextLength = 256;

Json bindings_to_json(const TypeBindings& bindings) {
  Json j = Json::object();
  for (const auto& [var, dtype] : bindings) j[var] = std::string(dtype_name(dtype));
  return j;
}

Json values_to_json(const std::map<std::string, int64_t>& values) {
  Json j = Json::object();
  for (const auto& [name, value] : values) j[name] = value;
  return j;
}

std::string text_value(const Json& j, const std::string& path) {
  const std::string& s = string_value(j, path, kMaxTextLength);
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) fail(path, "expected printable ASCII, got " + quote_text(s));
  }
  return s;
}

std::map<std::string, int64_t> read_values(const Json& j, const std::string& path) {
  expect_object(j, path);
  std::map<std::string, int64_t> values;
  for (const auto& [name, value] : j.items()) {
    (void)identifier_value(Json(name), child(path, name));
    values[name] = int64_value(value, child(path, name));
  }
  return values;
}

TuningBins read_bins(const Json& j, const std::string& path) {
  expect_object(j, path);
  TuningBins bins;
  const std::string epath = child(path, "edges");
  const Json& edges = array_value(field(j, path, "edges"), epath);
  if (edges.size() > tuning::kMaxEdges) {
    fail(epath, "has " + std::to_string(edges.size()) + " edges, over the limit of " + std::to_string(tuning::kMaxEdges));
  }
  for (size_t i = 0; i < edges.size(); ++i) {
    const int64_t e = int64_value(edges[i], child(epath, i));
    if (!bins.edges.empty() && e <= bins.edges.back()) {
      fail(child(epath, i), std::to_string(e) + " is not above the edge before it; edges ascend strictly");
    }
    bins.edges.push_back(e);
  }
  return bins;
}

TuningEntry read_entry(const Json& j, const std::string& at, const KernelInfo& k, const TuningInfo& t) {
  expect_object(j, at);
  TuningEntry e;
  e.bindings = read_type_bindings(field(j, at, "bindings"), child(at, "bindings"), k);
  const std::string bpath = child(at, "bin");
  const Json& bin = array_value(field(j, at, "bin"), bpath);
  if (bin.size() != t.key.size()) {
    fail(bpath, "has " + std::to_string(bin.size()) + " bins, the key has " + std::to_string(t.key.size()) + " values");
  }
  for (size_t i = 0; i < bin.size(); ++i) {
    e.bin.push_back(static_cast<uint32_t>(uint_value(bin[i], child(bpath, i), 0, tuning::bin_count(t.bins[i]) - 1)));
  }
  const std::string cpath = child(at, "configs");
  const Json& configs = array_value(field(j, at, "configs"), cpath);
  if (configs.empty()) fail(cpath, "an entry names at least one config");
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string& name = string_value(configs[i], child(cpath, i));
    if (std::none_of(k.configs.begin(), k.configs.end(), [&](const ConfigInfo& c) { return c.name == name; })) {
      fail(child(cpath, i), "unknown config " + quote_text(name) + "; the kernel's configs are " + [&] {
        std::string names;
        for (const ConfigInfo& c : k.configs) names += (names.empty() ? "" : ", ") + c.name;
        return names;
      }());
    }
    if (std::find(e.configs.begin(), e.configs.end(), name) != e.configs.end()) {
      fail(child(cpath, i), "config " + quote_text(name) + " is listed twice");
    }
    e.configs.push_back(name);
  }
  const std::string tpath = child(at, "times_us");
  const Json& times = array_value(field(j, at, "times_us"), tpath);
  if (times.size() != e.configs.size()) {
    fail(tpath, "has " + std::to_string(times.size()) + " times for " + std::to_string(e.configs.size()) + " configs");
  }
  for (size_t i = 0; i < times.size(); ++i) {
    if (!times[i].is_number() || !std::isfinite(times[i].get<double>()) || times[i].get<double>() < 0) {
      fail(child(tpath, i), "expected a finite time >= 0, got " + describe(times[i]));
    }
    e.times_us.push_back(times[i].get<double>());
  }
  e.values = read_values(field(j, at, "values"), child(at, "values"));
  return e;
}

}  // namespace

Json tuning_to_json(const TuningInfo& t) {
  Json j = Json::object();
  j["version"] = tuning::kTuningVersion;
  j["key"] = t.key;
  Json bins = Json::array();
  for (const TuningBins& b : t.bins) bins.push_back(Json{{"edges", b.edges}});
  j["bins"] = std::move(bins);
  Json shapes = Json::array();
  for (const TuningShape& s : t.shapes) {
    Json shape{{"bindings", bindings_to_json(s.bindings)}, {"values", values_to_json(s.values)}};
    if (!s.reals.empty()) {
      Json reals = Json::object();
      for (const auto& [name, value] : s.reals) reals[name] = value;
      shape["reals"] = std::move(reals);
    }
    shapes.push_back(std::move(shape));
  }
  j["shapes"] = std::move(shapes);
  Json tables = Json::array();
  for (const TuningTable& table : t.tables) {
    Json entries = Json::array();
    for (const TuningEntry& e : table.entries) {
      entries.push_back(Json{{"bindings", bindings_to_json(e.bindings)},
                             {"bin", e.bin},
                             {"configs", e.configs},
                             {"times_us", e.times_us},
                             {"values", values_to_json(e.values)}});
    }
    tables.push_back(Json{{"device", table.device},
                          {"arch", table.arch},
                          {"driver", table.driver},
                          {"triton_version", table.triton_version},
                          {"date", table.date},
                          {"tool", table.tool},
                          {"entries", std::move(entries)}});
  }
  j["tables"] = std::move(tables);
  return j;
}

TuningInfo read_tuning(const Json& j, const std::string& at, const KernelInfo& k) {
  expect_object(j, at);
  const Json& version = field(j, at, "version");
  if (!version.is_number_unsigned() || version.get<uint64_t>() < 1) {
    fail(child(at, "version"), "expected a version number >= 1, got " + describe(version));
  }
  if (version.get<uint64_t>() > static_cast<uint64_t>(tuning::kTuningVersion)) {
    fail(child(at, "version"), "tuning version " + std::to_string(version.get<uint64_t>()) +
                                   " is newer than this tritonpack reads (" + std::to_string(tuning::kTuningVersion) +
                                   "); upgrade tritonpack");
  }
  TuningInfo t;
  const std::string kpath = child(at, "key");
  const Json& key = array_value(field(j, at, "key"), kpath);
  if (key.empty() || key.size() > tuning::kMaxKeys) {
    fail(kpath, "expected 1 to " + std::to_string(tuning::kMaxKeys) + " expressions, got " + std::to_string(key.size()));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const std::string& text = string_value(key[i], child(kpath, i));
    try {
      (void)expr::Expr::parse(text);
    } catch (const Error& e) {
      fail(child(kpath, i), std::string("invalid expression: ") + e.what());
    }
    t.key.push_back(text);
  }
  const std::string bpath = child(at, "bins");
  const Json& bins = array_value(field(j, at, "bins"), bpath);
  if (bins.size() != key.size()) {
    fail(bpath, "has " + std::to_string(bins.size()) + " entries, the key has " + std::to_string(key.size()));
  }
  for (size_t i = 0; i < bins.size(); ++i) t.bins.push_back(read_bins(bins[i], child(bpath, i)));

  const std::string spath = child(at, "shapes");
  const Json& shapes = array_value(field(j, at, "shapes"), spath);
  if (shapes.size() > tuning::kMaxShapes) fail(spath, "more than " + std::to_string(tuning::kMaxShapes) + " shapes");
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::string sat = child(spath, i);
    expect_object(shapes[i], sat);
    TuningShape s;
    s.bindings = read_type_bindings(field(shapes[i], sat, "bindings"), child(sat, "bindings"), k);
    s.values = read_values(field(shapes[i], sat, "values"), child(sat, "values"));
    if (const Json* reals = optional_field(shapes[i], "reals")) {
      const std::string rpath = child(sat, "reals");
      expect_object(*reals, rpath);
      for (const auto& [name, value] : reals->items()) {
        (void)identifier_value(Json(name), child(rpath, name));
        if (!value.is_number() || !std::isfinite(value.get<double>())) {
          fail(child(rpath, name), "expected a finite number, got " + describe(value));
        }
        s.reals[name] = value.get<double>();
      }
    }
    t.shapes.push_back(std::move(s));
  }

  const std::string tpath = child(at, "tables");
  const Json& tables = array_value(field(j, at, "tables"), tpath);
  if (tables.size() > tuning::kMaxTables) fail(tpath, "more than " + std::to_string(tuning::kMaxTables) + " tables");
  std::set<std::string> devices;
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string tat = child(tpath, i);
    const Json& tj = tables[i];
    expect_object(tj, tat);
    TuningTable table;
    table.device = text_value(field(tj, tat, "device"), child(tat, "device"));
    if (table.device.empty()) fail(child(tat, "device"), "expected the GPU's name");
    if (!devices.insert(table.device).second) {
      fail(child(tat, "device"), "a second table for device " + quote_text(table.device));
    }
    table.arch = static_cast<uint32_t>(uint_value(field(tj, tat, "arch"), child(tat, "arch"), kMinArch, kMaxArch));
    table.driver = text_value(field(tj, tat, "driver"), child(tat, "driver"));
    table.triton_version = text_value(field(tj, tat, "triton_version"), child(tat, "triton_version"));
    table.date = text_value(field(tj, tat, "date"), child(tat, "date"));
    table.tool = text_value(field(tj, tat, "tool"), child(tat, "tool"));
    const std::string epath = child(tat, "entries");
    const Json& entries = array_value(field(tj, tat, "entries"), epath);
    if (entries.size() > tuning::kMaxEntries) {
      fail(epath, "more than " + std::to_string(tuning::kMaxEntries) + " entries");
    }
    // Per dtype binding: the entries' bins (no two alike) and, per key, the span from the lowest to
    // the highest bin measured; the product of the spans is the grid the runtime builds for the
    // binding, and the grids of all bindings together are held to kMaxCells.
    struct Span {
      std::vector<uint32_t> low, high;
      size_t cells = 0;
    };
    std::map<TypeBindings, std::set<std::vector<uint32_t>>> seen;
    std::map<TypeBindings, Span> spans;
    size_t cells = 0;  // over every binding
    for (size_t e = 0; e < entries.size(); ++e) {
      TuningEntry entry = read_entry(entries[e], child(epath, e), k, t);
      if (!seen[entry.bindings].insert(entry.bin).second) {
        fail(child(child(epath, e), "bin"), "a second entry for the same bin and dtypes");
      }
      Span& span = spans[entry.bindings];
      if (span.low.empty()) span.low = span.high = entry.bin;
      size_t product = 1;  // at most 65^4: no overflow
      for (size_t b = 0; b < entry.bin.size(); ++b) {
        span.low[b] = std::min(span.low[b], entry.bin[b]);
        span.high[b] = std::max(span.high[b], entry.bin[b]);
        product *= span.high[b] - span.low[b] + 1;
      }
      cells = cells - span.cells + product;
      span.cells = product;
      if (cells > tuning::kMaxCells) {
        fail(child(epath, e), "the entries span more than " + std::to_string(tuning::kMaxCells) +
                                  " bin combinations (per dtype binding, the bins from the lowest to the highest "
                                  "measured of each key, multiplied; added over the bindings)");
      }
      table.entries.push_back(std::move(entry));
    }
    t.tables.push_back(std::move(table));
  }
  return t;
}

}  // namespace tritonpack::pack_format
