//===- Media.cpp - Image and video decoding -------------------------------===//
//
// Images through stb_image, videos through FFmpeg (libavformat/libavcodec,
// RGB conversion with libswscale), loaded with dlopen the first time a video
// is opened, so that tools and executables run where FFmpeg is not
// installed until a video is given. A video is read twice: the first pass
// counts the stream's packets (no decoding) so the sampled indices are known
// before any frame is decoded; the second decodes and converts only those.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Media.h"

#include "fovea/Runtime/ImageCodecs.h"

#include "fovea/Support/TokenGeometry.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sys/stat.h>

#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
// BMP only: PNG and JPEG go through libpng and libjpeg-turbo
// (ImageCodecs.cpp), and stb_image's other decoders (GIF, TGA, PSD, PNM,
// HDR, PIC) are left out, so content in those formats under an image name is
// rejected instead of decoded by code that reads out of bounds on malformed
// input or inflates a few bytes into gigabytes.
#define STBI_ONLY_BMP
// stb_image's own bound on each side (its default is 2^24), matching
// ImageLimits' 16384.
#define STBI_MAX_DIMENSIONS 16384
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <dlfcn.h>
#include <mutex>

using namespace fovea::rt;

static std::string lowerExtension(const std::string &path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return "";
  std::string ext = path.substr(dot + 1);
  for (char &c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::optional<MediaKind> fovea::rt::mediaKindOf(const std::string &path,
                                                std::string &error) {
  static const char *images[] = {"png", "jpg", "jpeg", "bmp"};
  static const char *videos[] = {"mp4", "m4v", "mkv",  "webm", "mov",
                                 "avi", "mpg", "mpeg", "ts",   "y4m",
                                 "flv", "ogv", "wmv",  "3gp",  "nut"};
  std::string ext = lowerExtension(path);
  if (ext == "npy")
    return MediaKind::Npy;
  for (const char *e : images)
    if (ext == e)
      return MediaKind::Image;
  for (const char *e : videos)
    if (ext == e)
      return MediaKind::Video;
  error = "unsupported input '" + path +
          "': expected .npy, an image (.png, .jpg, .jpeg, .bmp) or a video "
          "(.mp4, .mkv, .webm, .mov, .avi, ...)";
  return std::nullopt;
}

std::optional<Tensor> fovea::rt::decodeImage(const std::string &path,
                                             std::string &error,
                                             const ImageLimits &limits) {
  // A directory opens as a stream but cannot be read.
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    error = "cannot read image '" + path + "': not a regular file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open image '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    error = "image '" + path + "' is empty";
    return std::nullopt;
  }
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    error = "image '" + path + "' is too large (over 2 GiB)";
    return std::nullopt;
  }
  // The format comes from the content, not the name.
  static const unsigned char png[] = {0x89, 'P',  'N',  'G',
                                      '\r', '\n', 0x1a, '\n'};
  auto startsWith = [&](const unsigned char *magic, size_t size) {
    return bytes.size() >= size && std::memcmp(bytes.data(), magic, size) == 0;
  };
  static const unsigned char jpeg[] = {0xff, 0xd8, 0xff};
  if (startsWith(png, sizeof(png)))
    return decodePng(bytes.data(), bytes.size(), path, limits, error);
  if (startsWith(jpeg, sizeof(jpeg)))
    return decodeJpeg(bytes.data(), bytes.size(), path, limits, error);
  static const unsigned char bmp[] = {'B', 'M'};
  if (!startsWith(bmp, sizeof(bmp))) {
    error = "cannot decode image '" + path +
            "': not a PNG, JPEG or BMP file (by its content)";
    return std::nullopt;
  }
  // BMP through stb_image (built with its BMP decoder only).
  int width = 0, height = 0, channels = 0;
  // The size comes from the header, before anything is allocated: a small
  // file can declare a huge image.
  // A header stb_image cannot size is refused here: decoding it anyway
  // would allocate whatever the file declares.
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()),
                             &width, &height, &channels)) {
    const char *reason = stbi_failure_reason();
    error = "cannot decode image '" + path +
            "': " + (reason ? reason : "corrupt or unsupported BMP header");
    return std::nullopt;
  }
  // A top-down BMP declares a negative height: the size is its magnitude
  // (computed in 64 bits: stb_image's own abs() of INT_MIN is undefined).
  int64_t rows = height < 0 ? -static_cast<int64_t>(height) : height;
  if (width <= 0 || rows == 0 || width > limits.maxSide ||
      rows > limits.maxSide || width * rows > limits.maxPixels) {
    error = "image '" + path + "' is " + std::to_string(width) + "x" +
            std::to_string(rows) + ", over the limit of " +
            imageLimitText(limits);
    return std::nullopt;
  }
  std::unique_ptr<stbi_uc, void (*)(void *)> pixels(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()),
                            &width, &height, &channels, 3),
      stbi_image_free);
  if (!pixels) {
    // stb_image does not give a reason for every failure.
    const char *reason = stbi_failure_reason();
    error = "cannot decode image '" + path +
            "': " + (reason ? reason : "corrupt or unsupported data");
    return std::nullopt;
  }
  Tensor out(DType::U8, {1, 3, height, width});
  interleavedToPlanar(pixels.get(), width, height,
                      static_cast<size_t>(width) * 3,
                      static_cast<uint8_t *>(out.data()));
  return out;
}

