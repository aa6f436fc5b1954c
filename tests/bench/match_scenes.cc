// Scene generator of match_scenes.h: value noise for texture, a horizon
// split, and soft-edged boxes and ellipses.
#include "tests/bench/match_scenes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace optout::bench {
namespace {

// Smooth random field in 0..1: bilinear interpolation of a random grid of
// `cells` x `cells` values.
struct ValueNoise {
  ValueNoise(int cells, std::mt19937& rng) : n(cells + 1), v(n * n) {
    std::uniform_real_distribution<double> unit(0, 1);
    for (double& x : v) x = unit(rng);
  }
  double At(double u, double w) const {
    const double x = u * (n - 1), y = w * (n - 1);
    const int x0 = std::min(static_cast<int>(x), n - 2), y0 = std::min(static_cast<int>(y), n - 2);
    const double ax = x - x0, ay = y - y0;
    auto g = [&](int i, int j) { return v[j * n + i]; };
    return (g(x0, y0) * (1 - ax) + g(x0 + 1, y0) * ax) * (1 - ay) +
           (g(x0, y0 + 1) * (1 - ax) + g(x0 + 1, y0 + 1) * ax) * ay;
  }
  int n;
  std::vector<double> v;
};

}  // namespace

pdq::Image Scene(int width, int height, std::mt19937& rng, double texture_gain) {
  std::uniform_real_distribution<double> unit(0, 1);
  auto colour = [&](double lo, double hi) {
    return std::array<double, 3>{lo + (hi - lo) * unit(rng), lo + (hi - lo) * unit(rng),
                                 lo + (hi - lo) * unit(rng)};
  };
  const double horizon = 0.25 + 0.5 * unit(rng);
  const auto sky_top = colour(0.4, 1.0), sky_low = colour(0.5, 1.0);
  const auto ground_top = colour(0.1, 0.7), ground_low = colour(0.0, 0.5);
  std::vector<ValueNoise> octaves;
  for (int cells : {3, 6, 12, 24, 48}) octaves.emplace_back(cells, rng);
  struct Blob {
    double cx, cy, rx, ry, soft;
    std::array<double, 3> c;
    bool box;
  };
  std::vector<Blob> blobs(3 + rng() % 10);
  for (Blob& b : blobs) {
    b = Blob{unit(rng), horizon - 0.2 + 0.9 * unit(rng), 0.02 + 0.2 * unit(rng),
             0.02 + 0.2 * unit(rng), 0.005 + 0.05 * unit(rng), colour(0.0, 1.0), unit(rng) < 0.4};
  }
  pdq::Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5) / width, v = (y + 0.5) / height;
      double texture = 0, amplitude = 0.5;
      for (const ValueNoise& o : octaves) {
        texture += texture_gain * amplitude * (o.At(u, v) - 0.5);
        amplitude *= 0.6;
      }
      std::array<double, 3> c;
      const bool sky = v < horizon + 0.03 * texture;
      for (int k = 0; k < 3; ++k) {
        c[k] = sky ? sky_top[k] + (sky_low[k] - sky_top[k]) * v / horizon + 0.15 * texture
                   : ground_top[k] + (ground_low[k] - ground_top[k]) * (v - horizon) / (1 - horizon) +
                         0.6 * texture;
      }
      for (const Blob& b : blobs) {
        const double dx = (u - b.cx) / b.rx, dy = (v - b.cy) / b.ry;
        const double r = b.box ? std::max(std::abs(dx), std::abs(dy)) : std::sqrt(dx * dx + dy * dy);
        const double inside = std::clamp((1 - r) / (b.soft / std::min(b.rx, b.ry)), 0.0, 1.0);
        for (int k = 0; k < 3; ++k) c[k] = c[k] * (1 - inside) + (b.c[k] + 0.3 * texture) * inside;
      }
      for (int k = 0; k < 3; ++k) {
        image.pixels[(static_cast<size_t>(y) * width + x) * 3 + k] =
            static_cast<uint8_t>(std::lround(255 * std::clamp(c[k], 0.0, 1.0)));
      }
    }
  }
  return image;
}

}  // namespace optout::bench
