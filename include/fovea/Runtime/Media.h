//===- Media.h - Image and video decoding -----------------------*- C++ -*-===//
//
// Decodes image files (libpng, libjpeg-turbo, stb_image for BMP) and videos
// (FFmpeg) into uint8 NCHW
// tensors, sampling video frames the way the serving engines do.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_MEDIA_H
#define FOVEA_RUNTIME_MEDIA_H

#include "fovea/Runtime/ImageCodecs.h"
#include "fovea/Runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fovea::rt {

enum class MediaKind { Npy, Image, Video };

/// The kind of an input file by its extension; nullopt (with `error`) when
/// it is none that Fovea reads.
std::optional<MediaKind> mediaKindOf(const std::string &path,
                                     std::string &error);

/// An image file (PNG, JPEG or BMP, by its content) as RGB [1, 3, H, W] x
/// u8, the pixels vLLM gets from Pillow for it (ImageCodecs.h); images over
/// `limits` are refused from their header.
std::optional<Tensor> decodeImage(const std::string &path, std::string &error,
                                  const ImageLimits &limits = {});

/// What a video holds, from its container and packets (nothing decoded).
struct VideoInfo {
  int64_t frames = 0;
  double fps = 0;
  int64_t height = 0, width = 0;
};
std::optional<VideoInfo> probeVideo(const std::string &path,
                                    std::string &error);

/// A decoded video: the sampled frames as RGB [F, 3, H, W] x u8, their
/// indices in the source and the source's frame count and rate.
struct DecodedVideo {
  Tensor frames;
  std::vector<int64_t> indices;
  VideoInfo info;
};

/// Decodes the frames `sampleFrameIndices(frames, fps_source, fps,
/// maxFrames)` selects; only those are converted to RGB.
std::optional<DecodedVideo> decodeVideo(const std::string &path, double fps,
                                        int64_t maxFrames, std::string &error);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_MEDIA_H
