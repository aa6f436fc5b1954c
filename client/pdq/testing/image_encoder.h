// File: client/pdq/testing/image_encoder.h
//
// Test and benchmark helpers: encode an Image as PNG, JPEG or WebP in memory,
// and build synthetic photo-like images. Not part of optout_pdq.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_TESTING_IMAGE_ENCODER_H_
#define OPTOUT_CLIENT_PDQ_TESTING_IMAGE_ENCODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/pdq/image.h"

namespace optout::pdq::testing {

struct PngOptions {
  int bit_depth = 8;        // 8 or 16 (16: `samples16` is used instead of image.pixels)
  bool alpha = false;       // add an alpha channel taken from `alpha_values`
  bool interlaced = false;  // Adam7
  std::vector<uint16_t> samples16;  // width*height*channels, for bit_depth 16
  std::vector<uint8_t> alpha_values;  // width*height, for alpha
};

// Encodes a 1- or 3-channel image. Returns "" on failure.
std::string EncodePng(const Image& image, const PngOptions& options = {});
// Encodes a palette PNG: `indices` (width*height) into `palette` (RGB triples),
// with optional per-entry transparency `trns`.
std::string EncodePalettePng(int width, int height, const std::vector<uint8_t>& indices,
                             const std::vector<uint8_t>& palette,
                             const std::vector<uint8_t>& trns = {});
// Baseline JPEG, 4:2:0 for colour, libjpeg-turbo defaults otherwise.
std::string EncodeJpeg(const Image& image, int quality = 90, bool progressive = false);
// CMYK JPEG from width*height*4 samples (stored as given, no Adobe inversion).
std::string EncodeCmykJpeg(int width, int height, const std::vector<uint8_t>& cmyk);
// Lossless WebP of a 3-channel image.
std::string EncodeWebpLossless(const Image& image);

// The formats below are written with their decoders' own libraries
// (testing/encode_more_formats.cc); each returns "" on failure.
// GIF of a 3-channel image, colours reduced to 252 with Floyd-Steinberg;
// `frames` > 1 appends that many more frames of inverted pixels, so a test
// can tell whether only the first frame is read.
std::string EncodeGif(const Image& image, int frames = 1);
// Uncompressed 8-bit RGB TIFF (exact pixels); `pages` > 1 as for GIF.
std::string EncodeTiff(const Image& image, int pages = 1);
// HEIF of a 3-channel image with libheif: HEVC (HEIC) or AV1 (AVIF), lossy
// at `quality` 0..100. "" also when this libheif has no such encoder.
enum class HeifCodec { kHevc, kAv1 };
std::string EncodeHeif(const Image& image, HeifCodec codec, int quality = 90);

// A smooth photo-like RGB pattern (low-frequency waves plus a little
// deterministic noise), so decoders and hashers do realistic work.
Image SyntheticPhoto(int width, int height, uint32_t seed = 1);
// Every pixel set to `value` (grey if channels == 1).
Image Uniform(int width, int height, int channels, uint8_t value);

}  // namespace optout::pdq::testing

#endif  // OPTOUT_CLIENT_PDQ_TESTING_IMAGE_ENCODER_H_
