#include "client/pdq/jarosz_filter.h"

#include <algorithm>
#include <cstddef>
#include <memory>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace optout::pdq {
namespace {

constexpr int kOut = 64;

// out = sum / divisor, as the reference computes it. When the divisor is a
// power of two, sum * (1 / divisor) is the same real number, so IEEE rounding
// gives the same float (subnormals included) at a fraction of the cost; the
// 512-px pre-scaled axis has window 4, so this is the common case.
struct Divider {
  explicit Divider(int divisor)
      : d(static_cast<float>(divisor)),
        reciprocal(1.0f / static_cast<float>(divisor)),
        power_of_two((divisor & (divisor - 1)) == 0) {}
  float d;
  float reciprocal;
  bool power_of_two;
};

// One running-sum box pass along the first axis of a rows x cols matrix; every
// column is an independent line. The reference filters one line at a time;
// running all columns side by side performs, per column, exactly the same
// float32 operations in the same order (add the entering sample, subtract the
// leaving one, divide), so the result is identical while the loops vectorise.
//
// When `keep` is non-null only output rows keep[0..kOut) (ascending, repeats
// allowed) are stored, compacted: the running sum still visits every row, but
// rows nobody samples are never divided or stored.
void BoxPass(const float* in, float* out, int rows, int cols, int window, const int* keep,
             float* sum) {
  const int half = (window + 2) / 2;
  std::fill(sum, sum + cols, 0.0f);
  int read = 0, leave = 0, written = 0, next_keep = 0, count = 0;
  auto row = [&](int r) { return in + static_cast<size_t>(r) * cols; };

  // Stores the current sums as output row `written` (if wanted).
  auto emit = [&](int divisor_count) {
    const Divider div(divisor_count);
    auto store = [&](float* o) {
      if (div.power_of_two) {
        for (int c = 0; c < cols; ++c) o[c] = sum[c] * div.reciprocal;
      } else {
        for (int c = 0; c < cols; ++c) o[c] = sum[c] / div.d;
      }
    };
    if (keep == nullptr) {
      store(out + static_cast<size_t>(written) * cols);
    } else {
      float* first = nullptr;
      while (next_keep < kOut && keep[next_keep] == written) {
        float* o = out + static_cast<size_t>(next_keep) * cols;
        if (first == nullptr) {
          store(o);
          first = o;
        } else {
          std::copy(first, first + cols, o);
        }
        ++next_keep;
      }
    }
    ++written;
  };

  for (int k = 0; k < half - 1; ++k, ++count) {
    const float* p = row(read++);
    for (int c = 0; c < cols; ++c) sum[c] += p[c];
  }
  for (int k = 0; k < window - half + 1; ++k) {
    const float* p = row(read++);
    for (int c = 0; c < cols; ++c) sum[c] += p[c];
    emit(++count);
  }
  // Steady state: add, subtract and (when stored) divide in one sweep.
  const Divider div(window);
  for (int k = 0; k < rows - window; ++k) {
    const float* enter = row(read++);
    const float* exit = row(leave++);
    const bool store = keep == nullptr || (next_keep < kOut && keep[next_keep] == written);
    if (!store) {
      for (int c = 0; c < cols; ++c) sum[c] = (sum[c] + enter[c]) - exit[c];
      ++written;
      continue;
    }
    float* o = out + static_cast<size_t>(keep == nullptr ? written : next_keep) * cols;
    if (div.power_of_two) {
      for (int c = 0; c < cols; ++c) {
        const float s = (sum[c] + enter[c]) - exit[c];
        sum[c] = s;
        o[c] = s * div.reciprocal;
      }
    } else {
      for (int c = 0; c < cols; ++c) {
        const float s = (sum[c] + enter[c]) - exit[c];
        sum[c] = s;
        o[c] = s / div.d;
      }
    }
    if (keep != nullptr) {
      ++next_keep;
      // A short axis samples the same row more than once.
      while (next_keep < kOut && keep[next_keep] == written) {
        std::copy(o, o + cols, out + static_cast<size_t>(next_keep) * cols);
        ++next_keep;
      }
    }
    ++written;
  }
  for (int k = 0; k < half - 1; ++k) {
    const float* p = row(leave++);
    for (int c = 0; c < cols; ++c) sum[c] -= p[c];
    emit(--count);
  }
}

void Transpose(const float* in, float* out, int rows, int cols) {
  constexpr int kBlock = 8;
  for (int r0 = 0; r0 < rows; r0 += kBlock) {
    const int r1 = std::min(rows, r0 + kBlock);
    for (int c0 = 0; c0 < cols; c0 += kBlock) {
      const int c1 = std::min(cols, c0 + kBlock);
      int r = r0;
#if defined(__SSE2__)
      // 4x4 tiles through registers; shuffles only, so values are untouched.
      for (; r + 4 <= r1; r += 4) {
        int c = c0;
        for (; c + 4 <= c1; c += 4) {
          __m128 a = _mm_loadu_ps(in + static_cast<size_t>(r) * cols + c);
          __m128 b = _mm_loadu_ps(in + static_cast<size_t>(r + 1) * cols + c);
          __m128 d = _mm_loadu_ps(in + static_cast<size_t>(r + 2) * cols + c);
          __m128 e = _mm_loadu_ps(in + static_cast<size_t>(r + 3) * cols + c);
          _MM_TRANSPOSE4_PS(a, b, d, e);
          _mm_storeu_ps(out + static_cast<size_t>(c) * rows + r, a);
          _mm_storeu_ps(out + static_cast<size_t>(c + 1) * rows + r, b);
          _mm_storeu_ps(out + static_cast<size_t>(c + 2) * rows + r, d);
          _mm_storeu_ps(out + static_cast<size_t>(c + 3) * rows + r, e);
        }
        for (; c < c1; ++c) {
          for (int k = 0; k < 4; ++k) {
            out[static_cast<size_t>(c) * rows + r + k] = in[static_cast<size_t>(r + k) * cols + c];
          }
        }
      }
#endif
      for (; r < r1; ++r) {
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

void JaroszFilterAndDecimate(const float* luma, int height, int width, float* out) {
  const int wx = JaroszWindow(width);
  const int wy = JaroszWindow(height);
  // Pass 2 keeps 64 lines, which is more than an axis shorter than 64 px has.
  const size_t size = std::max(static_cast<size_t>(height) * width, static_cast<size_t>(kOut) * height);
  // Uninitialised on purpose: every element is written before it is read.
  std::unique_ptr<float[]> buf_a(new float[size]);
  std::unique_ptr<float[]> buf_b(new float[size]);
  std::unique_ptr<float[]> sum(new float[std::max({height, width, kOut})]);
  int rows_kept[kOut], cols_kept[kOut];
  SamplePositions(height, rows_kept);
  SamplePositions(width, cols_kept);
  float* a = buf_a.get();
  float* b = buf_b.get();

  // Horizontal passes run on the transposed image so that, like the vertical
  // ones, they sweep whole rows of independent lines.
  Transpose(luma, a, height, width);                     // a: W x H
  BoxPass(a, b, width, height, wx, nullptr, sum.get());  // pass 1, horizontal
  Transpose(b, a, width, height);                        // a: H x W
  BoxPass(a, b, height, width, wy, nullptr, sum.get());  // pass 1, vertical
  Transpose(b, a, height, width);                        // a: W x H
  // Pass 2, horizontal: only the 64 sampled columns are ever read again.
  BoxPass(a, b, width, height, wx, cols_kept, sum.get());  // b: 64 x H
  Transpose(b, a, kOut, height);                           // a: H x 64
  // Pass 2, vertical, on those 64 columns, keeping the 64 sampled rows.
  BoxPass(a, out, height, kOut, wy, rows_kept, sum.get());
}

}  // namespace optout::pdq
