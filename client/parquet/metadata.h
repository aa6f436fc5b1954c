// File: client/parquet/metadata.h
//
// A Parquet file's footer (FileMetaData) as a Thrift value tree plus the
// typed view this library needs: the leaf columns with their levels, and
// each row group's column chunks with where their bytes are. Parse()
// validates what the readers rely on (chunk ranges inside the file, one
// chunk per leaf column, types that agree with the schema) so later code
// can index without checks. Value type; thread-compatible.
#ifndef OPTOUT_CLIENT_PARQUET_METADATA_H_
#define OPTOUT_CLIENT_PARQUET_METADATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/parquet/format.h"
#include "client/parquet/thrift_compact.h"

namespace optout::parquet {

struct ColumnDescriptor {
  std::string name;  // dotted path, e.g. "URL" or "tags.list.element"
  std::vector<std::string> path;  // its components (path_in_schema)
  PhysicalType type = PhysicalType::kByteArray;
  int type_length = 0;  // FIXED_LEN_BYTE_ARRAY only
  int max_def = 0, max_rep = 0;
  // A direct, non-repeated child of the schema root: one value (or null)
  // per row.
  bool flat = true;
  bool utf8 = false;  // annotated as a string (UTF8 / STRING)
};

struct ChunkInfo {
  int codec = 0;
  int64_t num_values = 0;  // level entries, nulls included
  int64_t start = 0;       // first byte (dictionary page or first data page)
  int64_t length = 0;      // total_compressed_size
};

struct RowGroupInfo {
  int64_t num_rows = 0;
  int64_t first_row = 0;  // rows in the row groups before this one
  std::vector<ChunkInfo> chunks;  // one per leaf column, in schema order
};

struct FileMetadata {
  TValue tree;  // the whole FileMetaData, unknown fields included
  std::vector<ColumnDescriptor> columns;
  std::vector<RowGroupInfo> row_groups;
  int64_t num_rows = 0;

  // Index of the leaf column named `name` (dotted path), or -1.
  int FindColumn(absl::string_view name) const;
};

// Parses the footer `bytes`, which sit at `offset` in a file of
// `file_size` bytes. DataLoss (naming the footer byte) for corrupt
// metadata, Unimplemented for encrypted files and column chunks stored in
// other files.
absl::StatusOr<FileMetadata> ParseFileMetadata(absl::string_view bytes, int64_t offset,
                                               int64_t file_size);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_METADATA_H_
