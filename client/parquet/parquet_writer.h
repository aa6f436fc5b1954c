// File: client/parquet/parquet_writer.h
//
// ParquetWriter writes one Parquet file: row groups encoded from ColumnData
// (column_writer.h) or copied byte for byte from another file with the
// same schema, then the footer. The footer keeps everything of the model
// FileMetaData it is created from (schema, key/value metadata such as
// Arrow's schema, created_by, column orders) and replaces the row groups
// and row count. Statistics, page indexes and bloom filters of rewritten
// chunks are not written (rows were removed, so they would be wrong);
// copied chunks keep their statistics.
//
// Errors: Unavailable for I/O. Thread-compatible.
#ifndef OPTOUT_CLIENT_PARQUET_PARQUET_WRITER_H_
#define OPTOUT_CLIENT_PARQUET_PARQUET_WRITER_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/parquet/column_writer.h"
#include "client/parquet/metadata.h"
#include "client/parquet/parquet_file.h"

namespace optout::parquet {

class ParquetWriter final {
 public:
  static absl::StatusOr<std::unique_ptr<ParquetWriter>> Create(const std::string& path,
                                                               const FileMetadata& model);
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // One row group: one ColumnData per leaf column, all with the same rows.
  absl::Status WriteRowGroup(const std::vector<ColumnData>& columns,
                             const std::vector<ColumnWriteOptions>& options);
  // Row group `row_group` of `source` (same schema), its chunks unchanged.
  absl::Status CopyRowGroup(ParquetFile& source, int row_group);
  // Writes the footer and closes the file (no fsync).
  absl::Status Close();

  int64_t rows_written() const { return rows_; }

 private:
  ParquetWriter(std::string path, std::FILE* file, const FileMetadata& model);
  absl::Status Append(absl::string_view bytes);

  const std::string path_;
  std::FILE* file_;
  const FileMetadata model_;  // a copy: the footer is small
  int64_t offset_ = 0;
  int64_t rows_ = 0;
  std::vector<TValue> row_groups_;
};

// A flat schema, for tests and tools that write new files.
struct NewColumn {
  std::string name;
  PhysicalType type = PhysicalType::kByteArray;
  bool optional = true;
  bool utf8 = false;     // BYTE_ARRAY annotated as a string
  int type_length = 0;   // FIXED_LEN_BYTE_ARRAY
};
FileMetadata MakeFlatSchema(const std::vector<NewColumn>& columns);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_PARQUET_WRITER_H_
