// Creators (IPluginCreatorV3One) for the kernels of packs, and the set a plugin library serves.
#include <algorithm>
#include <cstring>
#include <map>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt {

using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::TensorRTPhase;

std::shared_ptr<const PackSource> PackSource::from_pack(std::shared_ptr<const Pack> pack, std::string origin) {
  if (!pack) throw Error(ErrorCode::kInvalidArgument, "PackSource::from_pack needs a pack (got null)");
  // Every blob is checked when a pack is served, so that a corrupt one is left out with the blob's
  // message when the library loads, not met by an engine's build or enqueue.
  pack->verify_blobs();
  auto source = std::make_shared<PackSource>();
  source->sha256 = pack->sha256();
  source->pack = std::move(pack);
  source->origin = std::move(origin);
  return source;
}

namespace {

std::string field_text(const PluginField& f) {
  if (f.data == nullptr || f.length < 0) return "";
  return std::string(static_cast<const char*>(f.data), static_cast<size_t>(f.length));
}

// A kCHAR field's text, without the terminating NUL some writers include.
std::string char_field(const PluginField& f, const std::string& name) {
  if (f.type != PluginFieldType::kCHAR) {
    throw Error(ErrorCode::kInvalidArgument, "serialized field '" + name + "' is " +
                                                 std::string(field_type_name(f.type)) + ", expected kCHAR");
  }
  std::string text = field_text(f);
  while (!text.empty() && text.back() == '\0') text.pop_back();
  return text;
}

template <class T>
T scalar_field(const PluginField& f, PluginFieldType type, const std::string& name) {
  if (f.type != type || f.length != 1 || f.data == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "serialized field '" + name + "' is " + std::string(field_type_name(f.type)) +
                                                 " with " + std::to_string(f.length) + " values, expected one " +
                                                 std::string(field_type_name(type)));
  }
  T v;
  std::memcpy(&v, f.data, sizeof v);
  return v;
}

// The fields of fc by name; a null name or a name given twice is refused.
std::map<std::string, const PluginField*> fields_by_name(const PluginFieldCollection* fc) {
  std::map<std::string, const PluginField*> out;
  if (fc == nullptr) return out;
  if (fc->nbFields < 0 || (fc->nbFields > 0 && fc->fields == nullptr)) {
    throw Error(ErrorCode::kInvalidArgument, "the field collection has " + std::to_string(fc->nbFields) +
                                                 " fields and " + (fc->fields ? "an array" : "no array"));
  }
  for (int32_t i = 0; i < fc->nbFields; ++i) {
    const PluginField& f = fc->fields[i];
    if (f.name == nullptr) throw Error(ErrorCode::kInvalidArgument, "field " + std::to_string(i) + " has no name");
    if (!out.emplace(f.name, &f).second) {
      throw Error(ErrorCode::kInvalidArgument, "field '" + std::string(f.name) + "' is given twice");
    }
  }
  return out;
}

std::string short_hash(const std::string& sha256) { return sha256.substr(0, 12); }

}  // namespace

Creator::Creator(std::shared_ptr<const PackSource> source, std::string_view kernel,
                 std::shared_ptr<const driver::Driver> driver)
    : source_(std::move(source)), kernel_(kernel), driver_(std::move(driver)) {
  if (!source_) throw Error(ErrorCode::kInvalidArgument, "a creator needs a pack (got null)");
  // Describing the plugin needs a core; fields without a default get a placeholder (1, valid for
  // every field dtype) that nothing launches with.
  std::map<std::string, double, std::less<>> placeholders;
  for (const ParamInfo& p : source_->pack->kernel(kernel_).params) {
    if (p.is_field && !p.has_default) placeholders[p.name] = 1;
  }
  probe_ = std::make_unique<PluginCore>(PluginCore::create(source_->pack, kernel_, placeholders, driver_));
  for (const PluginFieldInfo& f : probe_->describe().fields) {
    const std::optional<PluginFieldType> type = field_type(f.dtype);
    if (!type) {
      throw Error(ErrorCode::kInvalidArgument, "field '" + f.name + "' has dtype " + std::string(dtype_name(f.dtype)) +
                                                   ", which no TensorRT PluginFieldType holds");
    }
    field_names_.emplace_back(f.name.c_str(), nullptr, *type, 1);
  }
  field_collection_.nbFields = static_cast<int32_t>(field_names_.size());
  field_collection_.fields = field_names_.data();
}

Creator::~Creator() = default;

