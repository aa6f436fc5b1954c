#include "client/pdq/rotation_wedges.h"

#include <algorithm>
#include <cmath>

namespace optout::pdq {
namespace {

// A pixel belongs to a wedge when within this of the corner's value (0..255
// luma): a blank stays within it after JPEG. Half the border trim's 24
// (match_regions.cc): at 24, with the far side checked at one point only,
// 5-7 % of copies that were not turned had "wedges" (patterned corners),
// and hashing such a copy whole once more brought an unrelated pair of
// match_fp to 30 bits; at 12 with three points, 1-2 %.
constexpr float kTolerance = 12;

// Legs' ratio (tangent of the angle): 0.5 to 8 degrees, and the wedges of
// one copy within this of each other.
constexpr double kMinTan = 0.0087;
constexpr double kMaxTan = 0.1405;
constexpr double kMaxTanSpread = 0.03;

// Shortest long leg, in plane pixels: below it a corner's blank run is too
// short to tell a wedge from a plain corner of the picture.
constexpr int kMinLongLeg = 8;

// Shortest short leg of a wedge found alone in its copy.
constexpr int kMinLoneShortLeg = 4;

struct Wedge {
  int cx = 0, cy = 0;  // the corner
  int sx = 1, sy = 1;  // steps into the image from it
  int leg_x = 0;       // along the horizontal edge, in pixels
  int leg_y = 0;       // along the vertical edge
  bool flat = false;   // leg_x is the long leg
  // The legs' ratio in source pixels (a plane pixel may be stretched:
  // region_luma.h shrinks each axis by its own factor).
  double Tan(double pixel_x, double pixel_y) const {
    const double x = leg_x * pixel_x, y = leg_y * pixel_y;
    return std::min(x, y) / std::max(x, y);
  }
};

class Plane {
 public:
  Plane(const std::vector<float>& v, int width, int height)
      : v_(v), width_(width), height_(height) {}
  float at(int x, int y) const { return v_[static_cast<size_t>(y) * width_ + x]; }
  // Pixels from (x, y) stepping (dx, dy) within kTolerance of `value`, at
  // most `limit`.
  int Run(int x, int y, int dx, int dy, float value, int limit) const {
    int n = 0;
    while (n < limit && x >= 0 && y >= 0 && x < width_ && y < height_ &&
           std::abs(at(x, y) - value) <= kTolerance) {
      ++n;
      x += dx;
      y += dy;
    }
    return n;
  }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  const std::vector<float>& v_;
  int width_, height_;
};

// A wedge in the corner (cx, cy): a blank run along each edge, not the
// whole edge (that is a border or a plain area, which TrimBorders handles);
// across the longer run, the blank's depth falls linearly to 0 (a
// triangle), at a small angle. The short leg is read from the depth at
// half the long one (the run along the short edge itself goes on wherever
// the picture there is as bright as the blank), and the depths at an
// eighth, a quarter and three quarters must fall in line with it.
bool FindWedge(const Plane& p, int cx, int cy, double pixel_x, double pixel_y, Wedge* out) {
  Wedge w;
  w.cx = cx;
  w.cy = cy;
  w.sx = cx == 0 ? 1 : -1;
  w.sy = cy == 0 ? 1 : -1;
  const float value = p.at(cx, cy);
  const int run_x = p.Run(cx, cy, w.sx, 0, value, p.width());
  const int run_y = p.Run(cx, cy, 0, w.sy, value, p.height());
  if (run_x >= p.width() || run_y >= p.height()) return false;
  const bool flat = run_x >= run_y;
  const int long_leg = flat ? run_x : run_y;
  if (long_leg < kMinLongLeg) return false;
  auto depth = [&](int i) {
    return flat ? p.Run(cx + w.sx * i, cy, 0, w.sy, value, p.height())
                : p.Run(cx, cy + w.sy * i, w.sx, 0, value, p.width());
  };
  const int half = depth(long_leg / 2);
  const int short_leg = 2 * half;
  if (short_leg < 2 || short_leg >= long_leg) return false;
  for (int eighths : {1, 2, 6}) {
    const double expected = short_leg * (1 - eighths / 8.0);
    if (std::abs(depth(long_leg * eighths / 8) - expected) > 1 + 0.2 * short_leg) return false;
  }
  w.flat = flat;
  (flat ? w.leg_x : w.leg_y) = long_leg;
  (flat ? w.leg_y : w.leg_x) = short_leg;
  const double t = w.Tan(pixel_x, pixel_y);
  if (t < kMinTan || t > kMaxTan) return false;
  *out = w;
  return true;
}

// Overwrites the wedge's pixels, line by line across its long leg, with
// the picture pixel past them. Each line's blank run is measured, within
// half again the depth the legs give it (the legs are estimates: a bright
// picture next to the blank lengthens the runs they are read from), and
// the first pixel past it goes too (the rotation blended it with the
// blank).
void Fill(const Plane& p, const Wedge& w, std::vector<float>* v) {
  const bool flat = w.flat;
  const int long_leg = flat ? w.leg_x : w.leg_y;
  const int short_leg = flat ? w.leg_y : w.leg_x;
  const int across = flat ? p.height() : p.width();
  const float value = p.at(w.cx, w.cy);
  for (int i = 0; i < long_leg; ++i) {
    const double depth = static_cast<double>(short_leg) * (long_leg - i) / long_leg;
    const int x0 = flat ? w.cx + w.sx * i : w.cx;
    const int y0 = flat ? w.cy : w.cy + w.sy * i;
    const int dx = flat ? 0 : w.sx, dy = flat ? w.sy : 0;
    const int cap = std::min(static_cast<int>(1.5 * depth) + 2, across - 2);
    const int run = p.Run(x0, y0, dx, dy, value, cap);
    if (run == 0) continue;
    const float picture = p.at(x0 + dx * (run + 1), y0 + dy * (run + 1));
    for (int j = 0; j <= run; ++j) {
      (*v)[static_cast<size_t>(y0 + dy * j) * p.width() + x0 + dx * j] = picture;
    }
  }
}

}  // namespace

bool FillRotationWedges(const std::vector<float>& luma, int width, int height, int source_width,
                        int source_height, std::vector<float>* filled) {
  if (width < 4 * kMinLongLeg || height < 4 * kMinLongLeg) return false;
  const double pixel_x = static_cast<double>(source_width) / width;
  const double pixel_y = static_cast<double>(source_height) / height;
  const Plane p(luma, width, height);
  std::vector<Wedge> wedges;
  for (int cy : {0, height - 1}) {
    for (int cx : {0, width - 1}) {
      Wedge w;
      if (FindWedge(p, cx, cy, pixel_x, pixel_y, &w)) wedges.push_back(w);
    }
  }
  // One wedge alone must be deep enough for its shape to tell.
  if (wedges.empty() || (wedges.size() == 1 && std::min(wedges[0].leg_x, wedges[0].leg_y) <
                                                  kMinLoneShortLeg)) {
    return false;
  }
  double lo = kMaxTan, hi = 0;
  for (const Wedge& w : wedges) {
    lo = std::min(lo, w.Tan(pixel_x, pixel_y));
    hi = std::max(hi, w.Tan(pixel_x, pixel_y));
  }
  if (hi - lo > kMaxTanSpread) return false;
  *filled = luma;
  for (const Wedge& w : wedges) Fill(p, w, filled);
  return true;
}

}  // namespace optout::pdq
