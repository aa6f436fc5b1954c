// match_orb: does local-feature agreement (ORB keypoints + RANSAC
// similarity, orb_verifier.h) separate PDQ hits of real copies from the
// closest unrelated images? Offline prototype for the false-match bound
// (README.md#matching, issue 12); nothing here is wired into a client or
// the registry.
//
// Images: --corpus DIR (the photo corpus layout: DIR/images/GROUP__FAMILY.jpg
// with GROUP__orig.jpg the original) gives the copies whose own pairs are
// measured: per family, the PDQ decision of the registry (threshold 31, 20
// with a low-quality side; hashes as `optout register --image` and
// `optout check --image` make them) and the RANSAC inlier count against
// the original (checked as is and mirrored, the better of the two).
// Unrelated pairs: every checked image (all files of --corpus and --images
// folders, K random windows of each file as new images, --synthetic and
// --smooth generated scenes) against every registered image (originals and
// scenes) of another group: the inlier count, and the pair's PDQ distance
// (best over the hashes both sides send), so the inlier count of the pairs
// closest by PDQ can be compared with that of all pairs (tail dependence).
//
// The PDQ decision is the registry's (per-region tiers, as match_eval
// --offline). --regions verifies only where the PDQ evidence is: the hash
// pair with the smallest distance minus its tier's threshold (the hit, or
// for an unrelated pair the one that would be hit first; --hit-pairs M:
// the M smallest, the best of them counts) names a checked region (or a
// dihedral variant of the whole copy) and a stored window; the checked
// region's keypoints (extracted from it, upscaled to --side) and the
// stored keypoints inside the window are both placed in the window's
// frame, and the similarity must stay near the identity (orb_verifier.h
// VerifyInFrame). Without --regions: the whole images at any similarity.
//
// The inlier count of unrelated pairs is then read like match_fp reads
// distances: log10 of its upper tail's share, a straight line over the
// observed tail, extrapolated to each inlier threshold K; and the reading
// README.md#matching takes: from the last point with >= 3 pairs at the
// slope of the far end (from the last point with >= 16 pairs); each
// reading's K for --per-check (10^-6) at --registered images, and how
// many PDQ hits that K keeps with K set per tier (the hit's hash pair's).
// --variants also verifies every pair with --mutual, at
// --variant-reprojection PX (3) and with both, on the same descriptor
// matches, so one run compares them on the same pairs.
//
//   match_orb --corpus DIR [--images DIR]... [--synthetic N] [--smooth N]
//             [--random-windows K] [--features N] [--side PX]
//             [--stored-features N] [--stored-side PX] [--levels N] [--min-side PX]
//             [--regions]
//             [--hit-pairs M] [--frame PX] [--mutual] [--max-frame-scale S]
//             [--max-degrees D] [--max-shift F] [--max-checked N]
//             [--fast-threshold T] [--ratio R] [--reprojection PX]
//             [--registered N] [--show-top N] [--list-own] [--no-equalize]
//             [--report-every N] [--register-copies]
//             [--variants] [--variant-reprojection PX] [--per-check P]
//             [--skip-checked N]

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
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
#include "tests/bench/orb_verifier.h"

