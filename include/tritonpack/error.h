// tritonpack: the one error type of the C++ API.
//
// Library code reports every failure by throwing tritonpack::Error (never exit/abort). Boundaries
// that must not throw (the C API, engine adapters) turn exceptions into a Status in exactly one
// place: current_exception_status() / capture() below.
#pragma once

#include <stdexcept>
#include <string>

namespace tritonpack {

enum class ErrorCode {
  kInvalidArgument = 1,  // caller passed something wrong (dtype, shape, value, name)
  kNotFound = 2,         // a file, kernel, parameter or config that does not exist
  kNoMatchingVariant = 3,  // selection found no variant; the message lists every candidate
  kCorruptPack = 4,      // a pack file failed validation
  kInvalidSpec = 5,      // a kernel spec failed validation
  kParse = 6,            // an expression did not parse; the message points at the column
  kEvaluation = 7,       // an expression overflowed, divided by zero or named an unknown value
  kNoDriver = 8,         // no CUDA driver (libcuda.so.1) on this machine
  kDriver = 9,           // a CUDA driver call failed; the message names the call and the error
  kUnsupported = 10,     // the device cannot run this (shared memory, arch, cluster)
  kIo = 11,              // reading or writing a file failed
  kCompile = 12,         // the Triton compile step failed
  kInternal = 13,        // a bug in tritonpack
  kShape = 14,           // shapes do not fit the kernel's shape rules or constraints
};

const char* error_code_name(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// The outcome of a call at a boundary that must not throw (the C API, an engine adapter's noexcept
// methods): ok, or the error's code and message.
struct Status {
  bool ok = true;
  ErrorCode code = ErrorCode::kInternal;  // when !ok
  std::string message;                    // when !ok; empty only if there was no memory for it
  explicit operator bool() const noexcept { return ok; }
};

// The one place where exceptions become error codes: the exception being handled (call it in a
// catch block) as a Status. Error keeps its code; std::bad_alloc is kInternal "out of host
// memory"; any other exception kInternal with its text. Never throws.
Status current_exception_status() noexcept;

// Runs f() and returns its outcome as a Status; no exception leaves it.
template <class F>
Status capture(F&& f) noexcept {
  try {
    f();
    return Status{};
  } catch (...) {
    return current_exception_status();
  }
}

}  // namespace tritonpack
