#include "client/pdq/anchor_windows.h"

#include <algorithm>
#include <cmath>

namespace optout::pdq {
namespace {

// Anchors are found on a resampling of the luma with square pixels of a
// power-of-two number of source pixels, the fewest giving at most this many
// along the longer side. A crop keeps the source's pixel size, so copy and
// original are usually sampled alike (the 960-px original and its 70-92 %
// crops all get 4-px samples); a copy resized by a factor of two lands one
// octave of the scale space away, where the same blobs are found.
constexpr int kDetectSide = 256;

// Scale space (per octave: Gaussians at kSigma0 * 2^(s/3), s = 0..5; the
// differences of neighbours; extrema of the middle three).
constexpr double kSigma0 = 1.6;
constexpr int kLevels = 6;
// FindAnchors halves level 3 for the next octave once level 4 is made.
static_assert(kLevels >= 5, "the next octave needs levels 3 and 4");
constexpr int kMinOctaveSide = 12;

// A blob weaker than this (luma units, 0..255) is noise.
constexpr double kMinStrength = 1.0;

// Ridges (edges) locate badly along their length: rejected when the ratio
// of the principal curvatures exceeds this (the usual test on the Hessian).
constexpr double kMaxEdgeRatio = 10;

// A blob whose Gaussian support reaches the image's edge is measured
// differently when the edge moves (a crop): kept only this many of its
// outer sigmas away from every edge.
constexpr double kEdgeMargin = 2.5;

// Two anchors closer than this fraction of the longer side are one.
constexpr double kMinSeparation = 0.03;

// A pair's window: a square centred between the anchors, kPairScale times
// their distance a side, at least kMinWindow of the shorter side of the
// image (the checker's copy is at least 0.7 of the owner's, so the owner
// accepts windows 0.7 times as small).
constexpr double kPairScale = 1.5;
constexpr double kMinWindowChecker = 0.3;
constexpr double kMinWindowOwner = 0.2;

// The crops OwnerAnchorWindows replays the checker on: kSimSizes kept
// fractions from kSimKeepMin to kSimKeepMax on each axis (independently),
// each at kSimOffsets^2 offsets from one corner to the other (900 crops,
// 0.15-0.18 ms for 24 anchors). Wider than the crop_offset family's
// 0.70-0.92, which matched one copy fewer on one unseen set; 4 sizes at
// 4 x 4 offsets, one fewer on the other.
constexpr double kSimKeepMin = 0.65;
constexpr double kSimKeepMax = 0.95;
constexpr int kSimSizes = 6;
constexpr int kSimOffsets = 5;

// e^-t for 0 <= t <= 16, from + - * / only (whose results IEEE 754 fixes
// to the last bit, unlike std::exp's, which differ between C libraries).
double ExpNeg(double t) {
  const double u = -t / 16;
  double sum = 1, term = 1;
  for (int k = 1; k <= 12; ++k) {
    term *= u / k;
    sum += term;
  }
  for (int k = 0; k < 4; ++k) sum *= sum;
  return sum;
}

struct Plane {
  int width = 0, height = 0;
  std::vector<float> v;
  float at(int x, int y) const { return v[static_cast<size_t>(y) * width + x]; }
};

// Sets the plane's size; its memory is reused (contents undefined).
void Resize(Plane* p, int width, int height) {
  p->width = width;
  p->height = height;
  p->v.resize(static_cast<size_t>(width) * height);
}

// Separable Gaussian blur of standard deviation sigma, edges clamped, into
// `out` (another plane than `in`; resized, its memory reused).
void Blur(const Plane& in, double sigma, Plane* out) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> kernel(2 * radius + 1);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    const double w = ExpNeg(i * i / (2 * sigma * sigma));
    kernel[i + radius] = static_cast<float>(w);
    sum += w;
  }
  for (float& k : kernel) k = static_cast<float>(k / sum);
  const int w = in.width, h = in.height;
  // Each output sample is 0 + k[0] * s[0] + k[1] * s[1] + ... in tap order;
  // the loops run the taps outside and the samples inside, so that many
  // samples are summed side by side (vectorised) in that same order per
  // sample (the result does not depend on it). Rows go through a line
  // padded with their edge values; the column pass reads the row pass's
  // rows from a ring of 2 * radius + 1 (clamped at the edges), made as it
  // needs them, so no whole intermediate plane is held.
  const int ring = 2 * radius + 1;
  thread_local std::vector<float> line, rows;
  line.resize(static_cast<size_t>(w) + 2 * radius);
  rows.resize(static_cast<size_t>(ring) * w);
  int made = 0;
  auto row = [&](int y) -> const float* {
    for (; made <= y; ++made) {
      const float* src = in.v.data() + static_cast<size_t>(made) * w;
      std::fill(line.begin(), line.begin() + radius, src[0]);
      std::copy(src, src + w, line.begin() + radius);
      std::fill(line.begin() + radius + w, line.end(), src[w - 1]);
      float* o = rows.data() + static_cast<size_t>(made % ring) * w;
      std::fill(o, o + w, 0.0f);
      for (int i = 0; i <= 2 * radius; ++i) {
        const float k = kernel[i];
        const float* l = line.data() + i;
        for (int x = 0; x < w; ++x) o[x] += k * l[x];
      }
    }
    return rows.data() + static_cast<size_t>(y % ring) * w;
  };
  Resize(out, w, h);
  for (int y = 0; y < h; ++y) {
    float* o = out->v.data() + static_cast<size_t>(y) * w;
    std::fill(o, o + w, 0.0f);
    for (int i = 0; i <= 2 * radius; ++i) {
      const float k = kernel[i];
      const float* r = row(std::clamp(y + i - radius, 0, h - 1));
      for (int x = 0; x < w; ++x) o[x] += k * r[x];
    }
  }
}

