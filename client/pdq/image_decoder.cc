#include "client/pdq/image_decoder.h"

#include "absl/strings/str_cat.h"
#include "client/pdq/decode_gif.h"
#include "client/pdq/decode_heif.h"
#include "client/pdq/decode_jpeg.h"
#include "client/pdq/decode_png.h"
#include "client/pdq/decode_tiff.h"
#include "client/pdq/decode_webp.h"
#include "client/pdq/prescale.h"

namespace optout::pdq {
namespace {

// Takes the literal's array size so that magic numbers may contain NULs.
template <size_t N>
bool HasPrefixAt(absl::string_view bytes, size_t offset, const char (&literal)[N]) {
  const absl::string_view magic(literal, N - 1);
  return bytes.size() >= offset + magic.size() && bytes.substr(offset, magic.size()) == magic;
}

// Hands every row to two sinks.
class TeeSink final : public RowSink {
 public:
  TeeSink(RowSink& a, RowSink& b) : a_(a), b_(b) {}
  void Begin(int width, int height, int channels) override {
    a_.Begin(width, height, channels);
    b_.Begin(width, height, channels);
  }
  void PutRow(int y, const uint8_t* row) override {
    a_.PutRow(y, row);
    b_.PutRow(y, row);
  }

 private:
  RowSink& a_;
  RowSink& b_;
};

}  // namespace

ImageFormat DetectFormat(absl::string_view b) {
  if (HasPrefixAt(b, 0, "\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (HasPrefixAt(b, 0, "\x89PNG\r\n\x1A\n")) return ImageFormat::kPng;
  if (HasPrefixAt(b, 0, "RIFF") && HasPrefixAt(b, 8, "WEBP")) return ImageFormat::kWebp;
  if (HasPrefixAt(b, 0, "GIF87a") || HasPrefixAt(b, 0, "GIF89a")) return ImageFormat::kGif;
  if (HasPrefixAt(b, 0, "BM")) return ImageFormat::kBmp;
  if (HasPrefixAt(b, 0, "II*\0") || HasPrefixAt(b, 0, "MM\0*")) return ImageFormat::kTiff;
  if (HasPrefixAt(b, 4, "ftypavif") || HasPrefixAt(b, 4, "ftypavis")) return ImageFormat::kAvif;
  // HEIF brands: HEVC stills and sequences, and the generic image brands
  // (mif1/msf1), which libheif reads whatever the codec (AVIF included).
  if (HasPrefixAt(b, 4, "ftypheic") || HasPrefixAt(b, 4, "ftypheix") ||
      HasPrefixAt(b, 4, "ftypheim") || HasPrefixAt(b, 4, "ftypheis") ||
      HasPrefixAt(b, 4, "ftyphevc") || HasPrefixAt(b, 4, "ftyphevx") ||
      HasPrefixAt(b, 4, "ftypmif1") || HasPrefixAt(b, 4, "ftypmsf1")) {
    return ImageFormat::kHeif;
  }
  if (HasPrefixAt(b, 0, "\0\0\0\x0CjP  \r\n\x87\n") || HasPrefixAt(b, 0, "\xFF\x4F\xFF\x51")) {
    return ImageFormat::kJpeg2000;
  }
  if (HasPrefixAt(b, 0, "\xFF\x0A") || HasPrefixAt(b, 0, "\0\0\0\x0CJXL \r\n\x87\n")) {
    return ImageFormat::kJpegXl;
  }
  if (HasPrefixAt(b, 0, "\0\0\1\0")) return ImageFormat::kIco;
  if (HasPrefixAt(b, 0, "8BPS")) return ImageFormat::kPsd;
  return ImageFormat::kUnknown;
}

absl::string_view FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kGif: return "GIF";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kHeif: return "HEIF";
    case ImageFormat::kAvif: return "AVIF";
    case ImageFormat::kJpeg2000: return "JPEG 2000";
    case ImageFormat::kJpegXl: return "JPEG XL";
    case ImageFormat::kIco: return "ICO";
    case ImageFormat::kPsd: return "PSD";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

absl::Status DecodeImage(absl::string_view bytes, const DecodeLimits& limits, RowSink& sink) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty file (0 bytes)");
  const ImageFormat format = DetectFormat(bytes);
  switch (format) {
    case ImageFormat::kJpeg: return DecodeJpeg(bytes, limits, sink);
    case ImageFormat::kPng: return DecodePng(bytes, limits, sink);
    case ImageFormat::kWebp: return DecodeWebp(bytes, limits, sink);
    case ImageFormat::kGif: return DecodeGif(bytes, limits, sink);
    case ImageFormat::kTiff: return DecodeTiff(bytes, limits, sink);
    case ImageFormat::kHeif:
    case ImageFormat::kAvif: return DecodeHeif(bytes, limits, sink);
    case ImageFormat::kUnknown:
      return absl::InvalidArgumentError(
          "not an image: no JPEG, PNG, WebP, GIF, TIFF, HEIF or AVIF signature");
    default:
      return absl::UnimplementedError(
          absl::StrCat("unsupported image format ", FormatName(format),
                       " (supported: JPEG, PNG, WebP, GIF, TIFF, HEIF/HEIC, AVIF)"));
  }
}

absl::StatusOr<PrescaledImage> DecodeForPdq(absl::string_view bytes, const DecodeLimits& limits,
                                            bool region_luma) {
  PrescaleSink sink;
  RegionLumaSink luma_sink;
  TeeSink tee(sink, luma_sink);
  absl::Status status =
      region_luma ? DecodeImage(bytes, limits, tee) : DecodeImage(bytes, limits, sink);
  if (!status.ok()) return status;
  PrescaledImage out;
  out.source_width = sink.source_width();
  out.source_height = sink.source_height();
  out.image = sink.Finish();
  if (region_luma) out.region_luma = luma_sink.Finish();
  return out;
}

absl::StatusOr<Image> DecodeFull(absl::string_view bytes, const DecodeLimits& limits) {
  PrescaleSink sink(/*max_side=*/0);
  absl::Status status = DecodeImage(bytes, limits, sink);
  if (!status.ok()) return status;
  return sink.Finish();
}

}  // namespace optout::pdq
