#include "client/pdq/match_regions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "client/pdq/anchor_windows.h"
#include "client/pdq/dct.h"
#include "client/pdq/jarosz_filter.h"
#include "client/pdq/pdq_core.h"
#include "client/pdq/rotation_wedges.h"

namespace optout::pdq {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A region is hashed at no more than this many pixels a side: PDQ keeps
// frequencies up to 16 cycles of a 64x64 reduction, so more adds time only.
constexpr int kMaxRegionSide = 256;

// PDQ's grid: a region that is not turned is averaged to this many cells a
// side and hashed from them (pdq_core.h skips its own filter at 64x64).
constexpr int kGrid = 64;

// Per-thread working memory of the area average (see RegionHasher::Hash).
struct AreaScratch {
  std::vector<int> first_x, first_y;
  std::vector<float> weight_x, weight_y;
  std::vector<float> columns;  // luma rows averaged to kGrid columns
};

// The luma samples cell u of kGrid covers along an axis: [lo, hi) in luma
// pixels (pixel i covers [i, i + 1)), each weighted by its overlap with the
// cell, weights summing to 1. Writes `taps` weights per cell; samples past
// the plane's ends get weight 0.
void AreaWeights(double lo, double hi, int n, int taps, std::vector<int>* first,
                 std::vector<float>* weights) {
  const double step = (hi - lo) / kGrid;
  first->resize(kGrid);
  weights->assign(static_cast<size_t>(kGrid) * taps, 0.0f);
  for (int u = 0; u < kGrid; ++u) {
    const double a = lo + u * step, b = a + step;
    const int i0 = static_cast<int>(std::floor(a));
    (*first)[u] = i0;
    float* w = weights->data() + static_cast<size_t>(u) * taps;
    double sum = 0;
    for (int k = 0; k < taps; ++k) {
      const int i = i0 + k;
      if (i < 0 || i >= n) continue;
      const double overlap = std::min(b, i + 1.0) - std::max(a, static_cast<double>(i));
      if (overlap > 0) {
        w[k] = static_cast<float>(overlap);
        sum += overlap;
      }
    }
    if (sum > 0) {
      for (int k = 0; k < taps; ++k) w[k] = static_cast<float>(w[k] / sum);
    }
  }
}

// Two samples differ "visibly" above this (0..255 scale): JPEG ringing next
// to a flat border stays below it.
constexpr int kColourTolerance = 24;

// Fraction of a line that must be the border colour: almost all of it for a
// plain border, most of it for a caption bar with text on it.
constexpr double kBorderFill = 0.97;

// Share of a caption bar's row that is the bar's colour (the rest is text).
constexpr double kBarFill = 0.35;

// Deepest caption bar looked for, as a fraction of the height.
constexpr double kMaxBarDepth = 0.25;

// At least this fraction of each axis is kept by a trim.
constexpr double kMinKept = 0.3;

int Sample(const Image& image, int x, int y, int c) {
  return image.row(y)[x * image.channels + (image.channels == 3 ? c : 0)];
}

// Whether the `count` pixels starting at (x, y) and stepping (dx, dy) are
// mostly of one colour: that of their median pixel (per channel), which
// goes to `colour`.
bool LineIsUniform(const Image& image, int x, int y, int dx, int dy, int count, double fill,
                   int colour[3]) {
  std::vector<uint8_t> values(count);
  for (int c = 0; c < image.channels; ++c) {
    for (int i = 0; i < count; ++i) values[i] = Sample(image, x + i * dx, y + i * dy, c);
    std::nth_element(values.begin(), values.begin() + count / 2, values.end());
    colour[c] = values[count / 2];
  }
  int same = 0;
  for (int i = 0; i < count; ++i) {
    bool close = true;
    for (int c = 0; c < image.channels && close; ++c) {
      close = std::abs(Sample(image, x + i * dx, y + i * dy, c) - colour[c]) <= kColourTolerance;
    }
    same += close;
  }
  return same >= fill * count;
}

bool SameColour(const int a[3], const int b[3], int channels) {
  for (int c = 0; c < channels; ++c) {
    if (std::abs(a[c] - b[c]) > kColourTolerance) return false;
  }
  return true;
}

// Fraction of row y within kColourTolerance of `colour`.
double ShareOfColour(const Image& image, int y, const int colour[3]) {
  int same = 0;
  for (int x = 0; x < image.width; ++x) {
    int pixel[3];
    for (int c = 0; c < image.channels; ++c) pixel[c] = Sample(image, x, y, c);
    same += SameColour(pixel, colour, image.channels);
  }
  return static_cast<double>(same) / image.width;
}

// Caption bar at the top (step +1) or bottom (step -1): a plain edge row,
// then rows mostly of its colour (text covers the rest), up to
// kMaxBarDepth of the height. Returns the number of
// rows of the bar (0 if none).
int CaptionBarRows(const Image& image, int step) {
  const int w = image.width;
  const int h = image.height;
  const int edge = step > 0 ? 0 : h - 1;
  int edge_colour[3];
  if (!LineIsUniform(image, 0, edge, 1, 0, w, kBorderFill, edge_colour)) return 0;
  const int depth = static_cast<int>(h * kMaxBarDepth);
  int rows = 1;
  while (rows < depth && ShareOfColour(image, edge + step * rows, edge_colour) >= kBarFill) {
    ++rows;
  }
  return rows < depth ? rows : 0;
}

// Height of the band SharedWindows leave out, as a fraction of the height.
constexpr double kStrip = 0.15;

// Rotation angles (degrees, both senses) of the owner windows. Half-degree
// steps in between gained one copy of 37 on the corpus for 11 windows,
// which the anchor windows use better.
constexpr double kRotations[] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};

