//===- fuzz-video.cpp - Video probing and frame sampling ------------------===//

#include "FuzzInput.h"
#include "fovea/Runtime/Media.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fovea::fuzz::writeInput(data, size, "video", ".mp4");
  std::string error;
  if (std::optional<fovea::rt::VideoInfo> info =
          fovea::rt::probeVideo(path, error))
    if (info->width * info->height <= (1 << 20))
      (void)fovea::rt::decodeVideo(path, 2.0, 8, error);
  return 0;
}