// Taps of a Gaussian of standard deviation `sigma` (input samples)
// centred at input coordinate `centre` (sample i's centre is at i), edges
// clamped: the input samples and weights one output sample averages.
struct Taps {
  int first = 0;               // index of weights[0] in the input, unclamped
  std::vector<float> weights;  // sum 1
};

Taps GaussianTaps(double centre, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  Taps t;
  t.first = static_cast<int>(std::floor(centre)) - radius;
  t.weights.resize(2 * radius + 2);
  double sum = 0;
  for (size_t i = 0; i < t.weights.size(); ++i) {
    const double d = t.first + static_cast<double>(i) - centre;
    const double w = d * d > 32 * sigma * sigma ? 0 : ExpNeg(d * d / (2 * sigma * sigma));
    t.weights[i] = static_cast<float>(w);
    sum += w;
  }
  for (float& w : t.weights) w = static_cast<float>(w / sum);
  return t;
}

// The base of the scale space: the luma sampled at square pixels (see
// kDetectSide) through a Gaussian of kSigma0 detection pixels. Filtering at
// the luma's own resolution before sampling (rather than sampling, then
// blurring) makes each detection pixel a weighted average of the same
// picture area whatever the sampling phase, so a crop, whose grid is
// shifted by a fraction of a detection pixel, finds its blobs where the
// original found them.
// Written into *out (its memory reused).
void DetectionPlane(const std::vector<float>& luma, int width, int height, int source_width,
                    int source_height, Plane* out) {
  const int longer = std::max(source_width, source_height);
  int factor = 1;
  while (longer > kDetectSide * factor) factor *= 2;
  Plane& p = *out;
  p.width = std::max(1, static_cast<int>(std::lround(1.0 * source_width / factor)));
  p.height = std::max(1, static_cast<int>(std::lround(1.0 * source_height / factor)));
  p.v.assign(static_cast<size_t>(p.width) * p.height, 0.0f);
  // Detection pixel x covers source [x, x + 1) * source_width / p.width;
  // luma sample i sits at source (i + 0.5) * source_width / width.
  auto taps_of = [](int out, int in, double source_per_out, double source) {
    std::vector<Taps> taps(out);
    const double in_per_source = in / source;
    for (int o = 0; o < out; ++o) {
      const double centre = (o + 0.5) * source_per_out * in_per_source - 0.5;
      taps[o] = GaussianTaps(centre, kSigma0 * source_per_out * in_per_source);
    }
    return taps;
  };
  const std::vector<Taps> tx = taps_of(p.width, width, 1.0 * source_width / p.width, source_width);
  const std::vector<Taps> ty =
      taps_of(p.height, height, 1.0 * source_height / p.height, source_height);
  // Rows first: every luma row filtered to p.width samples, through a line
  // padded with its edge values (so no tap needs clamping).
  int pad = 0;
  for (const Taps& t : tx) {
    pad = std::max({pad, -t.first, t.first + static_cast<int>(t.weights.size()) - width});
  }
  std::vector<float> line(static_cast<size_t>(width) + 2 * pad);
  const int taps = static_cast<int>(tx[0].weights.size());
  bool uniform = true;  // every output has that many taps (one sigma)
  for (const Taps& t : tx) uniform = uniform && static_cast<int>(t.weights.size()) == taps;
  // The column taps of successive outputs move down the rows, each
  // spanning ty[0].weights.size() of them: the filtered rows are made as
  // the columns need them, into a ring of that many.
  const int ring = static_cast<int>(ty[0].weights.size());
  thread_local std::vector<float> rows;  // reused (see FindAnchors)
  rows.resize(static_cast<size_t>(ring) * p.width);
  int made = 0;
  auto row = [&](int y) -> const float* {
    for (; made <= y; ++made) {
      const float* in = luma.data() + static_cast<size_t>(made) * width;
      std::fill(line.begin(), line.begin() + pad, in[0]);
      std::copy(in, in + width, line.begin() + pad);
      std::fill(line.begin() + pad + width, line.end(), in[width - 1]);
      float* o = rows.data() + static_cast<size_t>(made % ring) * p.width;
      // Eight outputs at a time, each its own sum in tap order: eight
      // independent chains of additions instead of one waiting on the last.
      int x = 0;
      for (; x + 8 <= p.width && uniform; x += 8) {
        float acc[8] = {};
        const float* src[8];
        const float* wt[8];
        for (int k = 0; k < 8; ++k) {
          src[k] = line.data() + pad + tx[x + k].first;
          wt[k] = tx[x + k].weights.data();
        }
        for (int i = 0; i < taps; ++i) {
          for (int k = 0; k < 8; ++k) acc[k] += wt[k][i] * src[k][i];
        }
        std::copy(acc, acc + 8, o + x);
      }
      for (; x < p.width; ++x) {
        const Taps& t = tx[x];
        const float* src = line.data() + pad + t.first;
        float acc = 0;
        for (size_t i = 0; i < t.weights.size(); ++i) acc += t.weights[i] * src[i];
        o[x] = acc;
      }
    }
    return rows.data() + static_cast<size_t>(y % ring) * p.width;
  };
  for (int y = 0; y < p.height; ++y) {
    const Taps& t = ty[y];
    float* out_row = p.v.data() + static_cast<size_t>(y) * p.width;
    for (size_t i = 0; i < t.weights.size(); ++i) {
      const float w = t.weights[i];
      const float* in = row(std::clamp(t.first + static_cast<int>(i), 0, height - 1));
      for (int x = 0; x < p.width; ++x) out_row[x] += w * in[x];
    }
  }
}