namespace {

namespace pdq = optout::pdq;
using optout::bench::CorpusFile;
using optout::bench::ListCorpusFiles;
using optout::bench::ReadFileBytes;
using optout::bench::LocalFeatures;

constexpr int kMinQuality = optout::protocol::kDefaultMinPdqQuality;
constexpr int kLowFloor = optout::protocol::kDefaultLowQualityPdqFloor;
constexpr int kThreshold = 31;
constexpr int kLowThreshold = optout::protocol::kDefaultLowQualityPdqDistance;
constexpr int kMaxInliers = 600;
const int kInlierThresholds[] = {6, 8, 10, 12, 15, 18, 20, 25, 30, 40, 50};

double CpuMillis() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Where a hash came from: sources 0..7 are the whole image (a checked
// image's 8 dihedral variants, in pdq_core.h's order; a stored image's
// plain hash is 0), source kFirstRegion + k its region k.
constexpr int kFirstRegion = 8;

struct Hashed {
  pdq::PdqHash hash;
  bool low = false;  // matched in the low-quality tier
  int source = 0;
};

// One side of a pair: the PDQ hashes that side sends or stores with their
// tiers (per region, as the registry), the regions they came from, and its
// keypoints: of the whole image (mirrored too on the checked side) and,
// with --regions, of each checked region.
struct Side {
  std::string name;
  int group = 0;
  std::string family;
  bool own_corpus = false;  // a copy of --corpus whose original is registered
  bool low = false;         // the image's tier
  int width = 0, height = 0;  // source pixels
  std::vector<Hashed> hashes;
  std::vector<pdq::Region> regions;
  LocalFeatures features, mirrored;
};

int BestDistance(const Side& a, const Side& b) {
  int best = 256;
  for (const auto& x : a.hashes) {
    for (const auto& y : b.hashes) best = std::min(best, pdq::HammingDistance(x.hash, y.hash));
  }
  return best;
}

// A checked and a stored hash, by their distance minus their tier's
// threshold (a hit at <= 0).
struct HashPair {
  int margin = 1000;
  int distance = 256;
  bool low = false;
  int checked_source = 0, stored_source = 0;
};

// The `m` pairs of distinct sources with the smallest margins, best first.
std::vector<HashPair> BestPairs(const Side& c, const Side& s, int m) {
  std::vector<HashPair> all;
  for (const auto& x : c.hashes) {
    for (const auto& y : s.hashes) {
      const bool low = x.low || y.low;
      const int d = pdq::HammingDistance(x.hash, y.hash);
      all.push_back({d - (low ? kLowThreshold : kThreshold), d, low, x.source, y.source});
    }
  }
  // Equal margins: the larger stored region first (more keypoints).
  auto area = [&](int source) {
    if (source < kFirstRegion) return 1.0;
    const pdq::Region& r = s.regions[source - kFirstRegion];
    return (r.x1 - r.x0) * (r.y1 - r.y0);
  };
  std::stable_sort(all.begin(), all.end(), [&](const HashPair& a, const HashPair& b) {
    if (a.margin != b.margin) return a.margin < b.margin;
    return area(a.stored_source) > area(b.stored_source);
  });
  std::vector<HashPair> out;
  for (const HashPair& p : all) {
    if (static_cast<int>(out.size()) == m) break;
    bool seen = false;
    for (const HashPair& q : out) {
      seen |= q.checked_source == p.checked_source && q.stored_source == p.stored_source;
    }
    if (!seen) out.push_back(p);
  }
  return out;
}

// Relative position (0..1) of a point of the whole image under dihedral
// variant v (pdq_core.h's DihedralIndex: the variant's hash is of the
// image so transformed).
void Dihedral(int v, double* u, double* w) {
  const double a = *u, b = *w;
  switch (v) {
    case 1: *u = b, *w = 1 - a; break;      // 90 degrees counter-clockwise
    case 2: *u = 1 - a, *w = 1 - b; break;  // 180
    case 3: *u = 1 - b, *w = a; break;      // 90 clockwise
    case 4: *u = a, *w = 1 - b; break;      // top and bottom swap
    case 5: *u = 1 - a, *w = b; break;      // left and right swap
    case 6: *u = b, *w = a; break;          // transpose
    case 7: *u = 1 - b, *w = 1 - a; break;  // anti-transpose
    default: break;
  }
}

// The hash pair's two sides in the stored region's frame (its source
// pixels scaled to `frame` on the longest side): the keypoints of each
// image inside its region (the checked one's whole image in the variant's
// orientation; mirrored variants use the mirror's keypoints, ORB
// descriptors being turn- but not mirror-invariant). Both come from
// whole-image extractions, so a region keeps the scale its image had.
struct Framed {
  LocalFeatures checked, stored;
  double width = 0, height = 0;
};

// Keypoints of `f` inside `r` (relative to the whole image; a turned
// region by its unturned rectangle, the similarity absorbing the turn),
// placed in a frame of width x height that the region fills. `v`: the
// dihedral variant the whole image was hashed in (r is then the whole).
void Place(const LocalFeatures& f, const pdq::Region& r, int v, bool mirrored, double width,
           double height, LocalFeatures* out) {
  const double rw = std::max(1e-6, r.x1 - r.x0), rh = std::max(1e-6, r.y1 - r.y0);
  for (size_t k = 0; k < f.size(); ++k) {
    double u = f.x[k] / f.width, w = f.y[k] / f.height;
    if (mirrored) u = 1 - u;  // back to the image's own orientation
    if (u < r.x0 || u > r.x1 || w < r.y0 || w > r.y1) continue;
    u = (u - r.x0) / rw;
    w = (w - r.y0) / rh;
    Dihedral(v, &u, &w);
    out->x.push_back(static_cast<float>(u * width));
    out->y.push_back(static_cast<float>(w * height));
    out->descriptors.push_back(f.descriptors[k]);
  }
}

Framed InFrame(const Side& c, const Side& s, const HashPair& p, int frame) {
  Framed out;
  const pdq::Region whole;
  const pdq::Region& r =
      p.stored_source >= kFirstRegion ? s.regions[p.stored_source - kFirstRegion] : whole;
  const double pw = (r.x1 - r.x0) * s.width, ph = (r.y1 - r.y0) * s.height;
  out.width = frame * pw / std::max(pw, ph);
  out.height = frame * ph / std::max(pw, ph);
  Place(s.features, r, 0, false, out.width, out.height, &out.stored);
  if (p.checked_source >= kFirstRegion) {
    Place(c.features, c.regions[p.checked_source - kFirstRegion], 0, false, out.width, out.height,
          &out.checked);
  } else {
    const int v = p.checked_source;
    const bool mirror = v >= 4;
    Place(mirror ? c.mirrored : c.features, whole, v, mirror, out.width, out.height, &out.checked);
  }
  return out;
}

// Straight line through log10 of the upper tail's share of `hist`
// (pairs with at least k inliers); returns {slope, intercept}, or NaNs.
std::pair<double, double> UpperTailLine(const std::vector<long long>& hist, double max_share,
                                        int* lo, int* hi) {
  long long total = 0;
  for (long long c : hist) total += c;
  std::vector<std::pair<int, double>> points;
  long long cum = 0;
  for (int k = static_cast<int>(hist.size()) - 1; k >= 0; --k) {
    cum += hist[k];
    const double share = 1.0 * cum / total;
    if (cum >= 10 && share <= max_share) points.emplace_back(k, std::log10(share));
  }
  if (points.size() < 3) return {NAN, NAN};
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : points) {
    sx += x;
    sy += y;
    sxx += 1.0 * x * x;
    sxy += x * y;
  }
  const double n = points.size();
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  *lo = points.back().first;
  *hi = points.front().first;
  return {slope, (sy - slope * sx) / n};
}

// The smallest inlier threshold K whose extrapolated chance per check is
// below --per-check, by the fitted line and by the far-end reading (0:
// not readable).
struct NeededK {
  int line = 0, far = 0;
};

// Smallest integer K with log10_at(K) < target, for log10_at(k) =
// at_k0 - slope * (k - k0) falling by `slope` > 0 per inlier.
int SmallestK(double at_k0, int k0, double slope, double target) {
  if (!(slope > 0)) return 0;
  if (at_k0 < target) return k0;
  return k0 + static_cast<int>(std::floor((at_k0 - target) / slope)) + 1;
}

struct Unrelated {
  // Inlier counts of unrelated pairs, all and by the pair's PDQ distance.
  static constexpr int kCond[] = {56, 64, 72, 80, 88, 96, 256};
  std::vector<long long> inliers[7];
  long long pairs = 0;
  Unrelated() {
    for (auto& h : inliers) h.assign(kMaxInliers + 1, 0);
  }
  void Add(int pdq_distance, int n) {
    ++pairs;
    for (int c = 0; c < 7; ++c) {
      if (pdq_distance <= kCond[c]) ++inliers[c][std::min(n, kMaxInliers)];
    }
  }
  NeededK Print(const char* name, double registered, double per_check) const {
    NeededK needed;
    const double target = std::log10(per_check) - std::log10(registered);  // per image pair
    std::printf("\n%s: %lld unrelated image pairs\n", name, pairs);
    if (pairs == 0) return needed;
    std::printf("  inliers by the pair's PDQ distance (tail dependence: the closest by PDQ "
                "should not agree more):\n      pdq<=      pairs  max");
    for (int k : kInlierThresholds) std::printf("   >=%-3d", k);
    std::printf("\n");
    for (int c = 0; c < 7; ++c) {
      long long n = 0;
      int max = 0;
      for (int k = 0; k <= kMaxInliers; ++k) {
        n += inliers[c][k];
        if (inliers[c][k] > 0) max = k;
      }
      if (n == 0) continue;
      std::printf("      %4d %10lld  %3d", kCond[c], n, max);
      for (int t : kInlierThresholds) {
        long long ge = 0;
        for (int k = t; k <= kMaxInliers; ++k) ge += inliers[c][k];
        std::printf("  %6lld", ge);
      }
      std::printf("\n");
    }
    std::printf("  inlier histogram of all pairs:");
    for (int k = 0; k <= kMaxInliers; ++k) {
      if (inliers[6][k] > 0) std::printf(" %d:%lld", k, inliers[6][k]);
    }
    std::printf("\n");
    int lo = 0, hi = 0;
    const auto [slope, intercept] = UpperTailLine(inliers[6], 1e-2, &lo, &hi);
    if (std::isnan(slope)) {
      // A sparse tail (the low-quality tier) still has a far end to read.
      std::printf("  too few tail points to fit a line\n");
    } else {
      needed.line = SmallestK(intercept + slope * hi, hi, -slope, target);
      std::printf("  upper tail line, k = %d..%d: log10 share(inliers >= k) = %.3f %+.4f k\n",
                  lo, hi, intercept, slope);
      for (int k : kInlierThresholds) {
        const double p = intercept + slope * k;
        std::printf("    K = %2d: 10^%.1f per image pair, 10^%.1f per check at %.0e images\n",
                    k, p, p + std::log10(registered), registered);
      }
    }
    // README.md#matching's reading: the tail flattens towards its far end,
    // so extrapolate from the last point with >= 3 pairs at the slope from
    // the last point with >= 16 pairs to it.
    int k16 = -1, k3 = -1;
    long long cum = 0, at16 = 0, at3 = 0;
    for (int k = kMaxInliers; k >= 0; --k) {
      cum += inliers[6][k];
      if (k3 < 0 && cum >= 3) k3 = k, at3 = cum;
      if (k16 < 0 && cum >= 16) k16 = k, at16 = cum;
    }
    if (k3 > k16 && k16 >= 0) {
      const double far = (std::log10(1.0 * at16) - std::log10(1.0 * at3)) / (k3 - k16);
      const double p3 = std::log10(1.0 * at3 / pairs);
      needed.far = SmallestK(p3, k3, far, target);
      std::printf("  far-end reading: >= %d: %lld pairs (10^%.2f), >= %d: %lld, slope %.3f per "
                  "inlier\n", k3, at3, p3, k16, at16, far);
      for (int k : kInlierThresholds) {
        if (k <= k3) continue;
        const double p = p3 - far * (k - k3);
        std::printf("    K = %2d: 10^%.1f per image pair, 10^%.1f per check at %.0e images\n",
                    k, p, p + std::log10(registered), registered);
      }
    } else {
      std::printf("  far-end reading: too few tail points (>= 3 pairs at %d, >= 16 at %d)\n", k3,
                  k16);
    }
    std::printf("  K for < %.0e per check at %.0e images: line %d, far end %d (0: not read)\n",
                per_check, registered, needed.line, needed.far);
    return needed;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> corpora, dirs;
  int synthetic = 0, smooth = 0, random_windows = 0, show_top = 15;
  bool list_own = false;  // one line per own pair
  size_t report_every = 300;
  // Registers every file, copies too (a registry holds framed, captioned and
  // screenshotted pictures as well): unrelated pairs that share an overlay
  // style (caption font, window chrome, logo box) are then counted.
  bool register_copies = false;
  double registered_count = 1e7;
  optout::bench::OrbOptions orb;
  optout::bench::VerifyOptions verify;
  // --regions: verify the PDQ hit's region pair in its frame (see the top).
  bool regions = false;
  int hit_pairs = 1, frame = 640;
  int stored_features = -1, stored_side = -1;  // default: --features, --side
  size_t max_checked = static_cast<size_t>(-1);  // unrelated pairs: cut after N checked
  // Unrelated pairs: start after the first N of the shuffled order, so a
  // cut run can be continued by a second process and the histograms added.
  size_t skip_checked = 0;
  // --variants: every pair also verified with --mutual, at
  // --variant-reprojection PX, and both, on the same descriptor matches
  // (one matching pass, most of a verification's cost, for all four).
  bool compare_variants = false;
  double variant_reprojection = 3;
  double per_check = 1e-6;  // the goal K is read for (issue 12)
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() { return std::string(argv[++i]); };
    if (arg == "--corpus" && i + 1 < argc) corpora.push_back(next());
    else if (arg == "--images" && i + 1 < argc) dirs.push_back(next());
    else if (arg == "--synthetic" && i + 1 < argc) synthetic = std::atoi(argv[++i]);
    else if (arg == "--smooth" && i + 1 < argc) smooth = std::atoi(argv[++i]);
    else if (arg == "--random-windows" && i + 1 < argc) random_windows = std::atoi(argv[++i]);
    else if (arg == "--features" && i + 1 < argc) orb.features = std::atoi(argv[++i]);
    else if (arg == "--side" && i + 1 < argc) orb.side = std::atoi(argv[++i]);
    else if (arg == "--fast-threshold" && i + 1 < argc) orb.fast_threshold = std::atoi(argv[++i]);
    else if (arg == "--ratio" && i + 1 < argc) verify.ratio = std::atof(argv[++i]);
    else if (arg == "--reprojection" && i + 1 < argc) verify.reprojection = std::atof(argv[++i]);
    else if (arg == "--registered" && i + 1 < argc) registered_count = std::atof(argv[++i]);
    else if (arg == "--show-top" && i + 1 < argc) show_top = std::atoi(argv[++i]);
    else if (arg == "--list-own") list_own = true;
    else if (arg == "--no-equalize") orb.equalize = false;
    else if (arg == "--register-copies") register_copies = true;
    else if (arg == "--report-every" && i + 1 < argc) report_every = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--regions") regions = true;
    else if (arg == "--levels" && i + 1 < argc) orb.levels = std::atoi(argv[++i]);
    else if (arg == "--min-side" && i + 1 < argc) orb.min_side = std::atoi(argv[++i]);
    else if (arg == "--hit-pairs" && i + 1 < argc) hit_pairs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--frame" && i + 1 < argc) frame = std::atoi(argv[++i]);
    else if (arg == "--stored-features" && i + 1 < argc) stored_features = std::atoi(argv[++i]);
    else if (arg == "--stored-side" && i + 1 < argc) stored_side = std::atoi(argv[++i]);
    else if (arg == "--mutual") verify.mutual = true;
    else if (arg == "--max-frame-scale" && i + 1 < argc) verify.max_frame_scale = std::atof(argv[++i]);
    else if (arg == "--max-degrees" && i + 1 < argc) verify.max_degrees = std::atof(argv[++i]);
    else if (arg == "--max-shift" && i + 1 < argc) verify.max_shift = std::atof(argv[++i]);
    else if (arg == "--max-checked" && i + 1 < argc) max_checked = std::atol(argv[++i]);
    else if (arg == "--variants") compare_variants = true;
    else if (arg == "--skip-checked" && i + 1 < argc) skip_checked = std::atol(argv[++i]);
    else if (arg == "--variant-reprojection" && i + 1 < argc) variant_reprojection = std::atof(argv[++i]);
    else if (arg == "--per-check" && i + 1 < argc) per_check = std::atof(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: match_orb --corpus DIR [--images DIR]... [--synthetic N] [--smooth N]\n"
                   "                 [--random-windows K] [--features N] [--side PX]\n"
                   "                 [--stored-features N] [--stored-side PX] [--levels N]\n"
                   "                 [--min-side PX]\n"
                   "                 [--regions]\n"
                   "                 [--hit-pairs M] [--frame PX] [--mutual] [--max-frame-scale S]\n"
                   "                 [--max-degrees D] [--max-shift F] [--max-checked N]\n"
                   "                 [--fast-threshold T] [--ratio R] [--reprojection PX]\n"
                   "                 [--registered N] [--show-top N] [--list-own] [--no-equalize]\n"
                   "                 [--report-every N] [--register-copies]\n"
                   "                 [--variants] [--variant-reprojection PX] [--per-check P]\n"
                   "                 [--skip-checked N]\n");
      return 2;
    }
  }
  struct Variant {
    std::string name;
    optout::bench::VerifyOptions options;
  };
  auto describe = [](const optout::bench::VerifyOptions& o) {
    char text[96];
    std::snprintf(text, sizeof text, "%s, ratio %.2f, RANSAC tolerance %.1f px",
                  o.mutual ? "mutual nearest" : "one match per stored keypoint", o.ratio,
                  o.reprojection);
    return std::string(text);
  };
  std::vector<Variant> variants = {{describe(verify), verify}};
  if (compare_variants) {
    optout::bench::VerifyOptions v = verify;
    v.mutual = !verify.mutual;
    variants.push_back({describe(v), v});
    v = verify;
    v.reprojection = variant_reprojection;
    variants.push_back({describe(v), v});
    v.mutual = !verify.mutual;
    variants.push_back({describe(v), v});
  }
  const size_t nv = variants.size();
  std::map<std::string, int> group_ids;
  std::vector<Side> stored, checked;
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> unit(0, 1);
  double extract_ms = 0;
  int extracted = 0;
  optout::bench::OrbOptions stored_orb = orb;
  if (stored_features > 0) stored_orb.features = stored_features;
  if (stored_side > 0) stored_orb.side = stored_side;
  auto features = [&](const pdq::Image& image, bool mirror,
                      const optout::bench::OrbOptions& base = optout::bench::OrbOptions{},
                      bool use_base = false) {
    optout::bench::OrbOptions o = use_base ? base : orb;
    o.mirror = mirror;
    const double start = CpuMillis();
    LocalFeatures f = optout::bench::ExtractOrb(image, o);
    extract_ms += CpuMillis() - start;
    ++extracted;
    return f;
  };
  // Tier and hashes as the clients make them (README.md#matching).
  auto usable = [](int quality, bool* low) {
    *low = quality < kMinQuality;
    return quality >= kLowFloor;
  };
  // Per-region tiers, as the registry since they exist (match_eval's
  // Tiered): every region of quality >= the floor is sent, in the
  // low-quality tier when it or its image is below kMinQuality.
  auto hashes_of = [](const pdq::ImageHashes& h, bool low, bool dihedral, Side* side) {
    if (dihedral) {
      for (int v = 0; v < 8; ++v) side->hashes.push_back({h.dihedral[v], low, v});
    } else {
      side->hashes.push_back({h.pdq, low, 0});
    }
    for (const auto& r : h.regions) {
      side->regions.push_back(r.region);
      if (r.quality < kLowFloor || r.hash.IsZero()) continue;
      side->hashes.push_back({r.hash, low || r.quality < kMinQuality,
                              kFirstRegion + static_cast<int>(side->regions.size()) - 1});
    }
  };
  auto add = [&](const std::string& bytes, const std::string& name, const std::string& group_name,
                 const std::string& family, bool own_corpus, int windows_of_it) {
    const int group = group_ids.emplace(group_name, static_cast<int>(group_ids.size())).first->second;
    auto full = pdq::DecodeFull(bytes, pdq::DecodeLimits{});
    if (!full.ok()) return;
    pdq::HashOptions options;
    options.min_region_quality = kLowFloor;
    if (family == "orig" || register_copies) {
      options.regions = pdq::RegionSet::kOwner;
      auto h = pdq::HashImageBytes(bytes, options);
      bool low = false;
      if (h.ok() && usable(h->quality, &low)) {
        Side s{name, group, family, false, low, full->width, full->height, {}, {}, {}, {}};
        hashes_of(*h, low, false, &s);
        s.features = features(*full, false, stored_orb, true);
        stored.push_back(std::move(s));
      }
    }
    options.regions = pdq::RegionSet::kChecker;
    options.dihedral = true;
    auto h = pdq::HashImageBytes(bytes, options);
    bool low = false;
    if (!h.ok() || !usable(h->quality, &low)) return;
    Side c{name, group, family, own_corpus && family != "orig", low, full->width, full->height,
           {}, {}, {}, {}};
    hashes_of(*h, low, true, &c);
    c.features = features(*full, false);
    c.mirrored = features(*full, true);
    checked.push_back(std::move(c));
    // Random windows of the file, each a new unrelated image: its PDQ hash
    // through the region hasher (as match_fp), its keypoints from the crop.
    auto decoded = pdq::DecodeForPdq(bytes, pdq::DecodeLimits{});
    if (!decoded.ok()) return;
    const pdq::RegionHasher hasher(decoded->image, decoded->source_width, decoded->source_height);
    for (int k = 0; k < windows_of_it; ++k) {
      const double w = 0.25 + 0.75 * unit(rng), hgt = 0.25 + 0.75 * unit(rng);
      pdq::Region r{0, 0, w, hgt, 0};
      r.x0 = (1 - w) * unit(rng);
      r.y0 = (1 - hgt) * unit(rng);
      r.x1 = r.x0 + w;
      r.y1 = r.y0 + hgt;
      const pdq::RegionHash rh = hasher.Hash(r);
      if (rh.quality < kMinQuality || rh.hash.IsZero()) continue;
      pdq::Image crop;
      crop.channels = full->channels;
      const int x0 = static_cast<int>(r.x0 * full->width), y0 = static_cast<int>(r.y0 * full->height);
      crop.width = std::max(1, static_cast<int>(w * full->width));
      crop.height = std::max(1, static_cast<int>(hgt * full->height));
      crop.width = std::min(crop.width, full->width - x0);
      crop.height = std::min(crop.height, full->height - y0);
      crop.pixels.resize(crop.row_bytes() * crop.height);
      for (int y = 0; y < crop.height; ++y) {
        std::copy_n(full->row(y0 + y) + static_cast<size_t>(x0) * full->channels, crop.row_bytes(),
                    crop.row(y));
      }
      Side wside{name + " window " + std::to_string(k), group, "window", false, false, crop.width,
                 crop.height, {{rh.hash, false, 0}}, {}, {}, {}};
      wside.features = features(crop, false);
      wside.mirrored = features(crop, true);
      checked.push_back(std::move(wside));
    }
  };
  for (const std::string& dir : corpora) {
    for (const CorpusFile& s : ListCorpusFiles(dir + "/images")) {
      add(ReadFileBytes(s.path), s.path, s.group, s.family, true, random_windows);
    }
  }
  for (const std::string& dir : dirs) {
    for (const CorpusFile& s : ListCorpusFiles(dir)) {
      add(ReadFileBytes(s.path), s.path, s.group, s.family, false, random_windows);
    }
  }
  std::mt19937 scene_rng(34);
  for (int i = 0; i < synthetic; ++i) {
    const int width = 320 + static_cast<int>(scene_rng() % 400);
    const int height = 240 + static_cast<int>(scene_rng() % 300);
    const std::string jpeg =
        pdq::testing::EncodeJpeg(optout::bench::Scene(width, height, scene_rng, 1.0), 85);
    add(jpeg, "scene " + std::to_string(i), "scene " + std::to_string(i), "orig", false, 0);
  }
  std::mt19937 smooth_rng(56);
  for (int i = 0; i < smooth; ++i) {
    const int width = 320 + static_cast<int>(smooth_rng() % 400);
    const int height = 240 + static_cast<int>(smooth_rng() % 300);
    const std::string jpeg =
        pdq::testing::EncodeJpeg(optout::bench::Scene(width, height, smooth_rng, 0.08), 85);
    add(jpeg, "smooth " + std::to_string(i), "smooth " + std::to_string(i), "orig", false, 0);
  }
  size_t keypoints = 0;
  for (const Side& s : stored) keypoints += s.features.size();
  std::printf("groups %zu, registered %zu (%.0f keypoints each), checked %zu; ORB extraction "
              "%.1f ms per image (thread CPU, %d extractions)\n",
              group_ids.size(), stored.size(), 1.0 * keypoints / stored.size(), checked.size(),
              extract_ms / extracted, extracted);

