#include "client/pdq/jarosz_filter.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "client/pdq/luma.h"

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
// `sum` is scratch for `cols` floats.
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

// Lines per strip: 4 SSE registers of 4, so four independent running-sum
// chains hide the add/sub latency that a single chain would wait on.
constexpr int kLanes = 16;
constexpr int kRegs = kLanes / 4;

#if defined(__SSE2__)
// BoxPass on a strip, written with SSE registers: the running sums of the 16
// lines of a strip live in four registers. Lane-wise add, sub, mul and div are the
// same IEEE operations as their scalar forms, so results are identical.
void BoxPassStrip(const float* in, float* out, int rows, int window, const int* keep) {
  const int half = (window + 2) / 2;
  __m128 sum[kRegs];
  for (__m128& s : sum) s = _mm_setzero_ps();
  int read = 0, leave = 0, written = 0, next_keep = 0, count = 0;
  auto line = [&](int r) { return in + static_cast<size_t>(r) * kLanes; };
  auto add = [&](int r) {
    for (int g = 0; g < kRegs; ++g) sum[g] = _mm_add_ps(sum[g], _mm_loadu_ps(line(r) + 4 * g));
  };
  auto sub = [&](int r) {
    for (int g = 0; g < kRegs; ++g) sum[g] = _mm_sub_ps(sum[g], _mm_loadu_ps(line(r) + 4 * g));
  };
  auto store_at = [&](int index, const Divider& div) {
    float* o = out + static_cast<size_t>(index) * kLanes;
    for (int g = 0; g < kRegs; ++g) {
      const __m128 v = div.power_of_two ? _mm_mul_ps(sum[g], _mm_set1_ps(div.reciprocal))
                                        : _mm_div_ps(sum[g], _mm_set1_ps(div.d));
      _mm_storeu_ps(o + 4 * g, v);
    }
  };
  auto emit = [&](const Divider& div) {
    if (keep == nullptr) {
      store_at(written, div);
    } else {
      while (next_keep < kOut && keep[next_keep] == written) store_at(next_keep++, div);
    }
    ++written;
  };
  for (int k = 0; k < half - 1; ++k, ++count) add(read++);
  for (int k = 0; k < window - half + 1; ++k) {
    add(read++);
    emit(Divider(++count));
  }
  const Divider div(window);
  for (int k = 0; k < rows - window; ++k) {
    add(read++);
    sub(leave++);
    emit(div);
  }
  for (int k = 0; k < half - 1; ++k) {
    sub(leave++);
    emit(Divider(--count));
  }
}
#else
void BoxPassStrip(const float* in, float* out, int rows, int window, const int* keep) {
  float sum[kLanes];
  BoxPass(in, out, rows, kLanes, window, keep, sum);
}
#endif

// strip[x * kLanes + k] = rows[k][x], x = 0 .. width-1; lanes past n are
// zero (their results are discarded).
void Interleave(const float* const* rows, int width, int n, float* strip) {
  int x = 0;
#if defined(__SSE2__)
  if (n == kLanes) {
    // 4x4 tiles through registers; shuffles only, so values are untouched.
    for (; x + 4 <= width; x += 4) {
      for (int g = 0; g < kRegs; ++g) {
        const float* const* r = rows + 4 * g;
        __m128 a = _mm_loadu_ps(r[0] + x), b = _mm_loadu_ps(r[1] + x);
        __m128 c = _mm_loadu_ps(r[2] + x), d = _mm_loadu_ps(r[3] + x);
        _MM_TRANSPOSE4_PS(a, b, c, d);
        float* dst = strip + static_cast<size_t>(x) * kLanes + 4 * g;
        _mm_storeu_ps(dst, a);
        _mm_storeu_ps(dst + kLanes, b);
        _mm_storeu_ps(dst + 2 * kLanes, c);
        _mm_storeu_ps(dst + 3 * kLanes, d);
      }
    }
  }
#endif
  for (; x < width; ++x) {
    for (int k = 0; k < kLanes; ++k) strip[static_cast<size_t>(kLanes) * x + k] = k < n ? rows[k][x] : 0.0f;
  }
}