// FindAnchors keeps a blob of level s kEdgeMargin sigmas of level s + 1
// from every edge, kEdgeMarginPerSigma of its own sigma.
constexpr double kCubeRootOf2 = 1.2599210498948732;
constexpr double kEdgeMarginPerSigma = kEdgeMargin * kCubeRootOf2;

double SigmaOf(int level) {
  double s = kSigma0;
  // 2^(level/3) by repeated multiplication with the cube root of 2.
  for (int i = 0; i < level; ++i) s *= kCubeRootOf2;
  return s;
}

// Offset of the extremum of the parabola through (-1, a), (0, b), (1, c).
double PeakOffset(double a, double b, double c) {
  const double curvature = a - 2 * b + c;
  if (curvature == 0) return 0;
  return std::clamp(0.5 * (a - c) / curvature, -0.5, 0.5);
}

}  // namespace

std::vector<Anchor> FindAnchors(const std::vector<float>& luma, int width, int height,
                                int source_width, int source_height, int max_anchors) {
  std::vector<Anchor> found;
  if (width < 2 || height < 2 || source_width < 2 || source_height < 2) return found;
  // Memory fresh from the system costs a page fault per 4 KiB, which was
  // most of this function's time: its planes are kept per thread, and an
  // octave holds five (two Gaussians, three differences) instead of all of
  // its levels. Gaussian s is in gauss[(first + s) % 2], its difference
  // with the next in dog[s % 3].
  thread_local Plane gauss[2], dog[3];
  int first = 0;  // which gauss[] holds the octave's base
  DetectionPlane(luma, width, height, source_width, source_height, &gauss[first]);
  // Source pixels per detection pixel (the same on both axes up to rounding).
  const double to_source_x = static_cast<double>(source_width) / gauss[first].width;
  const double to_source_y = static_cast<double>(source_height) / gauss[first].height;
  for (int octave = 0;
       std::min(gauss[first].width, gauss[first].height) >= kMinOctaveSide; ++octave) {
    const int w = gauss[first].width, h = gauss[first].height;
    const double octave_scale = static_cast<double>(1 << octave);
    // Extrema of difference s among its neighbours in s - 1, s and s + 1.
    auto extrema = [&](int s) {
      const Plane* level[3] = {&dog[(s - 1) % 3], &dog[s % 3], &dog[(s + 1) % 3]};
      const Plane& d = *level[1];
      const int margin = static_cast<int>(std::ceil(kEdgeMargin * SigmaOf(s + 1)));
      for (int y = std::max(1, margin); y < h - std::max(1, margin); ++y) {
        for (int x = std::max(1, margin); x < w - std::max(1, margin); ++x) {
          const float v = d.at(x, y);
          if (std::abs(v) < kMinStrength) continue;
          bool extremum = true;
          for (int ds = -1; ds <= 1 && extremum; ++ds) {
            for (int dy = -1; dy <= 1 && extremum; ++dy) {
              for (int dx = -1; dx <= 1 && extremum; ++dx) {
                if (ds == 0 && dy == 0 && dx == 0) continue;
                const float u = level[ds + 1]->at(x + dx, y + dy);
                extremum = v > 0 ? v > u : v < u;
              }
            }
          }
          if (!extremum) continue;
          const double dxx = d.at(x + 1, y) - 2.0 * v + d.at(x - 1, y);
          const double dyy = d.at(x, y + 1) - 2.0 * v + d.at(x, y - 1);
          const double dxy = (d.at(x + 1, y + 1) - d.at(x - 1, y + 1) - d.at(x + 1, y - 1) +
                              d.at(x - 1, y - 1)) / 4;
          const double det = dxx * dyy - dxy * dxy;
          const double trace = dxx + dyy;
          if (det <= 0 || trace * trace * kMaxEdgeRatio >= (kMaxEdgeRatio + 1) * (kMaxEdgeRatio + 1) * det) {
            continue;
          }
          const double px = x + PeakOffset(d.at(x - 1, y), v, d.at(x + 1, y));
          const double py = y + PeakOffset(d.at(x, y - 1), v, d.at(x, y + 1));
          Anchor a;
          a.x = (px * octave_scale + 0.5) * to_source_x;
          a.y = (py * octave_scale + 0.5) * to_source_y;
          a.sigma = SigmaOf(s) * octave_scale * to_source_x;
          a.strength = std::abs(v);
          found.push_back(a);
        }
      }
    };
    for (int s = 1; s < kLevels; ++s) {
      const Plane& below = gauss[(first + s - 1) % 2];
      Plane& d = dog[(s - 1) % 3];
      const double a = SigmaOf(s - 1), b = SigmaOf(s);
      // The last Gaussian is needed only for its difference, which is
      // made in its place.
      Plane& g = s == kLevels - 1 ? d : gauss[(first + s) % 2];
      Blur(below, std::sqrt(b * b - a * a), &g);
      if (&g != &d) Resize(&d, w, h);
      for (size_t i = 0; i < d.v.size(); ++i) d.v[i] = g.v[i] - below.v[i];
      if (s >= 3) extrema(s - 2);  // its three differences are made
      if (s == 4) {
        // The next octave starts from the Gaussian of twice kSigma0 (level
        // 3, needed no more), halved in place: sample (x, y) comes from
        // (2x, 2y), never behind where it goes.
        Plane& g3 = gauss[(first + 3) % 2];
        const int nw = w / 2, nh = h / 2;
        for (int y = 0; y < nh; ++y) {
          for (int x = 0; x < nw; ++x) g3.v[static_cast<size_t>(y) * nw + x] = g3.at(2 * x, 2 * y);
        }
        Resize(&g3, nw, nh);
      }
    }
    first = (first + 3) % 2;
  }
  std::sort(found.begin(), found.end(), [](const Anchor& a, const Anchor& b) {
    if (a.strength != b.strength) return a.strength > b.strength;
    return a.y != b.y ? a.y < b.y : a.x < b.x;
  });
  const double min_gap = kMinSeparation * std::max(source_width, source_height);
  std::vector<Anchor> out;
  for (const Anchor& a : found) {
    bool near = false;
    for (const Anchor& b : out) {
      near = near || (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) < min_gap * min_gap;
    }
    if (near) continue;
    out.push_back(a);
    if (static_cast<int>(out.size()) == max_anchors) break;
  }
  return out;
}

