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
// Strata: every tier's pairs are also split by checked kind (the whole
// copy with its dihedral variants, or a checker region) and stored kind (the
// plain hash, or an owner window), each with its own line (where the tail's
// mass comes from). --dump PATH writes every hash pair within --dump-below
// (80) of each image pair that has one, with kinds, sources and qualities,
// and the strata's histograms: tests/bench/match_policy.py evaluates match
// policies on it and on match_eval's --dump. --window-images makes each
// random window an image of its own, cropped, JPEG-encoded and hashed as a
// check hashes a file (else its plain window hash, all K in one set).
//
//   match_fp --images DIR [--images DIR]... [--random-windows K] [--registered N]
//            [--synthetic N] [--smooth N] [--threshold T] [--verification-distance T2]
//            [--low-quality-distance T] [--low-quality-verification-distance T2]
//            [--show-closer-than D] [--plain-only] [--image-tier] [--window-images]
//            [--no-verification] [--dump PATH [--dump-below D]] [--variants-plain-only]
//            [--region-mirrors]
//
// --region-mirrors: checks also send each checker region's mirror hash
// (match_regions.h RegionHash::mirror), in its region's tier (fine kind 16 +
// the region's kind; README.md#matching, "Mirrored regions").
// --variants-plain-only counts a checked dihedral variant (not the plain
// hash) against stored plain hashes only, a rule measured and not applied
// by the registry (README.md#matching).

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
  // What hashes[i] is (the strata of --dump): a region (a checker region or
  // an owner window) or the whole image (plain, or a dihedral variant);
  // which of the side's sources it comes from (the 8 dihedral variants are
  // one source, 0; regions 1, 2, ...); its PDQ quality.
  std::vector<uint8_t> region;
  std::vector<uint16_t> source;
  std::vector<uint8_t> quality;
  // Finer (match_policy.py's kinds): the dihedral variant 0..7 of the
  // whole image (0 the plain hash, pdq_core.h order; a random window's
  // plain hash 0), or 8 + the region's pdq::RegionKind.
  std::vector<uint8_t> kind;
  void Add(const pdq::PdqHash& hash, bool low_quality, const pdq::PdqHash& verification,
           bool is_region = false, int from = 0, int q = 0, int fine_kind = 0) {
    kind.push_back(static_cast<uint8_t>(fine_kind));
    hashes.push_back(hash);
    hash_low.push_back(low_quality);
    verify.push_back(verification);
    region.push_back(is_region);
    source.push_back(static_cast<uint16_t>(from));
    quality.push_back(static_cast<uint8_t>(q));
  }
};

// Hash-pair distances by stratum: tier (normal, low-quality) x checked kind
// (whole, region) x stored kind (plain, window), to see where the tail's
// mass comes from; and the hits of every close image pair, for --dump.
constexpr int kFineKinds = 8 + 2 * pdq::kRegionKinds;
int FineKind(const pdq::RegionHash& r) { return 8 + static_cast<int>(r.region.kind); }
// --region-mirrors: a checker region's mirror hash (RegionHash::mirror).
int MirrorFineKind(const pdq::RegionHash& r) {
  return 8 + pdq::kRegionKinds + static_cast<int>(r.region.kind);
}

