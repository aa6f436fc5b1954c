// match_eval: how well edited copies of registered images are found, end to
// end (README.md#matching). It starts a real optoutd on loopback, registers
// every original of a corpus with `optout register --image` and checks every
// copy with `optout check --image` (the very commands users run), then
// prints per edit family: copies matched to their own original, copies
// matched to another image's opt-out (wrong), stored hashes per image, and
// the client's hashing CPU time per image (in-process, same library, one
// thread), and the registration hashing time of a 1024x768 JPEG.
//
// Corpus layout (tests/testdata/photos, or the full corpus it samples):
//   edits.tsv  "file<TAB>family<TAB>parameters<TAB>source" per copy, files
//              named images/GROUP__FAMILY.jpg; the original of GROUP is
//              images/GROUP__orig.jpg.
//
//   match_eval --corpus DIR [--min-matched N] [--distances]
//   match_eval --corpus DIR --offline [--dump PATH] [--min-quality Q] [--low-quality-floor F]
//              [--low-quality-distance D] [--image-tier | --checker-image-tier]
//              [--variants-plain-only] (dihedral variants meet no stored window)
//              [--region-mirrors] (checker regions' mirror hashes sent too)
//                                             (no server; see RunOffline)
//              [--verification-distance T2 [--low-quality-verification-distance T2]]
//              (the second check measured in README.md#matching: a pair
//              matches only if its verification hashes are within T2 too)
// Exit status 1 when fewer than N copies match or any match is wrong.
#include <algorithm>
#include <array>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "client/common/protocol/pdq_quality.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/testing/image_encoder.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace {

using optout::testing::CommandResult;
using optout::testing::OptoutCliBinary;
using optout::testing::OptoutdProcess;
using optout::testing::RunCommand;
namespace pdq = optout::pdq;

// optoutd's defaults: --min_pdq_quality and --low_quality_pdq_floor.
constexpr int kMinPdqQuality = optout::protocol::kDefaultMinPdqQuality;
constexpr int kLowQualityPdqFloor = optout::protocol::kDefaultLowQualityPdqFloor;

struct Copy {
  std::string file;    // relative to the corpus
  std::string family;
  std::string group;   // "v01"
};

struct FamilyRow {
  int copies = 0;
  int matched = 0;  // to their own original
  int wrong = 0;    // to another image's opt-out
  double check_ms = 0;
};

std::string GroupOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  const std::string name = file.substr(slash == std::string::npos ? 0 : slash + 1);
  return name.substr(0, name.find("__"));
}

std::vector<Copy> ReadEdits(const std::string& corpus) {
  std::ifstream in(corpus + "/edits.tsv");
  std::vector<Copy> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const size_t a = line.find('\t');
    const size_t b = line.find('\t', a + 1);
    if (a == std::string::npos) continue;
    Copy c{line.substr(0, a), line.substr(a + 1, b - a - 1), ""};
    c.group = GroupOf(c.file);
    out.push_back(c);
  }
  return out;
}

// CPU time of this thread: the hashing cost on one core, whatever else the
// machine is doing.
double ThreadCpuMillis() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Client hashing time of one file, as register / check do it.
double HashMillis(const std::string& path, pdq::RegionSet regions, bool dihedral,
                  pdq::ImageHashes* out) {
  pdq::HashOptions options;
  options.dihedral = dihedral;
  options.regions = regions;
  options.min_region_quality = kLowQualityPdqFloor;  // filtered by tier later (Tiered)
  const double start = ThreadCpuMillis();
  auto hashes = pdq::HashImageFile(path, options);
  const double ms = ThreadCpuMillis() - start;
  if (hashes.ok() && out != nullptr) *out = *std::move(hashes);
  return ms;
}

