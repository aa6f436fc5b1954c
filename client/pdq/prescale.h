// File: client/pdq/prescale.h
//
// The reference file hasher's input conventions (README.md#input-pixels):
//  * an image wider or taller than 512 px is resized to exactly 512x512 by
//    nearest neighbour (aspect ratio not kept): destination (x, y) takes source
//    (floor(x*W/512), floor(y*H/512));
//  * a 3-channel image whose every pixel has R == G == B is handed to the core
//    as 1 grey channel (ImageMagick writes such images as grey PNM), which
//    selects the grey luma path.
//
// PrescaleSink applies both while rows stream in, so memory stays at one
// 512x512 image however large the source is. Not thread-safe (one decode).
#ifndef OPTOUT_CLIENT_PDQ_PRESCALE_H_
#define OPTOUT_CLIENT_PDQ_PRESCALE_H_

#include <vector>

#include "client/pdq/image.h"

namespace optout::pdq {

inline constexpr int kPrescaleSide = 512;

class PrescaleSink final : public RowSink {
 public:
  // `max_side` <= 0 keeps every image at its full size (grey folding still
  // applies); used to measure decoding on its own.
  explicit PrescaleSink(int max_side = kPrescaleSide) : max_side_(max_side) {}
  PrescaleSink(const PrescaleSink&) = delete;
  PrescaleSink& operator=(const PrescaleSink&) = delete;

  void Begin(int width, int height, int channels) override;
  void PutRow(int y, const uint8_t* row) override;

  // Size of the decoded source, valid after Begin().
  int source_width() const { return source_width_; }
  int source_height() const { return source_height_; }
  // The reduced image; call once, after the last PutRow().
  Image Finish();

 private:
  int max_side_;
  int source_width_ = 0;
  int source_height_ = 0;
  bool all_grey_ = true;
  int next_out_row_ = 0;
  std::vector<int> source_x_;  // byte offset in a source row, per output column
  Image out_;
};

// Same conventions applied to a whole decoded image (for benchmarks and tests).
Image Prescale(const Image& source, int max_side = kPrescaleSide);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_PRESCALE_H_