// Fraction of each side kept after turning by `degrees`, so that little of
// the blank corners shows: 1 - |degrees| / 45 (close to the largest
// inscribed window of a 3:2 image).
double RotationKeep(double degrees) { return 1 - std::abs(degrees) / 45; }

}  // namespace

bool IsProperSubregion(const Region& r) {
  constexpr double kSliver = 0.01;
  return r.x0 > kSliver || r.y0 > kSliver || r.x1 < 1 - kSliver || r.y1 < 1 - kSliver;
}

Region TrimBorders(const Image& image, bool bars) {
  const int w = image.width;
  const int h = image.height;
  int top = 0, bottom = h, left = 0, right = w;
  if (bars) {
    // Only the bars: past them, plain rows are part of the picture.
    // Bars usually come in pairs of one height: a bar whose text defeats
    // the row test gets the height of its twin, if its edge row is plain.
    const int top_rows = CaptionBarRows(image, +1);
    const int bottom_rows = CaptionBarRows(image, -1);
    int colour[3];
    const bool top_plain = LineIsUniform(image, 0, 0, 1, 0, w, kBorderFill, colour);
    const bool bottom_plain = LineIsUniform(image, 0, h - 1, 1, 0, w, kBorderFill, colour);
    // A bar less than half its twin's height stopped at its text.
    top = top_plain && 2 * top_rows < bottom_rows ? bottom_rows : top_rows;
    bottom = h - (bottom_plain && 2 * bottom_rows < top_rows ? top_rows : bottom_rows);
  }
  const int min_w = static_cast<int>(std::ceil(w * kMinKept));
  const int min_h = static_cast<int>(std::ceil(h * kMinKept));
  // Alternate sides until none moves: a frame narrows every side, and the
  // lines of a side are judged only over what the other sides left. Each
  // line has its own colour, so a title bar above a canvas goes too.
  int colour[3];
  bool moved = !bars;
  while (moved) {
    moved = false;
    while (bottom - top > min_h &&
           LineIsUniform(image, left, top, 1, 0, right - left, kBorderFill, colour)) {
      ++top;
      moved = true;
    }
    while (bottom - top > min_h &&
           LineIsUniform(image, left, bottom - 1, 1, 0, right - left, kBorderFill, colour)) {
      --bottom;
      moved = true;
    }
    while (right - left > min_w &&
           LineIsUniform(image, left, top, 0, 1, bottom - top, kBorderFill, colour)) {
      ++left;
      moved = true;
    }
    while (right - left > min_w &&
           LineIsUniform(image, right - 1, top, 0, 1, bottom - top, kBorderFill, colour)) {
      --right;
      moved = true;
    }
  }
  Region r;
  r.kind = bars ? RegionKind::kCaptionTrimmed : RegionKind::kTrimmed;
  if (bottom - top <= min_h || right - left <= min_w) return Region{};
  r.x0 = static_cast<double>(left) / w;
  r.x1 = static_cast<double>(right) / w;
  r.y0 = static_cast<double>(top) / h;
  r.y1 = static_cast<double>(bottom) / h;
  return r;
}

