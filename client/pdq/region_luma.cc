#include "client/pdq/region_luma.h"

#include <cstddef>
#include <utility>

#include "client/pdq/luma.h"

namespace optout::pdq {
namespace {

thread_local std::vector<float> recycled;

}  // namespace

void RecycleLumaPlane(std::vector<float> v) {
  if (v.capacity() > recycled.capacity()) recycled = std::move(v);
}

void RegionLumaSink::Begin(int width, int height, int channels) {
  channels_ = channels;
  source_width_ = width;
  fx_ = (width + kMaxRegionLumaSide - 1) / kMaxRegionLumaSide;
  fy_ = (height + kMaxRegionLumaSide - 1) / kMaxRegionLumaSide;
  out_.width = width / fx_;
  out_.height = height / fy_;
  out_.v = std::move(recycled);
  recycled = std::vector<float>();
  out_.v.assign(static_cast<size_t>(out_.width) * out_.height, 0.0f);
  row_luma_.resize(width);
}

void RegionLumaSink::PutRow(int y, const uint8_t* row) {
  const int out_y = y / fy_;
  if (out_y >= out_.height) return;  // rows past the last whole block
  if (channels_ == 3) {
    // A grey pixel's luma is its value, as when the decoder hands grey rows
    // (a grey JPEG natively, RGBA in the web page): the same plane both ways.
    GreyExactLumaOfRgbRow(row, source_width_, row_luma_.data());
  } else {
    LumaOfRow(row, source_width_, channels_, row_luma_.data());
  }
  float* out = out_.v.data() + static_cast<size_t>(out_y) * out_.width;
  const float* in = row_luma_.data();
  // The common factors spelt out, so the compiler unrolls them; the same
  // additions in the same order.
  if (fx_ == 1) {
    for (int x = 0; x < out_.width; ++x) out[x] += in[x];
  } else if (fx_ == 2) {
    for (int x = 0; x < out_.width; ++x) out[x] = (out[x] + in[2 * x]) + in[2 * x + 1];
  } else {
    for (int x = 0; x < out_.width; ++x) {
      for (int dx = 0; dx < fx_; ++dx) out[x] += in[static_cast<size_t>(x) * fx_ + dx];
    }
  }
  if (y % fy_ == fy_ - 1 && fx_ * fy_ > 1) {
    const float scale = 1.0f / (fx_ * fy_);
    for (int x = 0; x < out_.width; ++x) out[x] *= scale;
  }
}

LumaPlane RegionLumaSink::Finish() { return std::move(out_); }

LumaPlane RegionLumaOf(const Image& image) {
  RegionLumaSink sink;
  sink.Begin(image.width, image.height, image.channels);
  for (int y = 0; y < image.height; ++y) sink.PutRow(y, image.row(y));
  return sink.Finish();
}

}  // namespace optout::pdq
