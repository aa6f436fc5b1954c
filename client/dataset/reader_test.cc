// Readers and writers on small files in a temp folder: the rows come out as
// written, malformed ones flagged, and a filtered copy keeps format and order.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/dataset/reader.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/dataset/writer.h"
#include "client/parquet/parquet_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::dataset {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::_;

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dataset-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static std::vector<Record> ReadAll(RecordReader& reader, size_t chunk = 2) {
    std::vector<Record> all;
    for (;;) {
      std::vector<Record> part;
      EXPECT_THAT(reader.Read(chunk, &part), IsOk());
      if (part.empty()) return all;
      for (auto& r : part) all.push_back(std::move(r));
    }
  }
  std::string dir_;
};

TEST_F(ReaderTest, CsvFindsUrlAndDigestColumnsAndFlagsBadRows) {
  const std::string path = Write(
      "m.csv",
      "caption,URL,md5\n"
      "\"a, b\",http://x.example/1.jpg,0123456789abcdef0123456789ABCDEF\n"
      "\n"
      "\"multi\nline\",http://x.example/2.jpg,\n"
      "c,http://x.example/3.jpg,nothex\n"
      "\"never closed,http://x.example/4.jpg\n");
  auto reader = OpenTableReader(path, Format::kCsv, {});
  ASSERT_THAT(reader, IsOk());
  EXPECT_EQ((*reader)->header(), "caption,URL,md5\n");
  auto rows = ReadAll(**reader);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].url, "http://x.example/1.jpg");
  EXPECT_EQ(rows[0].md5.size(), 16u);
  EXPECT_EQ(rows[0].row, 1u);
  EXPECT_TRUE(rows[1].passthrough);
  EXPECT_EQ(rows[2].url, "http://x.example/2.jpg");
  EXPECT_EQ(rows[2].raw, "\"multi\nline\",http://x.example/2.jpg,\n");
  EXPECT_EQ(rows[2].row, 2u);
  EXPECT_THAT(rows[3].unchecked, ::testing::HasSubstr("bad md5"));
  EXPECT_THAT(rows[4].unchecked, ::testing::HasSubstr("malformed"));
}

TEST_F(ReaderTest, CsvWithoutUrlColumnIsAnError) {
  const std::string path = Write("n.csv", "a,b\n1,2\n");
  auto reader = OpenTableReader(path, Format::kCsv, {});
  EXPECT_THAT(reader, StatusIs(absl::StatusCode::kInvalidArgument, _));
  EXPECT_THAT(OpenTableReader(path, Format::kCsv, {"b"}), IsOk());
}

TEST_F(ReaderTest, JsonlAndUrlListsKeepBrokenLinesAsUnchecked) {
  auto jsonl = OpenTableReader(
      Write("m.jsonl", "{\"url\":\"http://a.example/x\"}\n{broken\n{\"sha256\":\"zz\"}\n"),
      Format::kJsonl, {});
  ASSERT_THAT(jsonl, IsOk());
  auto rows = ReadAll(**jsonl);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].url, "http://a.example/x");
  EXPECT_EQ(rows[1].unchecked, "broken JSON line");
  EXPECT_FALSE(rows[2].unchecked.empty());
  auto list = OpenTableReader(Write("u.txt", "http://a.example/1\r\nhttp://a.example/2"),
                              Format::kUrlList, {});
  ASSERT_THAT(list, IsOk());
  rows = ReadAll(**list);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].url, "http://a.example/1");
  EXPECT_EQ(rows[1].raw, "http://a.example/2");
}

TEST_F(ReaderTest, TableWriterKeepsHeaderAndExactBytes) {
  const std::string in = Write("m.tsv", "url\tx\nhttp://a.example/1\t\"q\"\nhttp://a.example/2\ty\n");
  auto reader = OpenTableReader(in, Format::kTsv, {});
  ASSERT_THAT(reader, IsOk());
  auto rows = ReadAll(**reader);
  const std::string out = dir_ + "/out.tsv";
  auto writer = OpenTableWriter(out, (*reader)->header());
  ASSERT_THAT(writer, IsOk());
  ASSERT_THAT((*writer)->Write(rows[0]), IsOk());
  EXPECT_EQ(access(out.c_str(), F_OK), -1);  // only the .partial exists before Commit
  ASSERT_THAT((*writer)->Commit(), IsOk());
  EXPECT_EQ(Read(out), "url\tx\nhttp://a.example/1\t\"q\"\n");
}

