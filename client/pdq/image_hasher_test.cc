#include "client/pdq/image_hasher.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "client/pdq/testing/image_encoder.h"
#include "client/pdq/testing/reference_tables.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string TestdataPath(const std::string& relative) {
  return testing::PdqTestdataDir() + "/" + relative;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ImageHasherTest, EveryReferenceRowMatchesHashAndQualityExactly) {
  const auto expected = testing::ReadExpected();
  const auto notes = testing::ReadDecodeNotes();
  ASSERT_EQ(expected.size(), 238u) << "expected.tsv missing under " << testing::PdqTestdataDir();
  int compared = 0, refused = 0;
  for (const auto& row : expected) {
    SCOPED_TRACE(row.file);
    const auto hashes = HashImageFile(TestdataPath(row.file));
    const auto note = notes.find(row.file);
    if (note != notes.end() && note->second == "below-min-size") {
      // The reference prints an all-zero hash with quality 0; we refuse.
      EXPECT_EQ(row.pdq_hex, std::string(64, '0'));
      EXPECT_EQ(row.quality, 0);
      EXPECT_THAT(hashes, StatusIs(absl::StatusCode::kInvalidArgument,
                                   AllOf(HasSubstr(row.file), HasSubstr("at least 5 px"))));
      ++refused;
      continue;
    }
    ASSERT_THAT(hashes, IsOk());
    EXPECT_EQ(hashes->pdq.ToHex(), row.pdq_hex);
    EXPECT_EQ(hashes->quality, row.quality);
    ++compared;
  }
  EXPECT_EQ(compared, 236);
  EXPECT_EQ(refused, 2);
}

class PairsTest : public ::testing::Test {
 protected:
  const ImageHashes& Hashes(const std::string& file) {
    auto it = cache_.find(file);
    if (it == cache_.end()) {
      HashOptions options;
      options.dihedral = true;
      auto hashes = HashImageFile(TestdataPath(file), options);
      EXPECT_THAT(hashes, IsOk());
      it = cache_.emplace(file, hashes.ok() ? *hashes : ImageHashes{}).first;
    }
    return it->second;
  }
  std::map<std::string, ImageHashes> cache_;
};

TEST_F(PairsTest, DistancesAndDihedralMinimaMatchTheReference) {
  const auto rows = testing::ReadTsv(TestdataPath("pairs.tsv"));
  ASSERT_GT(rows.size(), 700u);
  ASSERT_EQ(rows[0][3], "reference_hamming_distance");
  ASSERT_EQ(rows[0][7], "reference_dihedral_min_distance");
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    SCOPED_TRACE(absl::StrCat(row[0], " vs ", row[1]));
    int distance = 0, dihedral_min = 0;
    ASSERT_TRUE(absl::SimpleAtoi(row[3], &distance));
    ASSERT_TRUE(absl::SimpleAtoi(row[7], &dihedral_min));
    const ImageHashes& a = Hashes(row[0]);
    const ImageHashes& b = Hashes(row[1]);
    EXPECT_EQ(HammingDistance(a.pdq, b.pdq), distance);
    int best = 256;
    for (const PdqHash& variant : a.dihedral) best = std::min(best, HammingDistance(variant, b.pdq));
    EXPECT_EQ(best, dihedral_min);
  }
}

TEST_F(PairsTest, DihedralOriginalEqualsThePlainHash) {
  for (const auto& row : testing::ReadExpected()) {
    if (row.pdq_hex == std::string(64, '0')) continue;
    const ImageHashes& h = Hashes(row.file);
    EXPECT_EQ(h.dihedral[0], h.pdq) << row.file;
  }
}

TEST(ImageHasherTest, DigestsAreOfTheFileBytesAndSizeIsBeforePrescale) {
  const std::string file = TestdataPath("images/d13_large__orig.jpg");
  const std::string bytes = ReadBytes(file);
  auto hashes = HashImageFile(file);
  ASSERT_THAT(hashes, IsOk());
  EXPECT_EQ(hashes->sha256, digest::Sha256(bytes));
  EXPECT_EQ(hashes->md5, digest::Md5(bytes));
  EXPECT_EQ(hashes->width, 2000);
  EXPECT_EQ(hashes->height, 1500);
  EXPECT_TRUE(hashes->dihedral[1].IsZero()) << "dihedral not requested";
}

