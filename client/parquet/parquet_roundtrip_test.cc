// Files written by ParquetWriter read back by ParquetFile: every physical
// type with nulls, each codec, pages v1 and v2, PLAIN and dictionary; row
// filtering; verbatim row-group copies; a repeated (list) column.
#include <cstdio>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

#include "client/common/base/testing/status_matchers.h"
#include "client/parquet/compression.h"
#include "client/parquet/parquet_file.h"
#include "client/parquet/parquet_test_util.h"
#include "client/parquet/parquet_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::parquet {
namespace {

using testing::SampleColumns;
using testing::SampleRows;
using testing::SampleValue;

// Unique per process: ctest runs each case as its own process, in parallel,
// in one temporary folder.
std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / absl::StrCat(::getpid(), "-", name)).string();
}

struct Variant {
  Codec codec;
  bool dictionary;
  bool v2;
};

class RoundTripTest : public ::testing::TestWithParam<Variant> {};

void ExpectSampleRows(ParquetFile& file, int group, int64_t first) {
  const RowGroupInfo& info = file.metadata().row_groups[group];
  for (size_t c = 0; c < file.metadata().columns.size(); ++c) {
    auto data = file.ReadColumn(group, static_cast<int>(c));
    ASSERT_TRUE(data.ok()) << data.status();
    ASSERT_EQ(data->num_levels, static_cast<size_t>(info.num_rows));
    size_t value = 0;
    for (int64_t r = 0; r < info.num_rows; ++r) {
      const bool null = testing::IsNull(static_cast<int>(c), first + r);
      if (file.metadata().columns[c].max_def > 0) ASSERT_EQ(data->def[r], null ? 0 : 1) << c << " " << r;
      if (!null) {
        ASSERT_EQ(data->Value(value), SampleValue(static_cast<int>(c), first + r)) << c << " " << r;
        ++value;
      }
    }
    EXPECT_EQ(value, data->num_values);
  }
}

