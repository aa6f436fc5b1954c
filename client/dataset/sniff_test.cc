// The content sniffer: each container it must refuse, the formats it reads,
// and the streaming UTF-8 check across block boundaries.
#include "client/dataset/sniff.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::testing::HasSubstr;

std::string Bytes(const char* data, size_t size) { return std::string(data, size); }

// A minimal ustar header for "a.txt" with a valid checksum.
std::string TarHeader(bool ustar) {
  std::string h(512, '\0');
  h.replace(0, 5, "a.txt");
  h.replace(100, 7, "0000644");
  h.replace(124, 11, "00000000005");
  h[156] = '0';
  if (ustar) h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char field[8];
  std::snprintf(field, sizeof(field), "%06o", sum);
  h.replace(148, 7, std::string(field, 6) + '\0');
  return h + std::string(512, '\0');
}

TEST(SniffTest, EachContainerIsNamedWithAdvice) {
  struct Case {
    std::string head, what, advice;
  };
  const Case cases[] = {
      {Bytes("BZh91AY&SY\x00\x01", 12), "bzip2-compressed file", "decompress it first"},
      {Bytes("\xFD" "7zXZ\x00\x00\x04", 8), "xz-compressed file", "decompress it first"},
      {Bytes("PK\x03\x04\x14\x00\x00\x00", 8), "zip archive", "unpack it first"},
      {Bytes("PK\x05\x06\x00\x00", 6), "zip archive", "unpack it first"},
      {Bytes("7z\xBC\xAF\x27\x1C\x00\x04", 8), "7z archive", "unpack it first"},
      {Bytes("ARROW1\x00\x00\xFF\xFF", 10), "Arrow/Feather file", "convert it"},
      {Bytes("FEA1\x00\x00\x00\x00", 8), "Feather (v1) file", "convert it"},
      {Bytes("\xFF\xFE" "u\x00r\x00l\x00", 8), "UTF-16 text", "convert it to UTF-8"},
  };
  for (const Case& c : cases) {
    const Sniffed s = SniffContent(c.head, /*whole_file=*/false);
    EXPECT_EQ(s.kind, ContentKind::kContainer) << c.what;
    EXPECT_EQ(s.what, c.what);
    EXPECT_THAT(s.advice, HasSubstr(c.advice)) << c.what;
    auto format = DecideFileFormat("x.csv", s);
    ASSERT_FALSE(format.ok()) << c.what;
    EXPECT_THAT(format.status().message(), HasSubstr(c.what + ": not supported"));
  }
  EXPECT_EQ(DecideFileFormat("x.zip", SniffContent(cases[2].head, false)).status().message(),
            "zip archive: not supported; unpack it first");
}

TEST(SniffTest, AsciiMagicAtTheStartOfTextIsStillText) {
  // A URL list or CSV may begin with the letters of a magic number.
  for (const char* text : {"PAR1,url\n1,https://a.example/\n", "BZh9 is a column\n",
                           "BMW,https://b.example/x.jpg\n", "FEA1\n"}) {
    const Sniffed s = SniffContent(text, /*whole_file=*/true);
    EXPECT_EQ(s.kind, ContentKind::kText) << text << ": " << s.what;
  }
  // The same magic followed by binary fields (all below 0x80 here) is not.
  EXPECT_EQ(SniffContent("PAR1\x15\x04\x15\x10\x15\x14\x4CPAR1", true).kind, ContentKind::kParquet);
}

TEST(SniffTest, ParquetAndCompressedTablesAreRead) {
  const Sniffed parquet = SniffContent(Bytes("PAR1\x15\x04\x15\x00", 8), false);
  EXPECT_EQ(parquet.kind, ContentKind::kParquet);
  auto format = DecideFileFormat("part-0.snappy.parquet", parquet);
  ASSERT_TRUE(format.ok());
  EXPECT_EQ(*format, Format::kParquet);
  const Sniffed gzip = SniffContent(Bytes("\x1F\x8B\x08\x00\x00\x00", 6), false);
  const Sniffed zstd = SniffContent(Bytes("\x28\xB5\x2F\xFD\x04\x00", 6), false);
  EXPECT_EQ(gzip.kind, ContentKind::kCompressed);
  EXPECT_EQ(gzip.compression, Compression::kGzip);
  EXPECT_EQ(zstd.compression, Compression::kZstd);
  EXPECT_EQ(*DecideFileFormat("a.CSV.gz", gzip), Format::kCsv);
  EXPECT_EQ(*DecideFileFormat("a.tsv.gz", gzip), Format::kTsv);
  EXPECT_EQ(*DecideFileFormat("a.jsonl.zst", zstd), Format::kJsonl);
  // The name must say both: a gzip named .csv, a .zst table that is gzip,
  // a compressed tar or a compressed file of unknown content are refused.
  for (const char* name : {"a.csv", "a.csv.zst", "a.tar.gz", "a.gz", "a.parquet.gz"}) {
    auto refused = DecideFileFormat(name, gzip);
    ASSERT_FALSE(refused.ok()) << name;
    EXPECT_THAT(refused.status().message(), HasSubstr("gzip-compressed file: not supported")) << name;
  }
  EXPECT_FALSE(DecideFileFormat("a.parquet", SniffContent("url\nhttps://a.example/\n", true)).ok());
}