TEST(ImageHasherTest, VerificationHashesOnlyOnRequestAndOnePerRegion) {
  const std::string jpeg = testing::EncodeJpeg(testing::SyntheticPhoto(480, 320, 9), 90);
  HashOptions options;
  options.regions = RegionSet::kOwner;
  auto plain = HashImageBytes(jpeg, options);
  ASSERT_THAT(plain, IsOk());
  EXPECT_TRUE(plain->verification[0].IsZero()) << "verification not requested";
  options.verification = true;
  auto verified = HashImageBytes(jpeg, options);
  ASSERT_THAT(verified, IsOk());
  // The same hashes and regions, each with the PDQ of its centre.
  EXPECT_EQ(verified->pdq, plain->pdq);
  ASSERT_EQ(verified->regions.size(), plain->regions.size());
  ASSERT_FALSE(verified->regions.empty());
  EXPECT_FALSE(verified->verification[0].IsZero());
  for (size_t i = 0; i < verified->regions.size(); ++i) {
    EXPECT_EQ(verified->regions[i].hash, plain->regions[i].hash);
    EXPECT_TRUE(plain->regions[i].verification.IsZero());
    EXPECT_FALSE(verified->regions[i].verification.IsZero()) << i;
  }
}

TEST(ImageHasherTest, LosslessWebpHashesLikeThePngWithTheSamePixels) {
  Image photo = testing::SyntheticPhoto(300, 200, 7);
  auto from_png = HashImageBytes(testing::EncodePng(photo));
  auto from_webp = HashImageBytes(testing::EncodeWebpLossless(photo));
  ASSERT_THAT(from_png, IsOk());
  ASSERT_THAT(from_webp, IsOk());
  EXPECT_EQ(from_webp->pdq, from_png->pdq);
  EXPECT_EQ(from_webp->quality, from_png->quality);
}

TEST(ImageHasherTest, ConcurrentCallsGiveTheSameResultsAsSequentialOnes) {
  const auto expected = testing::ReadExpected();
  std::vector<std::string> files;
  for (size_t i = 0; i < expected.size(); i += 6) files.push_back(expected[i].file);
  std::vector<std::string> sequential(files.size()), parallel(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    auto h = HashImageFile(TestdataPath(files[i]));
    sequential[i] = h.ok() ? h->pdq.ToHex() : std::string(h.status().message());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < files.size(); i += 4) {
        auto h = HashImageFile(TestdataPath(files[i]));
        parallel[i] = h.ok() ? h->pdq.ToHex() : std::string(h.status().message());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(parallel, sequential);
}

// ---- bad input: a clear error naming the file and the reason, never a crash.

TEST(ImageHasherBadInputTest, EmptyFileIsRefused) {
  EXPECT_THAT(HashImageBytes(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(ImageHasherBadInputTest, MissingFileIsNotFoundAndNamesThePath) {
  EXPECT_THAT(HashImageFile("/nonexistent/dir/photo.jpg"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("/nonexistent/dir/photo.jpg: "), HasSubstr("cannot open"))));
}

TEST(ImageHasherBadInputTest, DirectoryIsRefused) {
  EXPECT_THAT(HashImageFile(testing::PdqTestdataDir()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("directory")));
}

TEST(ImageHasherBadInputTest, TextIsNotAnImage) {
  EXPECT_THAT(HashImageBytes("hello, this is a text file\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an image")));
}

TEST(ImageHasherBadInputTest, PsdIsAnUnsupportedFormat) {
  const std::string psd("8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03", 14);
  EXPECT_THAT(HashImageBytes(psd),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("unsupported image format PSD")));
}

TEST(ImageHasherBadInputTest, TruncatedGifIsAnError) {
  const std::string gif("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04", 20);
  EXPECT_THAT(HashImageBytes(gif), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("GIF")));
}

