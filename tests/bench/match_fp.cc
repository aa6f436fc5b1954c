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
// The second check (README.md#matching): every hash also has a
// verification hash (the PDQ of its window's centre, match_regions.h), and
// a pair matches only when d1 (PDQ) <= threshold and d2 (verification) <=
// --verification-distance. Reported per tier: the correlation of d1 and
// d2 over unrelated pairs, the distribution of d2 among the pairs whose d1
// is small (independence: it stays that of all pairs), each distance's own
// line, and the line through the joint score max(d1, d2 - (T2 - T)), which
// assumes nothing about independence. Hashes of quality 15..49 form the
// low-quality tier (threshold --low-quality-distance, 20): a pair is in it
// when either hash is; a region is low-quality when it or its image is
// (with --image-tier, when its image is, as before per-region tiers);
// --smooth N adds N generated scenes with little texture, most of which
// fall in it.
//
//   match_fp --images DIR [--images DIR]... [--random-windows K] [--registered N]
//            [--synthetic N] [--smooth N] [--threshold T] [--verification-distance T2]
//            [--low-quality-distance T] [--low-quality-verification-distance T2]
//            [--show-closer-than D] [--plain-only] [--image-tier]

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

#include "client/common/protocol/pdq_quality.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/match_regions.h"
#include "client/pdq/pdq_core.h"
#include "client/pdq/testing/image_encoder.h"
#include "tests/bench/corpus_files.h"
#include "tests/bench/match_scenes.h"

