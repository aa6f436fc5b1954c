// File: client/pdq/decode_heif.h
//
// HEIF decoding with libheif (README.md#decoding): HEIC (HEVC, every recent
// iPhone photo) and AVIF (AV1) alike. The primary image is decoded with its
// container transformations (rotation, mirror, crop) applied, i.e. as it is
// displayed and as converters write it out; alpha is ignored. Thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_DECODE_HEIF_H_
#define OPTOUT_CLIENT_PDQ_DECODE_HEIF_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"

namespace optout::pdq {

// Decodes the primary image of `bytes` into `sink` as 3-channel 8-bit RGB
// (higher bit depths are reduced by libheif).
// Errors: InvalidArgument for corrupt or truncated data, Unimplemented when
// this libheif has no decoder for the codec, ResourceExhausted above
// `limits` (checked from the header before decoding).
absl::Status DecodeHeif(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_HEIF_H_
