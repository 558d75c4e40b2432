// tritonpack: the value of a constexpr parameter, of every kind Triton's JIT accepts: integers,
// booleans, floats, strings, None and Triton dtypes (tl.float16, ...).
//
//   Constant(1024), Constant(true), Constant(1.5), Constant("leaky_relu"), Constant::none(),
//   Constant::dtype(DType::kFp16)
//
// Integers and booleans also take part in expressions (grids, rules, heuristics) as int64, a
// boolean as 0 or 1; the other kinds are compared only for equality.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "tritonpack/types.h"

namespace tritonpack {

// The longest string constexpr a spec or a manifest may hold.
inline constexpr size_t kMaxConstantString = 4096;

class Constant {
 public:
  enum class Kind : uint8_t { kInt, kBool, kFloat, kString, kNone, kDType };

  Constant() = default;  // the integer 0
  template <std::integral I>
  requires(!std::same_as<I, bool>) Constant(I value)
      : kind_(Kind::kInt), int_(static_cast<int64_t>(value)) {}                     // NOLINT: implicit on purpose
  Constant(bool value) : kind_(Kind::kBool), int_(value ? 1 : 0) {}                 // NOLINT
  Constant(double value) : kind_(Kind::kFloat), float_(value) {}                    // NOLINT
  Constant(const char* value) : kind_(Kind::kString), string_(value) {}             // NOLINT
  Constant(std::string value) : kind_(Kind::kString), string_(std::move(value)) {}  // NOLINT
  static Constant none() {
    Constant c;
    c.kind_ = Kind::kNone;
    return c;
  }
  static Constant dtype(DType t) {
    Constant c;
    c.kind_ = Kind::kDType;
    c.int_ = static_cast<int64_t>(t);
    return c;
  }

  Kind kind() const { return kind_; }
  // Integers and booleans: usable in expressions.
  bool is_integral() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }
  int64_t as_int() const { return int_; }                      // kInt, kBool (0/1)
  double as_float() const { return float_; }                   // kFloat
  const std::string& as_string() const { return string_; }     // kString
  DType as_dtype() const { return static_cast<DType>(int_); }  // kDType

  // Python's ==: integers, booleans and floats compare by number (True == 1 == 1.0); strings,
  // None and dtypes only with their own kind.
  bool operator==(const Constant& other) const;

  // As Python prints it: 1024, True, 1.5, 1e-05, 'leaky_relu', None; a dtype by its name (fp16).
  std::string text() const;

  // Whether `text` names this value as a user would type it on a command line: the text() form,
  // a string without quotes, true/false for booleans, a number equal to a numeric value.
  bool matches_text(std::string_view text) const;

  // "an integer", "a boolean", "a float", "a string", "None", "a dtype"
  static const char* kind_name(Kind kind);

 private:
  Kind kind_ = Kind::kInt;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
};

}  // namespace tritonpack
