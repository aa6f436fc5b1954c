// check_stages: where the client's hashing time of `optout check --image`
// goes, stage by stage, on the copies of a corpus folder (in process, one
// thread, CPU time; tests/bench/check_time.py measures whole processes).
//
//   check_stages --images DIR [--repeat N]
//   check_stages --images DIR --dump PATH
//
// Each copy (every file with "__" in its name but no "__orig") is read once,
// then each stage is run on it N times (default 3) and the mean CPU time per
// copy is printed, in ms:
//   decode          DecodeForPdq without the region luma (what the base
//                   client did: decode + the 512x512 pre-scale)
//   decode+luma     DecodeForPdq with the region luma plane (region_luma.h)
//   plain+dihedral  the plain PDQ hash and its 8 dihedral variants
//   digests         SHA-256 + MD5 of the file bytes
//   trim            TrimBorders without and with caption bars
//   anchors         FindAnchors of the checker (anchor_windows.h)
//   regions         CheckerRegions as a whole (trims, anchors, hashes)
//   check           HashImageBytes as optout check --image calls it
//   base check      HashImageBytes with plain + dihedral only
// Memory is warm here (the same buffers come back every iteration), unlike
// in a fresh process; check_time.py has the cold figures.
//
// --dump writes, for every file of DIR (originals too), every hash a
// checker and an owner send with their qualities and regions, one line
// each, and times nothing: a speed change that must not change any hash
// compares the dumps of the builds before and after it (cmp).
#include <ctime>
#include <cstdio>
#include <fstream>
#include <cstdlib>
#include <string>
#include <vector>

#include "client/common/digest/digest.h"
#include "client/pdq/anchor_windows.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/match_regions.h"
#include "client/pdq/pdq_hasher.h"
#include "tests/bench/corpus_files.h"

namespace {

namespace pdq = optout::pdq;

double ThreadCpuMillis() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// optoutd's default low-quality floor: the client keeps regions from it up.
constexpr int kMinRegionQuality = 15;

// Every hash of each file of `dir`, as checker and as owner (see above).
int Dump(const std::string& dir, const std::string& path) {
  std::ofstream out(path);
  pdq::HashOptions check;
  check.dihedral = true;
  check.regions = pdq::RegionSet::kChecker;
  check.min_region_quality = 0;
  pdq::HashOptions owner = check;
  owner.regions = pdq::RegionSet::kOwner;
  for (const auto& f : optout::bench::ListCorpusFiles(dir)) {
    const std::string bytes = optout::bench::ReadFileBytes(f.path);
    for (const pdq::HashOptions* options : {&check, &owner}) {
      const char* side = options == &check ? "checker" : "owner";
      auto h = pdq::HashImageBytes(bytes, *options);
      if (!h.ok()) {
        out << f.path << " " << side << " error " << h.status().message() << "\n";
        continue;
      }
      out << f.path << " " << side << " " << h->pdq.ToHex() << " q" << h->quality;
      for (const pdq::PdqHash& d : h->dihedral) out << " " << d.ToHex();
      out << "\n";
      for (const pdq::RegionHash& r : h->regions) {
        char region[160];
        std::snprintf(region, sizeof(region), "%.17g %.17g %.17g %.17g %.17g", r.region.x0,
                      r.region.y0, r.region.x1, r.region.y1, r.region.degrees);
        out << "  " << r.hash.ToHex() << " q" << r.quality << " " << region << "\n";
      }
    }
  }
  return out.good() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int repeat = 3;
  std::string dump;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--images" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--dump" && i + 1 < argc) {
      dump = argv[++i];
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: check_stages --images DIR [--repeat N | --dump PATH]\n");
      return 2;
    }
  }
  if (!dump.empty()) return Dump(dir, dump);
  std::vector<std::string> files;
  for (const auto& f : optout::bench::ListCorpusFiles(dir)) {
    if (f.family != "orig" && f.path.find("__") != std::string::npos) files.push_back(f.path);
  }
  if (files.empty() || repeat < 1) {
    std::fprintf(stderr, "check_stages: no copies in %s\n", dir.c_str());
    return 2;
  }
  const char* names[] = {"decode",  "decode+luma", "plain+dihedral", "digests",   "trim",
                         "anchors", "regions",     "check",          "base check"};
  constexpr int kStages = sizeof(names) / sizeof(names[0]);
  double total[kStages] = {};
  pdq::DecodeLimits limits;
  pdq::HashOptions check;
  check.dihedral = true;
  check.regions = pdq::RegionSet::kChecker;
  check.min_region_quality = kMinRegionQuality;
  pdq::HashOptions base;
  base.dihedral = true;
  int n = 0;
  for (const std::string& path : files) {
    const std::string bytes = optout::bench::ReadFileBytes(path);
    auto decoded = pdq::DecodeForPdq(bytes, limits, /*region_luma=*/true);
    if (!decoded.ok()) continue;
    ++n;
    for (int r = 0; r < repeat; ++r) {
      auto time = [&](int stage, auto&& f) {
        const double start = ThreadCpuMillis();
        f();
        total[stage] += ThreadCpuMillis() - start;
      };
      time(0, [&] { auto d = pdq::DecodeForPdq(bytes, limits, false); });
      time(1, [&] { auto d = pdq::DecodeForPdq(bytes, limits, true); });
      time(2, [&] { auto h = pdq::HashPixels(decoded->image, true); });
      time(3, [&] {
        auto s = optout::digest::Sha256(bytes);
        auto m = optout::digest::Md5(bytes);
      });
      time(4, [&] {
        pdq::TrimBorders(decoded->image, false);
        pdq::TrimBorders(decoded->image, true);
      });
      const pdq::LumaPlane& luma = decoded->region_luma;
      time(5, [&] {
        pdq::FindAnchors(luma.v, luma.width, luma.height, decoded->source_width,
                         decoded->source_height, pdq::kCheckerAnchors);
      });
      time(6, [&] {
        pdq::CheckerRegions(decoded->image, pdq::LumaPlane(luma), decoded->source_width,
                            decoded->source_height, kMinRegionQuality);
      });
      time(7, [&] { auto h = pdq::HashImageBytes(bytes, check); });
      time(8, [&] { auto h = pdq::HashImageBytes(bytes, base); });
    }
  }
  std::printf("check_stages: %d copies of %s, %d runs each; mean CPU ms per copy\n", n,
              dir.c_str(), repeat);
  for (int s = 0; s < kStages; ++s) {
    std::printf("  %-15s %7.3f\n", names[s], total[s] / (static_cast<double>(n) * repeat));
  }
  std::printf("  check / base check: x%.2f\n", total[7] / total[8]);
  return 0;
}
