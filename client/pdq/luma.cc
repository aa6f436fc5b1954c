#include "client/pdq/luma.h"

#include <cstddef>

namespace optout::pdq {
namespace {

constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

// The three products of every possible 8-bit sample. A table entry is the
// very float the reference's multiplication yields, so summing entries in the
// reference's order ((R + G) + B) gives identical luma, with no conversions or
// multiplications per pixel.
struct LumaTables {
  float r[256], g[256], b[256];
  LumaTables() {
    for (int v = 0; v < 256; ++v) {
      r[v] = kLumaR * static_cast<float>(v);
      g[v] = kLumaG * static_cast<float>(v);
      b[v] = kLumaB * static_cast<float>(v);
    }
  }
};

const LumaTables& Tables() {
  static const LumaTables* const tables = new LumaTables();
  return *tables;
}

void LumaRow(const uint8_t* src, int width, int channels, float* dst, size_t stride) {
  if (channels == 1) {
    for (int x = 0; x < width; ++x) dst[x * stride] = static_cast<float>(src[x]);
    return;
  }
  const LumaTables& t = Tables();
  for (int x = 0; x < width; ++x) {
    dst[x * stride] = (t.r[src[3 * x]] + t.g[src[3 * x + 1]]) + t.b[src[3 * x + 2]];
  }
}

}  // namespace

void ComputeLuma(const Image& image, float* out) {
  for (int y = 0; y < image.height; ++y) {
    LumaRow(image.row(y), image.width, image.channels, out + static_cast<size_t>(y) * image.width, 1);
  }
}

void LumaOfRow(const uint8_t* row, int width, int channels, float* out) {
  LumaRow(row, width, channels, out, 1);
}

void GreyExactLumaOfRgbRow(const uint8_t* row, int width, float* out) {
  const LumaTables& t = Tables();
  for (int x = 0; x < width; ++x) {
    const uint8_t r = row[3 * x], g = row[3 * x + 1], b = row[3 * x + 2];
    out[x] = r == g && g == b ? static_cast<float>(r) : (t.r[r] + t.g[g]) + t.b[b];
  }
}

void ComputeLumaRow(const Image& image, int y, float* out, int stride) {
  LumaRow(image.row(y), image.width, image.channels, out, static_cast<size_t>(stride));
}

}  // namespace optout::pdq
