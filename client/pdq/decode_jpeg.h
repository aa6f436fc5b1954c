// File: client/pdq/decode_jpeg.h
//
// JPEG decoding with Debian's libjpeg-turbo at its defaults (integer "islow"
// IDCT, fancy upsampling): the pixels the reference sees through ImageMagick
// (README.md#decoding). EXIF orientation is ignored, as by the reference.
// Thread-safe (no shared state).
#ifndef OPTOUT_CLIENT_PDQ_DECODE_JPEG_H_
#define OPTOUT_CLIENT_PDQ_DECODE_JPEG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"

namespace optout::pdq {

// Decodes `bytes` row by row into `sink`: 1 channel for greyscale JPEGs,
// 3 (R,G,B) otherwise; CMYK/YCCK are converted to RGB by the naive formula
// (approximate: not verified against the reference).
// Errors: InvalidArgument for corrupt or truncated data ("Premature end of
// JPEG file" is an error, not padding), ResourceExhausted above `limits`.
absl::Status DecodeJpeg(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_JPEG_H_
