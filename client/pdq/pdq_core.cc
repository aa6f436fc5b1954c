#include "client/pdq/pdq_core.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "client/pdq/dct.h"
#include "client/pdq/jarosz_filter.h"
#include "client/pdq/luma.h"

namespace optout::pdq {
namespace {

constexpr int kA = 64;
constexpr int kB = 16;

// 64x64 matrix A of the reference: filtered and decimated luma, or for an
// exactly 64x64 image on the plain path, the luma itself.
void MatrixA(const Image& image, bool skip_filter_at_64, float* a) {
  if (skip_filter_at_64 && image.width == kA && image.height == kA) {
    ComputeLuma(image, a);
    return;
  }
  LumaFilterAndDecimate(image, a);
}

}  // namespace

int QualityOf64(const float* a) {
  int sum = 0;
  // Float32 difference scaled to percent of full range, truncated toward zero.
  auto step = [](float u, float v) { return std::abs(static_cast<int>((u - v) * 100.0f / 255.0f)); };
  for (int i = 0; i + 1 < kA; ++i) {
    for (int j = 0; j < kA; ++j) sum += step(a[kA * i + j], a[kA * (i + 1) + j]);
  }
  for (int i = 0; i < kA; ++i) {
    for (int j = 0; j + 1 < kA; ++j) sum += step(a[kA * i + j], a[kA * i + j + 1]);
  }
  return std::min(sum / 90, 100);
}

PdqHash BitsOf16(const float* b) {
  // Torben's selection in the reference returns the 128th smallest of 256.
  float sorted[kB * kB];
  std::copy(b, b + kB * kB, sorted);
  std::nth_element(sorted, sorted + 127, sorted + kB * kB);
  const float median = sorted[127];
  PdqHash hash;
  for (int k = 0; k < kB * kB; ++k) {
    if (b[k] > median) hash.set_bit(k);
  }
  return hash;
}

std::array<PdqHash, 8> DihedralBitsOf16(const float* b) {
  // Mirroring an axis multiplies frequency u = index + 1 by (-1)^u, so even
  // indices change sign; rotations and transposes also swap the axes.
  std::array<PdqHash, 8> out;
  float c[kB * kB];
  auto build = [&](bool transpose, auto sign) {
    for (int i = 0; i < kB; ++i) {
      for (int j = 0; j < kB; ++j) {
        const float v = sign(i, j) ? -b[kB * i + j] : b[kB * i + j];
        c[transpose ? kB * j + i : kB * i + j] = v;
      }
    }
    return BitsOf16(c);
  };
  auto even = [](int x) { return x % 2 == 0; };
  out[kOriginal] = BitsOf16(b);
  out[kRotate90] = build(true, [&](int, int j) { return even(j); });
  out[kRotate180] = build(false, [](int i, int j) { return (i + j) % 2 == 1; });
  out[kRotate270] = build(true, [&](int i, int) { return even(i); });
  out[kFlipX] = build(false, [&](int i, int) { return even(i); });
  out[kFlipY] = build(false, [&](int, int j) { return even(j); });
  out[kFlipPlus1] = build(true, [](int, int) { return false; });
  out[kFlipMinus1] = build(true, [](int i, int j) { return (i + j) % 2 == 1; });
  return out;
}

PdqHash MirrorBitsOf16(const float* b) {
  // As DihedralBitsOf16's kFlipY: even column indices change sign.
  float c[kB * kB];
  for (int i = 0; i < kB; ++i) {
    for (int j = 0; j < kB; ++j) c[kB * i + j] = j % 2 == 0 ? -b[kB * i + j] : b[kB * i + j];
  }
  return BitsOf16(c);
}

PixelsProblem CheckPixels(const Image& image) {
  if (image.channels != 1 && image.channels != 3) return PixelsProblem::kChannels;
  if (image.width < kMinHashableSide || image.height < kMinHashableSide) {
    return PixelsProblem::kTooSmall;
  }
  if (image.pixels.size() != image.row_bytes() * image.height) return PixelsProblem::kBufferSize;
  return PixelsProblem::kNone;
}

PdqResult HashCheckedPixels(const Image& image, bool with_dihedral) {
  PdqResult result;
  float a[kA * kA];
  float b[kB * kB];
  MatrixA(image, /*skip_filter_at_64=*/true, a);
  result.quality = QualityOf64(a);
  Dct64To16(a, b);
  result.hash = BitsOf16(b);
  if (with_dihedral) {
    if (image.width == kA && image.height == kA) {
      MatrixA(image, /*skip_filter_at_64=*/false, a);
      Dct64To16(a, b);
    }
    result.dihedral = DihedralBitsOf16(b);
  }
  return result;
}

}  // namespace optout::pdq
