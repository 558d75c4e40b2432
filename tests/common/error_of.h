// The message of the tritonpack::Error that `f` throws, checking its code; a test failure if it
// throws none.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tritonpack/error.h"

namespace tritonpack::testing {

inline std::string error_of(const std::function<void()>& f, ErrorCode expected) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return {};
}

}  // namespace tritonpack::testing
