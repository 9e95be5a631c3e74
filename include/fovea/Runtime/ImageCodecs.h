//===- ImageCodecs.h - PNG and JPEG decoding as the engines see it -*- C++ -*-//
//
// PNG (libpng) and JPEG (libjpeg-turbo) decoders whose RGB pixels equal
// what vLLM's image loader gets from Pillow for the same file (see
// ImageCodecs.cpp for the conversions).
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_IMAGECODECS_H
#define FOVEA_RUNTIME_IMAGECODECS_H

#include "fovea/Runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace fovea::rt {

/// The largest image decoded, checked from the header before anything is
/// allocated: 64 Mpixels by default (8K UHD is 33), at most 16384 pixels
/// per side (the largest source size a module takes).
struct ImageLimits {
  int64_t maxPixels = int64_t(64) << 20;
  int64_t maxSide = 16384;
};

/// "64 Mpixels (and 16384 pixels per side; ...)" for messages.
std::string imageLimitText(const ImageLimits &limits);

/// Interleaved RGB rows (HWC, `rowBytes` apart, at least 3 x width) of a
/// width x height image to planes (CHW) at `out`.
void interleavedToPlanar(const uint8_t *rgb, int64_t width, int64_t height,
                         size_t rowBytes, uint8_t *out);

/// `data` (a whole file) as RGB [1, 3, H, W] x u8; errors name `path`.
std::optional<Tensor> decodeJpeg(const uint8_t *data, size_t size,
                                 const std::string &path,
                                 const ImageLimits &limits, std::string &error);
std::optional<Tensor> decodePng(const uint8_t *data, size_t size,
                                const std::string &path,
                                const ImageLimits &limits, std::string &error);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_IMAGECODECS_H
