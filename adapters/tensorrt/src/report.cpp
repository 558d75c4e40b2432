// Where the adapter's failures go: TensorRT's error recorder and logger, else stderr.
#include <atomic>
#include <cstdio>
#include <string>

#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt {

namespace {
// Set by the library's setLoggerFinder; one per plugin library (the adapter is linked into each).
std::atomic<nvinfer1::ILoggerFinder*> g_logger_finder{nullptr};
}  // namespace

void set_logger_finder(nvinfer1::ILoggerFinder* finder) noexcept { g_logger_finder.store(finder); }

nvinfer1::ILogger* find_logger() noexcept {
  nvinfer1::ILoggerFinder* finder = g_logger_finder.load();
  if (finder == nullptr) return nullptr;
  try {
    return finder->findLogger();  // not declared noexcept by TensorRT
  } catch (...) {
    return nullptr;
  }
}

void log(nvinfer1::ILogger::Severity severity, std::string_view message) noexcept {
  try {
    const std::string text(message);
    if (nvinfer1::ILogger* logger = find_logger()) {
      logger->log(severity, text.c_str());
      return;
    }
    if (severity <= nvinfer1::ILogger::Severity::kWARNING) std::fprintf(stderr, "%s\n", text.c_str());
  } catch (...) {
    std::fputs("tritonpack TensorRT plugin: a failure could not be reported (out of memory)\n", stderr);
  }
}

void report(nvinfer1::IErrorRecorder* recorder, nvinfer1::ErrorCode code, std::string_view message) noexcept {
  if (recorder != nullptr) {
    try {
      // The recorder keeps at most kMAX_DESC_LENGTH characters; the logger gets the whole message.
      std::string desc(message.substr(0, nvinfer1::IErrorRecorder::kMAX_DESC_LENGTH));
      recorder->reportError(code, desc.c_str());
    } catch (...) {
    }
  }
  log(nvinfer1::ILogger::Severity::kERROR, message);
}

nvinfer1::ErrorCode tensorrt_error_code(ErrorCode code) noexcept {
  using T = nvinfer1::ErrorCode;
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kShape:
    case ErrorCode::kParse:
    case ErrorCode::kEvaluation: return T::kINVALID_ARGUMENT;
    case ErrorCode::kCorruptPack:
    case ErrorCode::kInvalidSpec: return T::kINVALID_CONFIG;
    case ErrorCode::kNoMatchingVariant:
    case ErrorCode::kUnsupported: return T::kUNSUPPORTED_STATE;
    case ErrorCode::kNoDriver: return T::kFAILED_INITIALIZATION;
    case ErrorCode::kDriver: return T::kFAILED_EXECUTION;
    case ErrorCode::kIo:
    case ErrorCode::kCompile:
    case ErrorCode::kInternal: return T::kINTERNAL_ERROR;
  }
  return T::kUNSPECIFIED_ERROR;
}

}  // namespace tritonpack::tensorrt
