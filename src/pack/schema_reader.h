// tritonpack: path-aware accessors for reading the manifest JSON (private to src/pack).
//
// Every accessor checks the JSON type and range before reading, so no nlohmann exception can
// escape, and every failure names the JSON path ("kernels[0].variants[3].num_warps").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "tritonpack/manifest.h"
#include "util/text.h"

namespace tritonpack::pack_format {

// Ordered so that constexpr objects ({"BLOCK": 1024, ...}) keep the kernel's parameter order.
using Json = nlohmann::ordered_json;

inline constexpr size_t kMaxJsonDepth = 32;
inline constexpr size_t kMaxArrayItems = 65536;
inline constexpr size_t kMaxNameLength = 128;
inline constexpr size_t kMaxEntryLength = 512;
inline constexpr size_t kMaxTextLength = 4096;

// Thrown while reading a manifest; parse_manifest turns it into one Error(kCorruptPack).
struct SchemaError {
  std::string path;
  std::string what;
};

[[noreturn]] inline void fail(const std::string& path, std::string what) {
  throw SchemaError{path, std::move(what)};
}

inline std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline std::string child(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// A short rendering of a JSON value for messages: 3, "abc", an object, an array, null.
inline std::string describe(const Json& j) {
  if (j.is_object()) return "an object";
  if (j.is_array()) return "an array";
  std::string text = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  if (j.is_string()) return "string " + text;
  return text;
}

// A string in JSON quotes, for messages.
inline std::string quote_text(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

inline void expect_object(const Json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "expected an object, got " + describe(j));
}

inline const Json& field(const Json& object, const std::string& path, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) fail(path, "missing required field '" + std::string(key) + "'");
  return *it;
}

// The member `key` of an object, or null when it has none.
inline const Json* optional_field(const Json& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

inline const Json& array_value(const Json& j, const std::string& path) {
  if (!j.is_array()) fail(path, "expected an array, got " + describe(j));
  if (j.size() > kMaxArrayItems) {
    fail(path, "has " + std::to_string(j.size()) + " entries, over the limit of " +
                   std::to_string(kMaxArrayItems));
  }
  return j;
}

inline const std::string& string_value(const Json& j, const std::string& path,
                                       size_t max_length = kMaxTextLength) {
  if (!j.is_string()) fail(path, "expected a string, got " + describe(j));
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() > max_length) {
    fail(path, "string of " + std::to_string(s.size()) + " bytes is longer than the limit of " +
                   std::to_string(max_length));
  }
  return s;
}

inline bool bool_value(const Json& j, const std::string& path) {
  if (!j.is_boolean()) fail(path, "expected true or false, got " + describe(j));
  return j.get<bool>();
}

inline uint64_t uint_value(const Json& j, const std::string& path, uint64_t lo, uint64_t hi) {
  const bool in_range =
      j.is_number_unsigned() ? (j.get<uint64_t>() >= lo && j.get<uint64_t>() <= hi)
      : j.is_number_integer() ? (j.get<int64_t>() >= 0 && static_cast<uint64_t>(j.get<int64_t>()) >= lo &&
                                 static_cast<uint64_t>(j.get<int64_t>()) <= hi)
                              : false;
  if (!in_range) {
    fail(path, "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                   ", got " + describe(j));
  }
  return j.is_number_unsigned() ? j.get<uint64_t>() : static_cast<uint64_t>(j.get<int64_t>());
}

inline int64_t int64_value(const Json& j, const std::string& path) {
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    fail(path, "expected a 64-bit signed integer, got " + describe(j));
  }
  if (!j.is_number_integer()) fail(path, "expected an integer, got " + describe(j));
  return j.is_number_unsigned() ? static_cast<int64_t>(j.get<uint64_t>()) : j.get<int64_t>();
}

inline bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// [A-Za-z_][A-Za-z0-9_]*, at most 128 characters.
inline bool is_identifier(std::string_view s) { return s.size() <= kMaxNameLength && text::is_identifier(s); }

inline std::string identifier_value(const Json& j, const std::string& path) {
  const std::string& s = string_value(j, path);
  if (!is_identifier(s)) {
    fail(path, "expected an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 characters), got " +
                   describe(j));
  }
  return s;
}

// A dtype for every type variable of kernel `k` (a variant's, a tuning entry's or shape's
// bindings), each one of those the variable lists.
inline TypeBindings read_type_bindings(const Json& j, const std::string& path, const KernelInfo& k) {
  expect_object(j, path);
  TypeBindings bindings;
  for (const auto& item : j.items()) {
    const std::string& var = item.key();
    const std::string at = child(path, var);
    const TypeVarInfo* info = nullptr;
    for (const TypeVarInfo& v : k.type_vars) info = v.name == var ? &v : info;
    if (info == nullptr) fail(at, quote_text(var) + " is not a type variable of kernel " + quote_text(k.name));
    const std::string& dtype = string_value(item.value(), at);
    const std::optional<DType> parsed = parse_dtype(dtype);
    std::vector<std::string> names;
    bool allowed = false;
    for (DType d : info->dtypes) {
      allowed = allowed || d == parsed;
      names.emplace_back(dtype_name(d));
    }
    if (!allowed) fail(at, quote_text(dtype) + " is not one of " + var + "'s dtypes (" + text::join(names) + ")");
    bindings[var] = *parsed;
  }
  for (const TypeVarInfo& v : k.type_vars) {
    if (!bindings.count(v.name)) fail(path, "missing type variable " + quote_text(v.name));
  }
  return bindings;
}

}  // namespace tritonpack::pack_format