TEST_F(ReaderTest, ShardSamplesGroupByKeyAndRoundTrip) {
  const std::string in = dir_ + "/s.tar";
  {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, in.c_str()), ARCHIVE_OK);
    for (auto [name, body] : std::vector<std::pair<std::string, std::string>>{
             {"000.jpg", "notajpeg"}, {"000.json", "{\"url\":\"http://a.example/0\"}"},
             {"000.txt", "cap"}, {"001.json", "{oops"}}) {
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, body.size());
      archive_write_header(a, e);
      archive_write_data(a, body.data(), body.size());
      archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
  }
  auto reader = OpenShardReader(in);
  ASSERT_THAT(reader, IsOk());
  auto samples = ReadAll(**reader, 1);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].key, "000");
  EXPECT_EQ(samples[0].files.size(), 3u);
  EXPECT_EQ(samples[0].image_file, 0);
  EXPECT_EQ(samples[0].url, "http://a.example/0");
  EXPECT_THAT(samples[1].unchecked, ::testing::HasSubstr("broken JSON"));

  auto writer = OpenShardWriter(dir_ + "/o.tar");
  ASSERT_THAT(writer, IsOk());
  ASSERT_THAT((*writer)->Write(samples[1]), IsOk());
  ASSERT_THAT((*writer)->Commit(), IsOk());
  auto again = OpenShardReader(dir_ + "/o.tar");
  ASSERT_THAT(again, IsOk());
  auto kept = ReadAll(**again);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].files[0].name, "001.json");
  EXPECT_EQ(kept[0].files[0].bytes, "{oops");
}

TEST_F(ReaderTest, UrlKeysAreFoundInAnyCaseInJsonlAndSampleJson) {
  auto jsonl = OpenTableReader(
      Write("laion.jsonl", "{\"URL\":\"http://a.example/x\",\"TEXT\":\"t\"}\n{\"caption\":\"c\"}\n"),
      Format::kJsonl, {});
  ASSERT_TRUE(jsonl.ok());
  auto rows = ReadAll(**jsonl);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].has_url);
  EXPECT_EQ(rows[0].url, "http://a.example/x");
  EXPECT_EQ(rows[1].unchecked, "no URL field");

  ASSERT_EQ(mkdir((dir_ + "/f").c_str(), 0755), 0);
  Write("f/1.jpg", "\xFF\xD8\xFF not really");
  Write("f/1.json", "{\"URL\": \"http://a.example/1\"}");
  Write("f/2.jpg", "\xFF\xD8\xFF");
  Write("f/2.json", "{\"caption\": \"no url here\"}");
  Write("f/3.gif", "GIF89a\x01\x00\x01\x00");  // decodable or not: the hasher decides
  Write("f/4.jpg", "\xFF\xD8\xFF");
  Write("f/4.png", "\x89PNG\r\n\x1A\n");
  Write("f/5.txt", "a caption alone");
  Write("f/6.bin", "PK\x03\x04 zipped");
  auto folder = OpenFolderReader(dir_ + "/f",
                                 {{"1.jpg", ""}, {"1.json", ""}, {"2.jpg", ""}, {"2.json", ""},
                                  {"3.gif", ""}, {"4.jpg", ""}, {"4.png", ""}, {"5.txt", ""},
                                  {"6.bin", ""}, {"7.csv", "no URL column"}});
  Write("f/7.csv", "a,b\n");
  ASSERT_TRUE(folder.ok());
  auto samples = ReadAll(**folder, 3);
  ASSERT_EQ(samples.size(), 7u);
  EXPECT_EQ(samples[0].url, "http://a.example/1");
  EXPECT_EQ(samples[0].unchecked, "");
  EXPECT_THAT(samples[1].unchecked, ::testing::HasSubstr("no URL key in 2.json"));
  EXPECT_EQ(samples[2].image_file, 0);
  EXPECT_EQ(samples[2].unchecked, "");
  EXPECT_THAT(samples[3].unchecked, ::testing::HasSubstr("2 images under one key"));
  EXPECT_THAT(samples[4].unchecked, ::testing::HasSubstr("nothing to check"));
  EXPECT_THAT(samples[5].unchecked, ::testing::HasSubstr("6.bin: zip archive"));
  EXPECT_EQ(samples[6].unchecked, "7.csv: no URL column");
  EXPECT_EQ(samples[6].files[0].bytes, "");  // not read; copied from its source if kept
  EXPECT_EQ(samples[6].files[0].source, dir_ + "/f/7.csv");
}

TEST_F(ReaderTest, TextThatStopsBeingUtf8IsRefusedWhereverItIs) {
  // The bad byte lies beyond the first read block: rows before it were
  // returned, then the input as a whole is refused.
  std::string text = "url\n";
  while (text.size() < (3u << 20)) text += "http://a.example/some/long/path/to/an/image.jpg\n";
  text += "http://a.example/caf\xE9.jpg\n";
  auto reader = OpenTableReader(Write("late.csv", text), Format::kCsv, {});
  ASSERT_TRUE(reader.ok());
  absl::Status status;
  for (int i = 0; i < 1000 && status.ok(); ++i) {
    std::vector<Record> part;
    status = (*reader)->Read(4096, &part);
    if (status.ok() && part.empty()) break;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("not UTF-8 text"));
}