namespace {

// A window of anchors i < j, relative to the frame it was made for.
struct PairWindow {
  int i = 0, j = 0;
  Region region;
};

// The windows of pairs (i, j) in the order of j then i that lie inside
// the frame [x0, x0 + width) x [y0, y0 + height) (in the anchors'
// coordinates) and are at least min_window of its shorter side; at most
// max_windows.
std::vector<PairWindow> PairWindows(const std::vector<Anchor>& anchors, double x0, double y0,
                                    double width, double height, double min_window,
                                    int max_windows) {
  std::vector<PairWindow> out;
  const double min_side = min_window * std::min(width, height);
  for (size_t j = 1; j < anchors.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (static_cast<int>(out.size()) >= max_windows) return out;
      const Anchor& a = anchors[i];
      const Anchor& b = anchors[j];
      const double dx = a.x - b.x, dy = a.y - b.y;
      const double half = kPairScale * std::sqrt(dx * dx + dy * dy) / 2;
      if (2 * half < min_side) continue;
      const double cx = (a.x + b.x) / 2 - x0, cy = (a.y + b.y) / 2 - y0;
      if (cx - half < 0 || cy - half < 0 || cx + half > width || cy + half > height) continue;
      out.push_back(PairWindow{static_cast<int>(i), static_cast<int>(j),
                               Region{(cx - half) / width, (cy - half) / height,
                                      (cx + half) / width, (cy + half) / height, 0}});
    }
  }
  return out;
}

}  // namespace

