// Why a cropped copy does or does not land on its original's anchor
// windows (issue 12; README.md#matching, "Owner anchor windows chosen on
// simulated crops"):
//
//   anchor_probe ORIGINAL COPY X Y [N]
//
// COPY is ORIGINAL cropped at (X, Y) in the original's pixels, not
// resized (a corpus's crop_offset copy: edits.tsv gives X and Y). Prints
// the strongest N (default 16) anchors of each side in the original's
// pixels, each with the other side's anchor at the same place (within
// 1.5 % of the longer side; -1: none), how far inside the copy an owner
// anchor lies in its own sigmas, and for each anchor window the copy's
// client hashes: its distance to the original hashed at the same place
// ("ideal": the window's geometry and hash are fine when small) and to
// the nearest anchor window the owner's client registers (the pairing is
// fine when that is small too). Offline; nothing is sent.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client/pdq/anchor_windows.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/match_regions.h"
#include "client/pdq/pdq_hasher.h"

namespace pdq = optout::pdq;

namespace {

bool Load(const std::string& path, pdq::PrescaledImage* out) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  auto decoded = pdq::DecodeForPdq(ss.str(), pdq::DecodeLimits{}, /*region_luma=*/true);
  if (!decoded.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), std::string(decoded.status().message()).c_str());
    return false;
  }
  *out = std::move(*decoded);
  return true;
}

// Regions' lowest quality kept (optoutd's default low-quality floor).
constexpr int kMinRegionQuality = 15;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: anchor_probe ORIGINAL COPY X Y [N]\n");
    return 2;
  }
  pdq::PrescaledImage o, c;
  if (!Load(argv[1], &o) || !Load(argv[2], &c)) return 1;
  const double ox = std::atof(argv[3]), oy = std::atof(argv[4]);
  const int n = argc > 5 ? std::atoi(argv[5]) : 16;
  const int w = o.source_width, h = o.source_height, cw = c.source_width, ch = c.source_height;
  const auto owner_anchors =
      pdq::FindAnchors(o.region_luma.v, o.region_luma.width, o.region_luma.height, w, h, n);
  const auto copy_anchors =
      pdq::FindAnchors(c.region_luma.v, c.region_luma.width, c.region_luma.height, cw, ch, n);
  const double tolerance = 0.015 * std::max(w, h);
  auto same_place = [&](const pdq::Anchor& a, const std::vector<pdq::Anchor>& others,
                        double dx, double dy) {
    for (size_t k = 0; k < others.size(); ++k) {
      if (std::hypot(others[k].x + dx - a.x, others[k].y + dy - a.y) < tolerance) {
        return static_cast<int>(k);
      }
    }
    return -1;
  };
  std::printf("original %dx%d, copy %dx%d at %.0f,%.0f\nowner anchors:\n", w, h, cw, ch, ox, oy);
  for (size_t i = 0; i < owner_anchors.size(); ++i) {
    const pdq::Anchor& a = owner_anchors[i];
    const double inside = std::min({a.x - ox, a.y - oy, ox + cw - a.x, oy + ch - a.y});
    std::printf("  o%-2zu (%6.1f,%6.1f) sigma %5.1f strength %6.2f  inside copy by %5.1f sigmas"
                "  copy's c%d\n",
                i, a.x, a.y, a.sigma, a.strength, inside / a.sigma,
                same_place(a, copy_anchors, ox, oy));
  }
  std::printf("copy anchors (in the original's pixels):\n");
  for (size_t j = 0; j < copy_anchors.size(); ++j) {
    pdq::Anchor a = copy_anchors[j];
    a.x += ox;
    a.y += oy;
    std::printf("  c%-2zu (%6.1f,%6.1f) sigma %5.1f strength %6.2f  owner's o%d\n", j, a.x, a.y,
                a.sigma, a.strength, same_place(a, owner_anchors, 0, 0));
  }
  // What the two clients hash (match_regions.h).
  const pdq::PdqHash plain = pdq::HashCheckedPixels(o.image, false).hash;
  const auto owner = pdq::OwnerRegions(o.image, pdq::LumaPlane(o.region_luma), w, h, plain,
                                       kMinRegionQuality);
  const auto checked =
      pdq::CheckerRegions(c.image, pdq::LumaPlane(c.region_luma), cw, ch, kMinRegionQuality);
  const pdq::RegionHasher original(pdq::LumaPlane(o.region_luma), w, h);
  int owner_windows = 0;
  for (const auto& r : owner) owner_windows += r.region.kind == pdq::RegionKind::kAnchor;
  std::printf("owner: %zu regions, %d anchor windows; copy's anchor windows:\n", owner.size(),
              owner_windows);
  for (const auto& r : checked) {
    if (r.region.kind != pdq::RegionKind::kAnchor) continue;
    const pdq::Region& q = r.region;
    const pdq::Region in_original{(q.x0 * cw + ox) / w, (q.y0 * ch + oy) / h,
                                  (q.x1 * cw + ox) / w, (q.y1 * ch + oy) / h, 0};
    const int ideal = pdq::HammingDistance(r.hash, original.Hash(in_original).hash);
    int best = 256;
    double offset = 1;
    for (const auto& s : owner) {
      if (s.region.kind != pdq::RegionKind::kAnchor) continue;
      const pdq::Region& t = s.region;
      const double e = std::max({std::abs(t.x0 - in_original.x0), std::abs(t.x1 - in_original.x1),
                                 std::abs(t.y0 - in_original.y0), std::abs(t.y1 - in_original.y1)});
      const int d = pdq::HammingDistance(r.hash, s.hash);
      if (d < best) best = d, offset = e;
    }
    std::printf("  window (%.3f,%.3f)-(%.3f,%.3f) quality %3d: ideal %3d, nearest owner anchor "
                "window %3d (edges %.4f apart)\n",
                in_original.x0, in_original.y0, in_original.x1, in_original.y1, r.quality, ideal,
                best, offset);
  }
  return 0;
}
