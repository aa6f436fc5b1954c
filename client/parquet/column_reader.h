// File: client/parquet/column_reader.h
//
// Decodes one column chunk (its pages, as stored in the file) into
// ColumnData: dictionary pages, data pages v1 and v2, PLAIN, PLAIN_DICTIONARY
// / RLE_DICTIONARY and RLE (booleans) values, RLE and BIT_PACKED levels,
// through the codecs of compression.h. Other encodings are Unimplemented,
// naming the column and the encoding. Corrupt pages are DataLoss naming the
// byte offset in the file. Pure function; thread-safe.
#ifndef OPTOUT_CLIENT_PARQUET_COLUMN_READER_H_
#define OPTOUT_CLIENT_PARQUET_COLUMN_READER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/parquet/column_data.h"
#include "client/parquet/metadata.h"

namespace optout::parquet {

// Bounds on what one chunk may expand to, so a small hostile file cannot
// ask for gigabytes (run-length encoding expands without limit).
struct ReadLimits {
  int64_t max_values_per_chunk = int64_t{1} << 28;  // level slots
  int64_t max_page_bytes = int64_t{1} << 30;        // one uncompressed page
};

// `bytes` are the chunk's bytes, which start at `file_offset` in the file.
absl::StatusOr<ColumnData> DecodeColumnChunk(absl::string_view bytes, int64_t file_offset,
                                             const ColumnDescriptor& column,
                                             const ChunkInfo& chunk, const ReadLimits& limits);

// A dictionary-encoded chunk in its dictionary form, for rewriting it
// without its rows' values: the dictionary page exactly as stored (header
// and compressed body) and, in `indices`, the chunk's levels and one INT32
// (4 bytes, little-endian) dictionary index per non-null value, so that
// FilterRows and the writer treat them as any fixed-width column.
struct DictionaryChunk {
  StoredDictionary dictionary;
  ColumnData indices;
};

// The chunk in dictionary form when it has a dictionary page and every
// data page is dictionary-encoded; nullopt when it is not (a writer that
// fell back to PLAIN part-way: decode it with DecodeColumnChunk). Every
// page is checked as DecodeColumnChunk checks it (the dictionary's values,
// each index against the dictionary's size), with the same errors.
absl::StatusOr<std::optional<DictionaryChunk>> DecodeDictionaryChunk(
    absl::string_view bytes, int64_t file_offset, const ColumnDescriptor& column,
    const ChunkInfo& chunk, const ReadLimits& limits);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_COLUMN_READER_H_
