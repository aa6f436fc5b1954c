#include "client/pdq/pdq_hasher.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace optout::pdq {

absl::StatusOr<PdqResult> HashPixels(const Image& image, bool with_dihedral) {
  switch (CheckPixels(image)) {
    case PixelsProblem::kNone:
      return HashCheckedPixels(image, with_dihedral);
    case PixelsProblem::kChannels:
      return absl::InvalidArgumentError(absl::StrCat(
          "image has ", image.channels, " channels; expected 1 (grey) or 3 (RGB)"));
    case PixelsProblem::kTooSmall:
      return absl::InvalidArgumentError(absl::StrCat("image is ", image.width, "x", image.height,
                                                     " px; PDQ needs at least ", kMinHashableSide,
                                                     " px on each side"));
    case PixelsProblem::kBufferSize:
      break;
  }
  return absl::InvalidArgumentError("pixel buffer size does not match the image size");
}

}  // namespace optout::pdq
