// Mirrored regions end to end (README.md#matching, "Mirrored regions"): a
// photo registered with `optout register --image` through a real optoutd is
// found by `optout check --image` from a copy that was captioned and then
// mirrored, which only the mirrors of the checker's regions
// (PdqHash.region_mirrors) reach: the dihedral variants flip the caption
// bars with the picture.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client/common/base/testing/testdata_path.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/testing/image_encoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_image_test_base.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {


std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The file at `path`, left and right swapped (ImageMagick's -flop), as a
// JPEG at `out`.
bool WriteMirrored(const std::string& path, const std::string& out) {
  auto image = pdq::DecodeFull(ReadBytes(path), pdq::DecodeLimits{});
  if (!image.ok()) return false;
  pdq::Image mirrored = *image;
  const int c = image->channels;
  for (int y = 0; y < image->height; ++y) {
    for (int x = 0; x < image->width; ++x) {
      std::copy(image->row(y) + c * x, image->row(y) + c * x + c,
                mirrored.row(y) + c * (image->width - 1 - x));
    }
  }
  std::ofstream file(out, std::ios::binary);
  file << pdq::testing::EncodeJpeg(mirrored, 92);
  return file.good();
}

using MirroredCopyE2eTest = testing::CliImageTest;

TEST_F(MirroredCopyE2eTest, ACaptionedThenMirroredCopyMatchesThroughItsRegionsMirrors) {
  auto info = Optout({"info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(nlohmann::json::parse(info.out)["pdq_region_mirrors"], true);
  auto r = Optout({"register", "--image", Photo("v14__orig.jpg"), "--no-receipt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The caption copy itself matches (its trimmed region); mirrored, only
  // the region's mirror does.
  const nlohmann::json captioned = Check(Photo("v14__caption.jpg"));
  EXPECT_EQ(captioned["matched"], true) << captioned.dump();
  const std::string copy = server_.root() + "/v14__mirror_caption.jpg";
  ASSERT_TRUE(WriteMirrored(Photo("v14__caption.jpg"), copy));
  const nlohmann::json mirrored = Check(copy);
  ASSERT_TRUE(mirrored.is_object());
  EXPECT_EQ(mirrored["matched"], true) << mirrored.dump();
  EXPECT_EQ(mirrored["match"], "pdq");
  // An unrelated photo, mirrored, does not.
  const std::string other = server_.root() + "/v13__mirror.jpg";
  ASSERT_TRUE(WriteMirrored(Photo("v13__caption.jpg"), other));
  EXPECT_EQ(Check(other)["matched"], false);
}

}  // namespace
}  // namespace optout