namespace {
/// The FFmpeg functions Fovea calls, bound from the shared libraries of the
/// major versions it was built against (their ABI).
struct Ffmpeg {
#define FOVEA_FFMPEG_FUNCTIONS(X)                                              \
  X(avformat, avformat_open_input)                                             \
  X(avformat, avformat_find_stream_info)                                       \
  X(avformat, av_find_best_stream)                                             \
  X(avformat, av_read_frame)                                                   \
  X(avformat, avformat_close_input)                                            \
  X(avcodec, avcodec_alloc_context3)                                           \
  X(avcodec, avcodec_parameters_to_context)                                    \
  X(avcodec, avcodec_open2)                                                    \
  X(avcodec, avcodec_free_context)                                             \
  X(avcodec, avcodec_send_packet)                                              \
  X(avcodec, avcodec_receive_frame)                                            \
  X(avcodec, av_packet_alloc)                                                  \
  X(avcodec, av_packet_free)                                                   \
  X(avcodec, av_packet_unref)                                                  \
  X(avutil, av_frame_alloc)                                                    \
  X(avutil, av_frame_free)                                                     \
  X(avutil, av_frame_unref)                                                    \
  X(avutil, av_log_set_level)                                                  \
  X(avutil, av_strerror)                                                       \
  X(swscale, sws_getCachedContext)                                             \
  X(swscale, sws_scale)                                                        \
  X(swscale, sws_freeContext)
#define FOVEA_DECLARE(LIBRARY, NAME) decltype(&::NAME) NAME = nullptr;
  FOVEA_FFMPEG_FUNCTIONS(FOVEA_DECLARE)
#undef FOVEA_DECLARE
};

std::string soname(const char *library, int major) {
  return "lib" + std::string(library) + ".so." + std::to_string(major);
}

/// The bound functions, or null with `error` naming what is missing. Loaded
/// once; the libraries stay loaded.
const Ffmpeg *ffmpeg(std::string &error) {
  static std::once_flag once;
  static Ffmpeg table;
  static std::string failure;
  std::call_once(once, [] {
    struct Library {
      const char *name;
      int major;
      void *handle;
    } libraries[] = {{"avutil", LIBAVUTIL_VERSION_MAJOR, nullptr},
                     {"avcodec", LIBAVCODEC_VERSION_MAJOR, nullptr},
                     {"avformat", LIBAVFORMAT_VERSION_MAJOR, nullptr},
                     {"swscale", LIBSWSCALE_VERSION_MAJOR, nullptr}};
    // FOVEA_FFMPEG_PATH names the directory of a bundled FFmpeg; else the
    // dynamic loader's search path decides.
    const char *directory = std::getenv("FOVEA_FFMPEG_PATH");
    for (Library &library : libraries) {
      std::string name = soname(library.name, library.major);
      std::string path =
          directory && *directory ? std::string(directory) + "/" + name : name;
      library.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (!library.handle) {
        failure = "video decoding needs FFmpeg's " + name +
                  ", which cannot be loaded" +
                  (directory && *directory
                       ? " from FOVEA_FFMPEG_PATH=" + std::string(directory)
                       : std::string()) +
                  " (install FFmpeg's shared libraries, or give the frames "
                  "as .npy)";
        return;
      }
    }
    auto handleOf = [&](const char *name) -> void * {
      for (const Library &library : libraries)
        if (std::strcmp(library.name, name) == 0)
          return library.handle;
      return nullptr;
    };
#define FOVEA_BIND(LIBRARY, NAME)                                              \
  if (failure.empty()) {                                                       \
    void *function = dlsym(handleOf(#LIBRARY), #NAME);                         \
    if (!function)                                                             \
      failure = "video decoding: FFmpeg's lib" #LIBRARY " has no " #NAME;      \
    else                                                                       \
      table.NAME = reinterpret_cast<decltype(table.NAME)>(function);           \
  }
    FOVEA_FFMPEG_FUNCTIONS(FOVEA_BIND)
#undef FOVEA_BIND
  });
  if (!failure.empty()) {
    error = failure;
    return nullptr;
  }
  return &table;
}

std::string avError(const Ffmpeg &F, int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  F.av_strerror(code, text, sizeof(text));
  return text;
}

/// An opened container with its best video stream and a decoder for it.
struct VideoFile {
  const Ffmpeg *F = nullptr;
  AVFormatContext *format = nullptr;
  AVCodecContext *codec = nullptr;
  int stream = -1;

  ~VideoFile() {
    if (!F)
      return;
    F->avcodec_free_context(&codec);
    F->avformat_close_input(&format);
  }

  bool open(const std::string &path, std::string &error) {
    if (!(F = ffmpeg(error)))
      return false;
    F->av_log_set_level(AV_LOG_QUIET);
    int rc = F->avformat_open_input(&format, path.c_str(), nullptr, nullptr);
    if (rc < 0) {
      error = "cannot open video '" + path + "': " + avError(*F, rc);
      return false;
    }
    if ((rc = F->avformat_find_stream_info(format, nullptr)) < 0) {
      error = "cannot read video '" + path + "': " + avError(*F, rc);
      return false;
    }
    const AVCodec *decoder = nullptr;
    stream =
        F->av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream < 0) {
      error = "'" + path + "' has no " +
              (stream == AVERROR_DECODER_NOT_FOUND ? "decodable " : "") +
              "video stream";
      return false;
    }
    codec = F->avcodec_alloc_context3(decoder);
    if (!codec ||
        F->avcodec_parameters_to_context(
            codec, format->streams[stream]->codecpar) < 0 ||
        F->avcodec_open2(codec, decoder, nullptr) < 0) {
      error = "cannot open the " + std::string(decoder->name) +
              " decoder for '" + path + "'";
      return false;
    }
    if (codec->width <= 0 || codec->height <= 0) {
      error = "video '" + path + "' has no frame size";
      return false;
    }
    return true;
  }

  double fps() const {
    AVRational rate = format->streams[stream]->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0)
      rate = format->streams[stream]->r_frame_rate;
    return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  }
};

struct PacketDeleter {
  const Ffmpeg *F;
  void operator()(AVPacket *p) const { F->av_packet_free(&p); }
};
struct FrameDeleter {
  const Ffmpeg *F;
  void operator()(AVFrame *f) const { F->av_frame_free(&f); }
};
} // namespace