// The hashes one side sends of an image, with the tier each is matched in
// (README.md#matching): an image of quality >= min_quality is "normal"
// (its hashes and regions of quality >= min_quality); one of quality in
// [low_floor, min_quality) is "low-quality" (its hashes and regions of
// quality >= low_floor, all in its tier); below low_floor it has no PDQ
// hashes. With `region_tiers` (the registry's way since per-region tiers;
// off with --image-tier), every region of quality >= low_floor is sent,
// and one of quality < min_quality is low-quality even on a normal image
// (a region is normal only when it and its image are).
struct TieredHashes {
  bool usable = false;
  bool low = false;  // the image's (its plain hash's) tier
  int quality = 0;
  std::vector<pdq::PdqHash> hashes;
  std::vector<bool> hash_low;        // hashes[i] is matched in the low-quality tier
  std::vector<pdq::PdqHash> verify;  // verification hash of hashes[i]
  // For --dump: hashes[i] is a region (else the whole image), from source
  // source[i] (the dihedral variants: 0; regions 1, 2, ... in the hasher's
  // order), of PDQ quality quality[i].
  std::vector<uint8_t> region;
  std::vector<uint16_t> source;
  std::vector<uint8_t> hash_quality;
  // Finer (match_policy.py's kinds): the whole copy's dihedral variant
  // 0..7 (0 the plain hash; pdq_core.h order), or 8 + the region's
  // pdq::RegionKind (the owner's plain hash: 0).
  std::vector<uint8_t> kind;
  bool AnyLow() const {
    return std::find(hash_low.begin(), hash_low.end(), true) != hash_low.end();
  }
};

bool region_tiers = true;         // off with --image-tier
bool checker_image_tier = false;  // --checker-image-tier: the checker's regions by image
// --variants-plain-only: a rule the registry does not apply, measured: a
// checked dihedral variant (not the plain hash) compared with stored plain
// hashes only, not with windows (README.md#matching, "Which checked hash
// meets which stored hash": it loses mirrored or turned copies that were
// also cropped).
bool variants_plain_only = false;
// --region-mirrors: the checker also sends each region's mirror hash
// (RegionHash::mirror; README.md#matching, "Mirrored regions"), matched in
// its region's tier; fine kind 16 + the region's kind.
bool region_mirrors = false;

// Whether checked hash i is compared with stored hash j (the registry
// compares every pair).
bool Compared(const TieredHashes& checked, size_t i, const TieredHashes& stored, size_t j) {
  const int k = checked.kind[i];
  return !variants_plain_only || !(k >= 1 && k <= 7 && stored.region[j] != 0);
}

TieredHashes Tiered(const pdq::ImageHashes& h, bool checker, int min_quality, int low_floor) {
  TieredHashes out;
  out.quality = h.quality;
  if (h.quality < low_floor) return out;
  out.usable = true;
  out.low = h.quality < min_quality;
  const bool by_image = !region_tiers || (checker && checker_image_tier);
  const int region_floor = by_image && !out.low ? min_quality : low_floor;
  if (checker) {
    out.hashes.assign(h.dihedral.begin(), h.dihedral.end());
    out.verify.assign(h.verification.begin(), h.verification.end());
  } else {
    out.hashes.push_back(h.pdq);
    out.verify.push_back(h.verification[0]);
  }
  out.hash_low.assign(out.hashes.size(), out.low);
  out.region.assign(out.hashes.size(), 0);
  out.source.assign(out.hashes.size(), 0);
  out.hash_quality.assign(out.hashes.size(), static_cast<uint8_t>(h.quality));
  for (size_t i = 0; i < out.hashes.size(); ++i) out.kind.push_back(static_cast<uint8_t>(i));
  int from = 0;
  for (const auto& r : h.regions) {
    ++from;
    if (r.quality >= region_floor) {
      out.hashes.push_back(r.hash);
      out.hash_low.push_back(out.low || (!by_image && r.quality < min_quality));
      out.verify.push_back(r.verification);
      out.region.push_back(1);
      out.source.push_back(static_cast<uint16_t>(from));
      out.hash_quality.push_back(static_cast<uint8_t>(r.quality));
      out.kind.push_back(static_cast<uint8_t>(8 + static_cast<int>(r.region.kind)));
      if (checker && region_mirrors && !r.mirror.IsZero()) {
        out.hashes.push_back(r.mirror);
        out.hash_low.push_back(out.hash_low.back());
        out.verify.push_back(pdq::PdqHash());  // no verification hash of the mirror
        out.region.push_back(1);
        out.source.push_back(static_cast<uint16_t>(from));
        out.hash_quality.push_back(static_cast<uint8_t>(r.quality));
        out.kind.push_back(static_cast<uint8_t>(16 + static_cast<int>(r.region.kind)));
      }
    }
  }
  return out;
}