std::vector<Region> AnchorWindows(const std::vector<Anchor>& anchors, int source_width,
                                  int source_height, AnchorSide side, int max_windows) {
  std::vector<Region> out;
  const double min_window = side == AnchorSide::kOwner ? kMinWindowOwner : kMinWindowChecker;
  for (const PairWindow& w :
       PairWindows(anchors, 0, 0, source_width, source_height, min_window, max_windows)) {
    out.push_back(w.region);
  }
  return out;
}

std::vector<Region> OwnerAnchorWindows(const std::vector<Anchor>& anchors, int source_width,
                                       int source_height, int max_windows) {
  const size_t n = anchors.size();
  // hits[i * n + j]: how many simulated crops hash the window of pair (i, j).
  std::vector<int> hits(n * n, 0);
  std::vector<Anchor> kept;
  std::vector<int> index;  // kept[k] is anchors[index[k]]
  // The checker on the copy of the whole frame and on crops of it; the
  // whole frame's windows (any copy that is not cropped: re-encoded,
  // recoloured, stamped) outweigh all the crops' together.
  const int whole_weight = kSimSizes * kSimSizes * kSimOffsets * kSimOffsets + 1;
  auto simulate = [&](double x0, double y0, double w, double h, int weight) {
    // The copy's strongest: the owner's, in order, that the crop keeps
    // clear of its edges. (Anchors near the crop's edge can also appear in
    // a copy, and the copy's minimum separation is a little smaller;
    // neither is modelled.)
    kept.clear();
    index.clear();
    for (size_t k = 0; k < n && static_cast<int>(kept.size()) < kCheckerAnchors; ++k) {
      const Anchor& p = anchors[k];
      const double margin = kEdgeMarginPerSigma * p.sigma;
      if (p.x - x0 < margin || p.y - y0 < margin || x0 + w - p.x < margin ||
          y0 + h - p.y < margin) {
        continue;
      }
      kept.push_back(p);
      index.push_back(static_cast<int>(k));
    }
    for (const PairWindow& p :
         PairWindows(kept, x0, y0, w, h, kMinWindowChecker, kCheckerAnchorWindows)) {
      hits[static_cast<size_t>(index[p.i]) * n + index[p.j]] += weight;
    }
  };
  simulate(0, 0, source_width, source_height, whole_weight);
  for (int a = 0; a < kSimSizes; ++a) {
    for (int b = 0; b < kSimSizes; ++b) {
      const double w = (kSimKeepMin + (kSimKeepMax - kSimKeepMin) * a / (kSimSizes - 1)) *
                       source_width;
      const double h = (kSimKeepMin + (kSimKeepMax - kSimKeepMin) * b / (kSimSizes - 1)) *
                       source_height;
      for (int u = 0; u < kSimOffsets; ++u) {
        for (int v = 0; v < kSimOffsets; ++v) {
          simulate((source_width - w) * u / (kSimOffsets - 1),
                   (source_height - h) * v / (kSimOffsets - 1), w, h, 1);
        }
      }
    }
  }
  std::vector<PairWindow> all =
      PairWindows(anchors, 0, 0, source_width, source_height, kMinWindowOwner,
                  static_cast<int>(n * n));
  auto hits_of = [&](const PairWindow& p) { return hits[static_cast<size_t>(p.i) * n + p.j]; };
  std::stable_sort(all.begin(), all.end(),
                   [&](const PairWindow& p, const PairWindow& q) { return hits_of(p) > hits_of(q); });
  std::vector<Region> out;
  for (const PairWindow& p : all) {
    if (static_cast<int>(out.size()) >= max_windows || hits_of(p) == 0) break;
    out.push_back(p.region);
  }
  return out;
}

}  // namespace optout::pdq