// Inverse of Interleave for the first n lanes of a strip of `width`
// columns: lane k goes to rows[k] (k < n; rows[n..kLanes) may repeat
// rows[n - 1], they are not written).
void DeinterleaveRows(const float* strip, int width, int n, float* const* rows) {
  int x = 0;
#if defined(__SSE2__)
  if (n == kLanes) {
    for (; x + 4 <= width; x += 4) {
      for (int g = 0; g < kRegs; ++g) {
        const float* src = strip + static_cast<size_t>(x) * kLanes + 4 * g;
        __m128 a = _mm_loadu_ps(src), b = _mm_loadu_ps(src + kLanes);
        __m128 c = _mm_loadu_ps(src + 2 * kLanes), d = _mm_loadu_ps(src + 3 * kLanes);
        _MM_TRANSPOSE4_PS(a, b, c, d);
        _mm_storeu_ps(rows[4 * g] + x, a);
        _mm_storeu_ps(rows[4 * g + 1] + x, b);
        _mm_storeu_ps(rows[4 * g + 2] + x, c);
        _mm_storeu_ps(rows[4 * g + 3] + x, d);
      }
    }
  }
#endif
  for (; x < width; ++x) {
    for (int k = 0; k < n; ++k) rows[k][x] = strip[static_cast<size_t>(kLanes) * x + k];
  }
}

// The same into rows r0 .. r0+n-1 of a row-major matrix `width` wide.
void Deinterleave(const float* strip, int width, int r0, int n, float* out) {
  float* rows[kLanes];
  for (int k = 0; k < kLanes; ++k) rows[k] = out + static_cast<size_t>(r0 + std::min(k, n - 1)) * width;
  DeinterleaveRows(strip, width, n, rows);
}

// Strip filler for a row-major matrix.
auto MatrixRows(const float* in, int width) {
  return [in, width](int r0, int n, float* strip) {
    const float* rows[kLanes];
    for (int k = 0; k < kLanes; ++k) rows[k] = in + static_cast<size_t>(r0 + std::min(k, n - 1)) * width;
    Interleave(rows, width, n, strip);
  };
}

// Decimation sample positions floor((i + 0.5) * n / 64), exact in integers.
void SamplePositions(int n, int* positions) {
  for (int i = 0; i < kOut; ++i) positions[i] = static_cast<int>((2LL * i + 1) * n / (2 * kOut));
}

// BoxPass(keep = nullptr) down the columns of a rows x cols matrix whose
// rows are asked for one at a time, in order, through in_row(r) (each
// stays readable until the pass has read `window` more), each output row
// going to out_row(j) and then announced by done(j): the same float32
// operations in the same order, so the same result, without the whole
// matrix in memory. `sum` is scratch for `cols` floats.
template <typename InRow, typename OutRow, typename Done>
void ColumnBoxPass(InRow in_row, OutRow out_row, Done done, int rows, int cols, int window,
                   float* sum) {
  const int half = (window + 2) / 2;
  std::fill(sum, sum + cols, 0.0f);
  int read = 0, leave = 0, written = 0, count = 0;
  auto emit = [&](int divisor_count) {
    const Divider div(divisor_count);
    float* o = out_row(written);
    if (div.power_of_two) {
      for (int c = 0; c < cols; ++c) o[c] = sum[c] * div.reciprocal;
    } else {
      for (int c = 0; c < cols; ++c) o[c] = sum[c] / div.d;
    }
    done(written++);
  };
  for (int k = 0; k < half - 1; ++k, ++count) {
    const float* p = in_row(read++);
    for (int c = 0; c < cols; ++c) sum[c] += p[c];
  }
  for (int k = 0; k < window - half + 1; ++k) {
    const float* p = in_row(read++);
    for (int c = 0; c < cols; ++c) sum[c] += p[c];
    emit(++count);
  }
  const Divider div(window);
  for (int k = 0; k < rows - window; ++k) {
    const float* enter = in_row(read++);
    const float* exit = in_row(leave++);
    float* o = out_row(written);
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
    done(written++);
  }
  for (int k = 0; k < half - 1; ++k) {
    const float* p = in_row(leave++);
    for (int c = 0; c < cols; ++c) sum[c] -= p[c];
    emit(--count);
  }
}

