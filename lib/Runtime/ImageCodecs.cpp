//===- ImageCodecs.cpp - PNG and JPEG decoding as the engines see it ------===//
//
// PNG through libpng and JPEG through libjpeg-turbo (linked statically),
// with the conversions that make the pixels equal to what vLLM's image
// loader gets from Pillow: `Image.open(f)`, then RGBA composited on white
// (`Image.new("RGB", size, (255, 255, 255)).paste(image, mask=alpha)`) and
// every other mode `convert("RGB")`; no EXIF rotation (vLLM applies none).
//
//  - JPEG: libjpeg's defaults, as Pillow's decoder leaves them (integer
//    slow DCT, fancy upsampling); greyscale replicated; CMYK (inverted when
//    the file has an Adobe marker) converted with Pillow's cmyk2rgb.
//  - PNG: 1/2/4-bit grey scaled to 8 bits, 16-bit samples keep their high
//    byte, except 16-bit grey, which Pillow opens as 32-bit integers and
//    clips to 255 on conversion; palettes expanded (transparency ignored);
//    8-bit grey+alpha drops the alpha (Pillow's LA), 16-bit grey+alpha is
//    blended like RGBA (Pillow opens it as RGBA); RGBA blends on white with
//    Pillow's
//    rounding, (bg * (255 - a) + c * a + 128) / 255 as
//    ((t >> 8) + t) >> 8; gamma and colour profiles ignored.
//
// libpng and libjpeg report errors by longjmp: the functions that call them
// keep only trivially destructible state between setjmp and the calls.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/ImageCodecs.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

extern "C" {
#include <jpeglib.h>
// After jpeglib.h, which it needs.
#include <jerror.h>
#include <png.h>
}

using namespace fovea::rt;