std::vector<Region> SharedWindows() {
  return {Region{0, kStrip, 1, 1, 0, RegionKind::kBand},
          Region{0, 0, 1, 1 - kStrip, 0, RegionKind::kBand}};
}

std::vector<Region> OwnerWindows(int source_width, int source_height) {
  // The whole image through the region resampler: the checker's trimmed
  // regions are cut by it, so a padded or framed copy compares like with
  // like rather than against the plain hash's own resampling.
  std::vector<Region> out = {Region{}};
  auto centred = [](double kw, double kh, double degrees = 0) {
    return Region{0.5 - kw / 2, 0.5 - kh / 2, 0.5 + kw / 2, 0.5 + kh / 2, degrees,
                  degrees != 0 ? RegionKind::kTurned : RegionKind::kCentred};
  };
  // Centred crops (thumbnails, "fill" layouts).
  for (double k : {0.95, 0.92, 0.89, 0.86, 0.83, 0.80, 0.77}) out.push_back(centred(k, k));
  // Social-media aspects, centred or against either end of the long side.
  const double aspect = static_cast<double>(source_width) / source_height;
  for (double a : {1.0, 0.8, 0.5625, 1.5, 16.0 / 9, 4.0 / 3}) {
    const double kw = std::min(1.0, a / aspect);
    const double kh = std::min(1.0, aspect / a);
    if (kw > 0.95 && kh > 0.95) continue;  // close to the whole image
    for (double at : {0.0, 0.5, 1.0}) {
      const double x0 = (1 - kw) * at;
      const double y0 = (1 - kh) * at;
      out.push_back(Region{x0, y0, x0 + kw, y0 + kh, 0, RegionKind::kAspect});
    }
  }
  // Small rotations, cropped inside. The crop is modelled on what image
  // editors do when they rotate onto a larger canvas and then crop "centred"
  // on the canvas size from before the rotation (ImageMagick's -rotate then
  // -gravity center -crop): the kept window sits half the canvas growth
  // off the centre, along the turned canvas's axes, i.e. the window's own
  // (taking the shift along the source's axes instead put windows turned
  // by 4-6 degrees 0.5-0.75 % off, 30-50 bits from copies they then
  // matched at 4-12; README.md#matching).
  for (double d : kRotations) {
    const double t = d * kPi / 180;
    const double grow_w = source_width * std::cos(t) + source_height * std::sin(t) - source_width;
    const double grow_h = source_width * std::sin(t) + source_height * std::cos(t) - source_height;
    const double k = RotationKeep(d);
    for (double sign : {1.0, -1.0}) {
      const double cs = std::cos(t), sn = sign * std::sin(t);
      const double ox = (cs * grow_w / 2 - sn * grow_h / 2) / source_width;
      const double oy = (sn * grow_w / 2 + cs * grow_h / 2) / source_height;
      Region r = centred(k, k, sign * d);
      r.x0 += ox;
      r.x1 += ox;
      r.y0 += oy;
      r.y1 += oy;
      out.push_back(r);
    }
  }
  // Both sides hash these (SharedWindows): a logo or caption in a corner
  // or along the top or bottom edge leaves one of them untouched.
  for (const Region& r : SharedWindows()) out.push_back(r);
  // (Off-centre crops on a fixed grid matched nothing the anchor windows
  // did not: a crop moves four edges independently, which a grid cannot
  // cover; anchor_windows.h follows the picture instead.)
  if (static_cast<int>(out.size()) > kMaxOwnerRegions - 1) out.resize(kMaxOwnerRegions - 1);
  return out;
}

RegionHasher::RegionHasher(LumaPlane luma, int source_width, int source_height)
    : source_width_(source_width),
      source_height_(source_height),
      width_(luma.width),
      height_(luma.height),
      luma_(std::move(luma.v)) {}

RegionHasher::RegionHasher(const Image& image, int source_width, int source_height)
    : RegionHasher(RegionLumaOf(image), source_width, source_height) {}

RegionHasher::~RegionHasher() { RecycleLumaPlane(std::move(luma_)); }

