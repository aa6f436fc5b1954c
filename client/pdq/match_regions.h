// File: client/pdq/match_regions.h
//
// Extra PDQ hashes of image regions, so that copies which are cropped,
// padded, framed, screenshotted or captioned still land near a registered
// hash (README.md#matching in the repository root has the measurements).
//
//  * The registering side (owner) hashes its image whole, with uniform
//    borders trimmed, and a fixed set of sub-windows: centred crops, social
//    aspect crops, off-centre crops and small rotations (OwnerRegions).
//  * The checking side hashes the candidate with uniform borders and
//    caption-like bars trimmed (CheckerRegions): what is left of a padded,
//    framed or screenshotted copy is the original picture; a turned copy
//    is hashed again with its blank corners filled (rotation_wedges.h).
//
// Regions are cut from the luma of every decoded pixel, box-averaged to at
// most 512 a side (region_luma.h), in coordinates relative to the source's
// width and height; borders are judged on the pre-scaled image (prescale.h),
// whose aspect stretch does not matter in relative coordinates. The plain
// PDQ hash is not changed by anything here.
//
// Abseil-free like pdq_core.h (it may be built for WebAssembly). Pure
// functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_MATCH_REGIONS_H_
#define OPTOUT_CLIENT_PDQ_MATCH_REGIONS_H_

#include <array>
#include <vector>

#include "client/pdq/image.h"
#include "client/pdq/pdq_hash.h"
#include "client/pdq/region_luma.h"

namespace optout::pdq {

// Which of the scheme's windows a region is. Only a label: nothing hashed
// depends on it. It says which stored window a checked region can be meant
// to meet (tests/bench/match_policy.py measures the pairings true copies
// use; README.md#matching, "Which checked hash meets which stored hash").
enum class RegionKind : unsigned char {
  kWhole = 0,           // the whole image through the region resampler (owner)
  kTrimmed = 1,         // uniform borders trimmed (both sides)
  kCaptionTrimmed = 2,  // caption bars trimmed as well (checker)
  kCentred = 3,         // a centred crop (owner)
  kAspect = 4,          // a social-media aspect crop (owner)
  kTurned = 5,          // a turned window (owner); the copy with its wedges filled (checker)
  kBand = 6,            // SharedWindows: without the top or the bottom band (both sides)
  kAnchor = 7,          // an anchor window (both sides, anchor_windows.h)
};
inline constexpr int kRegionKinds = 8;

// A rectangle of the image in relative coordinates (0..1 on each axis),
// turned by `degrees` about its centre (measured in source pixels, so a
// rotation stays a rotation whatever the pre-scale did to the aspect).
struct Region {
  double x0 = 0, y0 = 0, x1 = 1, y1 = 1;
  double degrees = 0;
  RegionKind kind = RegionKind::kWhole;
};

// Largest number of hashes OwnerRegions gives (the registry stores at most
// 64 hashes per registered image, the plain one included).
inline constexpr int kMaxOwnerRegions = 63;

// Largest number of hashes CheckerRegions gives (the registry accepts at
// most 8 regions with a checked hash, so that one item's searches stay
// bounded).
inline constexpr int kMaxCheckerRegions = 8;

// Where uniform borders end: rows and columns from each edge whose pixels
// are (almost) all one colour are cut off, repeatedly, so that a window
// title bar above a canvas goes too. With `bars`, rows that are mostly one
// colour (text on a plain caption bar) count as border as well. Returns the
// whole image when nothing is trimmed or too little would remain.
Region TrimBorders(const Image& image, bool bars);

// True when `region` differs from the whole image by more than a sliver.
bool IsProperSubregion(const Region& region);

// Windows both sides hash: the image without a band along its top, and
// without one along its bottom, so that a logo or overlaid text there
// leaves one window of the copy as the owner's.
std::vector<Region> SharedWindows();

// The fixed owner-side windows for a source of the given size, without the
// whole image: every returned region is hashed in addition to the plain hash.
std::vector<Region> OwnerWindows(int source_width, int source_height);

// The verification hash of a region (README.md#matching, "second
// check"): PDQ of its centre, kVerificationKeep of each side, turned like
// the region. For unrelated images its distance is close to independent
// of the region hash's (the centre at twice the scale carries other
// frequencies than the whole), so a second check on it multiplies the
// chance of a false match by its own; a copy whose window lands on the
// owner's lands its centre too (tests/bench/match_fp, match_eval).
inline constexpr double kVerificationKeep = 0.5;
Region VerificationRegion(const Region& region);

struct RegionHash {
  PdqHash hash;
  int quality = 0;  // 0..100
  Region region;    // what was hashed
  // Filled only on request (HashOptions::verification): the verification
  // hash of `region`; all zero when its centre is too small to hash.
  PdqHash verification;
  // The hash of the region's mirror image (left and right swapped), from the
  // same DCT (pdq_core.h MirrorBitsOf16), so a copy that was both mirrored
  // and cropped, padded or captioned meets the owner's windows: the whole
  // copy's dihedral variants do not reach them (README.md#matching,
  // "Mirrored regions"). Always filled with `hash` (one more median
  // selection); all zero when `hash` is. Its quality is `quality`.
  PdqHash mirror;
};

// Hashes regions of one image of source_width x source_height pixels from
// its region luma plane (region_luma.h). A region that is not turned is
// averaged over its footprint straight to PDQ's 64x64 grid (each cell the
// mean of the luma it covers), so an original and a copy at another size
// or crop offset sample the same picture area alike; a turned one is
// resampled bilinearly at about one output pixel per luma pixel, up to 256
// a side, and hashed as an image. Immutable after construction: Hash may
// be called concurrently.
class RegionHasher {
 public:
  RegionHasher(LumaPlane luma, int source_width, int source_height);
  // The plane from `image` itself (RegionLumaOf): the pre-scaled pixels when
  // the decoded ones are gone.
  RegionHasher(const Image& image, int source_width, int source_height);
  ~RegionHasher();
  RegionHasher(const RegionHasher&) = delete;
  RegionHasher& operator=(const RegionHasher&) = delete;

