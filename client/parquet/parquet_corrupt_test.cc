// Corrupt and hostile files: every truncation and many single-byte changes
// of a small file end in an error naming the file (and, for corrupt bytes,
// an offset), or in a successful read; never a crash or a hang.
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include <random>

#include "client/common/base/testing/status_matchers.h"
#include "client/parquet/parquet_file.h"
#include "client/parquet/parquet_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::parquet {
namespace {

using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

std::string SmallFile(Codec codec, bool v2) {
  const FileMetadata schema = MakeFlatSchema(testing::SampleColumns());
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / absl::StrCat(::getpid(), "-small.parquet")).string();
  std::vector<ColumnWriteOptions> options(schema.columns.size());
  for (auto& o : options) {
    o.codec = static_cast<int>(codec);
    o.page_v2 = v2;
    o.page_bytes = 256;
  }
  auto writer = ParquetWriter::Create(path, schema);
  EXPECT_TRUE(writer.ok());
  EXPECT_TRUE((*writer)->WriteRowGroup(testing::SampleRows(schema, 0, 60), options).ok());
  EXPECT_TRUE((*writer)->WriteRowGroup(testing::SampleRows(schema, 60, 20), options).ok());
  EXPECT_TRUE((*writer)->Close().ok());
  return testing::ReadAll(path);
}

// Reads everything; returns the first error.
absl::Status ReadEverything(std::string bytes) {
  ReadLimits limits;
  limits.max_values_per_chunk = 1 << 16;
  auto file = ParquetFile::FromBytes(std::move(bytes), "in.parquet", limits);
  if (!file.ok()) return file.status();
  for (size_t g = 0; g < (*file)->metadata().row_groups.size(); ++g) {
    for (size_t c = 0; c < (*file)->metadata().columns.size(); ++c) {
      auto data = (*file)->ReadColumn(static_cast<int>(g), static_cast<int>(c));
      if (!data.ok()) return data.status();
    }
  }
  return absl::OkStatus();
}

TEST(ParquetCorruptTest, EveryTruncationFailsNamingTheFile) {
  const std::string bytes = SmallFile(Codec::kSnappy, false);
  ASSERT_TRUE(ReadEverything(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    const absl::Status s = ReadEverything(bytes.substr(0, n));
    ASSERT_FALSE(s.ok()) << n;
    EXPECT_THAT(s.message(), HasSubstr("in.parquet: ")) << n;
  }
}

TEST(ParquetCorruptTest, ChangedBytesNeverCrash) {
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool v2 : {false, true}) {
      const std::string bytes = SmallFile(codec, v2);
      std::mt19937 rng(static_cast<int>(codec) * 2 + v2);
      for (int trial = 0; trial < 1500; ++trial) {
        std::string changed = bytes;
        const size_t at = rng() % changed.size();
        changed[at] = static_cast<char>(trial % 3 == 0 ? 0xff : rng());
        const absl::Status s = ReadEverything(changed);
        if (!s.ok()) {
          EXPECT_THAT(s.message(), HasSubstr("in.parquet: "));
          if (s.code() == absl::StatusCode::kDataLoss) EXPECT_THAT(s.message(), HasSubstr("byte"));
        }
      }
    }
  }
}

// The rewrite reads columns it does not check in dictionary form
// (ReadDictionaryColumn); a corrupt chunk must not pass that way into a
// release when the full decode refuses it. A nullopt answer is a fallback
// to the full decode, so it passes nothing either.
TEST(ParquetCorruptTest, DictionaryFormRefusesWhatFullDecodingRefuses) {
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy}) {
    for (bool v2 : {false, true}) {
      const std::string bytes = SmallFile(codec, v2);
      std::mt19937 rng(static_cast<int>(codec) * 2 + v2 + 100);
      for (int trial = 0; trial < 1500; ++trial) {
        std::string changed = bytes;
        changed[rng() % changed.size()] = static_cast<char>(trial % 3 == 0 ? 0xff : rng());
        ReadLimits limits;
        limits.max_values_per_chunk = 1 << 16;
        auto file = ParquetFile::FromBytes(changed, "in.parquet", limits);
        if (!file.ok()) continue;
        for (size_t g = 0; g < (*file)->metadata().row_groups.size(); ++g) {
          for (size_t c = 0; c < (*file)->metadata().columns.size(); ++c) {
            auto full = (*file)->ReadColumn(static_cast<int>(g), static_cast<int>(c));
            auto stored = (*file)->ReadDictionaryColumn(static_cast<int>(g), static_cast<int>(c));
            if (!full.ok() && stored.ok()) {
              EXPECT_FALSE(stored->has_value()) << trial << " " << g << " " << c << ": " << full.status();
            }
            if (!stored.ok()) EXPECT_THAT(stored.status().message(), HasSubstr("in.parquet: "));
          }
        }
      }
    }
  }
}

TEST(ParquetCorruptTest, SaysWhatIsWrong) {
  const std::string bytes = SmallFile(Codec::kSnappy, false);
  EXPECT_THAT(ReadEverything("hello, world, this is a CSV file"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a Parquet file")));
  EXPECT_THAT(ReadEverything(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  std::string long_footer = bytes;
  long_footer[long_footer.size() - 5] = 0x7f;
  EXPECT_THAT(ReadEverything(long_footer),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("footer length")));
  std::string encrypted = bytes;
  encrypted.replace(encrypted.size() - 4, 4, "PARE");
  EXPECT_THAT(ReadEverything(encrypted), StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("encrypted")));
  // A page body scrambled after the header: the page offset is named.
  std::string scrambled = bytes;
  for (size_t i = 30; i < 60; ++i) scrambled[i] = 'x';
  EXPECT_THAT(ReadEverything(scrambled), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("page at byte 4")));
}

}  // namespace
}  // namespace optout::parquet
