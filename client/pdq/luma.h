// File: client/pdq/luma.h
//
// Luminance of 8-bit pixels as the PDQ reference computes it (README.md#luma):
// RGB -> ((0.299f*R) + (0.587f*G)) + (0.114f*B) in float32, grey copied as is.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_LUMA_H_
#define OPTOUT_CLIENT_PDQ_LUMA_H_

#include "client/pdq/image.h"

namespace optout::pdq {

// Writes width*height floats, row-major. `image.channels` must be 1 or 3.
void ComputeLuma(const Image& image, float* out);

// Row y only: writes image.width floats, x-th at out[x * stride].
void ComputeLumaRow(const Image& image, int y, float* out, int stride = 1);

// One row of `width` pixels of `channels` (1 or 3) samples: writes width floats.
void LumaOfRow(const uint8_t* row, int width, int channels, float* out);

// LumaOfRow of an RGB row (channels 3), except that a grey pixel (R == G ==
// B) gets its value itself, as it would in a grey row: region_luma.h's
// plane, in one pass.
void GreyExactLumaOfRgbRow(const uint8_t* row, int width, float* out);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_LUMA_H_
