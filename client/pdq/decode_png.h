// File: client/pdq/decode_png.h
//
// PNG decoding with libpng, following the reference's conventions
// (README.md#decoding, tests/testdata/pdq/decode-notes.tsv): palette and 1/2/4-bit
// grey expand to 8-bit values (1-bit: 0 or 255), alpha and tRNS are ignored
// (stored colours are hashed, never composited), 16-bit samples are reduced
// to 8 bits as ImageMagick's "-depth 8" does (floor(v / 257)), gamma and
// colour-profile chunks are ignored. Thread-safe (no shared state).
#ifndef OPTOUT_CLIENT_PDQ_DECODE_PNG_H_
#define OPTOUT_CLIENT_PDQ_DECODE_PNG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"

namespace optout::pdq {

// Decodes `bytes` into `sink` (1 channel for grey images, else 3).
// Non-interlaced images stream row by row; interlaced ones are held whole.
// Errors: InvalidArgument for corrupt or truncated data, ResourceExhausted
// above `limits`.
absl::Status DecodePng(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_PNG_H_