namespace {
/// Pillow's rounded division by 255 of a value in [0, 255 * 255].
inline uint8_t div255(uint32_t value) {
  uint32_t t = value + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

} // namespace

std::string fovea::rt::imageLimitText(const ImageLimits &limits) {
  std::string pixels = limits.maxPixels % (1 << 20) == 0
                           ? std::to_string(limits.maxPixels >> 20) + " Mpixels"
                           : std::to_string(limits.maxPixels) + " pixels";
  return pixels + " (and " + std::to_string(limits.maxSide) +
         " pixels per side; --max-image-pixels sets the first)";
}

namespace {
/// The size check done from the header, before anything is allocated.
bool checkSize(const std::string &path, int64_t width, int64_t height,
               const ImageLimits &limits, std::string &error) {
  if (width <= 0 || height <= 0) {
    error = "image '" + path + "' has no pixels";
    return false;
  }
  if (width > limits.maxSide || height > limits.maxSide ||
      width * height > limits.maxPixels) {
    error = "image '" + path + "' is " + std::to_string(width) + "x" +
            std::to_string(height) + ", over the limit of " +
            imageLimitText(limits);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// JPEG
//===----------------------------------------------------------------------===//

struct JpegError {
  jpeg_error_mgr manager;
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

/// The most scans of a progressive JPEG (encoders write about 10): more is
/// a file made to spend the decoder's time.
constexpr int kMaxJpegScans = 1000;
/// What libjpeg may allocate (a progressive 64 Mpixel image needs ~400 MB).
constexpr long kMaxJpegMemory = 2L << 30;

void jpegProgress(j_common_ptr info) {
  auto *error = reinterpret_cast<JpegError *>(info->err);
  auto *decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (decompress->input_scan_number > kMaxJpegScans) {
    std::snprintf(error->message, sizeof(error->message), "more than %d scans",
                  kMaxJpegScans);
    std::longjmp(error->jump, 1);
  }
}

void jpegFail(j_common_ptr info) {
  auto *error = reinterpret_cast<JpegError *>(info->err);
  (*info->err->format_message)(info, error->message);
  std::longjmp(error->jump, 1);
}

void jpegWarn(j_common_ptr info, int level) {
  // A stream that ends early is an error (Pillow: "image file is
  // truncated"); libjpeg's other warnings are recoverable and ignored, as
  // Pillow ignores them.
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF)
    reinterpret_cast<JpegError *>(info->err)->truncated = true;
}

/// Decodes into `rows` (RGB, HWC); returns false with `message` set. Only
/// trivially destructible locals: libjpeg may longjmp out of any call.
bool decodeJpegInto(const uint8_t *data, size_t size, const std::string &path,
                    const ImageLimits &limits, std::vector<uint8_t> &rgb,
                    int64_t &width, int64_t &height, std::string &error) {
  jpeg_decompress_struct info;
  JpegError jerr;
  info.err = jpeg_std_error(&jerr.manager);
  jerr.manager.error_exit = jpegFail;
  jerr.manager.emit_message = jpegWarn;
  jerr.truncated = false;
  jerr.message[0] = 0;
  std::vector<uint8_t> *pixels = &rgb;
  std::vector<uint8_t> row;
  std::vector<uint8_t> *line = &row;
  if (setjmp(jerr.jump)) {
    jpeg_destroy_decompress(&info);
    error = "cannot decode image '" + path + "': " + jerr.message;
    return false;
  }
  jpeg_create_decompress(&info);
  info.mem->max_memory_to_use = kMaxJpegMemory;
  jerr.progress.progress_monitor = jpegProgress;
  info.progress = &jerr.progress;
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  width = info.image_width;
  height = info.image_height;
  if (!checkSize(path, width, height, limits, error)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  int components = info.num_components;
  bool adobe = info.saw_Adobe_marker;
  if (components == 1) {
    info.out_color_space = JCS_GRAYSCALE;
  } else if (components == 4) {
    info.out_color_space = JCS_CMYK;
  } else if (components == 3) {
    info.out_color_space = JCS_RGB;
  } else {
    jpeg_destroy_decompress(&info);
    error = "cannot decode image '" + path + "': a JPEG of " +
            std::to_string(components) + " components";
    return false;
  }
  jpeg_start_decompress(&info);
  size_t w = info.output_width;
  line->resize(w * info.output_components);
  pixels->resize(w * info.output_height * 3);
  while (info.output_scanline < info.output_height) {
    JSAMPROW target = line->data();
    size_t y = info.output_scanline;
    jpeg_read_scanlines(&info, &target, 1);
    uint8_t *out = pixels->data() + y * w * 3;
    const uint8_t *in = line->data();
    for (size_t x = 0; x < w; ++x) {
      if (components == 1) {
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = in[x];
      } else if (components == 3) {
        std::memcpy(out + 3 * x, in + 3 * x, 3);
      } else {
        // Pillow: "CMYK;I" (inverted) with an Adobe marker, then cmyk2rgb.
        uint32_t c[4];
        for (int k = 0; k < 4; ++k)
          c[k] = adobe ? 255u - in[4 * x + k] : in[4 * x + k];
        uint32_t nk = 255 - c[3];
        for (int k = 0; k < 3; ++k) {
          int v = static_cast<int>(nk) - div255(c[k] * nk);
          out[3 * x + k] = static_cast<uint8_t>(v < 0 ? 0 : v);
        }
      }
    }
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  if (jerr.truncated) {
    error = "cannot decode image '" + path + "': the JPEG data is truncated";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// PNG
//===----------------------------------------------------------------------===//

struct PngSource {
  const uint8_t *data;
  size_t size, offset;
};

struct PngErrorState {
  char message[256];
};

void pngRead(png_structp png, png_bytep out, png_size_t count) {
  auto *source = static_cast<PngSource *>(png_get_io_ptr(png));
  if (count > source->size - source->offset)
    png_error(png, "truncated PNG data");
  std::memcpy(out, source->data + source->offset, count);
  source->offset += count;
}

void pngFail(png_structp png, png_const_charp message) {
  auto *state = static_cast<PngErrorState *>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof(state->message), "%s", message);
  png_longjmp(png, 1);
}

void pngWarn(png_structp, png_const_charp) {}

bool decodePngInto(const uint8_t *data, size_t size, const std::string &path,
                   const ImageLimits &limits, std::vector<uint8_t> &rgb,
                   int64_t &width, int64_t &height, std::string &error) {
  PngErrorState state;
  state.message[0] = 0;
  PngSource source{data, size, 0};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, pngFail, pngWarn);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    error = "cannot decode image '" + path + "': out of memory";
    return false;
  }
  std::vector<uint8_t> decoded;
  std::vector<uint8_t> *pixels = &decoded;
  std::vector<png_bytep> rowPointers;
  std::vector<png_bytep> *rows = &rowPointers;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    error = "cannot decode image '" + path + "': " + state.message;
    return false;
  }
  png_set_read_fn(png, &source, pngRead);
  // Limits before allocation: the header's size, and libpng's own caps on
  // chunk sizes (decompression bombs in ancillary chunks).
  png_set_user_limits(png, static_cast<png_uint_32>(limits.maxSide),
                      static_cast<png_uint_32>(limits.maxSide));
  png_set_chunk_malloc_max(png, 64 << 20);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int depth = 0, type = 0, interlace = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &type, &interlace, nullptr, nullptr);
  width = w;
  height = h;
  if (!checkSize(path, width, height, limits, error)) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  // Pillow's modes: 16-bit grey is "I" (clipped to 255 later), other 16-bit
  // samples keep their high byte; palettes expand without transparency.
  bool grey16 = type == PNG_COLOR_TYPE_GRAY && depth == 16;
  if (depth == 16 && !grey16)
    png_set_strip_16(png);
  if (type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (grey16)
    png_set_swap(png); // host order (little-endian) 16-bit values
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  size_t channels = png_get_channels(png, info);
  size_t rowBytes = png_get_rowbytes(png, info);
  pixels->resize(rowBytes * h);
  rows->resize(h);
  for (png_uint_32 y = 0; y < h; ++y)
    (*rows)[y] = pixels->data() + y * rowBytes;
  png_read_image(png, rows->data());
  // The chunks after the image data are not read: the pixels are complete,
  // and Pillow accepts a file that ends there (no IEND) too.
  png_destroy_read_struct(&png, &info, nullptr);

  rgb.resize(static_cast<size_t>(w) * h * 3);
  // Pillow opens 16-bit grey+alpha as RGBA (so vLLM blends it on white)
  // and 8-bit grey+alpha as LA (whose conversion drops the alpha).
  bool alpha = type == PNG_COLOR_TYPE_RGB_ALPHA;
  bool greyAlpha = type == PNG_COLOR_TYPE_GRAY_ALPHA;
  bool blendGrey = greyAlpha && depth == 16;
  for (png_uint_32 y = 0; y < h; ++y) {
    const uint8_t *in = (*rows)[y];
    uint8_t *out = rgb.data() + static_cast<size_t>(y) * w * 3;
    for (png_uint_32 x = 0; x < w; ++x, out += 3) {
      if (grey16) {
        uint16_t v;
        std::memcpy(&v, in + 2 * x, 2);
        out[0] = out[1] = out[2] = static_cast<uint8_t>(v > 255 ? 255 : v);
      } else if (blendGrey) {
        uint32_t a = in[2 * x + 1];
        out[0] = out[1] = out[2] = div255(255u * (255u - a) + in[2 * x] * a);
      } else if (channels == 1 || greyAlpha) {
        out[0] = out[1] = out[2] = in[x * channels];
      } else if (alpha) {
        const uint8_t *p = in + 4 * x;
        uint32_t a = p[3];
        for (int k = 0; k < 3; ++k)
          out[k] = div255(255u * (255u - a) + p[k] * a);
      } else {
        std::memcpy(out, in + channels * x, 3);
      }
    }
  }
  return true;
}

Tensor toTensor(const std::vector<uint8_t> &rgb, int64_t width,
                int64_t height) {
  Tensor out(DType::U8, {1, 3, height, width});
  interleavedToPlanar(rgb.data(), width, height, static_cast<size_t>(width) * 3,
                      static_cast<uint8_t *>(out.data()));
  return out;
}
} // namespace

void fovea::rt::interleavedToPlanar(const uint8_t *rgb, int64_t width,
                                    int64_t height, size_t rowBytes,
                                    uint8_t *out) {
  size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t *row = rgb + static_cast<size_t>(y) * rowBytes;
    size_t at = static_cast<size_t>(y) * static_cast<size_t>(width);
    for (int64_t x = 0; x < width; ++x)
      for (size_t c = 0; c < 3; ++c)
        out[c * plane + at + static_cast<size_t>(x)] = row[3 * x + c];
  }
}

std::optional<Tensor> fovea::rt::decodeJpeg(const uint8_t *data, size_t size,
                                            const std::string &path,
                                            const ImageLimits &limits,
                                            std::string &error) {
  std::vector<uint8_t> rgb;
  int64_t width = 0, height = 0;
  if (!decodeJpegInto(data, size, path, limits, rgb, width, height, error))
    return std::nullopt;
  return toTensor(rgb, width, height);
}

std::optional<Tensor> fovea::rt::decodePng(const uint8_t *data, size_t size,
                                           const std::string &path,
                                           const ImageLimits &limits,
                                           std::string &error) {
  std::vector<uint8_t> rgb;
  int64_t width = 0, height = 0;
  if (!decodePngInto(data, size, path, limits, rgb, width, height, error))
    return std::nullopt;
  return toTensor(rgb, width, height);
}
