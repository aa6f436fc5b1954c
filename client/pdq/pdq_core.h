// File: client/pdq/pdq_core.h
//
// The PDQ core without Abseil (README.md, #luma to #dihedral-variants):
// 8-bit pixels -> luma -> Jarosz filter -> 64x64 -> 16x16 DCT -> median
// threshold -> 256-bit hash, plus the quality metric and the 8 dihedral
// variants. Bit-exact with the reference C++ (facebook/ThreatExchange
// pdq/cpp) when given the same pixels. It builds natively and with em++ for
// the web page (web/wasm/), so both compute hashes from one source;
// pdq_hasher.h adds Status errors for native callers.
//
// No file conventions here: callers that want the reference *file* hasher's
// result apply Prescale() (prescale.h) first. Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_PDQ_CORE_H_
#define OPTOUT_CLIENT_PDQ_PDQ_CORE_H_

#include <array>

#include "client/pdq/image.h"
#include "client/pdq/pdq_hash.h"

namespace optout::pdq {

// Smallest side the reference hashes (MIN_HASHABLE_DIM); below it the
// reference returns an all-zero hash, which we report as an error instead.
inline constexpr int kMinHashableSide = 5;

// Order of the reference's --pdqdih output (README.md#dihedral-variants).
enum DihedralIndex {
  kOriginal = 0,
  kRotate90 = 1,    // 90 degrees counter-clockwise
  kRotate180 = 2,
  kRotate270 = 3,   // 90 degrees clockwise
  kFlipX = 4,       // top and bottom swap
  kFlipY = 5,       // left and right swap (mirror)
  kFlipPlus1 = 6,   // transpose
  kFlipMinus1 = 7,  // anti-transpose
};

struct PdqResult {
  PdqHash hash;
  int quality = 0;  // 0..100; below 50 the hash is unreliable
  // Filled only when requested. For an exactly 64x64 input the reference's
  // dihedral path filters while its plain path does not, so dihedral[0] may
  // then differ from `hash`; both follow the reference.
  std::array<PdqHash, 8> dihedral{};
};

// Why pixels cannot be hashed, if they cannot.
enum class PixelsProblem {
  kNone,
  kChannels,     // channels is not 1 or 3
  kTooSmall,     // a side is shorter than kMinHashableSide
  kBufferSize,   // pixels.size() does not match width x height x channels
};
PixelsProblem CheckPixels(const Image& image);

// Hashes `image` as given (no pre-scale). Requires CheckPixels(image) ==
// PixelsProblem::kNone.
PdqResult HashCheckedPixels(const Image& image, bool with_dihedral);

// Stages, exposed for benchmarks and tests.
// Quality of the 64x64 matrix `a` (README.md#quality).
int QualityOf64(const float* a);
// Bits of the 16x16 DCT `b`: bit 16*i+j set iff b[16*i+j] > lower median.
PdqHash BitsOf16(const float* b);
// The 8 dihedral hashes from the 16x16 DCT `b`.
std::array<PdqHash, 8> DihedralBitsOf16(const float* b);
// The mirror's hash alone (left and right swapped: DihedralBitsOf16(b)[kFlipY])
// at one median selection instead of eight: checker regions send it
// (match_regions.h, RegionHash::mirror).
PdqHash MirrorBitsOf16(const float* b);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_PDQ_CORE_H_