Region VerificationRegion(const Region& region) {
  const double cx = (region.x0 + region.x1) / 2, cy = (region.y0 + region.y1) / 2;
  const double hw = (region.x1 - region.x0) * kVerificationKeep / 2;
  const double hh = (region.y1 - region.y0) * kVerificationKeep / 2;
  return Region{cx - hw, cy - hh, cx + hw, cy + hh, region.degrees, region.kind};
}

bool RegionHasher::ResampleInto(const Region& region, std::vector<float>* pixels, int* width,
                                int* height) const {
  // Output size: the region's size in luma pixels, the longer side at most
  // kMaxRegionSide (aspect kept).
  int out_w = static_cast<int>(std::lround((region.x1 - region.x0) * width_));
  int out_h = static_cast<int>(std::lround((region.y1 - region.y0) * height_));
  if (std::max(out_w, out_h) > kMaxRegionSide) {
    const double k = static_cast<double>(kMaxRegionSide) / std::max(out_w, out_h);
    out_w = static_cast<int>(std::lround(out_w * k));
    out_h = static_cast<int>(std::lround(out_h * k));
  }
  if (out_w < kMinHashableSide || out_h < kMinHashableSide) return false;
  // Output pixel centre (u, v) -> offset from the region's centre in source
  // pixels, turned there -> luma pixel. A turned window's corners past the
  // image take the nearest edge pixel, not the blank an editor leaves there
  // (rotation_wedges.h says why).
  const double cx = (region.x0 + region.x1) / 2 * source_width_;
  const double cy = (region.y0 + region.y1) / 2 * source_height_;
  const double sw = (region.x1 - region.x0) * source_width_ / out_w;
  const double sh = (region.y1 - region.y0) * source_height_ / out_h;
  const double t = region.degrees * kPi / 180;
  const double cs = std::cos(t), sn = std::sin(t);
  const double to_x = static_cast<double>(width_) / source_width_;
  const double to_y = static_cast<double>(height_) / source_height_;
  *width = out_w;
  *height = out_h;
  const size_t size = static_cast<size_t>(out_w) * out_h;
  if (pixels->size() < size) pixels->resize(size);
  for (int v = 0; v < out_h; ++v) {
    const double dy = (v + 0.5 - out_h / 2.0) * sh;
    float* row = pixels->data() + static_cast<size_t>(v) * out_w;
    for (int u = 0; u < out_w; ++u) {
      const double dx = (u + 0.5 - out_w / 2.0) * sw;
      const double ux = (cx + cs * dx - sn * dy) * to_x - 0.5;
      const double uy = (cy + sn * dx + cs * dy) * to_y - 0.5;
      const double sx = std::clamp(ux, 0.0, width_ - 1.0);
      const double sy = std::clamp(uy, 0.0, height_ - 1.0);
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, width_ - 1), y1 = std::min(y0 + 1, height_ - 1);
      const double ax = sx - x0, ay = sy - y0;
      const float* r0 = luma_.data() + static_cast<size_t>(y0) * width_;
      const float* r1 = luma_.data() + static_cast<size_t>(y1) * width_;
      const double value = (r0[x0] * (1 - ax) + r0[x1] * ax) * (1 - ay) +
                           (r1[x0] * (1 - ax) + r1[x1] * ax) * ay;
      // Whole luma levels, as an 8-bit grey image holds them: round half
      // up (the value is never negative; std::lround cost more than the
      // interpolation).
      row[u] = static_cast<float>(static_cast<int>(std::clamp(value, 0.0, 255.0) + 0.5));
    }
  }
  return true;
}

