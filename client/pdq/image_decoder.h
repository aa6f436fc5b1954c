// File: client/pdq/image_decoder.h
//
// Recognises an image format from its first bytes and decodes JPEG, PNG and
// WebP with the conventions of the reference PDQ file hasher, and GIF (first
// frame), TIFF (first page), HEIF/HEIC and AVIF with the conventions of
// README.md#decoding. Other formats are recognised only to say clearly that
// they are unsupported.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_IMAGE_DECODER_H_
#define OPTOUT_CLIENT_PDQ_IMAGE_DECODER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/pdq/decode_limits.h"
#include "client/pdq/image.h"
#include "client/pdq/region_luma.h"

namespace optout::pdq {

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kGif, kBmp, kTiff, kHeif, kAvif, kJpeg2000, kJpegXl, kIco, kPsd };

// Sniffs the magic bytes; kUnknown if none matches.
ImageFormat DetectFormat(absl::string_view bytes);
// "JPEG", "PNG", ...; "unknown" for kUnknown.
absl::string_view FormatName(ImageFormat format);

// Decodes a JPEG, PNG, WebP, GIF, TIFF, HEIF or AVIF into `sink`.
// Errors: InvalidArgument for empty input, data that is not a recognised
// image, and corrupt or truncated data; Unimplemented for a recognised but
// unsupported format; ResourceExhausted above `limits` (checked from the
// header, before decoding).
absl::Status DecodeImage(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink);

struct PrescaledImage {
  Image image;  // at most 512x512, grey folded (prescale.h)
  int source_width = 0;
  int source_height = 0;
  // Filled only on request: the luma regions are hashed from (region_luma.h).
  LumaPlane region_luma;
};

// Decodes and applies the reference's pre-scale while decoding (prescale.h);
// with `region_luma`, also builds the region luma plane from the same rows.
absl::StatusOr<PrescaledImage> DecodeForPdq(absl::string_view bytes, const DecodeLimits& limits,
                                            bool region_luma = false);

// Decodes to a full-size 8-bit image (grey folded, no pre-scale).
absl::StatusOr<Image> DecodeFull(absl::string_view bytes, const DecodeLimits& limits);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_IMAGE_DECODER_H_
