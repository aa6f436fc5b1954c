// File: client/pdq/decode_webp.h
//
// WebP decoding (lossy and lossless, still images) with libwebp at its
// defaults; alpha is ignored like in the other formats. Animated WebP is not
// supported. Thread-safe (no shared state).
#ifndef OPTOUT_CLIENT_PDQ_DECODE_WEBP_H_
#define OPTOUT_CLIENT_PDQ_DECODE_WEBP_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"

namespace optout::pdq {

// Decodes `bytes` into `sink` as 3-channel RGB (the whole image is decoded
// into memory first). Errors: InvalidArgument for corrupt or truncated data,
// Unimplemented for animations, ResourceExhausted above `limits`.
absl::Status DecodeWebp(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_WEBP_H_
