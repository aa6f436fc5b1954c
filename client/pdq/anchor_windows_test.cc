#include "client/pdq/anchor_windows.h"

#include <cmath>
#include <string>

#include "client/pdq/image_decoder.h"
#include "client/pdq/testing/corpus_photo.h"
#include "client/pdq/testing/image_encoder.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

// The luma plane of `image` as RegionHasher keeps it.
struct Luma {
  explicit Luma(const Image& image) : hasher(image, image.width, image.height) {}
  std::vector<Anchor> Anchors(int max_anchors) const {
    return FindAnchors(hasher.luma(), hasher.luma_width(), hasher.luma_height(),
                       hasher.luma_width(), hasher.luma_height(), max_anchors);
  }
  RegionHasher hasher;
};

Image Crop(const Image& image, int x, int y, int width, int height) {
  Image out = testing::Uniform(width, height, 3, 0);
  for (int row = 0; row < height; ++row) {
    std::copy(image.row(y + row) + x * 3, image.row(y + row) + (x + width) * 3, out.row(row));
  }
  return out;
}

TEST(FindAnchorsTest, StrongestFirstAndFlatImagesHaveNone) {
  const std::vector<Anchor> anchors = Luma(testing::CorpusPhoto("v13__orig.jpg")).Anchors(12);
  ASSERT_GT(anchors.size(), 3u);
  EXPECT_LE(anchors.size(), 12u);
  for (size_t i = 1; i < anchors.size(); ++i) {
    EXPECT_GE(anchors[i - 1].strength, anchors[i].strength);
  }
  EXPECT_TRUE(Luma(testing::Uniform(240, 160, 3, 90)).Anchors(12).empty());
}

TEST(FindAnchorsTest, ACropFindsTheSameAnchorsAtTheSamePlaces) {
  // Small enough (at most 256 px a side) to be hashed at full resolution.
  const Image photo = Crop(testing::CorpusPhoto("v13__orig.jpg"), 100, 300, 256, 200);
  const int x = 30, y = 18;
  const std::vector<Anchor> whole = Luma(photo).Anchors(24);
  const std::vector<Anchor> cropped = Luma(Crop(photo, x, y, 200, 164)).Anchors(4);
  ASSERT_FALSE(cropped.empty());
  for (const Anchor& a : cropped) {
    double nearest = 1e9;
    for (const Anchor& b : whole) nearest = std::min(nearest, std::hypot(a.x + x - b.x, a.y + y - b.y));
    EXPECT_LT(nearest, 1.0) << a.x << "," << a.y;
  }
}

TEST(AnchorWindowsTest, SquaresInsideTheImageCentredBetweenPairs) {
  std::vector<Anchor> anchors(3);
  anchors[0].x = 100, anchors[0].y = 100;
  anchors[1].x = 150, anchors[1].y = 100;
  anchors[2].x = 390, anchors[2].y = 290;  // any window with it leaves the image
  const std::vector<Region> windows = AnchorWindows(anchors, 400, 300, AnchorSide::kOwner, 10);
  ASSERT_EQ(windows.size(), 1u);
  // 1.5 x 50 px a side, centred at (125, 100).
  EXPECT_NEAR(windows[0].x0, 87.5 / 400, 1e-9);
  EXPECT_NEAR(windows[0].x1, 162.5 / 400, 1e-9);
  EXPECT_NEAR(windows[0].y0, 62.5 / 300, 1e-9);
  EXPECT_NEAR(windows[0].y1, 137.5 / 300, 1e-9);
  // The checker wants larger windows (a copy is at least 0.7 of the owner's):
  // 75 px is below 0.3 of 300.
  EXPECT_TRUE(AnchorWindows(anchors, 400, 300, AnchorSide::kChecker, 10).empty());
  EXPECT_TRUE(AnchorWindows(anchors, 400, 300, AnchorSide::kOwner, 0).empty());
}

}  // namespace
}  // namespace optout::pdq
