// ORB extraction and RANSAC verification of orb_verifier.h, on OpenCV 4.6
// (Debian 12's libopencv-features2d-dev and libopencv-calib3d-dev).
#include "tests/bench/orb_verifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

namespace optout::bench {
namespace {

cv::Mat Grey(const pdq::Image& image) {
  cv::Mat grey(image.height, image.width, CV_8UC1);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* in = image.row(y);
    uint8_t* out = grey.ptr<uint8_t>(y);
    if (image.channels == 1) {
      std::memcpy(out, in, image.width);
      continue;
    }
    for (int x = 0; x < image.width; ++x, in += image.channels) {
      out[x] = static_cast<uint8_t>((77 * in[0] + 150 * in[1] + 29 * in[2] + 128) >> 8);
    }
  }
  return grey;
}

}  // namespace

LocalFeatures ExtractOrb(const pdq::Image& image, const OrbOptions& options) {
  LocalFeatures out;
  if (image.width <= 0 || image.height <= 0) return out;
  cv::Mat grey = Grey(image);
  // One common size, so a thumbnail and its original meet within the ORB
  // pyramid's range of scales (8 levels of 1.2: 3.6x).
  const double scale = 1.0 * options.side / std::max(image.width, image.height);
  cv::Mat resized;
  cv::resize(grey, resized, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (options.mirror) cv::flip(resized, resized, 1);
  if (options.equalize) {
    // Local contrast stretch, so smooth pictures (the low-quality tier) get
    // corners above FAST's threshold too.
    cv::createCLAHE(2.0, cv::Size(8, 8))->apply(resized, resized);
  }
  out.width = resized.cols;
  out.height = resized.rows;
  cv::Ptr<cv::ORB> orb = cv::ORB::create(options.features, 1.2f, 8, 31, 0, 2,
                                         cv::ORB::HARRIS_SCORE, 31, options.fast_threshold);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  orb->detectAndCompute(resized, cv::noArray(), keypoints, descriptors);
  for (size_t i = 0; i < keypoints.size(); ++i) {
    out.x.push_back(keypoints[i].pt.x);
    out.y.push_back(keypoints[i].pt.y);
    std::array<uint8_t, 32> d;
    std::memcpy(d.data(), descriptors.ptr<uint8_t>(static_cast<int>(i)), 32);
    out.descriptors.push_back(d);
  }
  return out;
}

Verification Verify(const LocalFeatures& checked, const LocalFeatures& stored,
                    const VerifyOptions& options) {
  Verification result;
  if (checked.size() < 2 || stored.size() < 2) return result;
  // Plain nearest and second nearest by Hamming distance (POPCNT), for each
  // checked keypoint; then one match per stored keypoint (its best), so a
  // repeated texture cannot vote many times for the same point.
  std::vector<int> best_for_stored(stored.size(), -1), best_distance(stored.size(), 257);
  for (size_t i = 0; i < checked.size(); ++i) {
    uint64_t q[4];
    std::memcpy(q, checked.descriptors[i].data(), 32);
    int d1 = 257, d2 = 257, j1 = -1;
    for (size_t j = 0; j < stored.size(); ++j) {
      uint64_t s[4];
      std::memcpy(s, stored.descriptors[j].data(), 32);
      const int d = __builtin_popcountll(q[0] ^ s[0]) + __builtin_popcountll(q[1] ^ s[1]) +
                    __builtin_popcountll(q[2] ^ s[2]) + __builtin_popcountll(q[3] ^ s[3]);
      if (d < d1) {
        d2 = d1;
        d1 = d;
        j1 = static_cast<int>(j);
      } else if (d < d2) {
        d2 = d;
      }
    }
    if (j1 < 0 || d1 >= options.ratio * d2) continue;
    if (d1 < best_distance[j1]) {
      best_distance[j1] = d1;
      best_for_stored[j1] = static_cast<int>(i);
    }
  }
  std::vector<cv::Point2f> from, to;
  for (size_t j = 0; j < stored.size(); ++j) {
    const int i = best_for_stored[j];
    if (i < 0) continue;
    from.emplace_back(checked.x[i], checked.y[i]);
    to.emplace_back(stored.x[j], stored.y[j]);
  }
  result.matches = static_cast<int>(from.size());
  if (from.size() < 3) return result;
  std::vector<uint8_t> inliers;
  const cv::Mat m = cv::estimateAffinePartial2D(from, to, inliers, cv::RANSAC, options.reprojection,
                                                2000, 0.995, 10);
  if (m.empty()) return result;
  const double a = m.at<double>(0, 0), b = m.at<double>(1, 0);
  result.scale = std::sqrt(a * a + b * b);
  if (result.scale < 1 / options.max_scale || result.scale > options.max_scale) return result;
  result.inliers = static_cast<int>(std::count(inliers.begin(), inliers.end(), 1));
  return result;
}

}  // namespace optout::bench