namespace {

namespace pdq = optout::pdq;
using optout::bench::CorpusFile;
using optout::bench::ListCorpusFiles;
using optout::bench::ReadFileBytes;

constexpr int kMinQuality = optout::protocol::kDefaultMinPdqQuality;
constexpr int kLowFloor = optout::protocol::kDefaultLowQualityPdqFloor;

struct HashSet {
  int group = 0;
  std::string name;
  bool low = false;  // the image's tier (quality low_floor..min_quality-1)
  std::vector<pdq::PdqHash> hashes;
  std::vector<bool> hash_low;        // hashes[i] is matched in the low-quality tier
  std::vector<pdq::PdqHash> verify;  // verification hash of hashes[i]
  bool random_windows = false;       // generated windows of a file, not a file
  void Add(const pdq::PdqHash& hash, bool low_quality, const pdq::PdqHash& verification) {
    hashes.push_back(hash);
    hash_low.push_back(low_quality);
    verify.push_back(verification);
  }
};

// Distances of unrelated pairs of one tier (both sides normal, or a
// low-quality side), for the PDQ hash (d1) and the verification hash (d2).
struct TierStats {
  int threshold = 31;     // d1 bound
  int verify_bound = 31;  // d2 bound
  std::vector<long long> d1 = std::vector<long long>(257, 0);
  std::vector<long long> d2 = std::vector<long long>(257, 0);
  // Joint score max(d1, d2 - (verify_bound - threshold)): a pair matches
  // with the second check iff it is <= threshold.
  std::vector<long long> joint = std::vector<long long>(257 + 256, 0);
  std::vector<long long> best_d1 = std::vector<long long>(257, 0);     // per image pair
  std::vector<long long> best_joint = std::vector<long long>(257 + 256, 0);
  // d2 of the pairs with d1 <= kCond[c].
  static constexpr int kCond[] = {48, 56, 64, 72, 80, 96, 256};
  std::vector<long long> d2_given[7];
  double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
  TierStats() {
    for (auto& h : d2_given) h.assign(257, 0);
  }
  int Joint(int a, int b) const { return std::max(a, std::max(0, b - (verify_bound - threshold))); }
  void Add(int a, int b) {
    ++d1[a];
    ++d2[b];
    ++joint[Joint(a, b)];
    s1 += a;
    s2 += b;
    s11 += 1.0 * a * a;
    s22 += 1.0 * b * b;
    s12 += 1.0 * a * b;
    for (int c = 0; c < 7; ++c) {
      if (a <= kCond[c]) ++d2_given[c][b];
    }
  }
};

// Straight line through log10 of a tail's cumulative share: the
// conservative reading (a normal tail falls faster).
void Fit(const std::vector<std::pair<int, double>>& points, double* slope, double* intercept) {
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
}

// Fits the low tail of `hist` (cumulative counts >= 10, share <= max_share)
// and returns log10 of the extrapolated share at `at`; prints the fit.
// NaN when too few points.
double TailLog(const char* what, const std::vector<long long>& hist, double max_share, int at) {
  long long total = 0;
  for (long long c : hist) total += c;
  std::vector<std::pair<int, double>> tail;
  long long cum = 0;
  int first = -1;
  for (int d = 0; d < static_cast<int>(hist.size()); ++d) {
    cum += hist[d];
    if (cum > 0 && first < 0) first = d;
    const double share = 1.0 * cum / total;
    if (cum >= 10 && share <= max_share) tail.emplace_back(d, std::log10(share));
  }
  if (tail.size() < 3) {
    std::printf("  %s: %lld pairs, closest %d, too few tail points to fit\n", what, total, first);
    return NAN;
  }
  double slope = 0, intercept = 0;
  Fit(tail, &slope, &intercept);
  const double log_p = intercept + slope * at;
  std::printf("  %s: %lld pairs, closest %d; fit d = %d..%d: log10 share = %.3f + %.4f d -> "
              "10^%.1f at %d\n",
              what, total, first, tail.front().first, tail.back().first, intercept, slope, log_p,
              at);
  return log_p;
}

// Prints a tier's figures; returns log10 of its extrapolated per-pair
// chance at its threshold (PDQ alone), NaN when it has no pairs.
double PrintTier(const char* name, const TierStats& t, double registered, double stored_each,
                 double checked_each) {
  long long total = 0;
  for (long long c : t.d1) total += c;
  if (total == 0) {
    std::printf("\n%s: no pairs\n", name);
    return NAN;
  }
  const double n = total;
  const double m1 = t.s1 / n, m2 = t.s2 / n;
  const double v1 = t.s11 / n - m1 * m1, v2 = t.s22 / n - m2 * m2;
  const double corr = (t.s12 / n - m1 * m2) / std::sqrt(v1 * v2);
  std::printf("\n%s: %lld unrelated hash pairs; PDQ d1 mean %.1f sd %.1f; verification d2 "
              "mean %.1f sd %.1f; correlation %.3f\n",
              name, total, m1, std::sqrt(v1), m2, std::sqrt(v2), corr);
  std::printf("  d2 given d1 <= c (independence: the same as for all pairs):\n"
              "      c      pairs  d2 mean  d2 sd  min d2  share d2<=%d  d2<=31    d2<=48    "
              "d2<=64\n",
              t.verify_bound);
  for (int c = 0; c < 7; ++c) {
    long long k = 0, le_v = 0, le_31 = 0, le_48 = 0, le_64 = 0;
    double sum = 0, sum2 = 0;
    int lo = -1;
    for (int d = 0; d <= 256; ++d) {
      const long long x = t.d2_given[c][d];
      if (x == 0) continue;
      if (lo < 0) lo = d;
      k += x;
      sum += 1.0 * d * x;
      sum2 += 1.0 * d * d * x;
      if (d <= t.verify_bound) le_v += x;
      if (d <= 31) le_31 += x;
      if (d <= 48) le_48 += x;
      if (d <= 64) le_64 += x;
    }
    if (k == 0) continue;
    const double mean = sum / k;
    std::printf("    %3d %10lld  %7.1f  %5.1f  %6d  %12.2e  %8.2e  %8.2e  %8.2e\n",
                TierStats::kCond[c], k, mean, std::sqrt(sum2 / k - mean * mean), lo,
                1.0 * le_v / k, 1.0 * le_31 / k, 1.0 * le_48 / k, 1.0 * le_64 / k);
  }
  const double pairs_per_check = registered * stored_each * checked_each;
  std::printf("  a check against %.0e registered images pairs %.1f checked x %.1f stored hashes "
              "each: %.2e hash pairs (union bound)\n",
              registered, checked_each, stored_each, pairs_per_check);
  const double p1 = TailLog("d1 (PDQ alone), per hash pair", t.d1, 1e-4, t.threshold);
  const double p2 = TailLog("d2 (verification alone), per hash pair", t.d2, 1e-4, t.verify_bound);
  const double pj = TailLog("joint max(d1, d2 - shift), per hash pair", t.joint, 1e-4, t.threshold);
  std::printf("  per check: PDQ alone 10^%.1f; independent product 10^%.1f; joint line 10^%.1f\n",
              p1 + std::log10(pairs_per_check), p1 + p2 + std::log10(pairs_per_check),
              pj + std::log10(pairs_per_check));
  const double i1 = TailLog("closest d1 per image pair", t.best_d1, 1e-3, t.threshold);
  const double ij = TailLog("closest joint per image pair", t.best_joint, 1e-3, t.threshold);
  std::printf("  per check (no union bound): PDQ alone 10^%.1f; joint 10^%.1f\n",
              i1 + std::log10(registered), ij + std::log10(registered));
  return p1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> dirs;
  int random_windows = 20;
  double registered = 1e7;
  int threshold = 31;
  int verify_bound = 31;
  int low_threshold = optout::protocol::kDefaultLowQualityPdqDistance;
  int low_verify_bound = optout::protocol::kDefaultLowQualityPdqDistance;
  int close_report = 0;  // print (checked, registered) pairs closer than this
  bool plain_only = false;  // the scheme before windows, for comparison
  bool region_tiers = true;  // off with --image-tier
  int synthetic = 0;
  int smooth = 0;
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
    } else if (arg == "--smooth" && i + 1 < argc) {
      smooth = std::atoi(argv[++i]);
    } else if (arg == "--plain-only") {
      plain_only = true;
    } else if (arg == "--image-tier") {
      region_tiers = false;
    } else if (arg == "--show-closer-than" && i + 1 < argc) {
      close_report = std::atoi(argv[++i]);
    } else if (arg == "--threshold" && i + 1 < argc) {
      threshold = std::atoi(argv[++i]);
    } else if (arg == "--verification-distance" && i + 1 < argc) {
      verify_bound = std::atoi(argv[++i]);
    } else if (arg == "--low-quality-distance" && i + 1 < argc) {
      low_threshold = std::atoi(argv[++i]);
    } else if (arg == "--low-quality-verification-distance" && i + 1 < argc) {
      low_verify_bound = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: match_fp --images DIR [--images DIR]... [--random-windows K] "
                   "[--registered N] [--synthetic N] [--smooth N] [--threshold T] "
                   "[--verification-distance T2] [--low-quality-distance T] "
                   "[--low-quality-verification-distance T2] [--show-closer-than D] "
                   "[--plain-only] [--image-tier]\n");
      return 2;
    }
  }
  std::map<std::string, int> group_ids;
  std::vector<HashSet> stored, checked;
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> unit(0, 1);
  size_t files = 0, low_files = 0;
  size_t sent_sets = 0, sent_hashes = 0;  // what checks send, random windows apart
  // The tier of an image and the floor of its regions, as the clients send
  // them (README.md#matching): below kLowFloor nothing is sent.
  auto tier_of = [](int quality, bool* low) {
    *low = quality < kMinQuality;
    return quality >= kLowFloor;
  };
  // Every region >= kLowFloor goes, low-quality when it or its image is
  // (the registry's per-region tiers); with --image-tier (the way before)
  // a normal image sends regions of quality >= kMinQuality, a low-quality
  // one those >= kLowFloor, all in its tier.
  auto RegionFloor = [&](bool image_low) { return region_tiers || image_low ? kLowFloor : kMinQuality; };
  auto RegionLow = [&](bool image_low, int quality) {
    return image_low || (region_tiers && quality < kMinQuality);
  };
  auto add = [&](const std::string& bytes, const std::string& name, const std::string& group_name,
                 bool original, int windows_of_it) {
    const int group = group_ids.emplace(group_name, static_cast<int>(group_ids.size())).first->second;
    pdq::HashOptions options;
    options.min_region_quality = kLowFloor;
    options.verification = !plain_only;
    if (original) {
      options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kOwner;
      auto h = pdq::HashImageBytes(bytes, options);
      bool low = false;
      if (h.ok() && tier_of(h->quality, &low)) {
        HashSet set{group, name, low, {}, {}, {}};
        set.Add(h->pdq, low, h->verification[0]);
        for (const auto& r : h->regions) {
          if (r.quality < RegionFloor(low)) continue;
          set.Add(r.hash, RegionLow(low, r.quality), r.verification);
        }
        stored.push_back(std::move(set));
      }
    }
    options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kChecker;
    options.dihedral = true;
    auto h = pdq::HashImageBytes(bytes, options);
    bool low = false;
    if (!h.ok() || !tier_of(h->quality, &low)) return;
    ++files;
    low_files += low;
    HashSet set{group, name, low, {}, {}, {}};
    for (int d = 0; d < 8; ++d) set.Add(h->dihedral[d], low, h->verification[d]);
    for (const auto& r : h->regions) {
      if (r.quality < RegionFloor(low)) continue;
      set.Add(r.hash, RegionLow(low, r.quality), r.verification);
    }
    ++sent_sets;
    sent_hashes += set.hashes.size();
    checked.push_back(std::move(set));
    if (windows_of_it == 0) return;
    // Random windows of the file: distractors of photographic content.
    auto decoded = pdq::DecodeForPdq(bytes, pdq::DecodeLimits{});
    if (!decoded.ok()) return;
    const pdq::RegionHasher hasher(decoded->image, decoded->source_width,
                                   decoded->source_height);
    HashSet windows{group, name + " (random windows)", false, {}, {}, {}, true};
    for (int k = 0; k < windows_of_it; ++k) {
      const double w = 0.25 + 0.75 * unit(rng), hgt = 0.25 + 0.75 * unit(rng);
      pdq::Region r{0, 0, w, hgt, k % 3 == 0 ? (unit(rng) * 16 - 8) : 0};
      r.x0 = (1 - w) * unit(rng);
      r.y0 = (1 - hgt) * unit(rng);
      r.x1 = r.x0 + w;
      r.y1 = r.y0 + hgt;
      const pdq::RegionHash rh = hasher.Hash(r);
      // Each window is a checked image of its own: its plain hash takes
      // its own tier in both ways of tiering (none below the floor).
      if (rh.quality >= kLowFloor && !rh.hash.IsZero()) {
        windows.Add(rh.hash, rh.quality < kMinQuality, hasher.Verification(r));
      }
    }
    checked.push_back(std::move(windows));
  };
  for (const std::string& dir : dirs) {
    for (const CorpusFile& s : ListCorpusFiles(dir)) {
      add(ReadFileBytes(s.path), s.path, s.group, s.family == "orig", random_windows);
    }
  }
  std::mt19937 scene_rng(34);
  for (int i = 0; i < synthetic; ++i) {
    const int width = 320 + static_cast<int>(scene_rng() % 400);
    const int height = 240 + static_cast<int>(scene_rng() % 300);
    const std::string jpeg = pdq::testing::EncodeJpeg(optout::bench::Scene(width, height, scene_rng, 1.0), 85);
    add(jpeg, "scene " + std::to_string(i), "scene " + std::to_string(i), true, 0);
  }
  // Smooth scenes (little texture, soft shapes): the low-quality tier's
  // unrelated images.
  std::mt19937 smooth_rng(56);
  for (int i = 0; i < smooth; ++i) {
    const int width = 320 + static_cast<int>(smooth_rng() % 400);
    const int height = 240 + static_cast<int>(smooth_rng() % 300);
    const std::string jpeg = pdq::testing::EncodeJpeg(optout::bench::Scene(width, height, smooth_rng, 0.08), 85);
    add(jpeg, "smooth " + std::to_string(i), "smooth " + std::to_string(i), true, 0);
  }
  TierStats normal, low;
  normal.threshold = threshold;
  normal.verify_bound = verify_bound;
  low.threshold = low_threshold;
  low.verify_bound = low_verify_bound;
  size_t stored_hashes = 0, checked_hashes = 0, low_stored = 0, zero_verify = 0;
  for (const HashSet& s : stored) {
    stored_hashes += s.hashes.size();
    low_stored += s.low;
    for (const auto& v : s.verify) zero_verify += v.IsZero();
  }
  long long tier_pairs[2] = {0, 0};  // hash pairs of checked sets from files, by tier
  for (const HashSet& c : checked) {
    checked_hashes += c.hashes.size();
    for (const HashSet& s : stored) {
      if (s.group == c.group) continue;
      TierStats* tier[2] = {&normal, &low};
      // Closest of this image pair in each tier (256 / 512: no pair there).
      int best[2] = {256, 256}, best_joint[2] = {512, 512};
      for (size_t i = 0; i < c.hashes.size(); ++i) {
        for (size_t j = 0; j < s.hashes.size(); ++j) {
          const int k = c.hash_low[i] || s.hash_low[j];
          TierStats& t = *tier[k];
          const int d1 = pdq::HammingDistance(c.hashes[i], s.hashes[j]);
          // An all-zero verification hash (a flat centre) verifies nothing.
          const int d2 = c.verify[i].IsZero() || s.verify[j].IsZero()
                             ? 256
                             : pdq::HammingDistance(c.verify[i], s.verify[j]);
          t.Add(d1, d2);
          if (!c.random_windows) ++tier_pairs[k];
          best[k] = std::min(best[k], d1);
          best_joint[k] = std::min(best_joint[k], t.Joint(d1, d2));
        }
      }
      for (int k = 0; k < 2; ++k) {
        if (best[k] == 256) continue;
        ++tier[k]->best_d1[best[k]];
        ++tier[k]->best_joint[best_joint[k]];
      }
      const int closest = std::min(best[0], best[1]);
      if (closest < close_report) {
        std::printf("close: %d (%s pair)  %s  vs registered %s\n", closest,
                    best[1] < best[0] ? "low-quality" : "normal", c.name.c_str(), s.name.c_str());
      }
    }
  }
  std::printf("stored hashes with an all-zero verification hash: %zu\n", zero_verify);
  std::printf("groups %zu, files hashed %zu (%zu low-quality), registered images %zu (%zu "
              "low-quality; %.1f hashes each), checked hash sets %zu (%zu hashes)\n",
              group_ids.size(), files, low_files, stored.size(), low_stored,
              1.0 * stored_hashes / stored.size(), checked.size(), checked_hashes);
  const double stored_each = 1.0 * stored_hashes / stored.size();
  const double per_image = 1.0 * sent_hashes / sent_sets;  // as checks send them
  // Each tier's figures take every hash pair of a check as if it were of
  // that tier (the bound earlier figures used); the share of a check's
  // pairs in each tier is printed beside, and both combined below.
  const long long all_pairs = tier_pairs[0] + tier_pairs[1];
  std::printf("hash pairs of checked files by tier: normal %lld, low-quality %lld (share %.3f)\n",
              tier_pairs[0], tier_pairs[1], all_pairs > 0 ? 1.0 * tier_pairs[1] / all_pairs : 0.0);
  const double p_normal =
      PrintTier("normal tier (both hashes normal)", normal, registered, stored_each, per_image);
  const double p_low = PrintTier("low-quality tier (a hash of quality 15..49 or of such an image)",
                                 low, registered, stored_each, per_image);
  // A check's hash pairs fall in the two tiers in the shares measured; the
  // union bound over both, each pair at its own tier's chance.
  if (all_pairs > 0) {
    const double share_low = 1.0 * tier_pairs[1] / all_pairs;
    double sum = 0;
    if (!std::isnan(p_normal)) sum += (1 - share_low) * std::pow(10.0, p_normal);
    if (!std::isnan(p_low)) sum += share_low * std::pow(10.0, p_low);
    const double pairs_per_check = registered * stored_each * per_image;
    std::printf("\nboth tiers, each pair at its tier's chance (low-quality share %.3f of %.2e "
                "hash pairs per check): PDQ alone 10^%.1f per check\n",
                share_low, pairs_per_check, std::log10(sum * pairs_per_check));
  }
  return 0;
}
