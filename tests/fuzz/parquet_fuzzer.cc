// File: tests/fuzz/parquet_fuzzer.cc
//
// libFuzzer target for optout_parquet's reader. For any input bytes: no
// crash, hang or sanitizer report; an error names the file; and every
// column chunk that decodes also survives the writer: filtered (every
// other row kept), encoded with each page version and dictionary choice,
// and decoded again, it gives back exactly the filtered levels and values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "client/parquet/column_reader.h"
#include "client/parquet/column_writer.h"
#include "client/parquet/parquet_file.h"

namespace {

using namespace optout::parquet;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "parquet_fuzzer: %s\n", what);
  std::abort();
}

bool Same(const ColumnData& a, const ColumnData& b) {
  if (a.num_levels != b.num_levels || a.num_values != b.num_values || a.def != b.def || a.rep != b.rep) {
    return false;
  }
  for (size_t i = 0; i < a.num_values; ++i) {
    if (a.Value(i) != b.Value(i)) return false;
  }
  return true;
}

void RoundTrip(const ColumnData& data, const ColumnDescriptor& column, int codec) {
  // Large chunks only repeat what small ones show, at many times the cost.
  if (data.num_levels > 2048) return;
  std::vector<bool> keep;
  size_t rows = column.max_rep == 0 ? data.num_levels : 0;
  if (column.max_rep > 0) {
    for (uint8_t r : data.rep) rows += r == 0;
  }
  for (size_t r = 0; r < rows; ++r) keep.push_back(r % 2 == 0);
  const ColumnData filtered = FilterRows(data, column.max_def, column.max_rep, keep);
  for (bool v2 : {false, true}) {
    for (bool dictionary : {false, true}) {
      ColumnWriteOptions options;
      options.codec = codec;
      options.page_v2 = v2;
      options.dictionary = dictionary;
      options.page_bytes = 512;
      auto encoded = EncodeColumnChunk(filtered, column, options, 4);
      if (!encoded.ok()) Fail("a decoded column does not encode");
      ChunkInfo chunk;
      chunk.codec = codec;
      chunk.num_values = static_cast<int64_t>(filtered.num_levels);
      chunk.start = 4;
      chunk.length = static_cast<int64_t>(encoded->bytes.size());
      auto decoded = DecodeColumnChunk(encoded->bytes, 4, column, chunk, ReadLimits());
      if (!decoded.ok()) Fail("our own encoding does not decode");
      if (!Same(*decoded, filtered)) Fail("encode + decode changed the data");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ReadLimits limits;
  limits.max_values_per_chunk = 1 << 16;
  limits.max_page_bytes = 16 << 20;
  auto file = ParquetFile::FromBytes(std::string(reinterpret_cast<const char*>(data), size),
                                     "fuzz.parquet", limits);
  if (!file.ok()) {
    if (!absl::StartsWith(file.status().message(), "fuzz.parquet: ")) Fail("error without the file name");
    return 0;
  }
  const FileMetadata& meta = (*file)->metadata();
  int round_trips = 0;  // a few per input: each encodes four times
  for (size_t g = 0; g < meta.row_groups.size() && g < 8; ++g) {
    for (size_t c = 0; c < meta.columns.size() && c < 16; ++c) {
      auto column = (*file)->ReadColumn(static_cast<int>(g), static_cast<int>(c));
      if (!column.ok()) {
        if (!absl::StartsWith(column.status().message(), "fuzz.parquet: ")) Fail("error without the file name");
        continue;
      }
      if (round_trips++ < 4) RoundTrip(*column, meta.columns[c], meta.row_groups[g].chunks[c].codec);
    }
  }
  return 0;
}
