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
// each a new "image" made from the same kind of pixels. Only pairs of
// different groups are counted.
//
// The observed distances never come near the threshold, so the chance of
// d <= 31 is extrapolated: log10 of the lower tail's cumulative share is
// fitted by a straight line over its observed low end (a tail that falls
// faster, as a normal one does, gives a smaller figure; the line is the
// conservative reading). Per checked image against N registered images:
//   P ~ N x (checked hashes per image) x (stored hashes per image) x p_pair
// (union bound over hash pairs), with p_pair the extrapolated share.
//
//   match_fp --images DIR [--images DIR]... [--random-windows K] [--registered N]
//            [--threshold T] [--show-closer-than D] [--plain-only]
#include <dirent.h>

#include <algorithm>
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> dirs;
  int random_windows = 20;
  double registered = 1e7;
  int threshold = 31;
  int close_report = 0;  // print (checked, registered) pairs closer than this
  bool plain_only = false;  // the scheme before windows, for comparison
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--images" && i + 1 < argc) {
      dirs.push_back(argv[++i]);
    } else if (arg == "--random-windows" && i + 1 < argc) {
      random_windows = std::atoi(argv[++i]);
    } else if (arg == "--registered" && i + 1 < argc) {
      registered = std::atof(argv[++i]);
    } else if (arg == "--plain-only") {
      plain_only = true;
    } else if (arg == "--show-closer-than" && i + 1 < argc) {
      close_report = std::atoi(argv[++i]);
    } else if (arg == "--threshold" && i + 1 < argc) {
      threshold = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: match_fp --images DIR [--images DIR]... [--random-windows K] "
                   "[--registered N] [--threshold T] [--show-closer-than D] [--plain-only]\n");
      return 2;
    }
  }
  std::map<std::string, int> group_ids;
  std::vector<HashSet> stored, checked;
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> unit(0, 1);
  size_t files = 0;
  for (const std::string& dir : dirs) {
    for (const Source& s : ListImages(dir)) {
      const int group = group_ids.emplace(s.group, static_cast<int>(group_ids.size())).first->second;
      const std::string bytes = ReadAll(s.path);
      pdq::HashOptions options;
      if (s.original) {
        options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kOwner;
        auto h = pdq::HashImageBytes(bytes, options);
        if (h.ok() && h->quality >= kMinQuality) {
          HashSet set{group, s.path, {h->pdq}};
          for (const auto& r : h->regions) set.hashes.push_back(r.hash);
          stored.push_back(std::move(set));
        }
      }
      options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kChecker;
      options.dihedral = true;
      auto h = pdq::HashImageBytes(bytes, options);
      if (!h.ok() || h->quality < kMinQuality) continue;
      ++files;
      HashSet set{group, s.path, {h->dihedral.begin(), h->dihedral.end()}};
      for (const auto& r : h->regions) set.hashes.push_back(r.hash);
      checked.push_back(std::move(set));
      // Random windows of the file: distractors of photographic content.
      auto decoded = pdq::DecodeForPdq(bytes, pdq::DecodeLimits{});
      if (!decoded.ok()) continue;
      const pdq::RegionHasher hasher(decoded->image, decoded->source_width,
                                     decoded->source_height);
      HashSet windows{group, s.path + " (random windows)", {}};
      for (int k = 0; k < random_windows; ++k) {
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
    }
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
  if (tail.size() < 3) {
    std::printf("too few tail points to fit\n");
    return 1;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : tail) {
    sx += x;
    sy += y;
    sxx += 1.0 * x * x;
    sxy += x * y;
  }
  const double n = tail.size();
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const double intercept = (sy - slope * sx) / n;
  const double log_p = intercept + slope * threshold;
  const double per_check_hashes = 1.0 * checked_hashes / checked_images;
  const double stored_each = 1.0 * stored_hashes / stored.size();
  // The checked side per image: plain + 8 dihedral + up to 4 regions.
  const double per_image = plain_only ? 9 : 13;
  std::printf("tail fit over d = %d..%d: log10 share = %.3f + %.4f d\n", tail.front().first,
              tail.back().first, intercept, slope);
  std::printf("p_pair(d <= %d) ~ 10^%.1f; normal tail: %.1e\n", threshold, log_p,
              0.5 * std::erfc((mean - threshold - 0.5) / sd / std::sqrt(2.0)));
  std::printf("per checked image against %.0e registered images x %.1f hashes, %.0f checked "
              "hashes: P ~ 10^%.1f\n",
              registered, stored_each, per_image,
              std::log10(registered * stored_each * per_image) + log_p);
  (void)per_check_hashes;
  return 0;
}
