// File: client/common/protocol/pdq_quality.h
//
// The PDQ quality floor: hashes of flat or tiny images (quality below the
// floor) match unrelated images, so the server refuses them and clients fall
// back to file digests for such images. The server reports its floor in
// GetInfoResponse.min_pdq_quality; this is the default on both sides. Hashes
// between a lower floor and the minimum form a low-quality tier, matched at
// a stricter distance (PdqQualityFloors).
#ifndef OPTOUT_CLIENT_COMMON_PROTOCOL_PDQ_QUALITY_H_
#define OPTOUT_CLIENT_COMMON_PROTOCOL_PDQ_QUALITY_H_

#include "optout/v1/optout.pb.h"

namespace optout::protocol {

// optoutd's --min_pdq_quality default, on the 0..100 PDQ quality scale.
inline constexpr int kDefaultMinPdqQuality = 50;

// optoutd's --low_quality_pdq_floor and --low_quality_pdq_distance
// defaults: hashes of quality 15..49 form the low-quality tier, matched
// within 20 bits (README.md#matching has the measurements).
inline constexpr int kDefaultLowQualityPdqFloor = 15;
inline constexpr int kDefaultLowQualityPdqDistance = 20;

// The floor a client applies before sending a hash: the server's, or the
// default when the server does not report one (0).
inline int MinPdqQuality(const v1::GetInfoResponse& info) {
  return info.min_pdq_quality() > 0 ? info.min_pdq_quality() : kDefaultMinPdqQuality;
}

// What a client sends of an image by its PDQ quality: nothing below the
// low-quality floor, low-quality hashes (PdqHash.quality below the minimum,
// packed items flagged in PackedItems.pdq_low_quality) from there, normal
// ones from the minimum up.
struct PdqQualityFloors {
  int min = kDefaultMinPdqQuality;
  int low = kDefaultMinPdqQuality;  // == min: no low-quality tier
  // The server matches each region by its own quality too
  // (GetInfoResponse.pdq_region_tiers): regions are sent from the low floor
  // up with their qualities, whatever the image's tier.
  bool region_tiers = false;
  // The server searches the mirrors of a check's regions
  // (GetInfoResponse.pdq_region_mirrors): checks send
  // PdqHash.region_mirrors. Not a floor, but learnt from the same answer.
  bool region_mirrors = false;
  bool Usable(int quality) const { return quality >= low; }
  bool Low(int quality) const { return quality < min; }
  // The floor for region hashes of an image of `quality`: the low floor
  // with region tiers, else its own tier's.
  int RegionFloor(int quality) const { return region_tiers || Low(quality) ? low : min; }
  // Whether a region of `region_quality` of an image of `image_quality` is
  // matched as low-quality: when its image is, and with region tiers also
  // when it is itself (a region is normal only when it and its image are).
  bool RegionLow(int image_quality, int region_quality) const {
    return Low(image_quality) || (region_tiers && Low(region_quality));
  }
};

// The server's floors; a server that reports no low-quality tier (older
// ones: 0) refuses such hashes, so the low floor is then the minimum.
inline PdqQualityFloors PdqFloors(const v1::GetInfoResponse& info) {
  PdqQualityFloors floors;
  floors.min = MinPdqQuality(info);
  floors.low = info.low_quality_pdq_floor() > 0 && info.low_quality_pdq_floor() < floors.min
                   ? info.low_quality_pdq_floor()
                   : floors.min;
  floors.region_tiers = info.pdq_region_tiers() && floors.low < floors.min;
  floors.region_mirrors = info.pdq_region_mirrors();
  return floors;
}

}  // namespace optout::protocol

#endif  // OPTOUT_CLIENT_COMMON_PROTOCOL_PDQ_QUALITY_H_