TEST_P(RoundTripTest, WritesAndReadsEveryType) {
  const Variant v = GetParam();
  const FileMetadata schema = MakeFlatSchema(SampleColumns());
  const std::string path = TempPath("roundtrip.parquet");
  std::vector<ColumnWriteOptions> options(schema.columns.size());
  for (auto& o : options) {
    o.codec = static_cast<int>(v.codec);
    o.dictionary = v.dictionary;
    o.page_v2 = v.v2;
    o.page_bytes = 4096;  // many pages per chunk
  }
  {
    auto writer = ParquetWriter::Create(path, schema);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->WriteRowGroup(SampleRows(schema, 0, 3000), options).ok());
    ASSERT_TRUE((*writer)->WriteRowGroup(SampleRows(schema, 3000, 1), options).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto file = ParquetFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const FileMetadata& meta = (*file)->metadata();
  EXPECT_EQ(meta.num_rows, 3001);
  ASSERT_EQ(meta.row_groups.size(), 2u);
  ASSERT_EQ(meta.columns.size(), 6u);
  EXPECT_EQ(meta.columns[0].name, "url");
  EXPECT_TRUE(meta.columns[0].utf8);
  EXPECT_EQ(meta.row_groups[0].chunks[0].codec, static_cast<int>(v.codec));
  ExpectSampleRows(**file, 0, 0);
  ExpectSampleRows(**file, 1, 3000);
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, RoundTripTest,
    ::testing::Values(Variant{Codec::kUncompressed, false, false}, Variant{Codec::kSnappy, true, false},
                      Variant{Codec::kSnappy, false, true}, Variant{Codec::kGzip, true, true},
                      Variant{Codec::kGzip, false, false}, Variant{Codec::kZstd, true, false},
                      Variant{Codec::kZstd, false, true}));

TEST(ParquetWriterTest, FiltersRowsAndCopiesRowGroupsVerbatim) {
  const FileMetadata schema = MakeFlatSchema(SampleColumns());
  const std::string in_path = TempPath("source.parquet"), out_path = TempPath("filtered.parquet");
  std::vector<ColumnWriteOptions> options(schema.columns.size());
  {
    auto writer = ParquetWriter::Create(in_path, schema);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->WriteRowGroup(SampleRows(schema, 0, 500), options).ok());
    ASSERT_TRUE((*writer)->WriteRowGroup(SampleRows(schema, 500, 500), options).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto source = ParquetFile::Open(in_path);
  ASSERT_TRUE(source.ok());
  {
    auto writer = ParquetWriter::Create(out_path, (*source)->metadata());
    ASSERT_TRUE(writer.ok());
    // Row group 0 loses its even rows; row group 1 is copied as stored.
    std::vector<bool> keep(500);
    for (int r = 0; r < 500; ++r) keep[r] = r % 2 == 1;
    std::vector<ColumnData> kept;
    for (size_t c = 0; c < schema.columns.size(); ++c) {
      auto data = (*source)->ReadColumn(0, static_cast<int>(c));
      ASSERT_TRUE(data.ok());
      kept.push_back(FilterRows(*data, schema.columns[c].max_def, 0, keep));
    }
    ASSERT_TRUE((*writer)->WriteRowGroup(kept, options).ok());
    ASSERT_TRUE((*writer)->CopyRowGroup(**source, 1).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto out = ParquetFile::Open(out_path);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)->metadata().num_rows, 750);
  ExpectSampleRows(**out, 1, 500);
  auto urls = (*out)->ReadColumn(0, 0);
  ASSERT_TRUE(urls.ok());
  size_t value = 0;
  for (int r = 1; r < 500; r += 2) {
    if (testing::IsNull(0, r)) continue;
    EXPECT_EQ(urls->Value(value++), SampleValue(0, r));
  }
}

// A row group rewritten in dictionary form (its dictionary pages kept as
// stored, only the indices filtered) holds exactly the rows that filtering
// the decoded values keeps, for every codec and page version; a column
// with no dictionary has no dictionary form (booleans here).
TEST(ParquetWriterTest, DictionaryFormRewriteKeepsTheSameRows) {
  const FileMetadata schema = MakeFlatSchema(SampleColumns());
  for (const Variant v : {Variant{Codec::kSnappy, true, false}, Variant{Codec::kZstd, true, true},
                          Variant{Codec::kUncompressed, true, true}}) {
    SCOPED_TRACE(CodecName(static_cast<int>(v.codec)));
    const std::string in_path = TempPath("dict-source.parquet"),
                      out_path = TempPath("dict-filtered.parquet");
    std::vector<ColumnWriteOptions> options(schema.columns.size());
    for (auto& o : options) {
      o.codec = static_cast<int>(v.codec);
      o.page_v2 = v.v2;
      o.page_bytes = 2048;  // many data pages after the dictionary
    }
    {
      auto writer = ParquetWriter::Create(in_path, schema);
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE((*writer)->WriteRowGroup(SampleRows(schema, 0, 2000), options).ok());
      ASSERT_TRUE((*writer)->Close().ok());
    }
    auto source = ParquetFile::Open(in_path);
    ASSERT_TRUE(source.ok());
    std::vector<bool> keep(2000, true);
    for (int r : {0, 5, 6, 7, 999, 1998}) keep[r] = false;
    const RowRuns runs = KeptRuns(keep);
    std::vector<ColumnData> kept, expected;
    std::vector<StoredDictionary> dictionaries(schema.columns.size());
    std::vector<ColumnWriteOptions> rewrite = options;
    for (size_t c = 0; c < schema.columns.size(); ++c) {
      const int max_def = schema.columns[c].max_def;
      auto full = (*source)->ReadColumn(0, static_cast<int>(c));
      ASSERT_TRUE(full.ok()) << full.status();
      expected.push_back(FilterRows(*full, max_def, 0, keep));
      auto stored = (*source)->ReadDictionaryColumn(0, static_cast<int>(c));
      ASSERT_TRUE(stored.ok()) << stored.status();
      ASSERT_EQ(stored->has_value(), schema.columns[c].type != PhysicalType::kBoolean) << c;
      if (!stored->has_value()) {
        kept.push_back(expected.back());
        continue;
      }
      EXPECT_EQ((*stored)->indices.num_levels, 2000u);
      EXPECT_EQ((*stored)->indices.def, full->def);
      dictionaries[c] = std::move((*stored)->dictionary);
      rewrite[c].stored_dictionary = &dictionaries[c];
      kept.push_back(FilterRows((*stored)->indices, max_def, 0, keep, &runs));
    }
    {
      auto writer = ParquetWriter::Create(out_path, (*source)->metadata());
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE((*writer)->WriteRowGroup(kept, rewrite).ok());
      ASSERT_TRUE((*writer)->Close().ok());
    }
    auto out = ParquetFile::Open(out_path);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ((*out)->metadata().num_rows, 1994);
    for (size_t c = 0; c < schema.columns.size(); ++c) {
      auto read = (*out)->ReadColumn(0, static_cast<int>(c));
      ASSERT_TRUE(read.ok()) << read.status();
      EXPECT_EQ(read->def, expected[c].def) << c;
      EXPECT_EQ(read->num_values, expected[c].num_values) << c;
      EXPECT_EQ(read->fixed, expected[c].fixed) << c;
      EXPECT_EQ(read->bytes, expected[c].bytes) << c;
      EXPECT_EQ(read->offsets, expected[c].offsets) << c;
    }
  }
}

// A chunk whose data pages are PLAIN has no dictionary form.
TEST(ParquetWriterTest, PlainChunksHaveNoDictionaryForm) {
  const FileMetadata schema = MakeFlatSchema(SampleColumns());
  const std::string path = TempPath("plain.parquet");
  std::vector<ColumnWriteOptions> options(schema.columns.size());
  for (auto& o : options) o.dictionary = false;
  {
    auto writer = ParquetWriter::Create(path, schema);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->WriteRowGroup(SampleRows(schema, 0, 100), options).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto file = ParquetFile::Open(path);
  ASSERT_TRUE(file.ok());
  auto stored = (*file)->ReadDictionaryColumn(0, 0);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(stored->has_value());
}

// A list<string> column: optional group tags (LIST) { repeated group list
// { optional binary element } }, so max_def 3 and max_rep 1.
FileMetadata ListSchema() {
  FileMetadata meta = MakeFlatSchema({{"id", PhysicalType::kInt64, false}});
  TValue* schema = meta.tree.MutableField(fid::kFileSchema);
  schema->items[0].SetInt(fid::kSchemaNumChildren, TType::kI32, 2);
  auto group = [](const char* name, Repetition rep, int children) {
    TValue e = TValue::Struct();
    e.items.push_back(TValue::Int(fid::kSchemaRepetition, TType::kI32, static_cast<int>(rep)));
    e.items.push_back(TValue::Binary(fid::kSchemaName, name));
    e.items.push_back(TValue::Int(fid::kSchemaNumChildren, TType::kI32, children));
    return e;
  };
  schema->items.push_back(group("tags", Repetition::kOptional, 1));
  schema->items.push_back(group("list", Repetition::kRepeated, 1));
  TValue leaf = TValue::Struct();
  leaf.items.push_back(TValue::Int(fid::kSchemaType, TType::kI32, static_cast<int>(PhysicalType::kByteArray)));
  leaf.items.push_back(TValue::Int(fid::kSchemaRepetition, TType::kI32, static_cast<int>(Repetition::kOptional)));
  leaf.items.push_back(TValue::Binary(fid::kSchemaName, "element"));
  schema->items.push_back(std::move(leaf));
  std::string bytes;
  SerializeStruct(meta.tree, &bytes);
  auto parsed = ParseFileMetadata(bytes, 4, bytes.size() + 100);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *parsed;
}

TEST(ParquetWriterTest, RepeatedColumnsKeepWholeRows) {
  const FileMetadata schema = ListSchema();
  ASSERT_EQ(schema.columns.size(), 2u);
  EXPECT_EQ(schema.columns[1].name, "tags.list.element");
  EXPECT_EQ(schema.columns[1].max_def, 3);
  EXPECT_EQ(schema.columns[1].max_rep, 1);
  EXPECT_FALSE(schema.columns[1].flat);
  // Rows: [a, b], null list, [], [c, null], [d].
  ColumnData ids{PhysicalType::kInt64, 8};
  for (int64_t i = 0; i < 5; ++i) {
    ids.AppendValue(std::string(reinterpret_cast<const char*>(&i), 8));
    ++ids.num_levels;
  }
  ColumnData tags{PhysicalType::kByteArray, 0};
  tags.rep = {0, 1, 0, 0, 0, 1, 0};
  tags.def = {3, 3, 0, 1, 3, 2, 3};
  tags.num_levels = 7;
  for (const char* v : {"a", "b", "c", "d"}) tags.AppendValue(v);
  const std::string path = TempPath("lists.parquet");
  {
    auto writer = ParquetWriter::Create(path, schema);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->WriteRowGroup({ids, tags}, std::vector<ColumnWriteOptions>(2)).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto file = ParquetFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto read = (*file)->ReadColumn(0, 1);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->rep, tags.rep);
  EXPECT_EQ(read->def, tags.def);
  const ColumnData kept = FilterRows(*read, 3, 1, {false, true, false, true, false});
  EXPECT_EQ(kept.rep, (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(kept.def, (std::vector<uint8_t>{0, 3, 2}));
  ASSERT_EQ(kept.num_values, 1u);
  EXPECT_EQ(kept.Value(0), "c");
}

TEST(CompressionTest, RefusesUnsupportedCodecsByName) {
  std::string out;
  EXPECT_THAT(Decompress(static_cast<int>(Codec::kBrotli), "x", 1, &out),
              ::optout::testing::StatusIs(absl::StatusCode::kUnimplemented, ::testing::HasSubstr("BROTLI")));
  EXPECT_THAT(Decompress(static_cast<int>(Codec::kSnappy), "garbage", 100, &out),
              ::optout::testing::StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

// One scratch buffer through pages of shrinking and growing size, as the
// writer uses it: each view decompresses to its own page, whatever longer
// page the buffer held before.
TEST(CompressionTest, CompressToReusesOneBufferPageAfterPage) {
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    std::string scratch;
    for (size_t size : {size_t{100000}, size_t{10}, size_t{1}, size_t{5000}, size_t{300000}}) {
      std::string page;
      for (size_t i = 0; i < size; ++i) page.push_back(static_cast<char>('a' + (i * 7 + i / 13) % 26));
      auto packed = CompressTo(static_cast<int>(codec), page, &scratch);
      ASSERT_THAT(packed.status(), ::optout::testing::IsOk());
      std::string back;
      ASSERT_THAT(Decompress(static_cast<int>(codec), *packed, page.size(), &back),
                  ::optout::testing::IsOk())
          << CodecName(static_cast<int>(codec)) << " " << size;
      EXPECT_EQ(back, page) << CodecName(static_cast<int>(codec)) << " " << size;
      std::string whole;
      ASSERT_THAT(Compress(static_cast<int>(codec), page, &whole), ::optout::testing::IsOk());
      EXPECT_EQ(whole, std::string(*packed)) << CodecName(static_cast<int>(codec)) << " " << size;
    }
  }
}

}  // namespace
}  // namespace optout::parquet
