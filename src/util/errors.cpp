#include "tritonpack/error.h"

#include <exception>
#include <new>

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

Status current_exception_status() noexcept {
  Status status;
  status.ok = false;
  try {
    try {
      throw;
    } catch (const Error& e) {
      status.code = e.code();
      status.message = e.what();
    } catch (const std::bad_alloc&) {
      status.code = ErrorCode::kInternal;
      status.message = "out of host memory";
    } catch (const std::exception& e) {
      status.code = ErrorCode::kInternal;
      status.message = e.what();
    } catch (...) {
      status.code = ErrorCode::kInternal;
      status.message = "unknown exception";
    }
  } catch (...) {
    // No memory for the message (or no exception being handled): the code still says what failed.
    status.message.clear();
  }
  return status;
}

}  // namespace tritonpack
