// File: client/pdq/decode_tiff.h
//
// TIFF decoding with libtiff's RGBA interface: the first page only, any
// photometric interpretation libtiff can turn into 8-bit RGBA (README.md
// #decoding). Alpha is ignored. Thread-safe (no shared state; libtiff
// warnings are silenced).
#ifndef OPTOUT_CLIENT_PDQ_DECODE_TIFF_H_
#define OPTOUT_CLIENT_PDQ_DECODE_TIFF_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"

namespace optout::pdq {

// Decodes the first page of `bytes` into `sink` as 3-channel RGB (the page is
// decoded into memory first, 4 bytes per pixel).
// Errors: InvalidArgument for corrupt or truncated data, Unimplemented for a
// layout libtiff cannot render, ResourceExhausted above `limits` (checked
// before decoding pixels).
absl::Status DecodeTiff(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DECODE_TIFF_H_
