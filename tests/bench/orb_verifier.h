// File: tests/bench/orb_verifier.h
//
// Local-feature verification of a PDQ hit, prototyped offline for the
// false-match bound (README.md#matching, issue 12): ORB keypoints of both
// images (OpenCV), nearest-neighbour descriptor matches with a ratio test,
// then a RANSAC similarity (rotation, uniform scale, shift): the inlier
// count says whether the two pictures share one geometric layout of
// distinctive points, evidence that does not come from how the whole
// pixels look. Benchmark code, not part of any client or server library.
// Pure functions; thread-safe.
#ifndef OPTOUT_TESTS_BENCH_ORB_VERIFIER_H_
#define OPTOUT_TESTS_BENCH_ORB_VERIFIER_H_

#include <array>
#include <cstdint>
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
  int features = 500;        // keypoints kept, strongest first
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
};

struct Verification {
  int matches = 0;  // after the ratio test, one per stored keypoint
  int inliers = 0;  // of the RANSAC similarity; 0 when none fits
  double scale = 0;
};

// How well `checked` maps onto `stored` by one similarity transform.
Verification Verify(const LocalFeatures& checked, const LocalFeatures& stored,
                    const VerifyOptions& options);

}  // namespace optout::bench

#endif  // OPTOUT_TESTS_BENCH_ORB_VERIFIER_H_
