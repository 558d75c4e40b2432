// tritonpack: a constexpr value in JSON, as the manifest and the compile step's job file write it:
// integers, booleans, floats and strings as themselves, None as null, a dtype as {"dtype": "fp16"}.
#pragma once

#include <cmath>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tritonpack/constant.h"
#include "tritonpack/error.h"

namespace tritonpack::pack_format {

inline nlohmann::ordered_json constant_to_json(const Constant& c) {
  switch (c.kind()) {
    case Constant::Kind::kInt: return c.as_int();
    case Constant::Kind::kBool: return c.as_int() != 0;
    case Constant::Kind::kFloat:
      // JSON has no NaN or infinity (the writer would make it null: None). Specs refuse them too.
      if (!std::isfinite(c.as_float())) {
        throw Error(ErrorCode::kInvalidArgument, "a float constexpr must be finite, got " + c.text());
      }
      return c.as_float();
    case Constant::Kind::kString: return c.as_string();
    case Constant::Kind::kNone: return nullptr;
    case Constant::Kind::kDType: return nlohmann::ordered_json{{"dtype", std::string(dtype_name(c.as_dtype()))}};
  }
  return nullptr;
}

// The Constant a JSON value holds, or nullopt with `why` set. Integers must fit int64; floats must
// be finite; strings at most kMaxConstantString bytes.
inline std::optional<Constant> constant_from_json(const nlohmann::ordered_json& j, std::string& why) {
  if (j.is_boolean()) return Constant(j.get<bool>());
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      why = "an integer beyond the 64-bit range";
      return std::nullopt;
    }
    return Constant(static_cast<int64_t>(j.get<uint64_t>()));
  }
  if (j.is_number_integer()) return Constant(j.get<int64_t>());
  if (j.is_number_float()) {
    if (!std::isfinite(j.get<double>())) {
      why = "a float that is not finite";
      return std::nullopt;
    }
    return Constant(j.get<double>());
  }
  if (j.is_string()) {
    if (j.get_ref<const std::string&>().size() > kMaxConstantString) {
      why = "a string longer than " + std::to_string(kMaxConstantString) + " bytes";
      return std::nullopt;
    }
    return Constant(j.get<std::string>());
  }
  if (j.is_null()) return Constant::none();
  if (j.is_object() && j.size() == 1 && j.contains("dtype") && j["dtype"].is_string()) {
    if (auto t = parse_dtype(j["dtype"].get<std::string>())) return Constant::dtype(*t);
    why = "an unknown dtype";
    return std::nullopt;
  }
  why = "not a constexpr value (an integer, boolean, float, string, null or {\"dtype\": NAME})";
  return std::nullopt;
}

}  // namespace tritonpack::pack_format
