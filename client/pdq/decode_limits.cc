#include "client/pdq/decode_limits.h"

#include "absl/strings/str_cat.h"

namespace optout::pdq {

absl::Status CheckImageSize(absl::string_view format, int64_t width, int64_t height,
                            const DecodeLimits& limits) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt ", format, ": header declares ", width, "x", height, " pixels"));
  }
  // Both sides fit in 32 bits in every format we read, so the product cannot
  // overflow 64 bits.
  if (width * height > limits.max_pixels) {
    return absl::ResourceExhaustedError(absl::StrCat(
        format, " declares ", width, "x", height, " = ", width * height,
        " pixels, above the limit of ", limits.max_pixels, " (refused before decoding)"));
  }
  return absl::OkStatus();
}

}  // namespace optout::pdq