// Best distance of a pair of hash sets in each tier: [0] over the pairs of
// two normal hashes, [1] over pairs with a low-quality side (256: none).
std::array<int, 2> BestByTier(const TieredHashes& a, const TieredHashes& b) {
  std::array<int, 2> best = {256, 256};
  for (size_t i = 0; i < a.hashes.size(); ++i) {
    for (size_t j = 0; j < b.hashes.size(); ++j) {
      if (!Compared(a, i, b, j)) continue;
      int& slot = best[a.hash_low[i] || b.hash_low[j]];
      slot = std::min(slot, pdq::HammingDistance(a.hashes[i], b.hashes[j]));
    }
  }
  return best;
}

// The closest verification distance among the hash pairs within `bound`
// of each other (256 when none is): a pair matches with the second check
// when it is within the verification distance (README.md#matching).
int BestVerified(const TieredHashes& a, const TieredHashes& b, const std::array<int, 2>& bound) {
  int best = 256;
  for (size_t i = 0; i < a.hashes.size(); ++i) {
    for (size_t j = 0; j < b.hashes.size(); ++j) {
      if (!Compared(a, i, b, j)) continue;
      const int pair_bound = bound[a.hash_low[i] || b.hash_low[j]];
      if (pdq::HammingDistance(a.hashes[i], b.hashes[j]) > pair_bound) continue;
      if (a.verify[i].IsZero() || b.verify[j].IsZero()) continue;
      best = std::min(best, pdq::HammingDistance(a.verify[i], b.verify[j]));
    }
  }
  return best;
}

// How many independent hits a pair has within `bound`: the smaller of the
// number of distinct checked hashes (the 8 dihedral variants of the plain
// one counting as one) and of distinct stored hashes that take part in a
// hit. A rule that needs two hits agreeing on geometry needs this >= 2.
size_t HitSpread(const TieredHashes& checked, const TieredHashes& stored,
                 const std::array<int, 2>& bound) {
  std::set<size_t> sources, targets;
  for (size_t i = 0; i < checked.hashes.size(); ++i) {
    for (size_t j = 0; j < stored.hashes.size(); ++j) {
      if (!Compared(checked, i, stored, j)) continue;
      const int pair_bound = bound[checked.hash_low[i] || stored.hash_low[j]];
      if (pdq::HammingDistance(checked.hashes[i], stored.hashes[j]) > pair_bound) continue;
      sources.insert(i < 8 ? 0 : i);
      targets.insert(j);
    }
  }
  return std::min(sources.size(), targets.size());
}

// --dump: every hash pair of a copy and an original within `below`, one
// line per such (copy, original) pair: "C file family own copy_low
// original_low" then "d,tier,checked kind,stored kind,checked source,stored
// source,checked quality,stored quality,checked fine kind,stored fine kind"
// per hit (the strata of match_fp --dump; fine kinds: TieredHashes::kind),
// so match policies can be evaluated on the copies' own hits.
void DumpHits(std::FILE* dump, const Copy& copy, bool own, const TieredHashes& checked,
              const TieredHashes& stored, int below) {
  std::string hits;
  for (size_t i = 0; i < checked.hashes.size(); ++i) {
    for (size_t j = 0; j < stored.hashes.size(); ++j) {
      const int d = pdq::HammingDistance(checked.hashes[i], stored.hashes[j]);
      if (d > below) continue;
      hits += " " + std::to_string(d) + "," +
              std::to_string(checked.hash_low[i] || stored.hash_low[j]) + "," +
              std::to_string(checked.region[i]) + "," + std::to_string(stored.region[j]) + "," +
              std::to_string(checked.source[i]) + "," + std::to_string(stored.source[j]) + "," +
              std::to_string(checked.hash_quality[i]) + "," +
              std::to_string(stored.hash_quality[j]) + "," + std::to_string(checked.kind[i]) +
              "," + std::to_string(stored.kind[j]);
    }
  }
  if (hits.empty()) return;
  std::fprintf(dump, "C\t%s\t%s\t%d\t%d\t%d\t%s\n", copy.file.c_str(), copy.family.c_str(),
               own ? 1 : 0, checked.low ? 1 : 0, stored.low ? 1 : 0, hits.c_str() + 1);
}