Image RegionHasher::Resample(const Region& region) const {
  Image out;
  std::vector<float> pixels;
  int w = 0, h = 0;
  if (!ResampleInto(region, &pixels, &w, &h)) return out;
  out.width = w;
  out.height = h;
  out.channels = 1;
  out.pixels.resize(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = static_cast<uint8_t>(pixels[i]);
  return out;
}

RegionHash RegionHasher::Hash(const Region& region) const {
  RegionHash result;
  result.region = region;
  // The same hash HashCheckedPixels gives of the resampled grey image, with
  // the working memory kept per thread: a photo hashes up to 64 regions,
  // and memory fresh from the system each time (a page fault per 4 KiB)
  // made up most of their cost.
  struct Scratch {
    std::vector<float> pixels;
    JaroszScratch filter;
  };
  thread_local Scratch scratch;
  float a[kGrid * kGrid];
  float b[16 * 16];
  if (region.degrees == 0) {
    // Each cell of PDQ's 64x64 grid is the mean of the luma under it: the
    // same picture area gives the same cell whatever the region's size in
    // luma pixels and wherever the luma grid falls, where resampling, then
    // PDQ's tent filter, aliases fine detail by the copy's scale and offset
    // (photo corpus: 558 -> 564 of 592 with region_luma.h's plane,
    // crop_offset 25 -> 30; README.md#matching).
    const double x0 = region.x0 * width_, x1 = region.x1 * width_;
    const double y0 = region.y0 * height_, y1 = region.y1 * height_;
    if (x1 - x0 < kMinHashableSide || y1 - y0 < kMinHashableSide) return result;
    thread_local AreaScratch area;
    const int taps_x = static_cast<int>(std::ceil((x1 - x0) / kGrid)) + 2;
    const int taps_y = static_cast<int>(std::ceil((y1 - y0) / kGrid)) + 2;
    AreaWeights(x0, x1, width_, taps_x, &area.first_x, &area.weight_x);
    AreaWeights(y0, y1, height_, taps_y, &area.first_y, &area.weight_y);
    // Rows first (only those the region covers), then columns.
    const int row_lo = std::max(0, area.first_y[0]);
    const int row_hi = std::min(height_ - 1, area.first_y[kGrid - 1] + taps_y - 1);
    area.columns.resize(static_cast<size_t>(row_hi - row_lo + 1) * kGrid);
    for (int y = row_lo; y <= row_hi; ++y) {
      const float* in = luma_.data() + static_cast<size_t>(y) * width_;
      float* out = area.columns.data() + static_cast<size_t>(y - row_lo) * kGrid;
      for (int u = 0; u < kGrid; ++u) {
        const float* w = area.weight_x.data() + static_cast<size_t>(u) * taps_x;
        const int first = area.first_x[u];
        float acc = 0;
        for (int k = 0; k < taps_x; ++k) {
          if (w[k] != 0) acc += w[k] * in[first + k];
        }
        out[u] = acc;
      }
    }
    for (int v = 0; v < kGrid; ++v) {
      const float* w = area.weight_y.data() + static_cast<size_t>(v) * taps_y;
      float* out = a + v * kGrid;
      std::fill(out, out + kGrid, 0.0f);
      for (int k = 0; k < taps_y; ++k) {
        if (w[k] == 0) continue;
        const float* in =
            area.columns.data() + static_cast<size_t>(area.first_y[v] + k - row_lo) * kGrid;
        for (int u = 0; u < kGrid; ++u) out[u] += w[k] * in[u];
      }
    }
    result.quality = QualityOf64(a);
    Dct64To16(a, b);
    result.hash = BitsOf16(b);
    result.mirror = MirrorBitsOf16(b);
    return result;
  }
  int w = 0, h = 0;
  if (!ResampleInto(region, &scratch.pixels, &w, &h)) return result;
  if (w == 64 && h == 64) {
    // The plain path hashes a 64x64 image's luma unfiltered (pdq_core.h).
    std::copy(scratch.pixels.begin(), scratch.pixels.begin() + 64 * 64, a);
  } else {
    JaroszFilterAndDecimate(scratch.pixels.data(), h, w, a, &scratch.filter);
  }
  result.quality = QualityOf64(a);
  Dct64To16(a, b);
  result.hash = BitsOf16(b);
  result.mirror = MirrorBitsOf16(b);
  return result;
}

PdqHash RegionHasher::Verification(const Region& region) const {
  const Image centre = Resample(VerificationRegion(region));
  if (centre.pixels.empty()) return PdqHash();
  return HashCheckedPixels(centre, /*with_dihedral=*/false).hash;
}

std::array<PdqHash, 8> RegionHasher::VerificationDihedral(const Region& region) const {
  const Image centre = Resample(VerificationRegion(region));
  if (centre.pixels.empty()) return {};
  return HashCheckedPixels(centre, /*with_dihedral=*/true).dihedral;
}

std::vector<RegionHash> OwnerRegions(const Image& image, LumaPlane luma, int source_width,
                                     int source_height, const PdqHash& plain, int min_quality) {
  std::vector<Region> regions;
  const Region trimmed = TrimBorders(image, /*bars=*/false);
  if (IsProperSubregion(trimmed)) regions.push_back(trimmed);
  for (const Region& r : OwnerWindows(source_width, source_height)) regions.push_back(r);
  const RegionHasher hasher(std::move(luma), source_width, source_height);
  std::vector<RegionHash> out;
  auto add = [&](const RegionHash& h) {
    if (h.quality < min_quality || h.hash.IsZero() || h.hash == plain) return;
    for (const RegionHash& o : out) {
      if (o.hash == h.hash) return;
    }
    out.push_back(h);
  };
  for (const Region& r : regions) {
    add(hasher.Hash(r));
    if (static_cast<int>(out.size()) == kMaxOwnerRegions) break;
  }
  // Anchor windows fill what the fixed ones left of the budget, up to
  // kOwnerAnchorWindows of them.
  const size_t fixed = out.size();
  if (static_cast<int>(out.size()) < kMaxOwnerRegions) {
    const std::vector<Anchor> anchors =
        FindAnchors(hasher.luma(), hasher.luma_width(), hasher.luma_height(), source_width,
                    source_height, kOwnerAnchors);
    for (Region r :
         OwnerAnchorWindows(anchors, source_width, source_height, kMaxOwnerRegions)) {
      r.kind = RegionKind::kAnchor;
      add(hasher.Hash(r));
      if (static_cast<int>(out.size()) == kMaxOwnerRegions ||
          static_cast<int>(out.size() - fixed) == kOwnerAnchorWindows) {
        break;
      }
    }
  }
  return out;
}

std::vector<RegionHash> CheckerRegions(const Image& image, LumaPlane luma, int source_width,
                                       int source_height, int min_quality) {
  std::vector<RegionHash> out;
  const auto hasher = std::make_unique<RegionHasher>(std::move(luma), source_width, source_height);
  for (bool bars : {false, true}) {
    const Region r = TrimBorders(image, bars);
    if (!IsProperSubregion(r)) continue;
    const RegionHash h = hasher->Hash(r);
    if (h.quality < min_quality || h.hash.IsZero()) continue;
    if (!out.empty() && out.back().hash == h.hash) continue;
    out.push_back(h);
  }
  for (const Region& r : SharedWindows()) {
    const RegionHash h = hasher->Hash(r);
    if (h.quality >= min_quality && !h.hash.IsZero()) out.push_back(h);
  }
  // A turned copy, its blank corner wedges filled from the picture next to
  // them: what the owner's turned windows hash (rotation_wedges.h).
  {
    std::vector<float> filled;
    if (FillRotationWedges(hasher->luma(), hasher->luma_width(), hasher->luma_height(),
                           source_width, source_height, &filled)) {
      const RegionHasher unwedged(
          LumaPlane{hasher->luma_width(), hasher->luma_height(), std::move(filled)},
          source_width, source_height);
      const RegionHash h = unwedged.Hash(Region{0, 0, 1, 1, 0, RegionKind::kTurned});
      if (h.quality >= min_quality && !h.hash.IsZero()) out.push_back(h);
    }
  }
  // Anchor windows, as many as the checked item's region budget leaves.
  if (static_cast<int>(out.size()) < kMaxCheckerRegions) {
    const std::vector<Anchor> anchors =
        FindAnchors(hasher->luma(), hasher->luma_width(), hasher->luma_height(), source_width,
                    source_height, kCheckerAnchors);
    const int room = std::min(kCheckerAnchorWindows, kMaxCheckerRegions - static_cast<int>(out.size()));
    for (Region r :
         AnchorWindows(anchors, source_width, source_height, AnchorSide::kChecker, room)) {
      r.kind = RegionKind::kAnchor;
      const RegionHash h = hasher->Hash(r);
      if (h.quality >= min_quality && !h.hash.IsZero()) out.push_back(h);
    }
  }
  return out;
}

std::vector<RegionHash> OwnerRegions(const Image& image, int source_width, int source_height,
                                     const PdqHash& plain, int min_quality) {
  return OwnerRegions(image, RegionLumaOf(image), source_width, source_height, plain, min_quality);
}

std::vector<RegionHash> CheckerRegions(const Image& image, int source_width, int source_height,
                                       int min_quality) {
  return CheckerRegions(image, RegionLumaOf(image), source_width, source_height, min_quality);
}

}  // namespace optout::pdq
