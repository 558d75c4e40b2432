// The plugin libraries in the real TensorRT: libnvinfer_lean.so.10 (PyPI's tensorrt-lean-cu13-libs
// 10.16.1.11, fetched by scripts/setup.sh into .cache/tensorrt-lean) has the plugin registry and
// runs without a GPU. Its registry loads both library forms (loadLibrary), finds every creator,
// creates plugins from good and bad fields, serializes and deserializes them, and a library
// serving another pack refuses an engine's plugin. Without the lean library every test reports
// itself SKIPPED, never passed.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tensorrt_harness.h"

namespace tritonpack::tensorrt::testing {
namespace {

using nvinfer1::IPluginCreatorV3One;
using nvinfer1::IPluginRegistry;
using nvinfer1::TensorRTPhase;

const std::string kPacks = TRITONPACK_TENSORRT_TEST_PACKS;

std::string lean_library() {
  const char* v = std::getenv("TRITONPACK_TENSORRT_LEAN");
  return v && *v ? v : TRITONPACK_TENSORRT_LEAN_DEFAULT;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Everything written to stderr (fd 2) while it lives: what TensorRT's default logger prints.
class StderrCapture {
 public:
  StderrCapture() : path_(std::filesystem::temp_directory_path() / ("tritonpack-stderr-" + std::to_string(getpid()))) {
    std::fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() { (void)finish(); }
  std::string finish() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
      std::ifstream in(path_);
      std::stringstream s;
      s << in.rdbuf();
      text_ = s.str();
      std::filesystem::remove(path_);
    }
    return text_;
  }

 private:
  std::filesystem::path path_;
  int saved_ = -1;
  std::string text_;
};

class LeanRegistry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(lean_library())) {
      skip_reason_ = "no lean TensorRT runtime at " + lean_library() +
                     " (scripts/setup.sh fetches tensorrt-lean-cu13-libs==10.16.1.11 into .cache/tensorrt-lean; "
                     "the download failed or was not run)";
      return;
    }
    lean_ = dlopen(lean_library().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lean_ == nullptr) {
      skip_reason_ = std::string("dlopen of the lean TensorRT runtime failed: ") + dlerror();
      return;
    }
    auto get = reinterpret_cast<IPluginRegistry* (*)()>(dlsym(lean_, "getPluginRegistry"));
    registry_ = get ? get() : nullptr;
    if (registry_ == nullptr) skip_reason_ = "the lean TensorRT runtime has no getPluginRegistry";
    scratch_ = std::filesystem::temp_directory_path() / ("tritonpack-lean-" + std::to_string(getpid()));
    std::filesystem::create_directories(scratch_);
  }
  static void TearDownTestSuite() {
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_);
  }
  void SetUp() override {
    if (registry_ == nullptr) GTEST_SKIP() << skip_reason_;
  }
  // Whatever a test left registered goes, so that the next one starts from TensorRT's own creators.
  void TearDown() override {
    for (void* library : loaded_) registry_->deregisterLibrary(library);
  }

  // A copy of the generic library under a new name: dlopen then gives it fresh state, so each
  // test reads TRITONPACK_TENSORRT_PACKS anew.
  static std::string fresh_generic_library() {
    static int n = 0;
    const auto path = scratch_ / ("libtritonpack_tensorrt_" + std::to_string(n++) + ".so");
    std::filesystem::copy_file(TRITONPACK_TENSORRT_GENERIC_LIBRARY, path);
    return path.string();
  }

  // Loads a plugin library into the registry; its problems go to our logger from then on.
  void* load(const std::string& library) {
    void* handle = registry_->loadLibrary(library.c_str());
    if (handle == nullptr) return nullptr;
    loaded_.push_back(handle);
    // TensorRT gave the library its logger finder; the library's own entry point takes ours.
    void* self = dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
    auto set = self ? reinterpret_cast<void (*)(nvinfer1::ILoggerFinder*)>(dlsym(self, "setLoggerFinder")) : nullptr;
    if (set) set(&finder_);
    if (self) dlclose(self);
    return handle;
  }
  IPluginCreatorV3One* creator(const char* name, const char* version) {
    nvinfer1::IPluginCreatorInterface* c = registry_->getCreator(name, version, "tritonpack");
    if (c == nullptr) return nullptr;
    EXPECT_STREQ(c->getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE");
    return static_cast<IPluginCreatorV3One*>(c);
  }
  static FieldSet fmha_fields() {
    FieldSet f;
    f.f32("sm_scale", 0.125f);
    return f;
  }
  static FieldSet plugingen_fields() {
    FieldSet f;
    f.f32("sm_scale", 0.125f).i32("num_heads", 4);
    return f;
  }
  // createPlugin(kBUILD), then the engine's round trip: getFieldsToSerialize, createPlugin(kRUNTIME).
  FieldSet serialize_through(IPluginCreatorV3One& c, FieldSet attributes) {
    std::unique_ptr<nvinfer1::IPluginV3> built(c.createPlugin("node", attributes.collection(), TensorRTPhase::kBUILD));
    EXPECT_NE(built, nullptr) << logger_.all_errors();
    if (!built) return {};
    auto* runtime = static_cast<nvinfer1::IPluginV3OneRuntime*>(built->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
    return FieldSet::copy_of(*runtime->getFieldsToSerialize());
  }

  static inline void* lean_ = nullptr;
  static inline IPluginRegistry* registry_ = nullptr;
  static inline std::string skip_reason_;
  static inline std::filesystem::path scratch_;
  // Deregisters a library now (before the test's end).
  void unload(void* library) {
    registry_->deregisterLibrary(library);
    std::erase(loaded_, library);
  }

  RecordingLogger logger_;
  TestLoggerFinder finder_{&logger_};
  std::vector<void*> loaded_;
};

TEST_F(LeanRegistry, LoadsTheEmbeddedLibraryAndFindsEveryCreator) {
  int32_t before = 0;
  registry_->getAllCreators(&before);
  void* library = load(TRITONPACK_TENSORRT_EMBEDDED_LIBRARY);
  ASSERT_NE(library, nullptr) << "loadLibrary refused " TRITONPACK_TENSORRT_EMBEDDED_LIBRARY;
  int32_t after = 0;
  registry_->getAllCreators(&after);
  EXPECT_EQ(after, before + 2);  // fmha and PluginGen's FMHA; vector_add has no plugin keys
  IPluginCreatorV3One* fmha = creator("tritonpack_fmha", "1");
  IPluginCreatorV3One* pg = creator("fused_attention_kernel", "0");
  ASSERT_NE(fmha, nullptr);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(creator("vector_add", "1"), nullptr);
  EXPECT_EQ(fmha->getFieldNames()->nbFields, 1);
  EXPECT_EQ(pg->getFieldNames()->nbFields, 2);

  // Both plugins: build-phase fields, the engine's fields, and back; the same fields again.
  for (auto [c, fields] : {std::pair{fmha, fmha_fields()}, std::pair{pg, plugingen_fields()}}) {
    FieldSet stored = serialize_through(*c, fields);
    ASSERT_NE(stored.find("tritonpack.pack_sha256"), nullptr);
    std::unique_ptr<nvinfer1::IPluginV3> engine(c->createPlugin("engine", stored.collection(), TensorRTPhase::kRUNTIME));
    ASSERT_NE(engine, nullptr) << logger_.all_errors();
    auto* runtime = static_cast<nvinfer1::IPluginV3OneRuntime*>(engine->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
    FieldSet again = FieldSet::copy_of(*runtime->getFieldsToSerialize());
    ASSERT_EQ(again.fields().size(), stored.fields().size());
    for (size_t i = 0; i < stored.fields().size(); ++i) EXPECT_EQ(again.fields()[i].data, stored.fields()[i].data);
  }
  EXPECT_TRUE(logger_.errors().empty()) << logger_.all_errors();
  unload(library);
  EXPECT_EQ(creator("tritonpack_fmha", "1"), nullptr);
}

TEST_F(LeanRegistry, BadFieldsAreRefusedWithTheReason) {
  void* library = load(TRITONPACK_TENSORRT_EMBEDDED_LIBRARY);
  ASSERT_NE(library, nullptr);
  IPluginCreatorV3One* pg = creator("fused_attention_kernel", "0");
  ASSERT_NE(pg, nullptr);
  const auto refused = [&](FieldSet f, const std::string& message) {
    logger_.clear();
    std::unique_ptr<nvinfer1::IPluginV3> p(pg->createPlugin("node", f.collection(), TensorRTPhase::kBUILD));
    EXPECT_EQ(p, nullptr) << message;
    EXPECT_TRUE(contains(logger_.all_errors(), message)) << "wanted: " << message << "\nlogged: " << logger_.all_errors();
  };
  refused(plugingen_fields().i32("window", 3), "plugin 'fused_attention_kernel' has no field 'window' (fields: sm_scale, num_heads)");
  refused(FieldSet().f32("sm_scale", 0.125f), "needs field 'num_heads' (i32), which has no default");
  refused(FieldSet().f32("sm_scale", 0.125f).f32("num_heads", 3.5f), "field 'num_heads' of plugin 'fused_attention_kernel' is 3.500000, not a finite i32");
  refused(FieldSet().text("sm_scale", "big").i32("num_heads", 4), "field 'sm_scale' is kCHAR; a kernel field takes a number");
  // An engine's fields from elsewhere: the tritonpack fields are missing.
  FieldSet foreign = plugingen_fields();
  std::unique_ptr<nvinfer1::IPluginV3> p(pg->createPlugin("engine", foreign.collection(), TensorRTPhase::kRUNTIME));
  EXPECT_EQ(p, nullptr);
  EXPECT_TRUE(contains(logger_.all_errors(), "has no field 'tritonpack.format'")) << logger_.all_errors();
}

TEST_F(LeanRegistry, TheGenericLibraryServesItsPacksAndRefusesAnEngineOfAnotherPack) {
  // An engine's fmha plugin, from the embedded library (fmha.tpack).
  void* embedded = load(TRITONPACK_TENSORRT_EMBEDDED_LIBRARY);
  ASSERT_NE(embedded, nullptr);
  FieldSet stored = serialize_through(*creator("tritonpack_fmha", "1"), fmha_fields());
  FieldSet stored_pg = serialize_through(*creator("fused_attention_kernel", "0"), plugingen_fields());
  // A second library serving the same plugins cannot join the registry while the first is there.
  ASSERT_EQ(setenv("TRITONPACK_TENSORRT_PACKS", (kPacks + "/fmha.tpack").c_str(), 1), 0);
  {
    StderrCapture quiet;
    EXPECT_EQ(registry_->loadLibrary(fresh_generic_library().c_str()), nullptr);
  }
  unload(embedded);

  // The generic library with another build of fmha and PluginGen's pack.
  const std::string other = kPacks + "/fmha_other.tpack";
  ASSERT_EQ(setenv("TRITONPACK_TENSORRT_PACKS", (other + ":" + kPacks + "/fmha_plugingen.tpack").c_str(), 1), 0);
  void* generic = load(fresh_generic_library());
  ASSERT_NE(generic, nullptr);
  IPluginCreatorV3One* fmha = creator("tritonpack_fmha", "1");
  ASSERT_NE(fmha, nullptr);
  std::unique_ptr<nvinfer1::IPluginV3> refused(fmha->createPlugin("engine", stored.collection(), TensorRTPhase::kRUNTIME));
  EXPECT_EQ(refused, nullptr);
  const std::string sha = [&] {
    const FieldSet::Field* f = stored.find("tritonpack.pack_sha256");
    return std::string(f->data.begin(), f->data.end());
  }();
  EXPECT_TRUE(contains(logger_.all_errors(), "the engine was built with kernel 'fmha' of the pack with sha256 " + sha +
                                                 "; this plugin library serves kernel 'fmha' of " + other + " (sha256 "))
      << logger_.all_errors();
  // PluginGen's pack is the same file: the engine's plugin deserializes.
  std::unique_ptr<nvinfer1::IPluginV3> same(
      creator("fused_attention_kernel", "0")->createPlugin("engine", stored_pg.collection(), TensorRTPhase::kRUNTIME));
  EXPECT_NE(same, nullptr) << logger_.all_errors();
}

TEST_F(LeanRegistry, TheGenericLibrarySaysWhatItCannotServe) {
  ASSERT_EQ(setenv("TRITONPACK_TENSORRT_PACKS",
                   (kPacks + "/missing.tpack:" + kPacks + "/corrupt.tpack:" + kPacks + "/fmha.tpack:" + kPacks +
                    "/fmha_other.tpack:" + kPacks + "/fmha_plugingen.tpack:" + kPacks + "/vector_add.tpack")
                       .c_str(),
                   1),
            0);
  StderrCapture log;
  void* generic = registry_->loadLibrary(fresh_generic_library().c_str());
  const std::string text = log.finish();
  ASSERT_NE(generic, nullptr) << text;
  loaded_.push_back(generic);
  EXPECT_TRUE(contains(text, "cannot serve the pack '" + kPacks + "/missing.tpack': cannot open pack")) << text;
  EXPECT_TRUE(contains(text, "cannot serve the pack '" + kPacks + "/corrupt.tpack': corrupt pack '" + kPacks +
                                 "/corrupt.tpack': blobs["))
      << text;
  EXPECT_TRUE(contains(text, "]: hash mismatch: the manifest says ")) << text;
  EXPECT_TRUE(contains(text, "plugin 'tritonpack_fmha' version '1' namespace 'tritonpack' is defined 2 times")) << text;
  EXPECT_TRUE(contains(text, "kernel 'vector_add' of " + kPacks + "/vector_add.tpack is not served as a plugin")) << text;
  EXPECT_EQ(creator("tritonpack_fmha", "1"), nullptr);           // ambiguous: not served
  EXPECT_NE(creator("fused_attention_kernel", "0"), nullptr);    // the rest is
  unload(generic);

  ASSERT_EQ(unsetenv("TRITONPACK_TENSORRT_PACKS"), 0);
  StderrCapture unset;
  void* none = registry_->loadLibrary(fresh_generic_library().c_str());
  const std::string said = unset.finish();
  EXPECT_TRUE(contains(said, "TRITONPACK_TENSORRT_PACKS is not set, so this library serves no plugin")) << said;
  EXPECT_EQ(creator("fused_attention_kernel", "0"), nullptr);
  if (none) loaded_.push_back(none);
}

}  // namespace
}  // namespace tritonpack::tensorrt::testing