const PluginDescription& Creator::description() const { return probe_->describe(); }
const char* Creator::getPluginName() const noexcept { return probe_->describe().name.c_str(); }
const char* Creator::getPluginVersion() const noexcept { return probe_->describe().version.c_str(); }
const char* Creator::getPluginNamespace() const noexcept { return probe_->describe().plugin_namespace.c_str(); }
const PluginFieldCollection* Creator::getFieldNames() noexcept { return &field_collection_; }

std::unique_ptr<Plugin> Creator::create(std::string_view name, const PluginFieldCollection* fc, TensorRTPhase phase) const {
  const std::map<std::string, const PluginField*> given = fields_by_name(fc);
  std::map<std::string, double, std::less<>> fields;
  int32_t tactic = 0;
  std::optional<size_t> workspace;
  if (phase == TensorRTPhase::kBUILD) {
    // Attributes: any numeric type whose value the field's dtype holds (the core checks integers
    // and ranges, and refuses unknown and missing fields by name).
    for (const auto& item : given) {
      // Named, not a structured binding: clang before 16 cannot capture one in a lambda.
      const std::string& field_name = item.first;
      try {
        fields[field_name] = numeric_field_value(*item.second);
      } catch (const Error& e) {
        // A dtype field given as text ("bf16"): say which numbers it takes.
        const std::vector<PluginFieldInfo>& known = probe_->describe().fields;
        const auto info = std::find_if(known.begin(), known.end(), [&](const PluginFieldInfo& f) { return f.name == field_name; });
        if (info == known.end() || info->dtypes.empty()) throw;
        std::string codes;
        for (DType t : info->dtypes) {
          codes += (codes.empty() ? "" : ", ") + std::string(dtype_name(t)) + " " + std::to_string(static_cast<int>(t));
        }
        throw Error(e.code(), std::string(e.what()) + "; dtype field '" + field_name +
                                  "' takes the code of one of its dtypes: " + codes);
      }
    }
  } else if (phase == TensorRTPhase::kRUNTIME) {
    const auto need = [&](const char* key) -> const PluginField& {
      auto it = given.find(key);
      if (it == given.end()) {
        throw Error(ErrorCode::kCorruptPack, std::string("the serialized plugin has no field '") + key +
                                                 "': the engine was not built with a tritonpack plugin library");
      }
      return *it->second;
    };
    const int32_t format = scalar_field<int32_t>(need(serial::kFormat), PluginFieldType::kINT32, serial::kFormat);
    if (format != serial::kFormatVersion) {
      throw Error(ErrorCode::kCorruptPack, "the serialized plugin has format " + std::to_string(format) +
                                               "; this plugin library reads format " +
                                               std::to_string(serial::kFormatVersion));
    }
    const std::string kernel = char_field(need(serial::kKernel), serial::kKernel);
    const std::string sha256 = char_field(need(serial::kPackSha256), serial::kPackSha256);
    if (kernel != kernel_ || sha256 != source_->sha256) {
      throw Error(ErrorCode::kInvalidArgument,
                  "the engine was built with kernel '" + kernel + "' of the pack with sha256 " + sha256 +
                      "; this plugin library serves kernel '" + kernel_ + "' of " + source_->origin + " (sha256 " +
                      source_->sha256 + "). Load the plugin library or pack the engine was built with, or rebuild "
                      "the engine (a different pack may hold different kernels)");
    }
    tactic = scalar_field<int32_t>(need(serial::kTactic), PluginFieldType::kINT32, serial::kTactic);
    const int64_t bytes = scalar_field<int64_t>(need(serial::kWorkspace), PluginFieldType::kINT64, serial::kWorkspace);
    if (bytes >= 0) workspace = static_cast<size_t>(bytes);
    for (const auto& [field_name, field] : given) {
      if (field_name.rfind("tritonpack.", 0) == 0) continue;
      fields[field_name] = scalar_field<double>(*field, PluginFieldType::kFLOAT64, field_name);
    }
  } else {
    throw Error(ErrorCode::kInvalidArgument, "unknown TensorRTPhase " + std::to_string(static_cast<int>(phase)));
  }
  PluginCore core = PluginCore::create(source_->pack, kernel_, fields, driver_);
  core.set_tactic(tactic);
  auto plugin = std::make_unique<Plugin>(source_, std::move(core), std::string(name));
  plugin->set_granted_workspace(workspace);
  return plugin;
}

