// match_fp: how likely an unrelated image is to match something among N
// registered images with their windows (README.md#matching, issue 12).
//
// Every image file of the given folders is a source; files named
// GROUP__EDIT.ext belong to GROUP (the corpus layouts), others are their own
// group. Registered side: each group's original (GROUP__orig.*, or the file
// itself) hashed as `optout register --image` does (plain + windows).
// Checked side, as `optout check --image` sends them (plain + 8 dihedral +
// trimmed regions), for every file, plus generated distractors: K random
// windows of each file (25-100 % of each side, some turned up to 8 degrees),
// each a new "image" made from the same kind of pixels. With --synthetic N,
// N generated scenes (sky and ground gradients split at a horizon, a
// textured ground, soft-edged objects; JPEG q85) are added as images of
// their own, registered and checked like files: photo-like layouts whose
// shared structure (bright top, darker bottom) is what makes unrelated
// photos' hashes closer than chance. Only pairs of different groups are
// counted.
//
// The observed distances never come near the threshold, so the chance of
// d <= 31 is extrapolated: log10 of the lower tail's cumulative share is
// fitted by a straight line over its observed low end (a tail that falls
// faster, as a normal one does, gives a smaller figure; the line is the
// conservative reading). Per checked image against N registered images:
//   P ~ N x (checked hashes per image) x (stored hashes per image) x p_pair
// (union bound over hash pairs), with p_pair the extrapolated share. A
// second estimate needs no union bound: the same line fitted to the closest
// distance of each (checked image, registered image) pair, P ~ N x p_image.
//
//   match_fp --images DIR [--images DIR]... [--random-windows K] [--registered N]
//            [--synthetic N] [--threshold T] [--show-closer-than D] [--plain-only]
#include <dirent.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "client/pdq/image_decoder.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/match_regions.h"
#include "client/pdq/pdq_core.h"
#include "client/pdq/testing/image_encoder.h"

namespace {

namespace pdq = optout::pdq;

constexpr int kMinQuality = 50;

struct Source {
  std::string path;
  std::string group;
  bool original = false;
};

std::vector<Source> ListImages(const std::string& dir) {
  std::vector<Source> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext != "jpg" && ext != "jpeg" && ext != "png" && ext != "webp") continue;
    const size_t sep = name.find("__");
    Source s{dir + "/" + name, sep == std::string::npos ? dir + "/" + name : name.substr(0, sep),
             sep == std::string::npos || name.compare(sep, 7, "__orig.") == 0};
    out.push_back(s);
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](const Source& a, const Source& b) { return a.path < b.path; });
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct HashSet {
  int group = 0;
  std::string name;
  std::vector<pdq::PdqHash> hashes;
};

// Smooth random field in 0..1: bilinear interpolation of a random grid of
// `cells` x `cells` values.
struct ValueNoise {
  ValueNoise(int cells, std::mt19937& rng) : n(cells + 1), v(n * n) {
    std::uniform_real_distribution<double> unit(0, 1);
    for (double& x : v) x = unit(rng);
  }
  double At(double u, double w) const {
    const double x = u * (n - 1), y = w * (n - 1);
    const int x0 = std::min(static_cast<int>(x), n - 2), y0 = std::min(static_cast<int>(y), n - 2);
    const double ax = x - x0, ay = y - y0;
    auto g = [&](int i, int j) { return v[j * n + i]; };
    return (g(x0, y0) * (1 - ax) + g(x0 + 1, y0) * ax) * (1 - ay) +
           (g(x0, y0 + 1) * (1 - ax) + g(x0 + 1, y0 + 1) * ax) * ay;
  }
  int n;
  std::vector<double> v;
};