TEST(SniffTest, TarImagesTextAndEmpty) {
  EXPECT_EQ(SniffContent(TarHeader(true), false).kind, ContentKind::kTar);
  EXPECT_EQ(SniffContent(TarHeader(false), false).kind, ContentKind::kTar);  // v7: checksum only
  const Sniffed jpeg = SniffContent(Bytes("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11), false);
  EXPECT_EQ(jpeg.kind, ContentKind::kImage);
  EXPECT_EQ(jpeg.what, "JPEG image");
  EXPECT_EQ(SniffContent(Bytes("GIF89a\x01\x00\x01\x00\x80", 11), false).what, "GIF image");
  EXPECT_EQ(SniffContent("url\nhttps://a.example/é\n", true).kind, ContentKind::kText);
  EXPECT_EQ(SniffContent("", true).kind, ContentKind::kEmpty);
  // Cut by the sniff window: fine; cut at the end of the whole file: not text.
  EXPECT_EQ(SniffContent("abc\xC3", false).kind, ContentKind::kText);
  EXPECT_EQ(SniffContent("abc\xC3", true).kind, ContentKind::kBinary);
}

TEST(SniffTest, NulAndInvalidUtf8AreBinaryWithTheirOffset) {
  const Sniffed nul = SniffContent(Bytes("url\nhttps://a\x00.example/\n", 24), true);
  EXPECT_EQ(nul.kind, ContentKind::kBinary);
  EXPECT_EQ(nul.what, "binary data (NUL byte at offset 13)");
  const Sniffed latin1 = SniffContent("caption\ncaf\xE9 au lait\n", true);
  EXPECT_EQ(latin1.kind, ContentKind::kBinary);
  EXPECT_EQ(latin1.what, "not UTF-8 text (invalid byte at offset 11)");
  EXPECT_EQ(DecideFileFormat("m.csv", latin1).status().message(),
            "not UTF-8 text (invalid byte at offset 11): not supported");
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE0\x80\xAF", "\xFF"}) {
    EXPECT_EQ(SniffContent(bad, true).kind, ContentKind::kBinary) << bad;
  }
}

TEST(SniffTest, FormatFollowsContentAndName) {
  const Sniffed text = SniffContent("url\nhttps://a.example/\n", true);
  EXPECT_EQ(*DecideFileFormat("m.CSV", text), Format::kCsv);
  EXPECT_EQ(*DecideFileFormat("m.tsv", text), Format::kTsv);
  EXPECT_EQ(*DecideFileFormat("m.ndjson", text), Format::kJsonl);
  EXPECT_EQ(*DecideFileFormat("urls.txt", text), Format::kUrlList);
  EXPECT_FALSE(DecideFileFormat("shard.tar", text).ok());
  // A tar is a shard whatever its name.
  EXPECT_EQ(*DecideFileFormat("shard-000", SniffContent(TarHeader(true), false)), Format::kWebdataset);
  const auto jpeg = DecideFileFormat(
      "photo.csv", SniffContent(Bytes("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11), false));
  ASSERT_FALSE(jpeg.ok());
  EXPECT_THAT(jpeg.status().message(), HasSubstr("JPEG image: not a table or shard"));
  EXPECT_EQ(DecideFileFormat("e.csv", SniffContent("", true)).status().message(),
            "empty file (0 bytes): nothing to check");
}

TEST(SniffTest, Utf8ValidatorFollowsSequencesAcrossBlocks) {
  const std::string text = "a\xC3\xA9" "b\xE2\x82\xAC" "c\xF0\x9F\x98\x80" "d";  // é € 😀
  // Every split point, in blocks of every size.
  for (size_t block = 1; block <= text.size(); ++block) {
    Utf8Validator v;
    for (size_t i = 0; i < text.size(); i += block) ASSERT_TRUE(v.Feed(text.substr(i, block))) << block;
    EXPECT_TRUE(v.Finish()) << block;
  }
  Utf8Validator cut;
  EXPECT_TRUE(cut.Feed("abc\xF0\x9F"));
  EXPECT_FALSE(cut.Finish());
  EXPECT_THAT(cut.error(), HasSubstr("offset 3"));

  Utf8Validator nul;
  EXPECT_TRUE(nul.Feed(std::string(1000, 'x')));
  EXPECT_FALSE(nul.Feed(Bytes("yy\x00", 3)));
  EXPECT_EQ(nul.error(), "binary data (NUL byte at offset 1002)");

  Utf8Validator bad_join;
  EXPECT_TRUE(bad_join.Feed("ab\xE2\x82"));
  EXPECT_FALSE(bad_join.Feed("x"));
  EXPECT_EQ(bad_join.error(), "not UTF-8 text (invalid byte at offset 2)");
}

}  // namespace
}  // namespace optout::dataset