struct Strata {
  std::vector<long long> hist[2][2][2];
  // The same hash pairs by fine kinds (HashSet::kind), for --dump: what a
  // rule that lets only some kinds of checked hash meet some kinds of
  // stored hash leaves of each stratum (match_policy.py).
  std::vector<long long> fine[2][kFineKinds][kFineKinds];
  std::vector<long long> best[2][2][2];  // per image pair, closest in the stratum
  Strata() {
    for (auto& a : hist) for (auto& b : a) for (auto& c : b) c.assign(257, 0);
    for (auto& a : best) for (auto& b : a) for (auto& c : b) c.assign(257, 0);
    for (auto& a : fine) for (auto& b : a) for (auto& c : b) c.assign(257, 0);
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
  // --variants-plain-only: count a checked dihedral variant (not the plain
  // hash) against stored plain hashes only, a rule the registry does not
  // apply (match_eval --variants-plain-only).
  bool variants_plain_only = false;
  bool region_mirrors = false;  // checker regions' mirror hashes sent too
  int synthetic = 0;
  int smooth = 0;
  bool window_images = false;  // --window-images: random windows as whole checks
  bool verification = true;    // off with --no-verification (faster)
  std::string dump_path;       // --dump: every hit of close image pairs
  int dump_below = 80;         // ... within this distance (--dump-below)
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
    } else if (arg == "--variants-plain-only") {
      variants_plain_only = true;
    } else if (arg == "--region-mirrors") {
      region_mirrors = true;
    } else if (arg == "--image-tier") {
      region_tiers = false;
    } else if (arg == "--window-images") {
      window_images = true;
    } else if (arg == "--no-verification") {
      verification = false;
    } else if (arg == "--dump" && i + 1 < argc) {
      dump_path = argv[++i];
    } else if (arg == "--dump-below" && i + 1 < argc) {
      dump_below = std::atoi(argv[++i]);
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
                   "[--plain-only] [--image-tier] [--window-images] [--no-verification] "
                   "[--dump PATH [--dump-below D]]\n");
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
  // What a check sends of an image: its 8 dihedral variants (one source)
  // and its regions.
  auto AddChecked = [&](const pdq::ImageHashes& h, bool low, HashSet* set) {
    for (int d = 0; d < 8; ++d) {
      set->Add(h.dihedral[d], low, h.verification[d], false, 0, h.quality, d);
    }
    int from = 0;
    for (const auto& r : h.regions) {
      ++from;
      if (r.quality < RegionFloor(low)) continue;
      set->Add(r.hash, RegionLow(low, r.quality), r.verification, true, from, r.quality,
               FineKind(r));
      if (region_mirrors && !r.mirror.IsZero()) {
        set->Add(r.mirror, RegionLow(low, r.quality), pdq::PdqHash(), true, from, r.quality,
                 MirrorFineKind(r));
      }
    }
  };
  auto add = [&](const std::string& bytes, const std::string& name, const std::string& group_name,
                 bool original, int windows_of_it) {
    const int group = group_ids.emplace(group_name, static_cast<int>(group_ids.size())).first->second;
    pdq::HashOptions options;
    options.min_region_quality = kLowFloor;
    options.verification = !plain_only && verification;
    if (original) {
      options.regions = plain_only ? pdq::RegionSet::kNone : pdq::RegionSet::kOwner;
      auto h = pdq::HashImageBytes(bytes, options);
      bool low = false;
      if (h.ok() && tier_of(h->quality, &low)) {
        HashSet set{group, name, low};
        set.Add(h->pdq, low, h->verification[0], false, 0, h->quality);
        int from = 0;
        for (const auto& r : h->regions) {
          ++from;
          if (r.quality < RegionFloor(low)) continue;
          set.Add(r.hash, RegionLow(low, r.quality), r.verification, true, from, r.quality,
                  FineKind(r));
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
    HashSet set{group, name, low};
    AddChecked(*h, low, &set);
    ++sent_sets;
    sent_hashes += set.hashes.size();
    checked.push_back(std::move(set));
    if (windows_of_it == 0) return;
    if (window_images) {
      // Random crops of the file, each a checked image of its own hashed
      // as `optout check --image` hashes a file (plain + dihedral + regions).
      auto full = pdq::DecodeFull(bytes, pdq::DecodeLimits{});
      if (!full.ok()) return;
      for (int k = 0; k < windows_of_it; ++k) {
        const double w = 0.25 + 0.75 * unit(rng), hgt = 0.25 + 0.75 * unit(rng);
        const double x0 = (1 - w) * unit(rng), y0 = (1 - hgt) * unit(rng);
        pdq::Image crop;
        crop.channels = full->channels;
        crop.width = std::max(8, static_cast<int>(w * full->width));
        crop.height = std::max(8, static_cast<int>(hgt * full->height));
        const int cx = std::min(full->width - crop.width, static_cast<int>(x0 * full->width));
        const int cy = std::min(full->height - crop.height, static_cast<int>(y0 * full->height));
        crop.pixels.resize(crop.row_bytes() * crop.height);
        for (int y = 0; y < crop.height; ++y) {
          std::copy_n(full->row(cy + y) + static_cast<size_t>(cx) * crop.channels,
                      crop.row_bytes(), crop.row(y));
        }
        pdq::HashOptions checker;
        checker.min_region_quality = kLowFloor;
        checker.verification = options.verification;
        checker.regions = pdq::RegionSet::kChecker;
        checker.dihedral = true;
        auto wh = pdq::HashImageBytes(pdq::testing::EncodeJpeg(crop, 85), checker);
        bool window_low = false;
        if (!wh.ok() || !tier_of(wh->quality, &window_low)) continue;
        HashSet window{group, name + " (window " + std::to_string(k) + ")", window_low};
        window.random_windows = true;
        AddChecked(*wh, window_low, &window);
        checked.push_back(std::move(window));
      }
      return;
    }
    // Random windows of the file: distractors of photographic content.
    auto decoded = pdq::DecodeForPdq(bytes, pdq::DecodeLimits{}, /*region_luma=*/true);
    if (!decoded.ok()) return;
    const pdq::RegionHasher hasher(std::move(decoded->region_luma), decoded->source_width,
                                   decoded->source_height);
    HashSet windows{group, name + " (random windows)", false};
    windows.random_windows = true;
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
        windows.Add(rh.hash, rh.quality < kMinQuality, hasher.Verification(r), false, k,
                    rh.quality);
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
  long long stratum_pairs[2][2][2] = {};  // the same by stratum
  static long long fine_pairs[2][kFineKinds][kFineKinds] = {};  // ... and by fine kinds
  long long image_pairs[2] = {0, 0};      // [random window check?]
  long long offered_pairs = 0;  // hash pairs of checked files' image pairs, compared or not
  Strata strata;
  std::FILE* dump = dump_path.empty() ? nullptr : std::fopen(dump_path.c_str(), "w");
  std::string hits;
  for (const HashSet& c : checked) {
    checked_hashes += c.hashes.size();
    for (const HashSet& s : stored) {
      if (s.group == c.group) continue;
      ++image_pairs[c.random_windows];
      if (!c.random_windows) offered_pairs += c.hashes.size() * s.hashes.size();
      TierStats* tier[2] = {&normal, &low};
      // Closest of this image pair in each tier (256 / 512: no pair there).
      int best[2] = {256, 256}, best_joint[2] = {512, 512};
      int best_stratum[2][2][2];
      for (auto& a : best_stratum) for (auto& b : a) for (auto& x : b) x = 256;
      hits.clear();
      for (size_t i = 0; i < c.hashes.size(); ++i) {
        for (size_t j = 0; j < s.hashes.size(); ++j) {
          if (variants_plain_only && c.kind[i] >= 1 && c.kind[i] <= 7 && s.region[j]) continue;
          const int k = c.hash_low[i] || s.hash_low[j];
          TierStats& t = *tier[k];
          const int d1 = pdq::HammingDistance(c.hashes[i], s.hashes[j]);
          ++strata.hist[k][c.region[i]][s.region[j]][d1];
          ++strata.fine[k][c.kind[i]][s.kind[j]][d1];
          if (!c.random_windows) {
            ++stratum_pairs[k][c.region[i]][s.region[j]];
            ++fine_pairs[k][c.kind[i]][s.kind[j]];
          }
          int& bs = best_stratum[k][c.region[i]][s.region[j]];
          bs = std::min(bs, d1);
          if (dump != nullptr && d1 <= dump_below) {
            // d, tier, checked kind, stored kind, sources, qualities, fine kinds
            hits += " " + std::to_string(d1) + "," + std::to_string(k) + "," +
                    std::to_string(c.region[i]) + "," + std::to_string(s.region[j]) + "," +
                    std::to_string(c.source[i]) + "," + std::to_string(s.source[j]) + "," +
                    std::to_string(c.quality[i]) + "," + std::to_string(s.quality[j]) + "," +
                    std::to_string(c.kind[i]) + "," + std::to_string(s.kind[j]);
          }
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
      for (int k = 0; k < 2; ++k) {
        for (int a = 0; a < 2; ++a) {
          for (int b = 0; b < 2; ++b) {
            if (best_stratum[k][a][b] < 256) ++strata.best[k][a][b][best_stratum[k][a][b]];
          }
        }
      }
      if (dump != nullptr && !hits.empty()) {
        std::fprintf(dump, "P\t%s\t%s\t%d\t%d\t%d\t%s\n", c.name.c_str(), s.name.c_str(),
                     c.random_windows ? 1 : 0, c.low ? 1 : 0, s.low ? 1 : 0, hits.c_str() + 1);
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
  // As checks send them, times the share of hash pairs compared (1 unless
  // --variants-plain-only): the union bound counts those only.
  const double compared =
      offered_pairs > 0 ? 1.0 * (tier_pairs[0] + tier_pairs[1]) / offered_pairs : 1.0;
  const double per_image = compared * sent_hashes / sent_sets;
  std::printf("hash pairs compared: %.3f of those offered (%s)\n", compared,
              variants_plain_only ? "--variants-plain-only" : "every pair, as the registry");
  // Each tier's figures take every hash pair of a check as if it were of
  // that tier (the bound earlier figures used); the share of a check's
  // pairs in each tier is printed beside, and both combined below.
  const long long all_pairs = tier_pairs[0] + tier_pairs[1];
  std::printf("hash pairs of checked files by tier: normal %lld, low-quality %lld (share %.3f)\n",
              tier_pairs[0], tier_pairs[1], all_pairs > 0 ? 1.0 * tier_pairs[1] / all_pairs : 0.0);
  // Strata: hash pairs, pairs per check (files' checks), closest, and the
  // cumulative count at a few distances; each stratum's line.
  static const char* kKind[2][2] = {{"whole", "region"}, {"plain", "window"}};
  std::printf("\nimage pairs: %lld from checked files, %lld from random-window checks\n",
              image_pairs[0], image_pairs[1]);
  std::printf("strata (tier, checked kind x stored kind): hash pairs, per checked file and "
              "registered image, closest; cumulative hash pairs | image pairs at d <=\n");
  for (int k = 0; k < 2; ++k) {
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const auto& h = strata.hist[k][a][b];
        const auto& bi = strata.best[k][a][b];
        long long total = 0, total_best = 0;
        int first = -1;
        for (int d = 0; d <= 256; ++d) {
          total += h[d];
          total_best += bi[d];
          if (h[d] > 0 && first < 0) first = d;
        }
        std::printf("  %s %s x %s: %lld pairs, %.2f per check per image, closest %d, image pairs "
                    "%lld;",
                    k ? "low" : "normal", kKind[0][a], kKind[1][b], total,
                    1.0 * stratum_pairs[k][a][b] / std::max<long long>(1, image_pairs[0]), first,
                    total_best);
        long long cum = 0, cum_best = 0;
        int next = 0;
        static const int kAt[] = {20, 31, 40, 48, 56, 64, 72, 80, 88, 96};
        for (int d = 0; d <= 96; ++d) {
          cum += h[d];
          cum_best += bi[d];
          if (d == kAt[next]) {
            std::printf(" %d: %lld|%lld", d, cum, cum_best);
            ++next;
          }
        }
        std::printf("\n");
        if (total > 0) {
          TailLog("    hash pairs", h, 1e-4, k ? low_threshold : threshold);
          TailLog("    image pairs", bi, 1e-3, k ? low_threshold : threshold);
        }
      }
    }
  }
  if (dump != nullptr) {
    // The strata's histograms (hash pairs: H, closest per image pair: B)
    // and the image pair counts, so the dump alone can be re-fitted.
    std::fprintf(dump, "N\t%lld\t%lld\n", image_pairs[0], image_pairs[1]);
    for (int k = 0; k < 2; ++k) {
      for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 2; ++b) {
          for (const char* what : {"H", "B"}) {
            const auto& h = what[0] == 'H' ? strata.hist[k][a][b] : strata.best[k][a][b];
            std::fprintf(dump, "%s\t%d\t%d\t%d\t%.4f\t", what, k, a, b,
                         1.0 * stratum_pairs[k][a][b] / std::max<long long>(1, image_pairs[0]));
            for (int d = 0; d <= 256; ++d) std::fprintf(dump, "%s%lld", d ? "," : "", h[d]);
            std::fprintf(dump, "\n");
          }
        }
      }
    }
    // K: hash pairs by tier and fine kinds (checked, stored), with pairs
    // per check per registered image, for the kinds that met at all.
    for (int k = 0; k < 2; ++k) {
      for (int a = 0; a < kFineKinds; ++a) {
        for (int b = 0; b < kFineKinds; ++b) {
          const auto& h = strata.fine[k][a][b];
          long long total = 0;
          for (long long v : h) total += v;
          if (total == 0) continue;
          std::fprintf(dump, "K\t%d\t%d\t%d\t%.4f\t", k, a, b,
                       1.0 * fine_pairs[k][a][b] / std::max<long long>(1, image_pairs[0]));
          for (int d = 0; d <= 256; ++d) std::fprintf(dump, "%s%lld", d ? "," : "", h[d]);
          std::fprintf(dump, "\n");
        }
      }
    }
    std::fclose(dump);
  }
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
