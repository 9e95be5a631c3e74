//===- FuzzInput.h - Fuzz inputs as the files the parsers read --*- C++ -*-===//
//
// Fovea's parsers read files (they mmap checkpoints, stream videos): each
// fuzz input is written to one file per process, reused across inputs.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_TEST_FUZZ_FUZZINPUT_H
#define FOVEA_TEST_FUZZ_FUZZINPUT_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace fovea::fuzz {

/// Writes `data` to `path` (aborts when it cannot: not an input's fault).
inline void writeFile(const std::string &path, const void *data, size_t size) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    std::abort();
  if (size && std::fwrite(data, 1, size, f) != size)
    std::abort();
  std::fclose(f);
}

/// `/tmp/fovea-fuzz-<pid>-<tag><suffix>` holding `data`.
inline std::string writeInput(const uint8_t *data, size_t size, const char *tag,
                              const char *suffix) {
  std::string path =
      "/tmp/fovea-fuzz-" + std::to_string(getpid()) + "-" + tag + suffix;
  writeFile(path, data, size);
  return path;
}

} // namespace fovea::fuzz

#endif // FOVEA_TEST_FUZZ_FUZZINPUT_H