// A photo-like scene (see the header comment), width x height, RGB.
pdq::Image Scene(int width, int height, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  auto colour = [&](double lo, double hi) {
    return std::array<double, 3>{lo + (hi - lo) * unit(rng), lo + (hi - lo) * unit(rng),
                                 lo + (hi - lo) * unit(rng)};
  };
  const double horizon = 0.25 + 0.5 * unit(rng);
  const auto sky_top = colour(0.4, 1.0), sky_low = colour(0.5, 1.0);
  const auto ground_top = colour(0.1, 0.7), ground_low = colour(0.0, 0.5);
  std::vector<ValueNoise> octaves;
  for (int cells : {3, 6, 12, 24, 48}) octaves.emplace_back(cells, rng);
  struct Blob {
    double cx, cy, rx, ry, soft;
    std::array<double, 3> c;
    bool box;
  };
  std::vector<Blob> blobs(3 + rng() % 10);
  for (Blob& b : blobs) {
    b = Blob{unit(rng), horizon - 0.2 + 0.9 * unit(rng), 0.02 + 0.2 * unit(rng),
             0.02 + 0.2 * unit(rng), 0.005 + 0.05 * unit(rng), colour(0.0, 1.0), unit(rng) < 0.4};
  }
  pdq::Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5) / width, v = (y + 0.5) / height;
      double texture = 0, amplitude = 0.5;
      for (const ValueNoise& o : octaves) {
        texture += amplitude * (o.At(u, v) - 0.5);
        amplitude *= 0.6;
      }
      std::array<double, 3> c;
      const bool sky = v < horizon + 0.03 * texture;
      for (int k = 0; k < 3; ++k) {
        c[k] = sky ? sky_top[k] + (sky_low[k] - sky_top[k]) * v / horizon + 0.15 * texture
                   : ground_top[k] + (ground_low[k] - ground_top[k]) * (v - horizon) / (1 - horizon) +
                         0.6 * texture;
      }
      for (const Blob& b : blobs) {
        const double dx = (u - b.cx) / b.rx, dy = (v - b.cy) / b.ry;
        const double r = b.box ? std::max(std::abs(dx), std::abs(dy)) : std::sqrt(dx * dx + dy * dy);
        const double inside = std::clamp((1 - r) / (b.soft / std::min(b.rx, b.ry)), 0.0, 1.0);
        for (int k = 0; k < 3; ++k) c[k] = c[k] * (1 - inside) + (b.c[k] + 0.3 * texture) * inside;
      }
      for (int k = 0; k < 3; ++k) {
        image.pixels[(static_cast<size_t>(y) * width + x) * 3 + k] =
            static_cast<uint8_t>(std::lround(255 * std::clamp(c[k], 0.0, 1.0)));
      }
    }
  }
  return image;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> dirs;
  int random_windows = 20;
  double registered = 1e7;
  int threshold = 31;
  int close_report = 0;  // print (checked, registered) pairs closer than this
  bool plain_only = false;  // the scheme before windows, for comparison
  int synthetic = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--images" && i + 1 < argc) {
      dirs.push_back(argv[++i]);
    } else if (arg == "--random-windows" && i + 1 < argc) {
      random_windows = std::atoi(argv[++i]);
    } else if (arg == "--registered" && i + 1 < argc) {
      registered = std::atof(argv[++i]);
    } else if (arg == "--synthetic" && i + 1 < argc) {
      synthetic = std::atoi(argv[++i]);
    } else if (arg == "--plain-only") {
      plain_only = true;
    } else if (arg == "--show-closer-than" && i + 1 < argc) {
      close_report = std::atoi(argv[++i]);
    } else if (arg == "--threshold" && i + 1 < argc) {
      threshold = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: match_fp --images DIR [--images DIR]... [--random-windows K] "
                   "[--registered N] [--synthetic N] [--threshold T] [--show-closer-than D] "
                   "[--plain-only]\n");
      return 2;
    }
  }
  std::map<std::string, int> group_ids;
  std::vector<HashSet> stored, checked;
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> unit(0, 1);
  size_t files = 0;
  size_t sent_sets = 0, sent_hashes = 0;  // what checks send, random windows apart
  auto add = [&](const std::string& bytes, const std::string& name, const std::string& group_name,
                 bool original, int windows_of_it) {
    const int group = group_ids.emplace(group_name, static_cast<int>(group_ids.size())).first->second;
    pdq::HashOptions options;
    if (original) {
      options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kOwner;
      auto h = pdq::HashImageBytes(bytes, options);
      if (h.ok() && h->quality >= kMinQuality) {
        HashSet set{group, name, {h->pdq}};
        for (const auto& r : h->regions) set.hashes.push_back(r.hash);
        stored.push_back(std::move(set));
      }
    }
    options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kChecker;
    options.dihedral = true;
    auto h = pdq::HashImageBytes(bytes, options);
    if (!h.ok() || h->quality < kMinQuality) return;
    ++files;
    HashSet set{group, name, {h->dihedral.begin(), h->dihedral.end()}};
    for (const auto& r : h->regions) set.hashes.push_back(r.hash);
    ++sent_sets;
    sent_hashes += set.hashes.size();
    checked.push_back(std::move(set));
    if (windows_of_it == 0) return;
    // Random windows of the file: distractors of photographic content.
    auto decoded = pdq::DecodeForPdq(bytes, pdq::DecodeLimits{});
    if (!decoded.ok()) return;
    const pdq::RegionHasher hasher(decoded->image, decoded->source_width,
                                   decoded->source_height);
    HashSet windows{group, name + " (random windows)", {}};
    for (int k = 0; k < windows_of_it; ++k) {
      const double w = 0.25 + 0.75 * unit(rng), hgt = 0.25 + 0.75 * unit(rng);
      pdq::Region r{0, 0, w, hgt, k % 3 == 0 ? (unit(rng) * 16 - 8) : 0};
      r.x0 = (1 - w) * unit(rng);
      r.y0 = (1 - hgt) * unit(rng);
      r.x1 = r.x0 + w;
      r.y1 = r.y0 + hgt;
      const pdq::RegionHash rh = hasher.Hash(r);
      if (rh.quality >= kMinQuality && !rh.hash.IsZero()) windows.hashes.push_back(rh.hash);
    }
    checked.push_back(std::move(windows));
  };
  for (const std::string& dir : dirs) {
    for (const Source& s : ListImages(dir)) add(ReadAll(s.path), s.path, s.group, s.original, random_windows);
  }
  std::mt19937 scene_rng(34);
  for (int i = 0; i < synthetic; ++i) {
    const int width = 320 + static_cast<int>(scene_rng() % 400);
    const int height = 240 + static_cast<int>(scene_rng() % 300);
    const std::string jpeg = pdq::testing::EncodeJpeg(Scene(width, height, scene_rng), 85);
    add(jpeg, "scene " + std::to_string(i), "scene " + std::to_string(i), true, 0);
  }
  // Histogram over unrelated (checked hash, stored hash) pairs.
  std::vector<long long> hist(257, 0);
  std::vector<long long> best_hist(257, 0);  // per (checked image, registered image)
  size_t stored_hashes = 0, checked_images = 0, checked_hashes = 0;
  for (const HashSet& s : stored) stored_hashes += s.hashes.size();
  for (const HashSet& c : checked) {
    checked_hashes += c.hashes.size();
    for (const HashSet& s : stored) {
      if (s.group == c.group) continue;
      int best = 256;
      for (const auto& q : c.hashes) {
        for (const auto& t : s.hashes) {
          const int d = pdq::HammingDistance(q, t);
          ++hist[d];
          best = std::min(best, d);
        }
      }
      if (!c.hashes.empty()) ++best_hist[best];
      if (best < close_report) {
        std::printf("close: %d  %s  vs registered %s\n", best, c.name.c_str(), s.name.c_str());
      }
    }
  }
  checked_images = checked.size();
  long long total = 0;
  double sum = 0, sum2 = 0;
  for (int d = 0; d <= 256; ++d) {
    total += hist[d];
    sum += 1.0 * d * hist[d];
    sum2 += 1.0 * d * d * hist[d];
  }
  const double mean = sum / total, sd = std::sqrt(sum2 / total - mean * mean);
  std::printf("groups %zu, files hashed %zu, registered images %zu (%.1f hashes each), "
              "checked hash sets %zu (%zu hashes)\n",
              group_ids.size(), files, stored.size(), 1.0 * stored_hashes / stored.size(),
              checked_images, checked_hashes);
  std::printf("unrelated hash pairs %lld: mean %.1f, sd %.1f\n", total, mean, sd);
  std::printf("  d   pairs<=d   share<=d   set pairs<=d\n");
  long long cum = 0, cum_best = 0;
  int first = -1;
  std::vector<std::pair<int, double>> tail;  // (d, log10 share) for the fit
  for (int d = 0; d <= 128; ++d) {
    cum += hist[d];
    cum_best += best_hist[d];
    if (cum == 0) continue;
    if (first < 0) first = d;
    const double share = 1.0 * cum / total;
    if (d % 4 == 0 || d == first) {
      std::printf("%3d %10lld %10.2e %10lld\n", d, cum, share, cum_best);
    }
    // The fit uses the low end where counts are not tiny (>= 10) up to a
    // share of 1e-4: the tail, not the bulk.
    if (cum >= 10 && share <= 1e-4) tail.emplace_back(d, std::log10(share));
  }
  // Straight line through log10 of a tail's cumulative share: the
  // conservative reading (a normal tail falls faster).
  auto fit = [](const std::vector<std::pair<int, double>>& points, double* slope,
                double* intercept) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& [x, y] : points) {
      sx += x;
      sy += y;
      sxx += 1.0 * x * x;
      sxy += x * y;
    }
    const double n = points.size();
    *slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    *intercept = (sy - *slope * sx) / n;
  };
  if (tail.size() < 3) {
    std::printf("too few tail points to fit\n");
    return 1;
  }
  double slope = 0, intercept = 0;
  fit(tail, &slope, &intercept);
  const double log_p = intercept + slope * threshold;
  const double stored_each = 1.0 * stored_hashes / stored.size();
  const double per_image = 1.0 * sent_hashes / sent_sets;  // as checks send them
  std::printf("tail fit over d = %d..%d: log10 share = %.3f + %.4f d\n", tail.front().first,
              tail.back().first, intercept, slope);
  std::printf("p_pair(d <= %d) ~ 10^%.1f; normal tail: %.1e\n", threshold, log_p,
              0.5 * std::erfc((mean - threshold - 0.5) / sd / std::sqrt(2.0)));
  std::printf("per checked image against %.0e registered images x %.1f hashes, %.1f checked "
              "hashes: P ~ 10^%.1f (union bound over hash pairs)\n",
              registered, stored_each, per_image,
              std::log10(registered * stored_each * per_image) + log_p);
  // The same line on the closest distance per (checked image, registered
  // image) pair: an image's hashes are not independent, so this needs no
  // union bound.
  long long set_pairs = 0;
  for (long long c : best_hist) set_pairs += c;
  std::vector<std::pair<int, double>> set_tail;
  long long cum_sets = 0;
  for (int d = 0; d <= 128; ++d) {
    cum_sets += best_hist[d];
    const double share = 1.0 * cum_sets / set_pairs;
    if (cum_sets >= 10 && share <= 1e-3) set_tail.emplace_back(d, std::log10(share));
  }
  if (set_tail.size() >= 3) {
    double set_slope = 0, set_intercept = 0;
    fit(set_tail, &set_slope, &set_intercept);
    const double log_image = set_intercept + set_slope * threshold;
    std::printf("image pairs %lld; closest-distance tail fit over d = %d..%d: log10 share = "
                "%.3f + %.4f d; p_image(d <= %d) ~ 10^%.1f; per checked image against %.0e: "
                "P ~ 10^%.1f\n",
                set_pairs, set_tail.front().first, set_tail.back().first, set_intercept,
                set_slope, threshold, log_image, registered, std::log10(registered) + log_image);
  }
  return 0;
}
