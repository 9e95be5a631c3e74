//===- fuzz-npy.cpp - .npy inputs -----------------------------------------===//

#include "FuzzInput.h"
#include "fovea/Runtime/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fovea::fuzz::writeInput(data, size, "npy", ".npy");
  std::string error;
  std::optional<fovea::rt::Tensor> tensor = fovea::rt::readNpy(path, error);
  // A tensor read is fully addressable.
  if (tensor && tensor->byteSize()) {
    const auto *bytes = static_cast<const volatile uint8_t *>(tensor->data());
    (void)bytes[0];
    (void)bytes[tensor->byteSize() - 1];
  }
  return 0;
}
