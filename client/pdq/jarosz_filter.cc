#include "client/pdq/jarosz_filter.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace optout::pdq {
namespace {

constexpr int kOut = 64;

// One running-sum box pass along the first axis of a rows x cols matrix; every
// column is an independent line. The reference filters one line at a time;
// running all columns side by side performs, per column, exactly the same
// float32 operations in the same order, so the result is identical while the
// inner loops vectorise.
//
// When `keep` is non-null only output rows keep[0..kOut) (ascending, repeats
// allowed) are stored, compacted: the running sum still visits every row, but
// the divisions and stores of rows nobody samples are skipped.
void BoxPass(const float* in, float* out, int rows, int cols, int window, const int* keep,
             float* sum) {
  const int half = (window + 2) / 2;
  std::fill(sum, sum + cols, 0.0f);
  int read = 0, leave = 0, written = 0, next_keep = 0, count = 0;

  auto add = [&](int r) {
    const float* p = in + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) sum[c] += p[c];
  };
  auto sub = [&](int r) {
    const float* p = in + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) sum[c] -= p[c];
  };
  auto emit = [&](int divisor_count) {
    const float divisor = static_cast<float>(divisor_count);
    if (keep == nullptr) {
      float* o = out + static_cast<size_t>(written) * cols;
      for (int c = 0; c < cols; ++c) o[c] = sum[c] / divisor;
    } else {
      while (next_keep < kOut && keep[next_keep] == written) {
        float* o = out + static_cast<size_t>(next_keep) * cols;
        for (int c = 0; c < cols; ++c) o[c] = sum[c] / divisor;
        ++next_keep;
      }
    }
    ++written;
  };

  for (int k = 0; k < half - 1; ++k) {
    add(read++);
    ++count;
  }
  for (int k = 0; k < window - half + 1; ++k) {
    add(read++);
    ++count;
    emit(count);
  }
  for (int k = 0; k < rows - window; ++k) {
    add(read++);
    sub(leave++);
    emit(window);
  }
  for (int k = 0; k < half - 1; ++k) {
    sub(leave++);
    --count;
    emit(count);
  }
}

void Transpose(const float* in, float* out, int rows, int cols) {
  constexpr int kBlock = 16;
  for (int r0 = 0; r0 < rows; r0 += kBlock) {
    const int r1 = std::min(rows, r0 + kBlock);
    for (int c0 = 0; c0 < cols; c0 += kBlock) {
      const int c1 = std::min(cols, c0 + kBlock);
      for (int r = r0; r < r1; ++r) {
        for (int c = c0; c < c1; ++c) {
          out[static_cast<size_t>(c) * rows + r] = in[static_cast<size_t>(r) * cols + c];
        }
      }
    }
  }
}

// Decimation sample positions floor((i + 0.5) * n / 64), exact in integers.
void SamplePositions(int n, int* positions) {
  for (int i = 0; i < kOut; ++i) positions[i] = static_cast<int>((2LL * i + 1) * n / (2 * kOut));
}

}  // namespace

int JaroszWindow(int length) { return (length + 127) / 128; }

void JaroszFilterAndDecimate(float* luma_transposed, int height, int width, float* out) {
  const int wx = JaroszWindow(width);
  const int wy = JaroszWindow(height);
  const size_t n = static_cast<size_t>(height) * width;
  // Pass 2 keeps 64 lines, which is more than an axis shorter than 64 px has.
  std::vector<float> buf(std::max(n, static_cast<size_t>(kOut) * height));
  std::vector<float> narrow(static_cast<size_t>(kOut) * height);
  std::vector<float> sum(std::max({height, width, kOut}));
  int rows_kept[kOut], cols_kept[kOut];
  SamplePositions(height, rows_kept);
  SamplePositions(width, cols_kept);
  float* t = luma_transposed;  // W x H
  float* b = buf.data();

  // Pass 1, horizontal: lines are the rows of the image = rows of t's columns.
  BoxPass(t, b, width, height, wx, nullptr, sum.data());  // b: W x H
  Transpose(b, t, width, height);                         // t: H x W
  // Pass 1, vertical.
  BoxPass(t, b, height, width, wy, nullptr, sum.data());  // b: H x W
  Transpose(b, t, height, width);                         // t: W x H
  // Pass 2, horizontal: only the 64 sampled columns are ever read again.
  BoxPass(t, b, width, height, wx, cols_kept, sum.data());  // b: 64 x H
  Transpose(b, narrow.data(), kOut, height);                // narrow: H x 64
  // Pass 2, vertical, on the 64 sampled columns, keeping the 64 sampled rows.
  BoxPass(narrow.data(), out, height, kOut, wy, rows_kept, sum.data());  // out: 64 x 64
}

}  // namespace optout::pdq
