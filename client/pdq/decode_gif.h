// File: client/pdq/decode_gif.h
//
// GIF decoding with giflib: the first frame only (README.md#decoding), its
// own rectangle, colours from its local or the global colour table. The
// transparent index keeps its table colour (alpha is ignored in every
// format). Thread-safe (no shared state).
#ifndef OPTOUT_CLIENT_PDQ_DECODE_GIF_H_
#define OPTOUT_CLIENT_PDQ_DECODE_GIF_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"

namespace optout::pdq {

// Decodes the first frame of `bytes` into `sink` as 3-channel RGB.
// Errors: InvalidArgument for corrupt or truncated data or a GIF without any
// frame, ResourceExhausted above `limits` (checked before decoding pixels).
absl::Status DecodeGif(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_GIF_H_
