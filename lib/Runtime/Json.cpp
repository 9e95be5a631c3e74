//===- Json.cpp - A small JSON reader for the runtime ---------------------===//
//
// A recursive-descent parser over the JSON grammar (RFC 8259).
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Json.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace fovea::rt;

std::optional<int64_t> JsonValue::integer() const {
  if (valueKind != Kind::Number || std::floor(numberValue) != numberValue ||
      std::fabs(numberValue) > 9007199254740992.0)
    return std::nullopt;
  return static_cast<int64_t>(numberValue);
}

const JsonValue *JsonValue::get(std::string_view key) const {
  if (valueKind != Kind::Object)
    return nullptr;
  auto it = members.find(std::string(key));
  return it == members.end() ? nullptr : &it->second;
}

namespace fovea::rt {
class JsonParser {
public:
  explicit JsonParser(std::string_view text) : text(text) {}

  std::optional<JsonValue> parseDocument(std::string &error) {
    JsonValue value;
    if (!parseValue(value, 0) || (skipSpace(), pos != text.size())) {
      if (message.empty())
        message = "unexpected trailing characters";
      error = message + " at byte " + std::to_string(pos);
      return std::nullopt;
    }
    return value;
  }

private:
  bool fail(const char *what) {
    if (message.empty())
      message = what;
    return false;
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\r' || text[pos] == '\t'))
      ++pos;
  }

  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  bool literal(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return fail("invalid literal");
    pos += word.size();
    return true;
  }

  bool parseValue(JsonValue &out, int depth) {
    if (depth > 64)
      return fail("nesting too deep");
    skipSpace();
    if (pos >= text.size())
      return fail("unexpected end of input");
    char c = text[pos];
    if (c == '{')
      return parseObject(out, depth);
    if (c == '[')
      return parseArray(out, depth);
    if (c == '"') {
      out.valueKind = JsonValue::Kind::String;
      return parseString(out.text);
    }
    if (c == 't' || c == 'f') {
      out.valueKind = JsonValue::Kind::Bool;
      out.boolValue = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n')
      return literal("null");
    return parseNumber(out);
  }

  bool parseObject(JsonValue &out, int depth) {
    out.valueKind = JsonValue::Kind::Object;
    ++pos;
    if (consume('}'))
      return true;
    do {
      skipSpace();
      std::string key;
      if (pos >= text.size() || text[pos] != '"')
        return fail("expected a string key");
      if (!parseString(key))
        return false;
      if (!consume(':'))
        return fail("expected ':'");
      JsonValue value;
      if (!parseValue(value, depth + 1))
        return false;
      out.members[key] = std::move(value);
    } while (consume(','));
    return consume('}') || fail("expected ',' or '}'");
  }

  bool parseArray(JsonValue &out, int depth) {
    out.valueKind = JsonValue::Kind::Array;
    ++pos;
    if (consume(']'))
      return true;
    do {
      JsonValue value;
      if (!parseValue(value, depth + 1))
        return false;
      out.items.push_back(std::move(value));
    } while (consume(','));
    return consume(']') || fail("expected ',' or ']'");
  }

  bool parseString(std::string &out) {
    ++pos; // opening quote
    while (pos < text.size()) {
      char c = text[pos++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= text.size())
        break;
      char e = text[pos++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (pos + 4 > text.size())
          return fail("truncated \\u escape");
        unsigned code =
            std::strtoul(std::string(text.substr(pos, 4)).c_str(), nullptr, 16);
        pos += 4;
        // UTF-8 encode (surrogate pairs are kept as two code points; names
        // in checkpoints are ASCII).
        if (code < 0x80) {
          out += static_cast<char>(code);
        } else if (code < 0x800) {
          out += static_cast<char>(0xC0 | (code >> 6));
          out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (code >> 12));
          out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (code & 0x3F));
        }
        break;
      }
      default:
        return fail("invalid escape in string");
      }
    }
    return fail("unterminated string");
  }

  bool parseNumber(JsonValue &out) {
    size_t start = pos;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+'))
      ++pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E' ||
            text[pos] == '-' || text[pos] == '+'))
      ++pos;
    if (pos == start)
      return fail("unexpected character");
    std::string number(text.substr(start, pos - start));
    char *end = nullptr;
    out.numberValue = std::strtod(number.c_str(), &end);
    if (!end || *end != '\0')
      return fail("invalid number");
    out.valueKind = JsonValue::Kind::Number;
    return true;
  }

  std::string_view text;
  size_t pos = 0;
  std::string message;
};
} // namespace fovea::rt

std::optional<JsonValue> fovea::rt::parseJson(std::string_view text,
                                              std::string &error) {
  return JsonParser(text).parseDocument(error);
}

std::string fovea::rt::jsonQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}
