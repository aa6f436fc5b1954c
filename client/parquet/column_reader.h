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

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_COLUMN_READER_H_
