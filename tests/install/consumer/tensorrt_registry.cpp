// Uses an installed tritonpack's TensorRT component (tests/install): loads a plugin library into
// the plugin registry of NVIDIA's lean TensorRT runtime (opened with dlopen; nothing links
// libnvinfer), prints each creator the library added with its fields (the field types named by
// the adapter, tritonpack::tensorrt_adapter), and checks that the plugins asked for are there.
// No GPU is needed.
// Usage: consumer_tensorrt_registry LEAN_RUNTIME PLUGIN_LIBRARY NAME/VERSION...
// Exit status: 0 every NAME/VERSION (namespace tritonpack) found, 1 not (or an error), 2 usage.
#include <NvInferRuntime.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "tritonpack/tensorrt/plugin.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s LEAN_RUNTIME PLUGIN_LIBRARY NAME/VERSION...\n", argv[0]);
    return 2;
  }
  void* lean = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lean == nullptr) {
    std::fprintf(stderr, "error: cannot load the lean TensorRT runtime: %s\n", dlerror());
    return 1;
  }
  auto get_registry = reinterpret_cast<nvinfer1::IPluginRegistry* (*)()>(dlsym(lean, "getPluginRegistry"));
  nvinfer1::IPluginRegistry* registry = get_registry ? get_registry() : nullptr;
  if (registry == nullptr) {
    std::fprintf(stderr, "error: %s has no plugin registry (getPluginRegistry)\n", argv[1]);
    return 1;
  }
  int32_t count = 0;
  nvinfer1::IPluginCreatorInterface* const* creators = registry->getAllCreators(&count);
  const std::set<const void*> before(creators, creators + count);

  void* library = registry->loadLibrary(argv[2]);
  if (library == nullptr) {
    std::fprintf(stderr, "error: the registry refused the plugin library %s (TensorRT's log above says why)\n", argv[2]);
    return 1;
  }
  creators = registry->getAllCreators(&count);
  for (int32_t i = 0; i < count; ++i) {
    if (before.count(creators[i])) continue;
    if (std::strcmp(creators[i]->getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE") != 0) {
      std::printf("creator of kind %s\n", creators[i]->getInterfaceInfo().kind);
      continue;
    }
    auto* creator = static_cast<nvinfer1::IPluginCreatorV3One*>(creators[i]);
    std::printf("creator %s version %s namespace %s fields:", creator->getPluginName(), creator->getPluginVersion(),
                creator->getPluginNamespace());
    const nvinfer1::PluginFieldCollection* fields = creator->getFieldNames();
    for (int32_t f = 0; fields != nullptr && f < fields->nbFields; ++f) {
      std::printf("%s %s (%s)", f ? "," : "", fields->fields[f].name,
                  std::string(tritonpack::tensorrt::field_type_name(fields->fields[f].type)).c_str());
    }
    std::printf("\n");
  }
  int status = 0;
  for (int a = 3; a < argc; ++a) {
    const std::string wanted = argv[a];
    const size_t slash = wanted.find('/');
    if (slash == std::string::npos) {
      std::fprintf(stderr, "error: '%s' is not NAME/VERSION\n", argv[a]);
      return 2;
    }
    const std::string name = wanted.substr(0, slash), version = wanted.substr(slash + 1);
    if (registry->getCreator(name.c_str(), version.c_str(), "tritonpack") == nullptr) {
      std::fprintf(stderr, "error: the registry has no creator %s version %s namespace tritonpack after loading %s\n",
                   name.c_str(), version.c_str(), argv[2]);
      status = 1;
    } else {
      std::printf("found: %s %s\n", name.c_str(), version.c_str());
    }
  }
  registry->deregisterLibrary(library);
  return status;
}
