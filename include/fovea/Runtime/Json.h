//===- Json.h - A small JSON reader for the runtime -------------*- C++ -*-===//
//
// The runtime reads safetensors headers, shard indexes and module metadata
// without depending on LLVM; this is the JSON subset it needs (all of JSON
// except that numbers are doubles and int64 values up to 2^53 round-trip).
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_JSON_H
#define FOVEA_RUNTIME_JSON_H

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fovea::rt {

class JsonValue {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  JsonValue() = default;
  Kind kind() const { return valueKind; }
  bool isObject() const { return valueKind == Kind::Object; }
  bool isArray() const { return valueKind == Kind::Array; }
  bool isString() const { return valueKind == Kind::String; }
  bool isNumber() const { return valueKind == Kind::Number; }

  const std::string &string() const { return text; }
  double number() const { return numberValue; }
  bool boolean() const { return boolValue; }
  /// The number as an integer when it is one.
  std::optional<int64_t> integer() const;
  const std::vector<JsonValue> &array() const { return items; }
  /// Object members in key order.
  const std::map<std::string, JsonValue> &object() const { return members; }
  /// The member `key` of an object, or null.
  const JsonValue *get(std::string_view key) const;

private:
  friend class JsonParser;
  Kind valueKind = Kind::Null;
  bool boolValue = false;
  double numberValue = 0;
  std::string text;
  std::vector<JsonValue> items;
  std::map<std::string, JsonValue> members;
};

/// Parses `text`; on failure returns nullopt and sets `error` to a message
/// with the byte offset.
std::optional<JsonValue> parseJson(std::string_view text, std::string &error);

/// Escapes `text` as a JSON string literal (with quotes).
std::string jsonQuote(std::string_view text);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_JSON_H
