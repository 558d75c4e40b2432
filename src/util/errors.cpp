#include "tritonpack/error.h"

namespace tritonpack {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kNoMatchingVariant: return "no matching variant";
    case ErrorCode::kCorruptPack: return "corrupt pack";
    case ErrorCode::kInvalidSpec: return "invalid spec";
    case ErrorCode::kParse: return "parse error";
    case ErrorCode::kEvaluation: return "evaluation error";
    case ErrorCode::kNoDriver: return "no CUDA driver";
    case ErrorCode::kDriver: return "CUDA driver error";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIo: return "I/O error";
    case ErrorCode::kCompile: return "compile error";
    case ErrorCode::kInternal: return "internal error";
    case ErrorCode::kShape: return "shape error";
  }
  return "unknown error";
}

}  // namespace tritonpack
