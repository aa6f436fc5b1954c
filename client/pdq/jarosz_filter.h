// File: client/pdq/jarosz_filter.h
//
// The reference's "Jarosz" tent filter and decimation to 64x64
// (README.md#jarosz-filter): two passes, each a running-sum box filter along
// every row (window ceil(W/128)) then every column (window ceil(H/128)), then
// point samples at the 64x64 block centres. Bit-exact with the reference's
// float32 arithmetic. Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_JAROSZ_FILTER_H_
#define OPTOUT_CLIENT_PDQ_JAROSZ_FILTER_H_

#include <vector>

#include "client/pdq/image.h"

namespace optout::pdq {

// Box window for an axis of `length` samples: (length + 127) / 128.
int JaroszWindow(int length);

// Working memory of the filter, kept by a caller that filters many images
// (the region hashes of match_regions.h): memory fresh from the system
// costs a page fault per 4 KiB, which made up most of a region's hashing
// time. Results do not depend on it.
struct JaroszScratch {
  std::vector<float> a, b, sum, strip, filtered, columns;
};

// `luma` is the H x W luma, row-major. Writes the 64x64 matrix A row-major
// (A[i][j] at out[64 * i + j], i = vertical). height, width >= 1. With
// `scratch`, its buffers are used (and grown) instead of allocating.
void JaroszFilterAndDecimate(const float* luma, int height, int width, float* out,
                             JaroszScratch* scratch = nullptr);

// Same result as ComputeLuma (luma.h) followed by JaroszFilterAndDecimate,
// computing luma rows as the filter consumes them. image.channels is 1 or 3.
void LumaFilterAndDecimate(const Image& image, float* out);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_JAROSZ_FILTER_H_
