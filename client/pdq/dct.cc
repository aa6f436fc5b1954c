#include "client/pdq/dct.h"

#include <array>
#include <cmath>

namespace optout::pdq {
namespace {

constexpr int kN = 64;
constexpr int kF = 16;

struct DctMatrix {
  std::array<float, kF * kN> d;   // D[i][k] at d[kN * i + k]
  std::array<float, kN * kF> dt;  // D^T: D[j][k] at dt[kF * k + j]
  DctMatrix() {
    const float scale = static_cast<float>(std::sqrt(2.0 / kN));
    for (int i = 0; i < kF; ++i) {
      for (int k = 0; k < kN; ++k) {
        // Product and cosine in double, rounded once to float, as the
        // reference does; the argument grouping is part of the contract.
        const double v = scale * std::cos((M_PI / 2 / kN) * (i + 1) * (2 * k + 1));
        d[kN * i + k] = static_cast<float>(v);
        dt[kF * k + i] = static_cast<float>(v);
      }
    }
  }
};

const DctMatrix& Matrix() {
  static const DctMatrix* const matrix = new DctMatrix();
  return *matrix;
}

}  // namespace

void Dct64To16(const float* a, float* b) {
  const DctMatrix& m = Matrix();
  // T = D * A. T[i][j] accumulates k = 0..63 in order; looping k outside j
  // keeps that order per element and lets the j loop vectorise.
  float t[kF * kN];
  for (int i = 0; i < kF; ++i) {
    float* ti = t + kN * i;
    for (int j = 0; j < kN; ++j) ti[j] = 0.0f;
    for (int k = 0; k < kN; ++k) {
      const float dik = m.d[kN * i + k];
      const float* ak = a + kN * k;
      for (int j = 0; j < kN; ++j) ti[j] += dik * ak[j];
    }
  }
  // B = T * D^T: B[i][j] = sum_k T[i][k] * D[j][k], same ordering argument.
  for (int i = 0; i < kF; ++i) {
    float* bi = b + kF * i;
    for (int j = 0; j < kF; ++j) bi[j] = 0.0f;
    for (int k = 0; k < kN; ++k) {
      const float tik = t[kN * i + k];
      const float* dtk = m.dt.data() + kF * k;
      for (int j = 0; j < kF; ++j) bi[j] += tik * dtk[j];
    }
  }
}

}  // namespace optout::pdq
