#include "client/pdq/prescale.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace optout::pdq {
namespace {

// CImg computes the source index as floor(x * W / 512) in double; for these
// magnitudes the double result is exact, so integer arithmetic is identical.
int SourceIndex(int out_index, int source_len, int out_len) {
  return static_cast<int>(static_cast<int64_t>(out_index) * source_len / out_len);
}

bool RowIsGrey(const uint8_t* row, int width) {
  // Branch-free accumulation so the compiler can vectorise the scan.
  unsigned diff = 0;
  for (int x = 0; x < width; ++x) {
    diff |= static_cast<unsigned>(row[3 * x] ^ row[3 * x + 1]) |
            static_cast<unsigned>(row[3 * x + 1] ^ row[3 * x + 2]);
  }
  return diff == 0;
}

}  // namespace

void PrescaleSink::Begin(int width, int height, int channels) {
  source_width_ = width;
  source_height_ = height;
  all_grey_ = channels == 3;
  next_out_row_ = 0;
  const bool resize = max_side_ > 0 && (width > max_side_ || height > max_side_);
  out_.width = resize ? max_side_ : width;
  out_.height = resize ? max_side_ : height;
  out_.channels = channels;
  out_.pixels.assign(out_.row_bytes() * out_.height, 0);
  source_x_.resize(out_.width);
  for (int x = 0; x < out_.width; ++x) {
    source_x_[x] = SourceIndex(x, width, out_.width) * channels;
  }
}

void PrescaleSink::PutRow(int y, const uint8_t* row) {
  if (all_grey_ && !RowIsGrey(row, source_width_)) all_grey_ = false;
  const int channels = out_.channels;
  while (next_out_row_ < out_.height &&
         SourceIndex(next_out_row_, source_height_, out_.height) == y) {
    uint8_t* dst = out_.row(next_out_row_);
    if (out_.width == source_width_) {
      std::memcpy(dst, row, out_.row_bytes());
    } else if (channels == 3) {
      for (int x = 0; x < out_.width; ++x) {
        const uint8_t* src = row + source_x_[x];
        dst[3 * x] = src[0];
        dst[3 * x + 1] = src[1];
        dst[3 * x + 2] = src[2];
      }
    } else {
      for (int x = 0; x < out_.width; ++x) dst[x] = row[source_x_[x]];
    }
    ++next_out_row_;
  }
}

Image PrescaleSink::Finish() {
  if (out_.channels == 3 && all_grey_) {
    const size_t n = static_cast<size_t>(out_.width) * out_.height;
    for (size_t i = 0; i < n; ++i) out_.pixels[i] = out_.pixels[3 * i];
    out_.pixels.resize(n);
    out_.channels = 1;
  }
  return std::move(out_);
}

Image Prescale(const Image& source, int max_side) {
  PrescaleSink sink(max_side);
  sink.Begin(source.width, source.height, source.channels);
  for (int y = 0; y < source.height; ++y) sink.PutRow(y, source.row(y));
  return sink.Finish();
}

}  // namespace optout::pdq
