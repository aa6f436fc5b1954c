// File: client/pdq/region_luma.h
//
// The luma plane image regions are hashed from (match_regions.h): the
// decoded image's luma, box-averaged by whole factors to at most
// kMaxRegionLumaSide a side, from every decoded row. The pre-scale's
// nearest-neighbour samples (prescale.h), which the plain hash keeps for
// bit-exactness, alias differently in an original and in its cropped or
// resized copies; averages of every pixel do not (README.md#matching).
//
// RegionLumaSink builds the plane while rows stream in (one row of sums
// held), so a decode can feed it next to the pre-scale (image_decoder.h).
// Abseil-free like pdq_core.h (it is built for WebAssembly too). Not
// thread-safe (one decode); LumaPlane is a plain value.
#ifndef OPTOUT_CLIENT_PDQ_REGION_LUMA_H_
#define OPTOUT_CLIENT_PDQ_REGION_LUMA_H_

#include <vector>

#include "client/pdq/image.h"

namespace optout::pdq {

// Longest side of the plane: each axis is shrunk by the smallest whole
// factor that brings it to this or less (a 960-px side becomes 480).
inline constexpr int kMaxRegionLumaSide = 512;

struct LumaPlane {
  int width = 0;
  int height = 0;
  std::vector<float> v;  // row-major, width * height
};

class RegionLumaSink final : public RowSink {
 public:
  RegionLumaSink() = default;
  RegionLumaSink(const RegionLumaSink&) = delete;
  RegionLumaSink& operator=(const RegionLumaSink&) = delete;

  void Begin(int width, int height, int channels) override;
  void PutRow(int y, const uint8_t* row) override;
  // The plane; call once, after the last PutRow().
  LumaPlane Finish();

 private:
  int channels_ = 0;
  int source_width_ = 0;
  int fx_ = 1, fy_ = 1;
  std::vector<float> row_luma_;
  LumaPlane out_;
};

// The same plane from a whole image.
LumaPlane RegionLumaOf(const Image& image);

// Hands a plane's memory back for the next plane built on this thread
// (RegionHasher does when it is destroyed): memory fresh from the system
// costs a page fault per 4 KiB, more than building the plane.
void RecycleLumaPlane(std::vector<float> v);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_REGION_LUMA_H_
