// File: client/pdq/image.h
//
// Image: an 8-bit pixel matrix, the input of the PDQ core
// (README.md#input-pixels).
// RowSink: how decoders hand rows to their consumer, so that large images can
// be reduced while they are decoded instead of being held whole.
//
// Image is a plain value type. A RowSink is used by one thread at a time.
#ifndef OPTOUT_CLIENT_PDQ_IMAGE_H_
#define OPTOUT_CLIENT_PDQ_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace optout::pdq {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 = grey, 3 = R,G,B
  // Row-major, width * channels bytes per row, no padding.
  std::vector<uint8_t> pixels;

  size_t row_bytes() const { return static_cast<size_t>(width) * channels; }
  const uint8_t* row(int y) const { return pixels.data() + row_bytes() * y; }
  uint8_t* row(int y) { return pixels.data() + row_bytes() * y; }
};

// Receives a decoded image row by row. Decoders call Begin() once (after the
// header has been read and the size checked against the limit), then
// PutRow() exactly once for every y = 0 .. height-1, in increasing order.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // `channels` is 1 (grey) or 3 (R,G,B); samples are 8-bit.
  virtual void Begin(int width, int height, int channels) = 0;
  // `row` holds width * channels bytes and is only valid during the call.
  virtual void PutRow(int y, const uint8_t* row) = 0;
};

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_IMAGE_H_
