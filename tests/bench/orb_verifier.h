// File: tests/bench/orb_verifier.h
//
// Local-feature verification of a PDQ hit, prototyped offline for the
// false-match bound (README.md#matching, issue 12): ORB keypoints of both
// images (OpenCV), nearest-neighbour descriptor matches with a ratio test,
// then a RANSAC similarity (rotation, uniform scale, shift): the inlier
// count says whether the two pictures share one geometric layout of
// distinctive points, evidence that does not come from how the whole
// pixels look. VerifyInFrame is the region-bound variant: both sides'
// keypoints already placed in one frame (the two regions a PDQ hit came
// from, mapped onto each other), so the similarity must stay near the
// identity. Benchmark code, not part of any client or server library.
// Pure functions; thread-safe.
#ifndef OPTOUT_TESTS_BENCH_ORB_VERIFIER_H_
#define OPTOUT_TESTS_BENCH_ORB_VERIFIER_H_

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "client/pdq/image.h"

namespace optout::bench {

// What a client would keep (and the registry seal) per image: keypoint
// positions in the resized image and their 256-bit ORB descriptors.
struct LocalFeatures {
  int width = 0;  // of the resized grey image the keypoints are in
  int height = 0;
  std::vector<float> x, y;
  std::vector<std::array<uint8_t, 32>> descriptors;
  size_t size() const { return descriptors.size(); }
};

struct OrbOptions {
  int side = 640;            // longest side after resizing (up or down)
  // When > 0, the longest side is kept as it is between min_side and
  // side (a copy that keeps its picture's pixels, framed or padded, is
  // then sampled like the original), smaller images upscaled to min_side.
  int min_side = 0;
  int features = 500;        // keypoints kept, strongest first
  int levels = 8;            // ORB pyramid levels, 1.2 apart (8: 3.6x of scale)
  int fast_threshold = 5;    // OpenCV's 20 leaves smooth pictures with none
  bool equalize = true;      // CLAHE before detection
  bool mirror = false;       // extract from the left-right mirror
};

// Keypoints of `image` (1 or 3 channels, folded to grey).
LocalFeatures ExtractOrb(const pdq::Image& image, const OrbOptions& options);

struct VerifyOptions {
  double ratio = 0.8;          // nearest / second nearest Hamming distance
  double reprojection = 5.0;   // RANSAC inlier tolerance, pixels of the resized images
  double max_scale = 8.0;      // the similarity's scale must lie in [1/max, max]
  // Keep a match only when each side is the other's nearest (after the
  // ratio test), instead of the stored side's best of the checked ones.
  bool mutual = false;
  // VerifyInFrame only: the similarity must keep the frame within these
  // bounds of the identity: scale in [1/max_frame_scale, max_frame_scale],
  // turn within max_degrees, the frame's centre moved at most max_shift of
  // the frame's longest side. Hypotheses are every pair of matches when
  // there are at most max_hypotheses pairs, else that many random pairs.
  double max_frame_scale = 1.25;
  double max_degrees = 10;
  double max_shift = 0.1;
  int max_hypotheses = 20000;
};

struct Verification {
  int matches = 0;  // after the ratio test, one per stored keypoint
  int inliers = 0;  // of the RANSAC similarity; 0 when none fits
  double scale = 0;
};

// Descriptor matches (checked index, stored index) after the ratio test,
// both kinds from one pass over the descriptor pairs (the pass is most of
// a verification's cost, so a benchmark comparing the two pays it once):
// `best` one match per stored keypoint (its nearest checked keypoint that
// passed), `mutual` only pairs that are each other's nearest.
struct DescriptorMatches {
  std::vector<std::pair<int, int>> best, mutual;
};
DescriptorMatches MatchDescriptors(const LocalFeatures& checked, const LocalFeatures& stored,
                                   double ratio);

// How well `checked` maps onto `stored` by one similarity transform.
Verification Verify(const LocalFeatures& checked, const LocalFeatures& stored,
                    const VerifyOptions& options);
// The same on matches already made (options.ratio and options.mutual
// are not read).
Verification VerifyMatches(const LocalFeatures& checked, const LocalFeatures& stored,
                           const std::vector<std::pair<int, int>>& matches,
                           const VerifyOptions& options);

// The same with both sides' x, y in one frame of frame_width x
// frame_height pixels (width and height of `checked` and `stored` are not
// read): the largest set of matches one near-identity similarity
// (VerifyOptions' frame bounds) maps within `reprojection` pixels.
Verification VerifyInFrame(const LocalFeatures& checked, const LocalFeatures& stored,
                           double frame_width, double frame_height, const VerifyOptions& options);
Verification VerifyMatchesInFrame(const LocalFeatures& checked, const LocalFeatures& stored,
                                  const std::vector<std::pair<int, int>>& matches,
                                  double frame_width, double frame_height,
                                  const VerifyOptions& options);

}  // namespace optout::bench

#endif  // OPTOUT_TESTS_BENCH_ORB_VERIFIER_H_
