// File: client/pdq/dct.h
//
// The reference's 64x64 -> 16x16 DCT (README.md#dct): B = D * A * D^T with
// the 16x64 matrix D[i][j] = float(sqrt(2/64)) * cos(pi/2/64 * (i+1) * (2j+1)),
// float32 accumulators summing k = 0..63 in order, no fused multiply-add.
// Pure functions; thread-safe (D is built once, then read-only).
#ifndef OPTOUT_CLIENT_PDQ_DCT_H_
#define OPTOUT_CLIENT_PDQ_DCT_H_

namespace optout::pdq {

// `a` is 64x64 row-major (first index vertical); writes `b` 16x16 row-major,
// b[16 * i + j] with i the vertical and j the horizontal frequency minus 1.
void Dct64To16(const float* a, float* b);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_DCT_H_