nvinfer1::IPluginV3* Creator::createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept {
  const char* phase_name = phase == TensorRTPhase::kBUILD ? "kBUILD" : phase == TensorRTPhase::kRUNTIME ? "kRUNTIME" : "?";
  nvinfer1::IPluginV3* plugin = nullptr;
  const Status status = capture([&] { plugin = create(name ? name : "", fc, phase).release(); });
  if (status) return plugin;
  const nvinfer1::ErrorCode code = tensorrt_error_code(status.code);
  const std::string& message = status.message;
  try {
    report(nullptr, code,
           "tritonpack plugin creator '" + std::string(getPluginName()) + "' (kernel '" + kernel_ + "' of " +
               source_->origin + ") createPlugin(" + (name ? "'" + std::string(name) + "', " : "") + phase_name +
               "): " + message);
  } catch (...) {
    report(nullptr, code, message);
  }
  return nullptr;
}

// ---- CreatorSet ------------------------------------------------------------------------------

namespace {

std::string plugin_key_text(const Creator& c) {
  return "'" + std::string(c.getPluginName()) + "' version '" + c.getPluginVersion() + "' namespace '" +
         c.getPluginNamespace() + "'";
}

}  // namespace

CreatorSet CreatorSet::from_sources(std::span<const std::shared_ptr<const PackSource>> sources,
                                    std::shared_ptr<const driver::Driver> driver) {
  CreatorSet set;
  std::vector<std::unique_ptr<Creator>> all;
  std::set<std::string> seen_hashes;
  for (const std::shared_ptr<const PackSource>& source : sources) {
    if (!seen_hashes.insert(source->sha256).second) {
      // The same bytes twice (one pack listed under two paths): serving it once is unambiguous.
      log(nvinfer1::ILogger::Severity::kWARNING,
          "tritonpack TensorRT plugins: " + source->origin + " is the same pack (sha256 " + short_hash(source->sha256) +
              "...) as one listed before; it is served once");
      continue;
    }
    for (const KernelInfo& k : source->pack->manifest().kernels) {
      try {
        all.push_back(std::make_unique<Creator>(source, k.name, driver));
      } catch (const Error& e) {
        const std::string line = "tritonpack TensorRT plugins: kernel '" + k.name + "' of " + source->origin +
                                 " is not served as a plugin: " + e.what();
        set.problems_.push_back(line);
        log(nvinfer1::ILogger::Severity::kWARNING, line);
      }
    }
  }
  // TensorRT finds a creator by name, version and namespace: one served twice would be ambiguous,
  // so neither is served.
  std::map<std::string, std::vector<const Creator*>> by_key;
  for (const auto& c : all) {
    by_key[std::string(c->getPluginName()) + '\0' + c->getPluginVersion() + '\0' + c->getPluginNamespace()].push_back(c.get());
  }
  for (auto& c : all) {
    const std::vector<const Creator*>& same = by_key[std::string(c->getPluginName()) + '\0' + c->getPluginVersion() +
                                                     '\0' + c->getPluginNamespace()];
    if (same.size() > 1) {
      if (same.front() == c.get()) {
        std::string who;
        for (const Creator* s : same) who += (who.empty() ? "" : ", ") + ("kernel '" + s->kernel() + "' of " + s->source().origin);
        const std::string line = "tritonpack TensorRT plugins: plugin " + plugin_key_text(*c) + " is defined " +
                                 std::to_string(same.size()) + " times (" + who +
                                 "); none of them is served. Give each a distinct [plugin] name or version in its spec";
        set.problems_.push_back(line);
        log(nvinfer1::ILogger::Severity::kERROR, line);
      }
      continue;
    }
    set.interfaces_.push_back(c.get());
    set.creators_.push_back(std::move(c));
  }
  return set;
}

CreatorSet CreatorSet::from_paths(std::span<const std::string> paths, std::shared_ptr<const driver::Driver> driver) {
  std::vector<std::shared_ptr<const PackSource>> sources;
  std::vector<std::string> problems;
  for (const std::string& path : paths) {
    try {
      sources.push_back(PackSource::from_pack(Pack::open(path), path));
    } catch (const Error& e) {
      const std::string line = "tritonpack TensorRT plugins: cannot serve the pack '" + path + "': " + e.what();
      problems.push_back(line);
      log(nvinfer1::ILogger::Severity::kERROR, line);
    }
  }
  CreatorSet set = from_sources(sources, std::move(driver));
  set.problems_.insert(set.problems_.begin(), problems.begin(), problems.end());
  return set;
}

std::vector<std::string> split_pack_list(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(':', start), text.size());
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace tritonpack::tensorrt
