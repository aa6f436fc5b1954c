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

// Windows of anchor pairs (i, j), in the order of j then i (so the
// windows of the strongest few anchors come first), that lie inside the
// image and are not too small for their side; at most `max_windows`.
std::vector<Region> AnchorWindows(const std::vector<Anchor>& anchors, int source_width,
                                  int source_height, AnchorSide side, int max_windows);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_ANCHOR_WINDOWS_H_
