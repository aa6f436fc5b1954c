// File: client/parquet/column_writer.h
//
// Encodes ColumnData as one column chunk: an optional dictionary page
// (PLAIN, or one kept as stored) and data pages (v1 or v2) of about `page_bytes` each, split at
// row boundaries, levels in RLE, values PLAIN or RLE_DICTIONARY, each page
// compressed with `codec`. Returns the bytes and the chunk's
// ColumnMetaData. Pure function; thread-safe.
#ifndef OPTOUT_CLIENT_PARQUET_COLUMN_WRITER_H_
#define OPTOUT_CLIENT_PARQUET_COLUMN_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/parquet/column_data.h"
#include "client/parquet/metadata.h"
#include "client/parquet/thrift_compact.h"

namespace optout::parquet {

struct ColumnWriteOptions {
  int codec = static_cast<int>(Codec::kSnappy);
  // Dictionary-encode (when the dictionary stays under 16 MiB). Never for
  // booleans.
  bool dictionary = true;
  bool page_v2 = false;
  size_t page_bytes = 1 << 20;  // values per data page, before compression
  // When set, the chunk keeps this dictionary page (written as it is, in
  // `codec`, which must be the one it was compressed with) and the data
  // holds INT32 indices into its values (DictionaryChunk): no dictionary is
  // built. Not owned; must outlive the call. Default: none.
  const StoredDictionary* stored_dictionary = nullptr;
};

struct EncodedChunk {
  std::string bytes;
  TValue meta;  // ColumnMetaData, offsets relative to `file_offset`
  int64_t uncompressed_bytes = 0;
};

// `file_offset`: where the chunk's first byte will be written.
absl::StatusOr<EncodedChunk> EncodeColumnChunk(const ColumnData& data,
                                               const ColumnDescriptor& column,
                                               const ColumnWriteOptions& options,
                                               int64_t file_offset);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_COLUMN_WRITER_H_
