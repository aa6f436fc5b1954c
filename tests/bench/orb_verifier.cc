// ORB extraction and RANSAC verification of orb_verifier.h, on OpenCV 4.6
// (Debian 12's libopencv-features2d-dev and libopencv-calib3d-dev).
#include "tests/bench/orb_verifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

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
  const int longest = std::max(image.width, image.height);
  const int target = options.min_side > 0 ? std::clamp(longest, options.min_side, options.side)
                                          : options.side;
  const double scale = 1.0 * target / longest;
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
  cv::Ptr<cv::ORB> orb = cv::ORB::create(options.features, 1.2f, options.levels, 31, 0, 2,
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

// Each checked keypoint's nearest stored one by Hamming distance (POPCNT)
// that passes the ratio test; then one match per stored keypoint (its
// best), so a repeated texture cannot vote many times for the same point,
// and the mutual subset.
DescriptorMatches MatchDescriptors(const LocalFeatures& checked, const LocalFeatures& stored,
                                   double ratio) {
  std::vector<int> best_for_stored(stored.size(), -1), best_distance(stored.size(), 257);
  std::vector<int> nearest_of_stored(stored.size(), -1), nearest_distance(stored.size(), 257);
  std::vector<int> passed(checked.size(), -1);
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
      if (d < nearest_distance[j]) {
        nearest_distance[j] = d;
        nearest_of_stored[j] = static_cast<int>(i);
      }
    }
    if (j1 < 0 || d1 >= ratio * d2) continue;
    passed[i] = j1;
    if (d1 < best_distance[j1]) {
      best_distance[j1] = d1;
      best_for_stored[j1] = static_cast<int>(i);
    }
  }
  DescriptorMatches out;
  for (size_t j = 0; j < stored.size(); ++j) {
    const int i = best_for_stored[j];
    if (i >= 0 && passed[i] == static_cast<int>(j)) out.best.emplace_back(i, static_cast<int>(j));
    const int n = nearest_of_stored[j];
    if (n >= 0 && passed[n] == static_cast<int>(j)) out.mutual.emplace_back(n, static_cast<int>(j));
  }
  return out;
}

namespace {

std::vector<std::pair<int, int>> Match(const LocalFeatures& checked, const LocalFeatures& stored,
                                       const VerifyOptions& options) {
  DescriptorMatches m = MatchDescriptors(checked, stored, options.ratio);
  return options.mutual ? std::move(m.mutual) : std::move(m.best);
}

}  // namespace

Verification Verify(const LocalFeatures& checked, const LocalFeatures& stored,
                    const VerifyOptions& options) {
  if (checked.size() < 2 || stored.size() < 2) return Verification{};
  return VerifyMatches(checked, stored, Match(checked, stored, options), options);
}

Verification VerifyMatches(const LocalFeatures& checked, const LocalFeatures& stored,
                           const std::vector<std::pair<int, int>>& matches,
                           const VerifyOptions& options) {
  Verification result;
  std::vector<cv::Point2f> from, to;
  for (const auto& [i, j] : matches) {
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

Verification VerifyInFrame(const LocalFeatures& checked, const LocalFeatures& stored,
                           double frame_width, double frame_height, const VerifyOptions& options) {
  if (checked.size() < 2 || stored.size() < 2) return Verification{};
  return VerifyMatchesInFrame(checked, stored, Match(checked, stored, options), frame_width,
                              frame_height, options);
}

Verification VerifyMatchesInFrame(const LocalFeatures& checked, const LocalFeatures& stored,
                                  const std::vector<std::pair<int, int>>& matches,
                                  double frame_width, double frame_height,
                                  const VerifyOptions& options) {
  Verification result;
  const int n = static_cast<int>(matches.size());
  result.matches = n;
  if (n < 2) return result;
  std::vector<double> fx(n), fy(n), tx(n), ty(n);
  for (int k = 0; k < n; ++k) {
    fx[k] = checked.x[matches[k].first];
    fy[k] = checked.y[matches[k].first];
    tx[k] = stored.x[matches[k].second];
    ty[k] = stored.y[matches[k].second];
  }
  const double cx = frame_width / 2, cy = frame_height / 2;
  const double longest = std::max(frame_width, frame_height);
  const double max_shift2 = std::pow(options.max_shift * longest, 2);
  const double tol2 = options.reprojection * options.reprojection;
  const double min_scale2 = 1 / std::pow(options.max_frame_scale, 2);
  const double max_scale2 = std::pow(options.max_frame_scale, 2);
  const double cos_max = std::cos(options.max_degrees * M_PI / 180);
  // Every hypothesis is a similarity z * p + t (z complex) through two
  // matches; the frame bounds reject almost all of an unrelated pair's
  // before any inlier is counted, so trying every pair stays cheap there,
  // and a small consistent set cannot be missed by sampling.
  auto consider = [&](int a, int b) {
    const double ux = fx[b] - fx[a], uy = fy[b] - fy[a];
    const double vx = tx[b] - tx[a], vy = ty[b] - ty[a];
    const double uu = ux * ux + uy * uy;
    if (uu < 4 * tol2) return;  // too short a base to fix a turn and scale
    const double zr = (vx * ux + vy * uy) / uu, zi = (vy * ux - vx * uy) / uu;
    const double s2 = zr * zr + zi * zi;
    if (s2 < min_scale2 || s2 > max_scale2) return;
    if (zr < cos_max * std::sqrt(s2)) return;
    const double t_x = tx[a] - (zr * fx[a] - zi * fy[a]);
    const double t_y = ty[a] - (zi * fx[a] + zr * fy[a]);
    const double mx = zr * cx - zi * cy + t_x - cx, my = zi * cx + zr * cy + t_y - cy;
    if (mx * mx + my * my > max_shift2) return;
    int inliers = 0;
    for (int k = 0; k < n; ++k) {
      const double ex = zr * fx[k] - zi * fy[k] + t_x - tx[k];
      const double ey = zi * fx[k] + zr * fy[k] + t_y - ty[k];
      inliers += ex * ex + ey * ey <= tol2;
    }
    if (inliers > result.inliers) {
      result.inliers = inliers;
      result.scale = std::sqrt(s2);
    }
  };
  const long long pairs = 1LL * n * (n - 1) / 2;
  if (pairs <= options.max_hypotheses) {
    for (int a = 0; a < n; ++a) {
      for (int b = a + 1; b < n; ++b) consider(a, b);
    }
  } else {
    std::mt19937 rng(n);
    std::uniform_int_distribution<int> pick(0, n - 1);
    for (int h = 0; h < options.max_hypotheses; ++h) {
      const int a = pick(rng), b = pick(rng);
      if (a != b) consider(a, b);
    }
  }
  return result;
}

}  // namespace optout::bench