  // Own pairs: PDQ decision and inliers, per family and per variant.
  struct FamilyRow {
    int copies = 0, pdq_hits = 0;
    std::vector<int> hit_inliers, miss_inliers;
  };
  std::vector<std::map<std::string, FamilyRow>> rows(nv);
  // Inliers of the PDQ hits by the hit's tier (its hash pair's: [1] with
  // a side of quality below 50), per variant, for K set per tier.
  std::vector<std::array<std::vector<int>, 2>> tier_hits(nv);
  // Inliers of a pair, one per variant: the whole images at any
  // similarity, the checked one as is and mirrored; or with --regions the
  // best of its `hit_pairs` closest hash pairs, each verified in its frame.
  // Thread CPU of the descriptor matching and of each variant's geometric
  // check, so one variant's cost per pair reads from a --variants run.
  double match_ms = 0;
  std::vector<double> geometry_ms(nv, 0);
  auto both = [&](const Side& c, const Side& s) {
    std::vector<int> best(nv, 0);
    auto verify_all = [&](const LocalFeatures& a, const LocalFeatures& b, const Framed* f) {
      double start = CpuMillis();
      const optout::bench::DescriptorMatches m = optout::bench::MatchDescriptors(a, b, verify.ratio);
      match_ms += CpuMillis() - start;
      for (size_t v = 0; v < nv; ++v) {
        start = CpuMillis();
        const optout::bench::VerifyOptions& o = variants[v].options;
        const auto& list = o.mutual ? m.mutual : m.best;
        const int n = f ? optout::bench::VerifyMatchesInFrame(a, b, list, f->width, f->height, o).inliers
                        : optout::bench::VerifyMatches(a, b, list, o).inliers;
        best[v] = std::max(best[v], n);
        geometry_ms[v] += CpuMillis() - start;
      }
    };
    if (regions) {
      for (const HashPair& p : BestPairs(c, s, hit_pairs)) {
        const Framed f = InFrame(c, s, p, frame);
        verify_all(f.checked, f.stored, &f);
      }
    } else {
      verify_all(c.features, s.features, nullptr);
      verify_all(c.mirrored, s.features, nullptr);
    }
    return best;
  };
  for (const Side& c : checked) {
    if (!c.own_corpus) continue;
    for (const Side& s : stored) {
      if (s.group != c.group || s.family != "orig") continue;
      const HashPair p = BestPairs(c, s, 1).front();
      const bool hit = p.margin <= 0;
      const std::vector<int> n = both(c, s);
      for (size_t v = 0; v < nv; ++v) {
        FamilyRow& row = rows[v][c.family];
        ++row.copies;
        row.pdq_hits += hit;
        (hit ? row.hit_inliers : row.miss_inliers).push_back(n[v]);
        if (hit) tier_hits[v][p.low].push_back(n[v]);
      }
      if (list_own) {
        std::printf("own %-48s %s inliers %3d  keypoints %zu / %zu  pdq %d%s sources %d/%d",
                    c.name.c_str(), hit ? "pdq hit " : "pdq miss", n[0], c.features.size(),
                    s.features.size(), p.distance, p.low ? " low" : "", p.checked_source,
                    p.stored_source);
        if (nv > 1) {
          std::printf("  variants");
          for (size_t v = 1; v < nv; ++v) std::printf(" %d", n[v]);
        }
        std::printf("\n");
      }
    }
  }
  for (size_t v = 0; v < nv; ++v) {
    std::printf("\nown pairs (--corpus copies vs their original), %s: PDQ hits kept by an "
                "inlier threshold K; last column: PDQ misses that K alone would find\n",
                variants[v].name.c_str());
    std::printf("  %-13s %5s %5s  min", "family", "copy", "hits");
    for (int k : kInlierThresholds) std::printf("  >=%-3d", k);
    std::printf("  miss>=12\n");
    FamilyRow total;
    for (auto& [family, row] : rows[v]) {
      total.copies += row.copies;
      total.pdq_hits += row.pdq_hits;
      total.hit_inliers.insert(total.hit_inliers.end(), row.hit_inliers.begin(), row.hit_inliers.end());
      total.miss_inliers.insert(total.miss_inliers.end(), row.miss_inliers.begin(), row.miss_inliers.end());
    }
    rows[v]["total"] = total;
    // The tiers' rows count PDQ hits only (a miss has no tier of its hit).
    const char* tier_names[2] = {"tier normal", "tier low"};
    for (int t = 0; t < 2; ++t) {
      FamilyRow& row = rows[v][tier_names[t]];
      row.hit_inliers = tier_hits[v][t];
      row.copies = row.pdq_hits = static_cast<int>(row.hit_inliers.size());
    }
    for (auto& [family, row] : rows[v]) {
      std::sort(row.hit_inliers.begin(), row.hit_inliers.end());
      std::printf("  %-13s %5d %5d %4d", family.c_str(), row.copies, row.pdq_hits,
                  row.hit_inliers.empty() ? -1 : row.hit_inliers.front());
      for (int k : kInlierThresholds) {
        std::printf("  %5ld", std::count_if(row.hit_inliers.begin(), row.hit_inliers.end(),
                                            [k](int n) { return n >= k; }));
      }
      std::printf("  %5ld\n", std::count_if(row.miss_inliers.begin(), row.miss_inliers.end(),
                                            [](int n) { return n >= 12; }));
    }
    std::printf("  inliers of PDQ hits, lowest 20:");
    const std::vector<int>& lowest = rows[v]["total"].hit_inliers;
    for (size_t i = 0; i < std::min<size_t>(20, lowest.size()); ++i) std::printf(" %d", lowest[i]);
    std::printf("\n");
  }
  auto kept = [&](size_t v, int tier, int k) {
    return std::count_if(tier_hits[v][tier].begin(), tier_hits[v][tier].end(),
                         [k](int n) { return n >= k; });
  };

