#include "client/pdq/decode_webp.h"

#include <webp/decode.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace optout::pdq {
namespace {

const char* StatusText(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OK: return "ok";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data";
  }
  return "unknown error";
}

absl::Status WebpError(VP8StatusCode code) {
  if (code == VP8_STATUS_NOT_ENOUGH_DATA) {
    return absl::InvalidArgumentError("truncated WebP: not enough data");
  }
  if (code == VP8_STATUS_UNSUPPORTED_FEATURE) {
    return absl::UnimplementedError("unsupported WebP feature");
  }
  return absl::InvalidArgumentError(absl::StrCat("corrupt WebP: ", StatusText(code)));
}

}  // namespace

absl::Status DecodeWebp(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  WebPBitstreamFeatures features;
  VP8StatusCode code = WebPGetFeatures(data, bytes.size(), &features);
  if (code != VP8_STATUS_OK) return WebpError(code);
  if (features.has_animation) {
    return absl::UnimplementedError("unsupported image: animated WebP");
  }
  absl::Status size_ok = CheckImageSize("WebP", features.width, features.height, limits);
  if (!size_ok.ok()) return size_ok;

  const int width = features.width, height = features.height;
  const size_t stride = static_cast<size_t>(width) * 3;
  std::vector<uint8_t> rgb(stride * height);
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return absl::InternalError("libwebp version mismatch");
  config.output.colorspace = MODE_RGB;  // alpha dropped, colours not premultiplied
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = rgb.data();
  config.output.u.RGBA.stride = static_cast<int>(stride);
  config.output.u.RGBA.size = rgb.size();
  code = WebPDecode(data, bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);
  if (code != VP8_STATUS_OK) return WebpError(code);

  sink.Begin(width, height, 3);
  for (int y = 0; y < height; ++y) sink.PutRow(y, rgb.data() + stride * y);
  return absl::OkStatus();
}

}  // namespace optout::pdq
