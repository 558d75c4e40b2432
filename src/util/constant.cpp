#include "tritonpack/constant.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace tritonpack {
namespace {

bool numeric(Constant::Kind k) {
  return k == Constant::Kind::kInt || k == Constant::Kind::kBool || k == Constant::Kind::kFloat;
}

double number(const Constant& c) {
  return c.kind() == Constant::Kind::kFloat ? c.as_float() : static_cast<double>(c.as_int());
}

// Python's repr of a float: the shortest text that reads back exactly, with ".0" on integral values.
std::string float_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string out(buffer, ec == std::errc() ? end : buffer);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

}  // namespace

bool Constant::operator==(const Constant& other) const {
  if (numeric(kind_) && numeric(other.kind_)) {
    if (kind_ != Kind::kFloat && other.kind_ != Kind::kFloat) return int_ == other.int_;
    return number(*this) == number(other);
  }
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kString:
      return string_ == other.string_;
    case Kind::kNone:
      return true;
    case Kind::kDType:
      return int_ == other.int_;
    default:
      return false;
  }
}

std::string Constant::text() const {
  switch (kind_) {
    case Kind::kInt:
      return std::to_string(int_);
    case Kind::kBool:
      return int_ ? "True" : "False";
    case Kind::kFloat:
      return float_text(float_);
    case Kind::kString: {
      std::string out = "'";
      for (char c : string_) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    }
    case Kind::kNone:
      return "None";
    case Kind::kDType:
      return std::string(dtype_name(as_dtype()));
  }
  return "?";
}

bool Constant::matches_text(std::string_view t) const {
  if (t == text()) return true;
  switch (kind_) {
    case Kind::kString:
      return t == string_;
    case Kind::kBool:
      return t == (int_ ? "true" : "false") || t == (int_ ? "1" : "0");
    case Kind::kNone:
      return t == "none" || t == "null";
    case Kind::kDType:
      return t == "tl." + std::string(dtype_name(as_dtype()));
    case Kind::kInt:
    case Kind::kFloat: {
      // A number written either way: "1024", "1.5", "1e3".
      const std::string s(t);
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      return !s.empty() && end == s.c_str() + s.size() && v == number(*this);
    }
  }
  return false;
}

const char* Constant::kind_name(Kind kind) {
  switch (kind) {
    case Kind::kInt:
      return "an integer";
    case Kind::kBool:
      return "a boolean";
    case Kind::kFloat:
      return "a float";
    case Kind::kString:
      return "a string";
    case Kind::kNone:
      return "None";
    case Kind::kDType:
      return "a dtype";
  }
  return "?";
}

}  // namespace tritonpack