TEST(ImageHasherBadInputTest, TruncatedJpegIsAnErrorNotGreyPadding) {
  const std::string bytes = ReadBytes(TestdataPath("images/d01_plasma__orig.jpg"));
  for (double fraction : {0.1, 0.5, 0.9, 0.99}) {
    SCOPED_TRACE(fraction);
    const auto cut = bytes.substr(0, static_cast<size_t>(bytes.size() * fraction));
    EXPECT_THAT(HashImageBytes(cut),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated JPEG")));
  }
}

TEST(ImageHasherBadInputTest, TruncatedPngIsAnError) {
  const std::string bytes = ReadBytes(TestdataPath("images/d10_shapes__orig.png"));
  for (size_t cut : {size_t{20}, size_t{40}, bytes.size() / 2, bytes.size() - 20}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(HashImageBytes(bytes.substr(0, cut)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PNG")));
  }
}

TEST(ImageHasherBadInputTest, TruncatedWebpIsAnError) {
  const std::string bytes = testing::EncodeWebpLossless(testing::SyntheticPhoto(200, 150));
  EXPECT_THAT(HashImageBytes(bytes.substr(0, bytes.size() / 2)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("WebP")));
}

TEST(ImageHasherBadInputTest, CorruptJpegHeaderIsAnError) {
  std::string bytes = ReadBytes(TestdataPath("images/d01_plasma__orig.jpg"));
  // Keep the signature and JFIF segment; overwrite the tables and frame
  // header with junk.
  for (size_t i = 20; i < 600 && i < bytes.size(); ++i) bytes[i] = static_cast<char>(0x5A);
  EXPECT_THAT(HashImageBytes(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("corrupt JPEG")));
}

TEST(ImageHasherBadInputTest, CorruptPngDataFailsItsChecksum) {
  std::string bytes = ReadBytes(TestdataPath("images/d10_shapes__orig.png"));
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0xFF);
  EXPECT_THAT(HashImageBytes(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("corrupt PNG")));
}

// PNG chunk CRC (the standard CRC-32), to forge headers in the bomb tests.
uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string BigEndian32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string PngChunk(const std::string& type, const std::string& data) {
  return BigEndian32(static_cast<uint32_t>(data.size())) + type + data + BigEndian32(Crc32(type + data));
}

TEST(ImageHasherBadInputTest, PngDecompressionBombIsRefusedBeforeDecoding) {
  // 100,000 x 100,000 RGB declared in a ~60-byte file.
  const std::string ihdr = BigEndian32(100000) + BigEndian32(100000) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string idat("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  const std::string bomb = std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) +
                           PngChunk("IDAT", idat) + PngChunk("IEND", "");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(HashImageBytes(bomb),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("100000x100000"), HasSubstr("limit of 100000000"))));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(ImageHasherBadInputTest, JpegDecompressionBombIsRefusedBeforeDecoding) {
  // A real 8x8 JPEG whose frame header is patched to 65000 x 65000.
  std::string bytes = testing::EncodeJpeg(testing::SyntheticPhoto(8, 8));
  const size_t sof = bytes.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t at : {sof + 5, sof + 7}) {
    bytes[at] = static_cast<char>(65000 >> 8);
    bytes[at + 1] = static_cast<char>(65000 & 0xFF);
  }
  EXPECT_THAT(HashImageBytes(bytes),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("65000x65000")));
}

TEST(ImageHasherBadInputTest, PixelLimitIsConfigurable) {
  HashOptions options;
  options.max_pixels = 1000;
  EXPECT_THAT(HashImageFile(TestdataPath("images/d01_plasma__orig.jpg"), options),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit of 1000")));
}

TEST(ImageHasherBadInputTest, HugePixelLimitIsSafe) {
  HashOptions options;
  options.max_pixels = std::numeric_limits<int64_t>::max();
  EXPECT_THAT(HashImageFile(TestdataPath("images/d14_progressive__orig.jpg"), options), IsOk());
}

TEST(ImageHasherBadInputTest, UniformBlackImageHasNoHashRatherThanAllZeros) {
  const std::string png = testing::EncodePng(testing::Uniform(100, 80, 3, 0));
  EXPECT_THAT(HashImageBytes(png),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no detail")));
}

TEST(ImageHasherBadInputTest, ImagesUnderFivePixelsAreRefused) {
  EXPECT_THAT(HashImageBytes(testing::EncodePng(testing::SyntheticPhoto(4, 300))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4x300")));
}

TEST(ImageHasherBadInputTest, FileAboveTheByteLimitIsRefused) {
  HashOptions options;
  options.max_file_bytes = 100;
  EXPECT_THAT(HashImageFile(TestdataPath("images/d01_plasma__orig.jpg"), options),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit of 100")));
}

}  // namespace
}  // namespace optout::pdq