// check-dataset refills the records of answered chunks (ReadReusing): a
// refilled record must equal a fresh one, whatever the stale record held.
TEST_F(ReaderTest, ParquetRecordsRefilledInPlaceEqualFreshOnes) {
  const parquet::FileMetadata schema = parquet::MakeFlatSchema(parquet::testing::SampleColumns());
  const std::string path = dir_ + "/t.parquet";
  {
    auto writer = parquet::ParquetWriter::Create(path, schema);
    ASSERT_THAT(writer, IsOk());
    const std::vector<parquet::ColumnWriteOptions> options(schema.columns.size());
    ASSERT_THAT((*writer)->WriteRowGroup(parquet::testing::SampleRows(schema, 0, 9), options), IsOk());
    ASSERT_THAT((*writer)->WriteRowGroup(parquet::testing::SampleRows(schema, 9, 8), options), IsOk());
    ASSERT_THAT((*writer)->Close(), IsOk());
  }
  auto fresh_reader = OpenParquetReader(path, {});
  ASSERT_THAT(fresh_reader, IsOk());
  const std::vector<Record> fresh = ReadAll(**fresh_reader, 4);
  ASSERT_EQ(fresh.size(), 17u);

  auto reader = OpenParquetReader(path, {});
  ASSERT_THAT(reader, IsOk());
  Record stale;
  stale.passthrough = true;
  stale.key = "k";
  stale.pair_key = "p";
  stale.url = "https://stale.example/a-long-enough-url-to-be-on-the-heap";
  stale.has_url = true;
  stale.md5 = std::string(16, 'm');
  stale.sha256 = std::string(32, 's');
  stale.image_file = 0;
  stale.unchecked = "stale";
  stale.incomplete = true;
  stale.raw = "raw";
  stale.files.push_back({"f.jpg", "bytes"});
  stale.url_digests = std::string(256, 'd');
  stale.url_count = 8;
  stale.pdq = std::string(288, 'q');
  stale.pdq_regions = std::string(64, 'r');
  stale.low_quality = true;
  stale.pdq_low_quality = true;
  std::vector<Record> chunk(6, stale);  // more than a read fills: the rest must go
  std::vector<Record> refilled;
  for (;;) {
    ASSERT_THAT((*reader)->ReadReusing(4, &chunk), IsOk());
    if (chunk.empty()) break;
    ASSERT_LE(chunk.size(), 4u);
    refilled.insert(refilled.end(), chunk.begin(), chunk.end());
    for (Record& r : chunk) r = stale;  // answered and done with
  }
  ASSERT_EQ(refilled.size(), fresh.size());
  for (size_t i = 0; i < fresh.size(); ++i) {
    const Record& a = fresh[i];
    const Record& b = refilled[i];
    EXPECT_EQ(b.row, a.row) << i;
    EXPECT_EQ(b.url, a.url) << i;
    EXPECT_EQ(b.has_url, a.has_url) << i;
    EXPECT_EQ(b.md5, a.md5) << i;
    EXPECT_EQ(b.sha256, a.sha256) << i;
    EXPECT_EQ(b.unchecked, a.unchecked) << i;
    EXPECT_EQ(b.passthrough, a.passthrough) << i;
    EXPECT_EQ(b.key, a.key) << i;
    EXPECT_EQ(b.pair_key, a.pair_key) << i;
    EXPECT_EQ(b.image_file, a.image_file) << i;
    EXPECT_EQ(b.incomplete, a.incomplete) << i;
    EXPECT_EQ(b.raw, a.raw) << i;
    EXPECT_TRUE(b.files.empty()) << i;
    EXPECT_EQ(b.url_digests, "") << i;
    EXPECT_EQ(b.url_count, 0u) << i;
    EXPECT_EQ(b.pdq, "") << i;
    EXPECT_EQ(b.pdq_regions, "") << i;
    EXPECT_EQ(b.low_quality, a.low_quality) << i;
    EXPECT_EQ(b.pdq_low_quality, a.pdq_low_quality) << i;
  }
  // Nulls and values both came through.
  EXPECT_FALSE(fresh[0].has_url);  // row 0: (0 + 0) % 7 == 0
  EXPECT_TRUE(fresh[1].has_url);
  EXPECT_EQ(fresh[1].md5.size(), 16u);
}

TEST(SampleKeyTest, IsThePathUpToTheFirstDotOfTheBaseName) {
  EXPECT_EQ(SampleKey("a.b/000012.seg.jpg"), "a.b/000012");
  EXPECT_EQ(SampleKey("noext"), "noext");
  EXPECT_TRUE(IsImageName("x.JPeG"));
  EXPECT_FALSE(IsImageName("x.json"));
  EXPECT_TRUE(IsImageName("IMG_0001.HEIC"));
  EXPECT_TRUE(IsImageName("scan.tiff"));
}

}  // namespace
}  // namespace optout::dataset
