// libFuzzer target for the TensorRT creator's runtime phase: createPlugin(kRUNTIME) reads the
// fields an engine file stored (getFieldsToSerialize), so untrusted. Each input edits a valid
// serialized field set: per field it may drop it, change its type, its length or its bytes, or
// rename it; then the creator must either make a plugin whose fields serialize again, or refuse
// with tritonpack::Error. Built with the TensorRT adapter (adapters/tensorrt/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fault/attention_fixture.h"
#include "tritonpack/error.h"
#include "tritonpack/tensorrt/plugin.h"

namespace {

using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::TensorRTPhase;
using tritonpack::tensorrt::Creator;
using tritonpack::tensorrt::PackSource;
using tritonpack::tensorrt::Plugin;

struct StoredField {
  std::string name;
  PluginFieldType type;
  std::vector<uint8_t> data;
  int32_t length;
};

struct Fixture {
  std::unique_ptr<Creator> creator;
  std::vector<StoredField> fields;  // a valid kRUNTIME field set
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture out;
    auto source = PackSource::from_pack(tritonpack::testing::attention_pack(), "attention-test.tpack");
    out.creator = std::make_unique<Creator>(source, "attn_plugingen");
    float scale = 0.125f;
    int32_t heads = 4;
    PluginField build[] = {{"sm_scale", &scale, PluginFieldType::kFLOAT32, 1},
                           {"num_heads", &heads, PluginFieldType::kINT32, 1}};
    PluginFieldCollection fc{2, build};
    std::unique_ptr<Plugin> plugin = out.creator->create("fuzz", &fc, TensorRTPhase::kBUILD);
    const PluginFieldCollection* stored = plugin->getFieldsToSerialize();
    for (int32_t i = 0; i < stored->nbFields; ++i) {
      const PluginField& p = stored->fields[i];
      StoredField s{p.name, p.type, {}, p.length};
      const size_t bytes = static_cast<size_t>(p.length) * 8;  // generous for every type used
      s.data.assign(bytes, 0);
      size_t element = p.type == PluginFieldType::kCHAR || p.type == PluginFieldType::kINT8 ? 1
                       : p.type == PluginFieldType::kINT32 || p.type == PluginFieldType::kFLOAT32 ? 4
                       : p.type == PluginFieldType::kFLOAT16 || p.type == PluginFieldType::kINT16 ||
                               p.type == PluginFieldType::kBF16
                           ? 2
                           : 8;
      std::memcpy(s.data.data(), p.data, static_cast<size_t>(p.length) * element);
      out.fields.push_back(std::move(s));
    }
    return out;
  }();
  return f;
}

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool done() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = fixture();
  Input in(data, size);
  std::vector<StoredField> fields = f.fields;
  // Edits: (field index, operation, argument) triples until the input ends.
  while (!in.done()) {
    if (fields.empty()) break;
    StoredField& target = fields[in.byte() % fields.size()];
    const uint8_t op = in.byte() % 6, arg = in.byte();
    switch (op) {
      case 0: target.type = static_cast<PluginFieldType>(arg % 15); break;
      case 1: target.length = static_cast<int32_t>(static_cast<int8_t>(arg)); break;  // negative too
      case 2:
        if (!target.data.empty()) target.data[in.byte() % target.data.size()] ^= arg;
        break;
      case 3: target.name = target.name.substr(0, arg % (target.name.size() + 1)); break;
      case 4: fields.erase(fields.begin() + static_cast<ptrdiff_t>(&target - fields.data())); break;
      default: fields.push_back(target); break;  // a field given twice
    }
  }
  std::vector<PluginField> collection;
  std::vector<std::vector<uint8_t>> buffers;
  for (const StoredField& s : fields) {
    // The buffer always holds what the declared length and any element size could read.
    const size_t need = static_cast<size_t>(s.length > 0 ? s.length : 0) * 80 + 8;
    std::vector<uint8_t> buffer(std::max(need, s.data.size()), 0);
    std::memcpy(buffer.data(), s.data.data(), s.data.size());
    buffers.push_back(std::move(buffer));
    collection.push_back({s.name.c_str(), buffers.back().data(), s.type, s.length});
  }
  PluginFieldCollection fc{static_cast<int32_t>(collection.size()), collection.data()};
  try {
    std::unique_ptr<Plugin> plugin = f.creator->create("fuzz", &fc, TensorRTPhase::kRUNTIME);
    const PluginFieldCollection* again = plugin->getFieldsToSerialize();
    if (again == nullptr) __builtin_trap();
    (void)f.creator->create("fuzz", again, TensorRTPhase::kRUNTIME);
  } catch (const tritonpack::Error&) {
  }
  return 0;
}
