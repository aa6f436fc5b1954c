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

Anchor At(double x, double y, double sigma = 8) {
  Anchor a;
  a.x = x, a.y = y, a.sigma = sigma;
  return a;
}

bool Contains(const std::vector<Region>& windows, const Region& r) {
  for (const Region& w : windows) {
    if (std::abs(w.x0 - r.x0) < 1e-9 && std::abs(w.y0 - r.y0) < 1e-9 &&
        std::abs(w.x1 - r.x1) < 1e-9 && std::abs(w.y1 - r.y1) < 1e-9) {
      return true;
    }
  }
  return false;
}

TEST(OwnerAnchorWindowsTest, RegistersTheWindowsOfAnUncroppedCopyFirst) {
  const Luma photo(testing::CorpusPhoto("v13__orig.jpg"));
  const std::vector<Anchor> anchors = photo.Anchors(kOwnerAnchors);
  // The size the anchors are measured in (Luma's).
  const int w = photo.hasher.luma_width(), h = photo.hasher.luma_height();
  ASSERT_GT(anchors.size(), 6u);
  const std::vector<Region> copy = AnchorWindows(
      std::vector<Anchor>(anchors.begin(), anchors.begin() + kCheckerAnchors), w, h,
      AnchorSide::kChecker, kCheckerAnchorWindows);
  const std::vector<Region> owner = OwnerAnchorWindows(anchors, w, h, copy.size());
  ASSERT_FALSE(copy.empty());
  for (const Region& r : copy) EXPECT_TRUE(Contains(owner, r));
}

TEST(OwnerAnchorWindowsTest, LeavesOutPairsNoCopyHashes) {
  // The first anchor is too large for its distance from the left edge: no
  // copy, whole or cropped, keeps it (FindAnchors' edge margin), so its
  // window with the second, which fits the image, is not registered; the
  // second and third, in the middle, are kept by most crops.
  const std::vector<Anchor> anchors = {At(60, 150, 30), At(180, 150), At(260, 150),
                                       At(200, 220)};
  const std::vector<Region> in_order = AnchorWindows(anchors, 400, 300, AnchorSide::kOwner, 10);
  const std::vector<Region> owner = OwnerAnchorWindows(anchors, 400, 300, 10);
  const std::vector<Region> edge = AnchorWindows({anchors[0], anchors[1]}, 400, 300,
                                                 AnchorSide::kOwner, 1);
  const std::vector<Region> middle = AnchorWindows({anchors[1], anchors[2]}, 400, 300,
                                                   AnchorSide::kOwner, 1);
  ASSERT_EQ(edge.size(), 1u);
  ASSERT_EQ(middle.size(), 1u);
  EXPECT_TRUE(Contains(in_order, edge[0]));
  EXPECT_FALSE(Contains(owner, edge[0]));
  EXPECT_TRUE(Contains(owner, middle[0]));
  for (const Region& r : owner) EXPECT_TRUE(Contains(in_order, r));
  EXPECT_EQ(OwnerAnchorWindows(anchors, 400, 300, 1).size(), 1u);
  EXPECT_TRUE(OwnerAnchorWindows({anchors[1]}, 400, 300, 10).empty());
}

// How far (largest edge difference, relative to the photo) the nearest of
// `owner` is from any of the windows a checker hashes in `copy`, a crop of
// `photo` at (x, y); 1 if there are none.
double NearestOwnerWindow(const Image& photo, const Image& copy, int x, int y,
                          const std::vector<Region>& owner) {
  const int w = photo.width, h = photo.height, cw = copy.width, ch = copy.height;
  const RegionHasher copy_luma(copy, cw, ch);
  const std::vector<Region> windows = AnchorWindows(
      FindAnchors(copy_luma.luma(), copy_luma.luma_width(), copy_luma.luma_height(), cw, ch,
                  kCheckerAnchors),
      cw, ch, AnchorSide::kChecker, kCheckerAnchorWindows);
  double best = 1;
  for (const Region& c : windows) {
    const Region in_photo{(c.x0 * cw + x) / w, (c.y0 * ch + y) / h, (c.x1 * cw + x) / w,
                          (c.y1 * ch + y) / h, 0};
    for (const Region& o : owner) {
      best = std::min(best, std::max({std::abs(o.x0 - in_photo.x0), std::abs(o.x1 - in_photo.x1),
                                      std::abs(o.y0 - in_photo.y0), std::abs(o.y1 - in_photo.y1)}));
    }
  }
  return best;
}

std::vector<Region> OwnerWindowsOf(const Image& photo) {
  const RegionHasher luma(photo, photo.width, photo.height);
  return OwnerAnchorWindows(FindAnchors(luma.luma(), luma.luma_width(), luma.luma_height(),
                                        photo.width, photo.height, kOwnerAnchors),
                            photo.width, photo.height, kMaxOwnerRegions);
}

TEST(OwnerAnchorWindowsTest, OffCentreCropsHashAWindowTheOwnerRegistered) {
  // 78 % x 74 % of v14, off centre (no fixed window is near it), and the
  // committed corpus's crop_offset copy of v09 (tests/testdata/photos/
  // edits.tsv: 89 % x 74 % at 98,60), whose strongest anchors and their
  // first pairs include ones the owner's strongest twelve in order missed.
  // The checker's anchors are found on the copy itself; within half a
  // percent of the photo on every edge.
  const Image v14 = testing::CorpusPhoto("v14__orig.jpg");
  const int w = v14.width, h = v14.height;
  const int x = w * 15 / 100, y = h * 4 / 100;
  EXPECT_LT(NearestOwnerWindow(v14, Crop(v14, x, y, w * 78 / 100, h * 74 / 100), x, y,
                               OwnerWindowsOf(v14)),
            0.005);
  const Image v09 = testing::CorpusPhoto("v09__orig.jpg");
  EXPECT_LT(NearestOwnerWindow(v09, testing::CorpusPhoto("v09__crop_offset.jpg"), 98, 60,
                               OwnerWindowsOf(v09)),
            0.005);
}

}  // namespace
}  // namespace optout::pdq