std::optional<VideoInfo> fovea::rt::probeVideo(const std::string &path,
                                               std::string &error) {
  VideoFile file;
  if (!file.open(path, error))
    return std::nullopt;
  VideoInfo info;
  info.fps = file.fps();
  info.height = file.codec->height;
  info.width = file.codec->width;
  std::unique_ptr<AVPacket, PacketDeleter> packet(file.F->av_packet_alloc(),
                                                  {file.F});
  while (file.F->av_read_frame(file.format, packet.get()) >= 0) {
    if (packet->stream_index == file.stream)
      ++info.frames;
    file.F->av_packet_unref(packet.get());
  }
  if (info.frames == 0) {
    error = "video '" + path + "' has no frames";
    return std::nullopt;
  }
  return info;
}

std::optional<DecodedVideo> fovea::rt::decodeVideo(const std::string &path,
                                                   double fps,
                                                   int64_t maxFrames,
                                                   std::string &error) {
  std::optional<VideoInfo> info = probeVideo(path, error);
  if (!info)
    return std::nullopt;
  DecodedVideo video;
  video.info = *info;
  video.indices =
      fovea::sampleFrameIndices(info->frames, info->fps, fps, maxFrames);

  VideoFile file;
  if (!file.open(path, error))
    return std::nullopt;
  int64_t height = info->height, width = info->width;
  auto count = static_cast<int64_t>(video.indices.size());
  video.frames = Tensor(DType::U8, {count, 3, height, width});
  auto *out = static_cast<uint8_t *>(video.frames.data());
  size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);

  std::unique_ptr<AVPacket, PacketDeleter> packet(file.F->av_packet_alloc(),
                                                  {file.F});
  std::unique_ptr<AVFrame, FrameDeleter> frame(file.F->av_frame_alloc(),
                                               {file.F});
  // libswscale's SIMD paths store whole vectors: rows are padded to 64
  // bytes and the buffer has a spare row, so no store lands past it.
  size_t rowBytes = (static_cast<size_t>(width) * 3 + 63) & ~size_t(63);
  std::vector<uint8_t> rgb(rowBytes * (static_cast<size_t>(height) + 1));
  SwsContext *sws = nullptr;
  int64_t decoded = 0; // frames the decoder has produced so far
  size_t next = 0;     // the next sampled index to fill
  std::string failure;

  // Converts the decoder's current frame when it is the next sampled one.
  auto take = [&]() -> bool {
    int64_t index = decoded++;
    if (next >= video.indices.size() || video.indices[next] != index)
      return true;
    if (frame->width != width || frame->height != height) {
      failure = "video '" + path + "': frame " + std::to_string(index) +
                " is " + std::to_string(frame->height) + "x" +
                std::to_string(frame->width) + " (HxW), the stream is " +
                std::to_string(height) + "x" + std::to_string(width);
      return false;
    }
    sws = file.F->sws_getCachedContext(
        sws, frame->width, frame->height,
        static_cast<AVPixelFormat>(frame->format), frame->width, frame->height,
        AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
    if (!sws) {
      failure = "video '" + path + "': cannot convert pixel format " +
                std::to_string(frame->format) + " to RGB";
      return false;
    }
    uint8_t *dst[4] = {rgb.data(), nullptr, nullptr, nullptr};
    int stride[4] = {static_cast<int>(rowBytes), 0, 0, 0};
    file.F->sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst,
                      stride);
    interleavedToPlanar(rgb.data(), width, height, rowBytes,
                        out + next * 3 * plane);
    ++next;
    return true;
  };
  // Drains every frame the decoder has ready.
  auto drain = [&]() -> bool {
    while (true) {
      int rc = file.F->avcodec_receive_frame(file.codec, frame.get());
      // Nothing ready, the end, or a decoder error (a damaged frame is
      // skipped, as players do; the frame count decides below).
      if (rc < 0)
        return true;
      bool ok = take();
      file.F->av_frame_unref(frame.get());
      if (!ok)
        return false;
    }
  };

  bool ok = true;
  while (ok && next < video.indices.size() &&
         file.F->av_read_frame(file.format, packet.get()) >= 0) {
    if (packet->stream_index == file.stream) {
      // A damaged packet is skipped; the decoder may still have frames.
      file.F->avcodec_send_packet(file.codec, packet.get());
      ok = drain();
    }
    file.F->av_packet_unref(packet.get());
  }
  if (ok && next < video.indices.size()) {
    file.F->avcodec_send_packet(file.codec, nullptr); // flush
    ok = drain();
  }
  file.F->sws_freeContext(sws);
  if (!ok) {
    error = failure;
    return std::nullopt;
  }
  if (next < video.indices.size()) {
    error = "video '" + path + "': decoded " + std::to_string(decoded) +
            " of its " + std::to_string(info->frames) +
            " frames; sampled frame " + std::to_string(video.indices[next]) +
            " is missing (truncated or damaged file)";
    return std::nullopt;
  }
  return video;
}
