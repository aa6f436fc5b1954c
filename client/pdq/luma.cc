#include "client/pdq/luma.h"

#include <algorithm>
#include <vector>

namespace optout::pdq {
namespace {

constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

void LumaRow(const uint8_t* src, int width, int channels, float* dst) {
  if (channels == 1) {
    for (int x = 0; x < width; ++x) dst[x] = static_cast<float>(src[x]);
    return;
  }
  // Evaluation order matters for bit-exactness: (R + G) first, then B.
  for (int x = 0; x < width; ++x) {
    const float r = src[3 * x], g = src[3 * x + 1], b = src[3 * x + 2];
    dst[x] = kLumaR * r + kLumaG * g + kLumaB * b;
  }
}

}  // namespace

void ComputeLuma(const Image& image, float* out) {
  for (int y = 0; y < image.height; ++y) {
    LumaRow(image.row(y), image.width, image.channels, out + static_cast<size_t>(y) * image.width);
  }
}

void ComputeLumaTransposed(const Image& image, float* out) {
  // Work in bands of rows so each output cache line is filled by several
  // consecutive rows before it is evicted.
  constexpr int kBand = 16;
  const int w = image.width, h = image.height;
  std::vector<float> band(static_cast<size_t>(kBand) * w);
  for (int y0 = 0; y0 < h; y0 += kBand) {
    const int rows = std::min(kBand, h - y0);
    for (int r = 0; r < rows; ++r) {
      LumaRow(image.row(y0 + r), w, image.channels, band.data() + static_cast<size_t>(r) * w);
    }
    for (int x = 0; x < w; ++x) {
      float* dst = out + static_cast<size_t>(x) * h + y0;
      for (int r = 0; r < rows; ++r) dst[r] = band[static_cast<size_t>(r) * w + x];
    }
  }
}

}  // namespace optout::pdq
