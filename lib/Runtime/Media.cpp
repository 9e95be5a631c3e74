//===- Media.cpp - Image and video decoding -------------------------------===//
//
// Images through stb_image, videos through FFmpeg (libavformat/libavcodec,
// RGB conversion with libswscale). A video is read twice: the first pass
// counts the stream's packets (no decoding) so the sampled indices are known
// before any frame is decoded; the second decodes and converts only those.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Media.h"

#include "fovea/Support/TokenGeometry.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sys/stat.h>

#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
// Only the formats Fovea takes: stb_image's other decoders (GIF, TGA, PSD,
// PNM, HDR, PIC) are left out, so content in those formats under an image
// name is rejected instead of decoded by code that reads out of bounds on
// malformed input or inflates a few bytes into gigabytes.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
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

/// Interleaved RGB (HWC) of `plane` pixels to planes (CHW).
static void toPlanar(const uint8_t *rgb, size_t plane, uint8_t *out) {
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c)
      out[c * plane + i] = rgb[3 * i + c];
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

/// The largest image decoded: 64 Mpixels (8K UHD is 33), at most 16384
/// pixels per side.
static constexpr int64_t kMaxImagePixels = int64_t(64) << 20;
static constexpr int kMaxImageSide = 16384;

std::optional<Tensor> fovea::rt::decodeImage(const std::string &path,
                                             std::string &error) {
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
  int width = 0, height = 0, channels = 0;
  // The size comes from the header, before anything is allocated: a small
  // file can declare a huge image.
  if (stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()),
                            &width, &height, &channels) &&
      (width > kMaxImageSide || height > kMaxImageSide ||
       static_cast<int64_t>(width) * height > kMaxImagePixels)) {
    error = "image '" + path + "' is " + std::to_string(width) + "x" +
            std::to_string(height) + ", over the limit of " +
            std::to_string(kMaxImagePixels / (1 << 20)) + " Mpixels (and " +
            std::to_string(kMaxImageSide) + " pixels per side)";
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
  toPlanar(pixels.get(),
           static_cast<size_t>(height) * static_cast<size_t>(width),
           static_cast<uint8_t *>(out.data()));
  return out;
}

namespace {
std::string avError(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof(text));
  return text;
}

/// An opened container with its best video stream and a decoder for it.
struct VideoFile {
  AVFormatContext *format = nullptr;
  AVCodecContext *codec = nullptr;
  int stream = -1;

  ~VideoFile() {
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }

  bool open(const std::string &path, std::string &error) {
    av_log_set_level(AV_LOG_QUIET);
    int rc = avformat_open_input(&format, path.c_str(), nullptr, nullptr);
    if (rc < 0) {
      error = "cannot open video '" + path + "': " + avError(rc);
      return false;
    }
    if ((rc = avformat_find_stream_info(format, nullptr)) < 0) {
      error = "cannot read video '" + path + "': " + avError(rc);
      return false;
    }
    const AVCodec *decoder = nullptr;
    stream =
        av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream < 0) {
      error = "'" + path + "' has no " +
              (stream == AVERROR_DECODER_NOT_FOUND ? "decodable " : "") +
              "video stream";
      return false;
    }
    codec = avcodec_alloc_context3(decoder);
    if (!codec ||
        avcodec_parameters_to_context(codec,
                                      format->streams[stream]->codecpar) < 0 ||
        avcodec_open2(codec, decoder, nullptr) < 0) {
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
  void operator()(AVPacket *p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame *f) const { av_frame_free(&f); }
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
  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  while (av_read_frame(file.format, packet.get()) >= 0) {
    if (packet->stream_index == file.stream)
      ++info.frames;
    av_packet_unref(packet.get());
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

  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  std::vector<uint8_t> rgb(plane * 3);
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
    sws = sws_getCachedContext(sws, frame->width, frame->height,
                               static_cast<AVPixelFormat>(frame->format),
                               frame->width, frame->height, AV_PIX_FMT_RGB24,
                               SWS_BICUBIC, nullptr, nullptr, nullptr);
    if (!sws) {
      failure = "video '" + path + "': cannot convert pixel format " +
                std::to_string(frame->format) + " to RGB";
      return false;
    }
    uint8_t *dst[4] = {rgb.data(), nullptr, nullptr, nullptr};
    int stride[4] = {static_cast<int>(width) * 3, 0, 0, 0};
    sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, stride);
    toPlanar(rgb.data(), plane, out + next * 3 * plane);
    ++next;
    return true;
  };
  // Drains every frame the decoder has ready.
  auto drain = [&]() -> bool {
    while (true) {
      int rc = avcodec_receive_frame(file.codec, frame.get());
      // Nothing ready, the end, or a decoder error (a damaged frame is
      // skipped, as players do; the frame count decides below).
      if (rc < 0)
        return true;
      bool ok = take();
      av_frame_unref(frame.get());
      if (!ok)
        return false;
    }
  };

  bool ok = true;
  while (ok && next < video.indices.size() &&
         av_read_frame(file.format, packet.get()) >= 0) {
    if (packet->stream_index == file.stream) {
      // A damaged packet is skipped; the decoder may still have frames.
      avcodec_send_packet(file.codec, packet.get());
      ok = drain();
    }
    av_packet_unref(packet.get());
  }
  if (ok && next < video.indices.size()) {
    avcodec_send_packet(file.codec, nullptr); // flush
    ok = drain();
  }
  sws_freeContext(sws);
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