  // A region too small to hash gives an all-zero hash and quality 0.
  RegionHash Hash(const Region& region) const;

  // The verification hash of `region` (all zero if its centre is too
  // small), and its 8 dihedral variants (pdq_core.h order): what a checker
  // sends with the plain hash's dihedral variants.
  PdqHash Verification(const Region& region) const;
  std::array<PdqHash, 8> VerificationDihedral(const Region& region) const;

  // The luma plane regions are cut from.
  const std::vector<float>& luma() const { return luma_; }
  int luma_width() const { return width_; }
  int luma_height() const { return height_; }

 private:
  // The region resampled to a grey image (empty if too small to hash).
  Image Resample(const Region& region) const;
  // The same pixels as floats into `pixels` (grown as needed), row-major
  // width x height; false if the region is too small to hash.
  bool ResampleInto(const Region& region, std::vector<float>* pixels, int* width,
                    int* height) const;

  int source_width_;
  int source_height_;
  int width_ = 0;   // of luma_
  int height_ = 0;
  std::vector<float> luma_;
};

// Owner side: the trimmed image (if it has borders) and OwnerWindows, each
// hashed; hashes of quality below `min_quality` and duplicates of `plain`
// or of each other are left out. At most kMaxOwnerRegions. `image` is the
// pre-scaled image (borders are found on it), `luma` the decoded pixels'
// region luma plane.
std::vector<RegionHash> OwnerRegions(const Image& image, LumaPlane luma, int source_width,
                                     int source_height, const PdqHash& plain, int min_quality);

// Checker side: the image with borders trimmed, and with caption bars
// trimmed, when they differ from the whole image (0, 1 or 2 hashes), the
// shared windows, the whole image with rotation wedges filled when it has
// them (rotation_wedges.h) and anchor windows (at most kMaxCheckerRegions).
std::vector<RegionHash> CheckerRegions(const Image& image, LumaPlane luma, int source_width,
                                       int source_height, int min_quality);

// The same with the luma plane of `image` itself (RegionLumaOf): for an
// image that was not pre-scaled, the same hashes.
std::vector<RegionHash> OwnerRegions(const Image& image, int source_width, int source_height,
                                     const PdqHash& plain, int min_quality);
std::vector<RegionHash> CheckerRegions(const Image& image, int source_width, int source_height,
                                       int min_quality);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_MATCH_REGIONS_H_
