//===- fuzz-image.cpp - PNG, JPEG and BMP decoding ------------------------===//

#include "FuzzInput.h"
#include "fovea/Runtime/Media.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fovea::fuzz::writeInput(data, size, "image", ".png");
  std::string error;
  // A small limit: the fuzzer explores headers, not huge allocations.
  fovea::rt::ImageLimits limits;
  limits.maxPixels = 1 << 20;
  (void)fovea::rt::decodeImage(path, error, limits);
  return 0;
}