// What the clients send by default (the server's default floors).
std::vector<pdq::PdqHash> HashesOf(const pdq::ImageHashes& h, bool checker) {
  return Tiered(h, checker, kMinPdqQuality, kLowQualityPdqFloor).hashes;
}

// Distances between every copy and every *other* original (best over the
// copy's checked hashes and the original's stored ones): the distribution
// a false match would come from. Prints a histogram and a tail estimate.
void PrintUnrelatedDistances(const std::string& corpus, const std::vector<Copy>& copies,
                             const std::map<std::string, pdq::ImageHashes>& originals) {
  std::vector<int> best_of_sets(257, 0), single(257, 0);
  long long pairs = 0;
  for (const Copy& c : copies) {
    pdq::ImageHashes h;
    HashMillis(corpus + "/" + c.file, pdq::RegionSet::kChecker, true, &h);
    const auto checked = HashesOf(h, true);
    for (const auto& [group, o] : originals) {
      if (group == c.group) continue;
      int best = 256;
      for (const auto& s : HashesOf(o, false)) {
        for (const auto& q : checked) {
          const int d = pdq::HammingDistance(q, s);
          ++single[d];
          best = std::min(best, d);
        }
      }
      ++best_of_sets[best];
      ++pairs;
    }
  }
  long long n = 0;
  double sum = 0, sum2 = 0;
  for (int d = 0; d <= 256; ++d) {
    n += single[d];
    sum += 1.0 * d * single[d];
    sum2 += 1.0 * d * d * single[d];
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sum2 / n - mean * mean);
  std::printf("\nunrelated hash pairs: %lld (copy hash x stored hash), mean %.1f, sd %.1f\n", n,
              mean, sd);
  std::printf("distance histogram (hash pairs / copy-original pairs, best over the sets):\n");
  long long cum_single = 0, cum_best = 0;
  for (int lo = 0; lo < 128; lo += 8) {
    long long s = 0, b = 0;
    for (int d = lo; d < lo + 8; ++d) {
      s += single[d];
      b += best_of_sets[d];
    }
    cum_single += s;
    cum_best += b;
    if (cum_single > 0) std::printf("  %3d..%3d  %10lld  %8lld\n", lo, lo + 7, s, b);
  }
  // Normal tail of the single-pair distances at the threshold: the chance
  // one unrelated stored hash is within 31 of one checked hash.
  const double z = (mean - 31.5) / sd;
  const double tail = 0.5 * std::erfc(z / std::sqrt(2.0));
  std::printf("per hash pair P(d <= 31) ~ %.2e (normal tail, z = %.1f); copy-original pairs: %lld\n",
              tail, z, pairs);
}

// Best distances of copy-original pairs in which at least one side is
// low-quality, by pairing (candidate tier / stored tier) and relation.
struct TierHistograms {
  // [pairing][own]: pairing 0 low/low, 1 normal/low, 2 low/normal.
  std::vector<int> best[3][2];
  TierHistograms() {
    for (auto& p : best) {
      for (auto& h : p) h.assign(257, 0);
    }
  }
  void Print() const {
    static const char* kNames[3] = {"low copy / low original", "normal copy / low original",
                                    "low copy / normal original"};
    std::printf("\nbest distance of copy-original pairs with a low-quality side "
                "(own pairs | unrelated pairs), by 8-bit bin:\n");
    for (int p = 0; p < 3; ++p) {
      long long own = 0, other = 0;
      int min_other = 256;
      for (int d = 0; d <= 256; ++d) {
        own += best[p][1][d];
        other += best[p][0][d];
        if (best[p][0][d] > 0) min_other = std::min(min_other, d);
      }
      std::printf("  %s: %lld own, %lld unrelated (closest unrelated %d)\n", kNames[p], own,
                  other, min_other);
      for (int lo = 0; lo < 128; lo += 8) {
        long long o = 0, u = 0;
        for (int d = lo; d < lo + 8; ++d) {
          o += best[p][1][d];
          u += best[p][0][d];
        }
        if (o + u > 0) std::printf("    %3d..%3d  %5lld | %6lld\n", lo, lo + 7, o, u);
      }
    }
  }
};

