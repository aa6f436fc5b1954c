// File: client/pdq/decode_limits.h
//
// Resource limits shared by the decoders. Every decoder reads the image
// header first and refuses an oversized image before decoding any pixel, so a
// small file that declares a huge canvas (a decompression bomb) costs nothing.
// Plain value type; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_DECODE_LIMITS_H_
#define OPTOUT_CLIENT_PDQ_DECODE_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace optout::pdq {

struct DecodeLimits {
  // Largest width * height accepted, in pixels. Peak memory of a decode is
  // bounded by about 6 bytes per pixel of this (progressive JPEG coefficient
  // buffers, interlaced or 16-bit PNG, WebP), plus one 512x512 image.
  // Default: 100,000,000 (100 MP, e.g. 12000x8000).
  int64_t max_pixels = 100'000'000;
  // Largest number of scans accepted in a progressive JPEG; real encoders
  // emit about 10, hostile files thousands (each costs a full pass).
  // Default: 500.
  int max_jpeg_scans = 500;
};

// OK if a `width` x `height` image of `format` ("JPEG", ...) is within limits;
// InvalidArgument for a zero or negative side, ResourceExhausted above the
// pixel limit.
absl::Status CheckImageSize(absl::string_view format, int64_t width, int64_t height,
                            const DecodeLimits& limits);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_LIMITS_H_
