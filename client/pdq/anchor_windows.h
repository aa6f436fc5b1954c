// File: client/pdq/anchor_windows.h
//
// Windows placed by the picture itself, so that a copy cropped anywhere
// (four independent edges, which no fixed set of windows can cover at PDQ's
// ~1 % edge tolerance) still shows windows the owner registered.
//
// Both sides find the same "anchors" — blobs of the luma found as
// extrema of a difference-of-Gaussians scale space, ranked by their
// strength — in their own image. A pair of anchors fixes a square window:
// centred between them, its side proportional to their distance. Position
// and size follow the picture under translation and scaling, so a crop
// that keeps both anchors (and the window) shows the owner's window at the
// same place of the picture, whatever was cut off around it. The owner
// registers the windows of pairs among its strongest anchors; the checker
// hashes those of pairs among the strongest anchors of its copy, which,
// blobs being local, are mostly the owner's minus those cropped away.
//
// A crop reorders what is left: the owner's strongest may be cut off or
// too near the copy's edge, so the copy's strongest include anchors the
// owner ranks lower. The owner therefore does not take the pairs of its
// strongest few in order: it replays the checker on simulated crops of its
// own anchors (OwnerAnchorWindows) and registers the windows those crops
// would hash, most often hashed first.
//
// Abseil-free and free of transcendental functions whose last bit could
// differ between C libraries (it is built for WebAssembly too, and the
// web page must find the same windows as the native client). Pure
// functions; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_ANCHOR_WINDOWS_H_
#define OPTOUT_CLIENT_PDQ_ANCHOR_WINDOWS_H_

#include <vector>

#include "client/pdq/match_regions.h"

namespace optout::pdq {

// A blob of the picture, in source pixels.
struct Anchor {
  double x = 0, y = 0;
  double sigma = 0;      // its scale, in source pixels
  double strength = 0;   // |difference of Gaussians|, luma units
};

// The strongest anchors (at most `max_anchors`, strongest first) of a luma
// plane of width x height samples covering a source of source_width x
// source_height pixels (the plane may be stretched; anchors are found on
// a resampling with square pixels).
std::vector<Anchor> FindAnchors(const std::vector<float>& luma, int width, int height,
                                int source_width, int source_height, int max_anchors);

enum class AnchorSide { kOwner, kChecker };

// Anchors each side looks at, and the checker's windows: the owner ranks
// pairs among its strongest 24; the checker hashes the first 6 windows of
// pairs among its copy's strongest 10 (match_regions.h, CheckerRegions,
// which may have room for fewer). Measured on the photo corpus and two
// unseen photo sets (README.md#matching): 12 / 8 / 4 with the owner's
// pairs taken in order matched 30, 29 and 27 crop_offset copies of 37, 38
// and 38; these with OwnerAnchorWindows 32, 31 and 31 (32, 30 and 30 with
// at most kOwnerAnchorWindows stored). With the checker's 4 windows of 8
// anchors, OwnerAnchorWindows alone gained 1, 1 and 1.
inline constexpr int kOwnerAnchors = 24;
inline constexpr int kCheckerAnchors = 10;
inline constexpr int kCheckerAnchorWindows = 6;

// The owner stores at most this many anchor windows (OwnerRegions), the
// most often hashed by the simulated crops: more gained 1 copy on each
// unseen set for 7 more stored hashes per image (every stored hash is one
// more chance of a false match for every check).
inline constexpr int kOwnerAnchorWindows = 16;

// Windows of anchor pairs (i, j), in the order of j then i (so the
// windows of the strongest few anchors come first), that lie inside the
// image and are not too small for their side; at most `max_windows`.
std::vector<Region> AnchorWindows(const std::vector<Anchor>& anchors, int source_width,
                                  int source_height, AnchorSide side, int max_windows);

// Owner side: the windows of pairs among `anchors` (FindAnchors' order)
// that the checker hashes (kCheckerAnchors, kCheckerAnchorWindows) in crops
// of the image keeping 65-95 % of each side at offsets spread over the
// whole range, the most often hashed first (ties in AnchorWindows' order);
// pairs no simulated crop hashes are left out. A simulated crop keeps the
// anchors FindAnchors would keep in it (clear of its edges by the same
// margin), so the result depends on the anchors and the image size only.
// At most `max_windows`.
std::vector<Region> OwnerAnchorWindows(const std::vector<Anchor>& anchors, int source_width,
                                       int source_height, int max_windows);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_ANCHOR_WINDOWS_H_
