//===- fuzz-json.cpp - The runtime's JSON parser --------------------------===//
//
// Module metadata and safetensors headers go through parseJson.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Json.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  std::optional<fovea::rt::JsonValue> value = fovea::rt::parseJson(
      std::string_view(reinterpret_cast<const char *>(data), size), error);
  // Walk what was parsed: every accessor must be safe on any value.
  if (value) {
    (void)value->get("weights");
    if (value->isArray())
      for (const fovea::rt::JsonValue &item : value->array())
        (void)item.integer();
  }
  return 0;
}