// --offline: the same decision as the registry, in process (no optoutd):
// a copy matches an original when one of the hashes its check sends is
// within the threshold of one the registration stored: 31 when both hashes
// are normal, --low-quality-distance when either is low-quality (the tier of
// --low-quality-floor..--min-quality; a region of a normal image by its own
// quality, unless --image-tier; a floor of --min-quality turns the tier
// off, as before it existed). Quick to iterate on the scheme; prints
// each miss with its best distance, the family table, and the distance
// distributions of pairs with a low-quality side.
int RunOffline(const std::string& corpus, const std::vector<Copy>& copies, int min_matched,
               int min_quality, int low_floor, int low_distance, int verify_distance,
               int low_verify_distance, std::FILE* dump) {
  std::vector<int> own_verified(257, 0);  // best d2 of own pairs that pass d1
  std::map<std::string, int> single_hit;    // own matches with one hit, by family
  // Own matches only the low-quality tier made, by family.
  std::map<std::string, int> low_tier_matches;
  int best_wrong_low = 256;  // closest unrelated pair with a low-quality side
  int own_matches = 0;
  constexpr int kThreshold = 31;
  std::map<std::string, TieredHashes> stored;
  std::set<std::string> groups;
  for (const Copy& c : copies) groups.insert(c.group);
  pdq::HashOptions owner;
  owner.regions = pdq::RegionSet::kOwner;
  owner.min_region_quality = std::min(low_floor, min_quality);
  pdq::HashOptions checker;
  checker.regions = pdq::RegionSet::kChecker;
  checker.dihedral = true;
  checker.min_region_quality = owner.min_region_quality;
  owner.verification = checker.verification = verify_distance >= 0;
  for (const std::string& g : groups) {
    auto h = pdq::HashImageFile(corpus + "/images/" + g + "__orig.jpg", owner);
    if (!h.ok()) continue;
    TieredHashes t = Tiered(*h, false, min_quality, low_floor);
    if (t.usable) {
      if (t.low) std::printf("original %s: quality %d, low-quality tier (%zu hashes)\n",
                             g.c_str(), t.quality, t.hashes.size());
      stored[g] = std::move(t);
    } else {
      std::printf("original %s: quality %d, not registered\n", g.c_str(), h->quality);
    }
  }
  std::map<std::string, FamilyRow> rows;
  TierHistograms tiers;
  int best_wrong = 256;
  std::string best_wrong_pair;  // "copy vs original group" of best_wrong
  for (const Copy& c : copies) {
    FamilyRow& row = rows[c.family];
    ++row.copies;
    const double start = ThreadCpuMillis();
    auto h = pdq::HashImageFile(corpus + "/" + c.file, checker);
    row.check_ms += ThreadCpuMillis() - start;
    if (!h.ok()) continue;
    const TieredHashes checked = Tiered(*h, true, min_quality, low_floor);
    if (!checked.usable) {
      std::printf("miss %-32s quality %d\n", c.file.c_str(), h->quality);
      continue;
    }
    int own = 256;
    std::array<int, 2> own_by_tier = {256, 256};
    bool own_matched = false;
    const std::array<int, 2> bound = {kThreshold, low_distance};
    for (const auto& [group, s] : stored) {
      if (dump != nullptr) DumpHits(dump, c, group == c.group, checked, s, 80);
      const std::array<int, 2> by_tier = BestByTier(checked, s);
      const int best = std::min(by_tier[0], by_tier[1]);
      const bool low_pair = checked.low || s.low;
      const bool low_hit = by_tier[1] <= low_distance;
      bool matched = by_tier[0] <= kThreshold || low_hit;
      if (matched && verify_distance >= 0) {
        const int d2 = BestVerified(checked, s, bound);
        if (group == c.group) ++own_verified[d2];
        matched = d2 <= (low_pair ? low_verify_distance : verify_distance);
        if (!matched && group == c.group) {
          std::printf("unverified %-32s d1 %d, best d2 %d\n", c.file.c_str(), best, d2);
        }
      }
      if (low_pair) {
        const int pairing = checked.low && s.low ? 0 : s.low ? 1 : 2;
        ++tiers.best[pairing][group == c.group][best];
      }
      if (group == c.group) {
        own = best;
        own_by_tier = by_tier;
        own_matched = matched;
        if (matched) {
          ++own_matches;
          if (low_hit && by_tier[0] > kThreshold) ++low_tier_matches[c.family];
          if (HitSpread(checked, s, bound) < 2) ++single_hit[c.family];
        }
      } else {
        if (best < best_wrong) {
          best_wrong = best;
          best_wrong_pair = c.file + " vs " + group;
        }
        if (by_tier[1] < 256) best_wrong_low = std::min(best_wrong_low, by_tier[1]);
        row.wrong += matched;
      }
    }
    if (own_matched) ++row.matched;
    else std::printf("miss %-32s best %d (normal pairs %d, low-quality pairs %d)%s\n",
                     c.file.c_str(), own, own_by_tier[0], own_by_tier[1],
                     checked.low ? " (low)" : "");
  }
  int matched = 0, wrong = 0;
  for (const auto& [family, row] : rows) {
    std::printf("%-14s %3d/%-4d %6.1f%% %6d %9.1f\n", family.c_str(), row.matched, row.copies,
                100.0 * row.matched / row.copies, row.wrong, row.check_ms / row.copies);
    matched += row.matched;
    wrong += row.wrong;
  }
  std::printf("%-14s %3d/%-4zu %6.1f%% %6d   (closest unrelated: %d)\n", "total", matched,
              copies.size(), 100.0 * matched / copies.size(), wrong, best_wrong);
  std::printf("closest unrelated pair: %s\n", best_wrong_pair.c_str());
  size_t stored_hashes = 0;
  for (const auto& [group, s] : stored) stored_hashes += s.hashes.size();
  std::printf("stored hashes per registered image: %.1f\n",
              static_cast<double>(stored_hashes) / std::max<size_t>(1, stored.size()));
  tiers.Print();
  int low_made = 0;
  for (const auto& [family, n] : low_tier_matches) low_made += n;
  std::printf("\nown matches made by a low-quality hash pair alone: %d (closest unrelated "
              "low-quality pair %d):",
              low_made, best_wrong_low);
  for (const auto& [family, n] : low_tier_matches) std::printf(" %s %d", family.c_str(), n);
  std::printf("\n");
  int single = 0;
  for (const auto& [family, n] : single_hit) single += n;
  std::printf("\nown matches with two or more distinct hits (a two-hit rule keeps them): "
              "%d of %d; one hit only:",
              own_matches - single, own_matches);
  for (const auto& [family, n] : single_hit) std::printf(" %s %d", family.c_str(), n);
  std::printf("\n");
  if (verify_distance >= 0) {
    std::printf("\nbest verification distance of own pairs within the PDQ bound "
                "(cumulative copies):\n");
    int cum = 0;
    for (int d = 0; d <= 256; ++d) {
      cum += own_verified[d];
      if (own_verified[d] > 0 || d % 8 == 0) {
        if (d <= 96 || d == 256) std::printf("  d2 <= %3d: %d\n", d, cum);
      }
    }
  }
  return matched < min_matched || wrong > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus;
  int min_matched = 0;
  bool distances = false;
  bool offline = false;
  std::string dump_path;  // --offline --dump PATH: every close hash pair
  // --offline: the registry's defaults (--min_pdq_quality,
  // --low_quality_pdq_floor, --low_quality_pdq_distance); a floor equal to
  // the minimum measures without the low-quality tier.
  int min_quality = kMinPdqQuality;
  int low_floor = kLowQualityPdqFloor;
  int low_distance = optout::protocol::kDefaultLowQualityPdqDistance;
  // The second check (README.md#matching); -1: PDQ alone.
  int verify_distance = -1;
  int low_verify_distance = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--corpus" && i + 1 < argc) {
      corpus = argv[++i];
    } else if (arg == "--min-matched" && i + 1 < argc) {
      min_matched = std::atoi(argv[++i]);
    } else if (arg == "--distances") {
      distances = true;
    } else if (arg == "--offline") {
      offline = true;
    } else if (arg == "--dump" && i + 1 < argc) {
      dump_path = argv[++i];
    } else if (arg == "--min-quality" && i + 1 < argc) {
      min_quality = std::atoi(argv[++i]);
    } else if (arg == "--variants-plain-only") {
      variants_plain_only = true;
    } else if (arg == "--region-mirrors") {
      region_mirrors = true;
    } else if (arg == "--image-tier") {
      region_tiers = false;
    } else if (arg == "--checker-image-tier") {
      checker_image_tier = true;
    } else if (arg == "--low-quality-floor" && i + 1 < argc) {
      low_floor = std::atoi(argv[++i]);
    } else if (arg == "--low-quality-distance" && i + 1 < argc) {
      low_distance = std::atoi(argv[++i]);
    } else if (arg == "--verification-distance" && i + 1 < argc) {
      verify_distance = std::atoi(argv[++i]);
    } else if (arg == "--low-quality-verification-distance" && i + 1 < argc) {
      low_verify_distance = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: match_eval --corpus DIR [--min-matched N] [--distances]\n"
                   "       [--offline [--min-quality Q] [--low-quality-floor F]\n"
                   "                  [--image-tier | --checker-image-tier]\n"
                   "                  [--low-quality-distance D]\n"
                   "                  [--verification-distance T2\n"
                   "                   [--low-quality-verification-distance T2]]]\n");
      return 2;
    }
  }
  const std::vector<Copy> copies = ReadEdits(corpus);
  if (copies.empty()) {
    std::fprintf(stderr, "match_eval: no copies listed in %s/edits.tsv\n", corpus.c_str());
    return 2;
  }
  if (offline) {
    if (low_verify_distance < 0) low_verify_distance = verify_distance;
    std::FILE* dump = dump_path.empty() ? nullptr : std::fopen(dump_path.c_str(), "w");
    const int rc = RunOffline(corpus, copies, min_matched, min_quality, low_floor, low_distance,
                              verify_distance, low_verify_distance, dump);
    if (dump != nullptr) std::fclose(dump);
    return rc;
  }
  OptoutdProcess server;
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "match_eval: optoutd: %s\n%s\n", std::string(s.message()).c_str(),
                 server.ReadLog().c_str());
    return 2;
  }
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server.address(), "--json"});
    return RunCommand(args);
  };

  // Client time of today's check (plain + dihedral) in a process that has
  // hashed no regions yet, as a client without regions runs it: the region
  // code keeps its working memory per thread, and plain hashes measured
  // after it reuse that heap and cost a quarter as much (page faults), so
  // the ratio against them (also printed) is no measure of today's client.
  double fresh_plain_ms = 0;
  for (const Copy& c : copies) {
    fresh_plain_ms += HashMillis(corpus + "/" + c.file, pdq::RegionSet::kNone, true, nullptr);
  }

  // Register every original; remember which match ids belong to whom.
  std::map<std::string, std::string> group_of_match_id;
  std::map<std::string, pdq::ImageHashes> originals;
  double register_ms = 0;
  size_t stored_hashes = 0;
  std::set<std::string> groups;
  for (const Copy& c : copies) groups.insert(c.group);
  for (const std::string& g : groups) {
    const std::string path = corpus + "/images/" + g + "__orig.jpg";
    pdq::ImageHashes h;
    register_ms += HashMillis(path, pdq::RegionSet::kOwner, false, &h);
    stored_hashes += HashesOf(h, false).size();
    originals[g] = h;
    const CommandResult r = cli({"register", "--image", path, "--no-receipt"});
    if (r.exit_code != 0) {
      std::fprintf(stderr, "match_eval: register %s: %s\n", path.c_str(), r.err.c_str());
      return 2;
    }
    const auto out = nlohmann::json::parse(r.out, nullptr, false);
    for (const auto& m : out["match_ids"]) group_of_match_id[m["match_id"].get<std::string>()] = g;
  }

  // Check every copy (in batches: one command per 64 images).
  std::map<std::string, FamilyRow> rows;
  constexpr size_t kBatch = 64;
  for (size_t first = 0; first < copies.size(); first += kBatch) {
    std::vector<std::string> args = {"check"};
    const size_t end = std::min(copies.size(), first + kBatch);
    for (size_t i = first; i < end; ++i) {
      args.push_back("--image");
      args.push_back(corpus + "/" + copies[i].file);
    }
    const CommandResult r = cli(args);
    const auto out = nlohmann::json::parse(r.out, nullptr, false);
    if (out.is_discarded() || out["results"].size() != end - first) {
      std::fprintf(stderr, "match_eval: check failed (%d): %s\n", r.exit_code, r.err.c_str());
      return 2;
    }
    for (size_t i = first; i < end; ++i) {
      const auto& result = out["results"][i - first];
      FamilyRow& row = rows[copies[i].family];
      ++row.copies;
      bool own = false, other = false;
      for (const auto& id : result["ids"]) {
        auto it = group_of_match_id.find(id.get<std::string>());
        if (it == group_of_match_id.end()) continue;
        (it->second == copies[i].group ? own : other) = true;
      }
      row.matched += own;
      row.wrong += other;
    }
  }
  // Client time per checked image, today's way (plain + dihedral) and ours.
  double plain_ms = 0;
  for (const Copy& c : copies) {
    const std::string path = corpus + "/" + c.file;
    plain_ms += HashMillis(path, pdq::RegionSet::kNone, true, nullptr);
    rows[c.family].check_ms += HashMillis(path, pdq::RegionSet::kChecker, true, nullptr);
  }

  std::printf("%-14s %8s %7s %6s %9s\n", "family", "matched", "recall", "wrong", "check ms");
  // (check ms: CPU time of hashing one copy as optout check --image does)
  int matched = 0, wrong = 0;
  double check_ms = 0;
  for (const auto& [family, row] : rows) {
    std::printf("%-14s %3d/%-4d %6.1f%% %6d %9.1f\n", family.c_str(), row.matched, row.copies,
                100.0 * row.matched / row.copies, row.wrong, row.check_ms / row.copies);
    matched += row.matched;
    wrong += row.wrong;
    check_ms += row.check_ms;
  }
  std::printf("%-14s %3d/%-4zu %6.1f%% %6d %9.1f\n", "total", matched, copies.size(),
              100.0 * matched / copies.size(), wrong, check_ms / copies.size());
  std::printf("\nstored hashes per registered image: %.1f (plain + regions)\n",
              static_cast<double>(stored_hashes) / groups.size());
  std::printf("register hashing: %.1f ms per original; check hashing: %.1f ms per copy "
              "(plain + dihedral only: %.1f ms, ratio %.2f; in this process after region "
              "hashing: %.1f ms, ratio %.2f)\n",
              register_ms / groups.size(), check_ms / copies.size(),
              fresh_plain_ms / copies.size(), check_ms / fresh_plain_ms, plain_ms / copies.size(),
              check_ms / plain_ms);
  {
    const std::string jpeg = pdq::testing::EncodeJpeg(pdq::testing::SyntheticPhoto(1024, 768), 90);
    pdq::HashOptions owner;
    owner.regions = pdq::RegionSet::kOwner;
    double best = 1e9;
    for (int i = 0; i < 5; ++i) {
      const double start = ThreadCpuMillis();
      auto h = pdq::HashImageBytes(jpeg, owner);
      best = std::min(best, ThreadCpuMillis() - start);
    }
    std::printf("register hashing of a 1024x768 JPEG: %.1f ms CPU (best of 5; budget 200)\n",
                best);
  }
  if (distances) PrintUnrelatedDistances(corpus, copies, originals);
  if (matched < min_matched || wrong > 0) {
    std::printf("FAIL: %d matched (floor %d), %d wrong (must be 0)\n", matched, min_matched, wrong);
    return 1;
  }
  return 0;
}