  // Unrelated pairs, checked images in a shuffled order with the summary
  // printed every --report-every of them, so a run cut short still reads
  // as a sample of all sources.
  std::vector<Unrelated> normal(nv), low(nv);
  struct Top {
    int inliers, distance;
    std::string checked, stored;
  };
  std::vector<Top> by_inliers, by_distance;
  auto more_inliers = [](const Top& a, const Top& b) { return a.inliers > b.inliers; };
  auto closer = [](const Top& a, const Top& b) { return a.distance < b.distance; };
  auto keep = [&](std::vector<Top>& v, auto better) {
    if (v.size() > static_cast<size_t>(4 * show_top)) {
      std::partial_sort(v.begin(), v.begin() + show_top, v.end(), better);
      v.resize(show_top);
    }
  };
  std::vector<size_t> order(checked.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(78));
  double verify_ms = 0;
  long long verified = 0, image_pairs = 0;
  match_ms = 0;
  for (double& ms : geometry_ms) ms = 0;
  auto report = [&](size_t done) {
    std::printf("\n=== after %zu of %zu checked images: verification %.3f ms per (checked, "
                "stored) feature pair (thread CPU, PDQ distance included; --regions: per image "
                "pair; --variants: all variants)\n",
                done, checked.size(), verify_ms / std::max<long long>(1, verified));
    if (skip_checked > 0) {
      std::printf("(the first %zu skipped: these pairs are of checked images %zu..%zu only)\n",
                  skip_checked, skip_checked + 1, done);
    }
    const double per_pair = 1.0 / std::max<long long>(1, image_pairs);
    std::printf("per image pair: descriptor matching %.3f ms (shared by the variants)",
                match_ms * per_pair);
    for (size_t v = 0; v < nv; ++v) {
      std::printf("; %s %.3f ms", variants[v].name.c_str(), geometry_ms[v] * per_pair);
    }
    std::printf("\n");
    for (size_t v = 0; v < nv; ++v) {
      std::printf("\n--- %s\n", variants[v].name.c_str());
      const NeededK kn = normal[v].Print(
          "normal tier (the closest hash pair's: both hashes of quality >= 50)", registered_count,
          per_check);
      const NeededK kl = low[v].Print(
          "low-quality tier (the closest hash pair has a side of quality 15..49)",
          registered_count, per_check);
      // K per tier: a hit is kept when its inliers reach its own tier's K,
      // each tier's K the larger of its two readings (the slower slope,
      // as README.md#matching reads a flattening tail) or the one read.
      const long long hits = tier_hits[v][0].size() + tier_hits[v][1].size();
      const int k_normal = std::max(kn.line, kn.far), k_low = std::max(kl.line, kl.far);
      std::printf("  PDQ hits kept, K per tier (the larger reading): normal K %d (line %d, far "
                  "end %d), low K %d (line %d, far end %d)\n",
                  k_normal, kn.line, kn.far, k_low, kl.line, kl.far);
      if (k_normal > 0 && k_low > 0) {
        const int one = std::max(k_normal, k_low);
        std::printf("    kept %ld of %zu + %ld of %zu = %ld of %lld; one K (%d) for both: %ld\n",
                    kept(v, 0, k_normal), tier_hits[v][0].size(), kept(v, 1, k_low),
                    tier_hits[v][1].size(), kept(v, 0, k_normal) + kept(v, 1, k_low), hits, one,
                    kept(v, 0, one) + kept(v, 1, one));
      } else if (k_normal > 0) {
        std::printf("    normal tier kept %ld of %zu (low tier not read)\n", kept(v, 0, k_normal),
                    tier_hits[v][0].size());
      }
    }
    std::sort(by_inliers.begin(), by_inliers.end(), more_inliers);
    std::sort(by_distance.begin(), by_distance.end(), closer);
    std::printf("\nunrelated pairs with the most inliers (%s):\n", variants[0].name.c_str());
    for (int i = 0; i < show_top && i < static_cast<int>(by_inliers.size()); ++i) {
      std::printf("  %3d inliers, pdq %3d  %s  vs registered %s\n", by_inliers[i].inliers,
                  by_inliers[i].distance, by_inliers[i].checked.c_str(), by_inliers[i].stored.c_str());
    }
    std::printf("unrelated pairs closest by PDQ:\n");
    for (int i = 0; i < show_top && i < static_cast<int>(by_distance.size()); ++i) {
      std::printf("  pdq %3d, %3d inliers  %s  vs registered %s\n", by_distance[i].distance,
                  by_distance[i].inliers, by_distance[i].checked.c_str(), by_distance[i].stored.c_str());
    }
    std::fflush(stdout);
  };
  if (max_checked < order.size()) order.resize(max_checked);
  order.erase(order.begin(), order.begin() + std::min(skip_checked, order.size()));
  for (size_t done = 0; done < order.size(); ++done) {
    const Side& c = checked[order[done]];
    const double start = CpuMillis();
    for (const Side& s : stored) {
      if (s.group == c.group) continue;
      const HashPair best = BestPairs(c, s, 1).front();
      const int d = best.distance;
      const std::vector<int> n = both(c, s);
      verified += regions ? 1 : 2;
      ++image_pairs;
      for (size_t v = 0; v < nv; ++v) (best.low ? low : normal)[v].Add(d, n[v]);
      by_inliers.push_back({n[0], d, c.name, s.name});
      by_distance.push_back({n[0], d, c.name, s.name});
      keep(by_inliers, more_inliers);
      keep(by_distance, closer);
    }
    verify_ms += CpuMillis() - start;
    if ((done + 1) % report_every == 0 && done + 1 < order.size()) report(skip_checked + done + 1);
  }
  report(skip_checked + order.size());
  return 0;
}