// `fill_first_pass(r0, n, strip)` writes rows r0 .. r0+n-1 interleaved into
// `strip` (strip[x * kLanes + k] = row r0+k, column x) and zeroes lanes
// n .. kLanes-1: rows are filtered kLanes at a time in that small strip (one
// SIMD lane per row), which keeps the serial running sums fast without
// transposing the whole image. Every buffer is taken from `scratch` (grown
// as needed) when it is given, else allocated for this call.
//
// The passes stream: pass 1 along the rows makes kLanes rows at a time into
// a ring of rows, pass 1 down the columns reads them from there as it
// needs them, and pass 2 along the rows takes each kLanes rows it makes.
// Only pass 2's height x 64 result is whole in memory: a 512 x 512 input
// touches ~0.3 MB instead of 2 MB, and memory fresh from the system costs
// a page fault per 4 KiB, on some virtual machines more than the filter.
template <typename Fill>
void FilterAndDecimate(Fill fill_first_pass, int height, int width, float* out,
                       JaroszScratch* scratch) {
  const int wx = JaroszWindow(width);
  const int wy = JaroszWindow(height);
  // Pass 2 keeps 64 columns, which is more than an image narrower than 64 px has.
  const int line = std::max(width, kOut);
  // Pass 1 down the columns reads row r - wy last when it reads row r, and
  // asking for row r makes up to kLanes rows from r on: the ring holds them.
  const int ring = kLanes + wy + 1;
  const size_t strip_size = static_cast<size_t>(line) * kLanes;
  // Uninitialised on purpose: every element is written before it is read.
  std::unique_ptr<float[]> own[6];
  auto take = [&](std::vector<float> JaroszScratch::*member, size_t n, int slot) {
    if (scratch == nullptr) {
      own[slot].reset(new float[n]);
      return own[slot].get();
    }
    std::vector<float>& v = scratch->*member;
    if (v.size() < n) v.resize(n);  // grown, never shrunk
    return v.data();
  };
  float* ring_rows = take(&JaroszScratch::a, static_cast<size_t>(ring) * line, 0);
  float* block = take(&JaroszScratch::b, strip_size, 1);
  float* sum = take(&JaroszScratch::sum, line, 2);
  float* strip = take(&JaroszScratch::strip, strip_size, 3);
  float* filtered = take(&JaroszScratch::filtered, strip_size, 4);
  float* columns = take(&JaroszScratch::columns, static_cast<size_t>(height) * kOut, 5);
  int rows_kept[kOut], cols_kept[kOut];
  SamplePositions(height, rows_kept);
  SamplePositions(width, cols_kept);

  int made = 0;  // rows of pass 1 along the rows so far
  auto pass1_row = [&](int r) -> const float* {
    while (r >= made) {
      const int n = std::min(kLanes, height - made);
      fill_first_pass(made, n, strip);
      BoxPassStrip(strip, filtered, width, wx, nullptr);
      float* rows[kLanes];
      for (int k = 0; k < kLanes; ++k) {
        rows[k] = ring_rows + static_cast<size_t>((made + std::min(k, n - 1)) % ring) * line;
      }
      DeinterleaveRows(filtered, width, n, rows);
      made += n;
    }
    return ring_rows + static_cast<size_t>(r % ring) * line;
  };
  auto block_row = [&](int j) { return block + static_cast<size_t>(j % kLanes) * line; };
  // Pass 2 along the rows, only the 64 sampled columns, kLanes rows at a time.
  auto pass2_rows = [&](int j) {
    if (j % kLanes != kLanes - 1 && j != height - 1) return;
    const int n = j % kLanes + 1;
    const float* rows[kLanes];
    for (int k = 0; k < kLanes; ++k) rows[k] = block + static_cast<size_t>(std::min(k, n - 1)) * line;
    Interleave(rows, width, n, strip);
    BoxPassStrip(strip, filtered, width, wx, cols_kept);
    Deinterleave(filtered, kOut, j - (n - 1), n, columns);  // height x 64
  };
  ColumnBoxPass(pass1_row, block_row, pass2_rows, height, width, wy, sum);  // pass 1, columns
  BoxPass(columns, out, height, kOut, wy, rows_kept, sum);  // pass 2, columns: 64 x 64
}

}  // namespace

int JaroszWindow(int length) { return (length + 127) / 128; }

void JaroszFilterAndDecimate(const float* luma, int height, int width, float* out,
                             JaroszScratch* scratch) {
  FilterAndDecimate(MatrixRows(luma, width), height, width, out, scratch);
}

void LumaFilterAndDecimate(const Image& image, float* out) {
  // Luma is written straight into the filter's strips: the same values,
  // without a 1 MB round trip through memory.
  const int width = image.width;
  FilterAndDecimate(
      [&image, width](int r0, int n, float* strip) {
        for (int k = 0; k < n; ++k) ComputeLumaRow(image, r0 + k, strip + k, kLanes);
        for (int x = 0; x < width; ++x) {
          for (int k = n; k < kLanes; ++k) strip[static_cast<size_t>(x) * kLanes + k] = 0.0f;
        }
      },
      image.height, width, out, /*scratch=*/nullptr);
}

}  // namespace optout::pdq
