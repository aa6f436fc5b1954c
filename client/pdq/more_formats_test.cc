// GIF, TIFF, HEIC and AVIF (decode_gif/tiff/heif.cc): a copy of a photo in
// each format hashes within a few bits of the PNG of the same pixels, only
// the first frame or page counts, and bad or oversized files are refused
// cleanly. The files are encoded at test time (testing/image_encoder.h).
#include <fstream>
#include <sstream>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "client/pdq/image_decoder.h"
#include "client/pdq/image_hasher.h"
#include "client/pdq/testing/image_encoder.h"
#include "client/pdq/testing/reference_tables.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Le;

// A photo of the test corpus with text, shapes and texture (measured when
// written: GIF 4 bits from the PNG, HEIC 2, AVIF 0, TIFF 0).
const Image& Photo() {
  static const Image* photo = [] {
    std::ifstream in(testing::PdqTestdataDir() + "/images/d12_mixed__orig.jpg", std::ios::binary);
    std::ostringstream bytes_stream;
    bytes_stream << in.rdbuf();
    const std::string bytes = bytes_stream.str();
    auto image = DecodeFull(bytes, DecodeLimits{});
    EXPECT_THAT(image, IsOk());
    return new Image(image.ok() ? *std::move(image) : Image{});
  }();
  return *photo;
}

int DistanceToPng(const std::string& copy) {
  auto original = HashImageBytes(testing::EncodePng(Photo()));
  auto other = HashImageBytes(copy);
  EXPECT_THAT(original, IsOk());
  EXPECT_THAT(other, IsOk());
  if (!original.ok() || !other.ok()) return 256;
  return HammingDistance(original->pdq, other->pdq);
}

TEST(MoreFormatsTest, FormatsAreSniffedByContent) {
  EXPECT_EQ(DetectFormat(testing::EncodeGif(Photo())), ImageFormat::kGif);
  EXPECT_EQ(DetectFormat(testing::EncodeTiff(Photo())), ImageFormat::kTiff);
  EXPECT_EQ(DetectFormat(testing::EncodeHeif(Photo(), testing::HeifCodec::kHevc)),
            ImageFormat::kHeif);
  EXPECT_EQ(DetectFormat(testing::EncodeHeif(Photo(), testing::HeifCodec::kAv1)),
            ImageFormat::kAvif);
}

TEST(MoreFormatsTest, TiffHasExactlyThePixelsOfThePng) {
  EXPECT_EQ(DistanceToPng(testing::EncodeTiff(Photo())), 0);
}

TEST(MoreFormatsTest, GifCopyIsWithinAFewBitsOfThePng) {
  // 252 dithered colours move the hash a little (4 bits when written).
  EXPECT_THAT(DistanceToPng(testing::EncodeGif(Photo())), Le(10));
}

TEST(MoreFormatsTest, HeicAndAvifCopiesAreWithinAFewBitsOfThePng) {
  const std::string heic = testing::EncodeHeif(Photo(), testing::HeifCodec::kHevc);
  const std::string avif = testing::EncodeHeif(Photo(), testing::HeifCodec::kAv1);
  ASSERT_FALSE(heic.empty()) << "libheif has no HEVC encoder (x265)";
  ASSERT_FALSE(avif.empty()) << "libheif has no AV1 encoder (aom)";
  EXPECT_THAT(DistanceToPng(heic), Le(10));
  EXPECT_THAT(DistanceToPng(avif), Le(10));
}

TEST(MoreFormatsTest, OnlyTheFirstGifFrameAndTiffPageCount) {
  // The later frames/pages are the inverted photo, far from the first.
  auto one_frame = HashImageBytes(testing::EncodeGif(Photo(), 1));
  auto three_frames = HashImageBytes(testing::EncodeGif(Photo(), 3));
  ASSERT_THAT(one_frame, IsOk());
  ASSERT_THAT(three_frames, IsOk());
  EXPECT_EQ(three_frames->pdq, one_frame->pdq);
  auto one_page = HashImageBytes(testing::EncodeTiff(Photo(), 1));
  auto two_pages = HashImageBytes(testing::EncodeTiff(Photo(), 2));
  ASSERT_THAT(one_page, IsOk());
  ASSERT_THAT(two_pages, IsOk());
  EXPECT_EQ(two_pages->pdq, one_page->pdq);
}

TEST(MoreFormatsTest, OversizedImagesAreRefusedFromTheHeader) {
  HashOptions options;
  options.max_pixels = 1000;
  for (const std::string& bytes :
       {testing::EncodeGif(Photo()), testing::EncodeTiff(Photo()),
        testing::EncodeHeif(Photo(), testing::HeifCodec::kHevc)}) {
    EXPECT_THAT(HashImageBytes(bytes, options),
                StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("above the limit")));
  }
}

TEST(MoreFormatsTest, TruncatedFilesAreErrorsNotCrashes) {
  for (const std::string& bytes :
       {testing::EncodeGif(Photo()), testing::EncodeTiff(Photo()),
        testing::EncodeHeif(Photo(), testing::HeifCodec::kHevc),
        testing::EncodeHeif(Photo(), testing::HeifCodec::kAv1)}) {
    for (double fraction : {0.05, 0.5, 0.9}) {
      const std::string cut = bytes.substr(0, static_cast<size_t>(bytes.size() * fraction));
      auto hashed = HashImageBytes(cut);
      EXPECT_FALSE(hashed.ok()) << FormatName(DetectFormat(bytes)) << " cut at " << fraction;
    }
  }
}

}  // namespace
}  // namespace optout::pdq
